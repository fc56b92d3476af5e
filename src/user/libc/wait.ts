/** waitpid/wait4 with the status decoded. */
import { WNOHANG, wExitStatus, wIfExited, wIfSignaled, wTermSig } from '../../kernel/uapi/flags.js';
import type { Proc } from './process.js';
import { isError, type Call } from './syscall.js';
import { wait4 } from './sys-proc.js';

/** A reaped child. */
export interface WaitResult {
  readonly pid: number;
  /** The raw wait status. */
  readonly status: number;
  readonly exited: boolean;
  /** Exit code when `exited`. */
  readonly code: number;
  /** Terminating signal when killed, else 0. */
  readonly signal: number;
}

/** Decode a wait status. */
export function decodeWaitStatus(pid: number, status: number): WaitResult {
  const exited = wIfExited(status);
  return {
    pid,
    status,
    exited,
    code: exited ? wExitStatus(status) : 0,
    signal: wIfSignaled(status) ? wTermSig(status) : 0,
  };
}

/** The status a shell reports for a child: its exit code, or 128 + the signal that killed it. */
export function shellStatus(result: WaitResult): number {
  return result.exited ? result.code : 128 + result.signal;
}

/**
 * waitpid(2) (wait4 without rusage): the reaped child, 0 when WNOHANG finds none ready, or -errno
 * (-ECHILD when there is no such child).
 */
export function* waitpid(p: Proc, pid: number, options = 0): Call<WaitResult | number> {
  const mark = p.scratch.mark();
  try {
    const statusVa = p.scratch.alloc(4);
    p.cpu.store32(statusVa, 0);
    const reaped = yield* wait4(pid, statusVa, options);
    if (isError(reaped) || reaped === 0) return reaped;
    return decodeWaitStatus(reaped, p.cpu.load32(statusVa));
  } finally {
    p.scratch.release(mark);
  }
}

/** Reap every child that has already exited (WNOHANG); the number reaped. */
export function* reapExited(p: Proc): Call<number> {
  let count = 0;
  for (;;) {
    const result = yield* waitpid(p, -1, WNOHANG);
    if (typeof result === 'number') return count;
    count++;
  }
}
