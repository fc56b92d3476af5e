/**
 * The system call instruction of the libc: every kernel entry of a program goes through
 * {@link syscall}, which yields a {@link SyscallRequest} (x8 = number, x0..x5 = arguments) and
 * returns what the program is resumed with (x0: a result or a negated errno).
 */
import type { SyscallRequest } from '../program.js';

/** A libc routine: a generator that may execute system calls and returns a `T`. */
export type Call<T = number> = Generator<SyscallRequest, T, number>;

/** Number of argument registers of a system call (x0..x5). */
const ARG_REGISTERS = 6;

/**
 * Execute system call `nr` with up to six arguments (missing ones are 0). Arguments are JS
 * numbers; a negative one (AT_FDCWD, fd -1) stands for its 64-bit two's complement.
 */
export function* syscall(nr: number, ...args: number[]): Call<number> {
  const regs = args.slice(0, ARG_REGISTERS);
  while (regs.length < ARG_REGISTERS) regs.push(0);
  return yield { nr, args: regs };
}

/** True when a system call result is a negated errno. */
export function isError(result: number): boolean {
  return result < 0 && result > -4096;
}
