/** `rcontainer bench hw [--json]`. */
import { runHwBench } from '../eval/bench/hw.js';
import { UserError } from './errors.js';

/** Run and print the hardware micro-benchmark; returns the exit code. */
export function benchHwCommand(options: { json?: boolean; runs: string }): number {
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 101)
    throw new UserError('bench hw: --runs takes a whole number from 1 to 101');
  const result = runHwBench({ runs, now: () => process.hrtime.bigint() });
  if (options.json) {
    console.log(JSON.stringify(result, undefined, 2));
    return 0;
  }
  const rows: [string, number, string][] = [
    ['raw random Uint32Array read (256 MiB)', result.rawReadNs, 'host floor'],
    [
      'TLB-hit load (load32)',
      result.tlbHitLoadNs,
      `${(result.tlbHitLoadNs / result.rawReadNs).toFixed(2)}x raw (goal <= 3x)`,
    ],
    ['TLB-miss load (4-level walk + GPC on each fetch)', result.tlbMissLoadNs, 'goal <= 25 ns'],
    ['TLB-miss load, level-3 table in the walk cache', result.tlbMissWalkCachedNs, ''],
    ['GPT lookup (GPC check, 64 GiB, 4 KiB granules)', result.gpcLookupNs, ''],
    ['TLBI PAALL (1,024-entry TLB)', result.tlbiPaallNs, ''],
  ];
  console.log(`bench hw: median of ${runs} runs, host ns per operation`);
  for (const [name, ns, note] of rows)
    console.log(`  ${name.padEnd(50)} ${ns.toFixed(2).padStart(9)} ns  ${note}`);
  return 0;
}
