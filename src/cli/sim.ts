/** `rcontainer sim --design native|rcontainer [--cpus N] [--stats] [--json] -- PROGRAM [ARGS]`. */
import { DESIGNS, type DesignName } from '../designs/system.js';
import { formatStats } from '../eval/sim/report.js';
import { SimStartError, simulate } from '../eval/sim/run.js';
import { UserError } from './errors.js';

/** Options as commander parses them. */
export interface SimCommandOptions {
  readonly design: string;
  readonly cpus: string;
  readonly stats?: boolean;
  readonly json?: boolean;
  readonly seed?: string;
  readonly maxSteps?: string;
}

/** Run a program; its stdout and stderr go to ours; the exit code is the program's. */
export function simCommand(argv: string[], options: SimCommandOptions): number {
  if (!DESIGNS.includes(options.design as DesignName))
    throw new UserError(`sim: --design must be one of ${DESIGNS.join(', ')}, not '${options.design}'`);
  const cpus = Number(options.cpus);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 16)
    throw new UserError('sim: --cpus takes a whole number from 1 to 16');
  const maxSteps = options.maxSteps === undefined ? undefined : Number(options.maxSteps);
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1))
    throw new UserError('sim: --max-steps takes a positive whole number');
  if (argv.length === 0)
    throw new UserError('sim: name a program to run, e.g. rcontainer sim -- sh -c "echo hi"');
  let result;
  try {
    result = simulate({
      design: options.design as DesignName,
      cpus,
      argv,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(maxSteps !== undefined ? { maxSteps } : {}),
    });
  } catch (error) {
    if (error instanceof SimStartError) throw new UserError(`sim: ${error.message}`);
    throw error;
  }
  if (options.json) {
    console.log(
      JSON.stringify(
        { output: result.output, exitCode: result.exitCode, finished: result.finished, stats: result.stats },
        undefined,
        2,
      ),
    );
  } else {
    for (const { stream, bytes } of result.streams)
      (stream === 2 ? process.stderr : process.stdout).write(bytes);
    if (options.stats) for (const line of formatStats(result.stats)) console.error(`[sim] ${line}`);
  }
  if (!result.finished) {
    console.error('rcontainer: sim: the program did not finish within the step limit');
    return 124;
  }
  return result.exitCode ?? 0;
}
