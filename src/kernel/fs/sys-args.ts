/**
 * Decoding of system-call argument registers for the fs calls: ints (dirfd, fd, flags) are the low
 * 32 bits as a signed value, like C's `int`; offsets are signed 64-bit; paths are NUL-terminated
 * user strings of at most PATH_MAX bytes.
 */
import type { SysCtx } from '../core/ctx.js';
import { Errno } from '../uapi/errno.js';
import { PATH_MAX } from './namei.js';

/** Argument `i` as a C int (the low 32 bits, signed). */
export function intArg(args: readonly number[], i: number): number {
  return (args[i] ?? 0) | 0;
}

/** Argument `i` as an unsigned 32-bit value (mode_t, uid_t). */
export function u32Arg(args: readonly number[], i: number): number {
  return (args[i] ?? 0) >>> 0;
}

/** Argument `i` as a signed 64-bit value (loff_t). SIMPLIFICATION: exact below 2^53 in magnitude. */
export function offArg(args: readonly number[], i: number): number {
  const value = args[i] ?? 0;
  return value >= 2 ** 63 ? value - 2 ** 64 : value;
}

/** Argument `i` as a size or address (non-negative). */
export function sizeArg(args: readonly number[], i: number): number {
  const value = args[i] ?? 0;
  return value < 0 ? value + 2 ** 64 : value;
}

/** The path at user address `va`: the string, or -EFAULT / -ENAMETOOLONG. */
export function pathArg(ctx: SysCtx, va: number): string | number {
  const path = ctx.readString(va, PATH_MAX);
  if (typeof path === 'number') return path;
  // PATH_MAX counts the NUL, whatever the reader's notion of `max` is.
  if (path.length >= PATH_MAX || new TextEncoder().encode(path).length >= PATH_MAX)
    return -Errno.ENAMETOOLONG;
  return path;
}
