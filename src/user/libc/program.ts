/**
 * Defining a program over the libc: {@link defineProgram} turns a body `(p) => exit code` into a
 * {@link ProgramMain} that runs crt0 first and flushes stdio when the body returns (the runner
 * turns the return into exit_group).
 */
import { withSignalHandlers, type ProgramMain, type ProgramRun, type UserCpu } from '../program.js';
import { handlerRun } from './signal.js';
import { flushStdio, startProcess, type Proc } from './process.js';
import type { Call } from './syscall.js';
import { exitGroup } from './sys-proc.js';

/** The body of a program: gets the libc state, returns the exit code. */
export type ProgramBody = (p: Proc) => Call<number>;

/** A ProgramMain running `body` after crt0. */
export function defineProgram(body: ProgramBody): ProgramMain {
  function* programMain(
    holder: { p?: Proc },
    cpu: UserCpu,
    argc: number,
    argv: number,
    envp: number,
  ): ProgramRun {
    const p = yield* startProcess(cpu, argc, argv, envp);
    if (typeof p === 'number') return p;
    holder.p = p;
    const code = yield* body(p);
    yield* flushStdio(p);
    return code & 0xff;
  }
  return (cpu, argc, argv, envp) => {
    const holder: { p?: Proc } = {};
    return withSignalHandlers(programMain(holder, cpu, argc, argv, envp), (sig) =>
      holder.p === undefined ? undefined : handlerRun(holder.p, sig),
    );
  };
}

/** exit(3): flush stdio and end the process with `code`. Does not return. */
export function* exit(p: Proc, code: number): Call<never> {
  yield* flushStdio(p);
  return yield* exitGroup(code & 0xff);
}
