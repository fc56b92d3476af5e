/** `rcontainer bench lifecycle [--json] [--runs N]`. */
import { DESIGNS } from '../designs/system.js';
import { runLifecycleBench } from '../eval/bench/lifecycle.js';
import { UserError } from './errors.js';

/** Run and print the lifecycle benchmark; the exit code. */
export async function benchLifecycleCommand(options: { json?: boolean; runs: string }): Promise<number> {
  const runs = Number(options.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 51)
    throw new UserError('bench lifecycle: --runs takes a whole number from 1 to 51');
  const result = await runLifecycleBench({ runs, now: () => process.hrtime.bigint() });
  if (options.json) {
    console.log(JSON.stringify(result, undefined, 2));
    return 0;
  }
  console.log(`bench lifecycle: create + start + stop + rm of busybox (median of ${runs} runs)`);
  for (const design of DESIGNS) {
    console.log(
      `  ${design.padEnd(11)} simulated ${result.simulatedMs[design].toFixed(3).padStart(8)} ms   host ${result.hostMs[design].toFixed(2).padStart(8)} ms`,
    );
  }
  return 0;
}
