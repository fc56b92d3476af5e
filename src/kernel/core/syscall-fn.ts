/**
 * The shape of a system-call handler: subsystems (fs, ipc, net, mm) export tables of these keyed by
 * `Sys.*` numbers and the kernel's dispatcher merges them.
 */
import type { SysCtx } from './ctx.js';

/**
 * A system-call handler: the raw argument registers x0..x5 in, a non-negative result or a negated
 * errno (`-Errno.EBADF`) out; -ERESTARTSYS when the task was parked on a wait queue.
 */
export type SyscallFn = (ctx: SysCtx, args: readonly number[]) => number;

/** A table of handlers keyed by system-call number. */
export type SyscallTable = Readonly<Record<number, SyscallFn>>;
