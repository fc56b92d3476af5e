/**
 * Moving socket addresses across the syscall boundary: copy in and validate a caller's address,
 * copy one out through the (value-result) address-length argument.
 */
import type { SysCtx } from '../core/ctx.js';
import { Errno } from '../uapi/errno.js';
import { AF } from '../uapi/flags.js';
import {
  decodeInet,
  decodeUnix,
  encodeSockAddr,
  MAX_SOCKADDR_BYTES,
  type Family,
  type SockAddr,
} from './sockaddr.js';

/** Largest value of a socklen_t the kernel takes as a length (INT_MAX). */
const SOCKLEN_MAX = 0x7fff_ffff;

/** Copy in the `length`-byte address at `va` for a socket of `family`. */
export function readSockAddr(ctx: SysCtx, family: Family, va: number, length: number): SockAddr | number {
  if (!Number.isInteger(length) || length < 0 || length > MAX_SOCKADDR_BYTES) return -Errno.EINVAL;
  const bytes = ctx.copyIn(va, length);
  if (bytes === undefined) return -Errno.EFAULT;
  return family === AF.UNIX ? decodeUnix(bytes) : decodeInet(bytes);
}

/**
 * Check the address-length argument at `lengthVa` before a call commits to returning an address:
 * the buffer size it holds, or -EFAULT / -EINVAL. With no address buffer (`va` = 0) it is 0.
 */
export function readSockLen(ctx: SysCtx, va: number, lengthVa: number): number {
  if (va === 0) return 0;
  const length = ctx.readU32(lengthVa);
  if (length === undefined) return -Errno.EFAULT;
  if (length > SOCKLEN_MAX) return -Errno.EINVAL;
  return length;
}

/**
 * Store `address` at `va` (truncated to `room` bytes, the length readSockLen gave) and its full
 * length at `lengthVa`. 0 or -EFAULT; nothing happens when `va` is 0.
 */
export function writeSockAddr(
  ctx: SysCtx,
  address: SockAddr,
  va: number,
  lengthVa: number,
  room: number,
): number {
  if (va === 0) return 0;
  const bytes = encodeSockAddr(address);
  if (!ctx.copyOut(va, bytes.subarray(0, Math.min(room, bytes.length)))) return -Errno.EFAULT;
  return ctx.writeU32(lengthVa, bytes.length) ? 0 : -Errno.EFAULT;
}
