/**
 * pipe2(2) and the table of IPC system calls the kernel's dispatcher merges into its own.
 */
import type { SysCtx } from '../core/ctx.js';
import { OpenFile } from '../core/file.js';
import type { SyscallFn } from '../core/syscall-fn.js';
import { Errno } from '../uapi/errno.js';
import { O } from '../uapi/flags.js';
import { Sys } from '../uapi/syscalls.js';
import { IPC_CALL_CYCLES, IPC_CREATE_CYCLES } from './cost.js';
import { installPair } from './install.js';
import { openPipeEnd, Pipe, PIPE_OPS } from './pipe.js';

/** Flags pipe2 accepts (O_DIRECT, packet mode, is not modelled). */
const PIPE2_FLAGS = O.CLOEXEC | O.NONBLOCK;

/** pipe2(int fds[2], int flags): fds[0] the read end, fds[1] the write end. */
function sysPipe2(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const fdsVa = args[0] ?? 0;
  const flags = args[1] ?? 0;
  if (flags !== (flags & PIPE2_FLAGS)) return -Errno.EINVAL;
  ctx.charge(IPC_CREATE_CYCLES);
  const pipe = new Pipe(ctx);
  const status = flags & O.NONBLOCK;
  const reader = new OpenFile(PIPE_OPS, O.RDONLY | status, openPipeEnd(pipe, 'read'));
  const writer = new OpenFile(PIPE_OPS, O.WRONLY | status, openPipeEnd(pipe, 'write'));
  return installPair(ctx, reader, writer, fdsVa, (flags & O.CLOEXEC) !== 0);
}

/** IPC system calls by number. */
export const IPC_SYSCALLS: Readonly<Record<number, SyscallFn>> = {
  [Sys.pipe2]: sysPipe2,
};
