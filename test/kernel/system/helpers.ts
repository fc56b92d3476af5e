/**
 * End-to-end test helpers: boot a whole {@link SimSystem} under one design, install a one-off test
 * program as /bin/<unique name>, start it as the init of a new container, run the event loop to the
 * end and hand back the console output, the wait status and the system for further inspection.
 */
import { SimSystem, type DesignName } from '../../../src/designs/system.js';
import type { ThreadGroup } from '../../../src/kernel/core/task.js';
import { wExitStatus, wIfExited, wIfSignaled, wTermSig } from '../../../src/kernel/uapi/flags.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { defineProgram, type ProgramBody } from '../../../src/user/libc/program.js';
import type { Call } from '../../../src/user/libc/syscall.js';
import type { ProgramMain } from '../../../src/user/program.js';

/** Both designs, for `describe.each`. */
export const DESIGN_NAMES: readonly DesignName[] = ['native', 'rcontainer'];

/** Thread steps after which a test run is abandoned (every test program ends well before). */
const DEFAULT_MAX_STEPS = 2_000_000;

/** What a run produced. */
export interface RunResult {
  readonly system: SimSystem;
  readonly group: ThreadGroup;
  /** Console output (stdout and stderr of every process, in order). */
  readonly output: string;
  /** Raw wait status of the started process (undefined if it never ended). */
  readonly status: number | undefined;
  /** Exit code when it exited, else undefined. */
  readonly code: number | undefined;
  /** Terminating signal when it was killed, else undefined. */
  readonly signal: number | undefined;
  /** True when the loop ran out of work (false: the step limit stopped it). */
  readonly finished: boolean;
}

/** Options of {@link runSystem}. */
export interface RunOptions {
  readonly argv: readonly string[];
  readonly programs?: Readonly<Record<string, ProgramMain>>;
  readonly cpus?: number;
  readonly host?: boolean;
  readonly hostname?: string;
  readonly maxSteps?: number;
}

/** The fields of a finished (or abandoned) run of `group` on `system`. */
export function resultOf(system: SimSystem, group: ThreadGroup, finished: boolean): RunResult {
  const status = group.exitStatus;
  return {
    system,
    group,
    output: system.outputText(),
    status,
    code: status !== undefined && wIfExited(status) ? wExitStatus(status) : undefined,
    signal: status !== undefined && wIfSignaled(status) ? wTermSig(status) : undefined,
    finished,
  };
}

/** Boot a system under `design`, start `argv` as a container's init and run until all ended. */
export function runSystem(design: DesignName, options: RunOptions): RunResult {
  const system = new SimSystem({
    design,
    cpus: options.cpus ?? 1,
    ...(options.programs !== undefined ? { programs: options.programs } : {}),
  });
  const group = system.spawn({
    argv: options.argv,
    ...(options.host !== undefined ? { host: options.host } : {}),
    hostname: options.hostname ?? 'box',
  });
  const end = system.run(options.maxSteps ?? DEFAULT_MAX_STEPS);
  return resultOf(system, group, end === 'idle');
}

let nextProgram = 1;

/** A name for a one-off test program, unique in this test process. */
export function uniqueProgramName(prefix = 'test'): string {
  return `${prefix}-${nextProgram++}`;
}

/** Run one test program (a libc body) as a container's init under `design`. */
export function runProgram(
  design: DesignName,
  body: ProgramBody,
  options: Omit<RunOptions, 'argv' | 'programs'> & { readonly args?: readonly string[] } = {},
): RunResult {
  const name = uniqueProgramName();
  return runSystem(design, {
    ...options,
    argv: [name, ...(options.args ?? [])],
    programs: { [name]: defineProgram(body) },
  });
}

/** Run `sh -c script` as a container's init under `design`. */
export function runShell(design: DesignName, script: string): RunResult {
  return runSystem(design, { argv: ['sh', '-c', script] });
}

/** Print `label=value` and a newline on stdout (flushed at exit, fork and exec). */
export function* say(p: Proc, label: string, value: string | number | boolean): Call<void> {
  yield* p.stdout.print(`${label}=${String(value)}\n`);
}

/** The `label=value` lines of an output as a record (later lines win). */
export function fields(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
