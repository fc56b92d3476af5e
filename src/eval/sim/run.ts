/**
 * Run one program on a freshly booted system (the library side of `rcontainer sim`): the program
 * is the init of a container under either design, so its output is the same under both.
 */
import { DESIGNS, SimSystem, SpawnError, type DesignName } from '../../designs/system.js';
import { errnoName } from '../../kernel/uapi/errno.js';
import { wExitStatus, wIfSignaled, wTermSig } from '../../kernel/uapi/flags.js';
import { collectStats, type SimStats } from './report.js';

/** Options of a run. */
export interface SimRunOptions {
  readonly design: DesignName;
  readonly cpus: number;
  readonly argv: readonly string[];
  readonly seed?: string;
  /** Thread steps before the run is abandoned (a program that never ends). */
  readonly maxSteps?: number;
}

/** What a run produced. */
export interface SimRunResult {
  /** Everything the program printed, both streams in order. */
  readonly output: string;
  /** The same output as runs of its stdout (1) and stderr (2). */
  readonly streams: readonly { readonly stream: 1 | 2; readonly bytes: Uint8Array }[];
  /** The program's exit code (128 + signal if it was killed), or undefined if it never ended. */
  readonly exitCode: number | undefined;
  readonly signal: number | undefined;
  readonly stats: SimStats;
  readonly finished: boolean;
}

/** A program that cannot be started: a message naming it and the reason. */
export class SimStartError extends Error {}

/** Boot, run `argv` to completion, collect output and counters. */
export function simulate(options: SimRunOptions): SimRunResult {
  if (!DESIGNS.includes(options.design))
    throw new SimStartError(`unknown design '${String(options.design)}'`);
  const system = new SimSystem({
    design: options.design,
    cpus: options.cpus,
    ...(options.seed ? { seed: options.seed } : {}),
  });
  let group;
  try {
    group = system.spawn({ argv: options.argv, hostname: 'rcontainer' });
  } catch (error) {
    if (error instanceof SpawnError)
      throw new SimStartError(`${options.argv[0]}: cannot execute: ${errnoName(error.errno)}`);
    throw error;
  }
  const end = system.run(options.maxSteps ?? 50_000_000);
  const status = group.exitStatus;
  const signal = status !== undefined && wIfSignaled(status) ? wTermSig(status) : undefined;
  const exitCode =
    status === undefined ? undefined : signal !== undefined ? 128 + signal : wExitStatus(status);
  return {
    output: system.outputText(),
    streams: system.kernel.consoleDevice.chunks(group.cid),
    exitCode,
    signal,
    stats: collectStats(system),
    finished: end === 'idle',
  };
}
