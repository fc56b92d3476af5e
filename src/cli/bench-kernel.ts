/** `rcontainer bench kernel [--json] [--runs N] [--quick]`. */
import { DESIGNS } from '../designs/system.js';
import { runKernelBench, type KernelBenchResult } from '../eval/bench/kernel.js';
import { UserError } from './errors.js';

/** Options as commander parses them. */
export interface BenchKernelOptions {
  readonly json?: boolean;
  readonly runs: string;
  readonly quick?: boolean;
}

/** Run and print the kernel benchmark; returns the exit code. */
export function benchKernelCommand(options: BenchKernelOptions): number {
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 21)
    throw new UserError('bench kernel: --runs takes a whole number from 1 to 21');
  const progress = process.stderr.isTTY && options.json !== true;
  const result = runKernelBench({
    runs,
    designs: DESIGNS,
    now: () => process.hrtime.bigint(),
    ...(options.quick ? { nullCalls: 20_000, ctxRounds: 2_000, hackbench: false } : {}),
    ...(progress ? { onRun: (what: string) => process.stderr.write(`\r\x1b[K  ${what}`) } : {}),
  });
  if (progress) process.stderr.write('\r\x1b[K');
  if (options.json) {
    console.log(JSON.stringify(result, undefined, 2));
    return 0;
  }
  printTable(result, runs);
  return 0;
}

function printTable(result: KernelBenchResult, runs: number): void {
  console.log(`bench kernel: host time of the simulator (median of ${runs} runs), simulated time beside it`);
  const row = (
    name: string,
    host: Record<string, number>,
    sim: Record<string, number>,
    unit: string,
  ): void => {
    for (const design of DESIGNS) {
      if (host[design] === undefined) continue;
      console.log(
        `  ${name.padEnd(24)} ${design.padEnd(11)} host ${host[design]!.toFixed(unit === 's' ? 2 : 0).padStart(8)} ${unit}   simulated ${sim[design]!.toFixed(unit === 's' ? 4 : 0).padStart(8)} ${unit}`,
      );
    }
  };
  row('null syscall', result.nullSyscallHostNs, result.nullSyscallSimNs, 'ns');
  row('context switch', result.ctxSwitchHostNs, result.ctxSwitchSimNs, 'ns');
  row('hackbench (default)', result.hackbenchHostSeconds, result.hackbenchSimSeconds, 's');
  const rc = result.nullSyscallHostNs.rcontainer;
  if (rc !== undefined)
    console.log(
      `  null syscalls per host second under rcontainer: ${Math.round(1e9 / rc)} (goal >= 500,000)`,
    );
}
