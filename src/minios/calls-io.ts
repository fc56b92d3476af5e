/**
 * I/O and IPC calls of the mini-OS: rc_set_iopte, rc_ipc_in, rc_ipc_out (spec/rcontainer.md).
 * Not implemented yet: the table is empty, so these call numbers are refused as unknown.
 */
import type { CallHandler } from './calls.js';

/** Handlers by call number. */
export const IO_CALLS: Readonly<Record<number, CallHandler>> = {};

/** Forget what this module keeps about container `cid`. */
export function forgetIo(cid: number): void {
  void cid;
}
