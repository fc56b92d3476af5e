/**
 * Memory calls of the mini-OS: rc_set_vma, rc_set_pte, rc_copy_page (spec/rcontainer.md).
 * Not implemented yet: the table is empty, so these call numbers are refused as unknown.
 */
import type { CallHandler } from './calls.js';

/** Handlers by call number. */
export const MEMORY_CALLS: Readonly<Record<number, CallHandler>> = {};

/** Forget what this module keeps about container `cid`. */
export function forgetMemory(cid: number): void {
  void cid;
}
