/**
 * Descriptor-based file-system calls: read, write, pread64, pwrite64, lseek, fstat, getdents64,
 * close, dup, dup3, fcntl, fsync, ftruncate, ioctl. They go through the open file's FileOps, so
 * pipes, sockets and devices plug in; the checks here are the ones Linux makes before calling
 * f_op (access mode, seekability, argument ranges).
 */
import type { SysCtx } from '../core/ctx.js';
import { FdTable, type OpenFile } from '../core/file.js';
import type { SyscallFn } from '../core/syscall-fn.js';
import { Errno } from '../uapi/errno.js';
import { F, FD_CLOEXEC, O } from '../uapi/flags.js';
import { encodeStat } from '../uapi/structs.js';
import { FD_OP_CYCLES } from './costs.js';
import { intArg, offArg, sizeArg } from './sys-args.js';
import { fsyncInode } from './tmpfs.js';
import { MAX_RW_COUNT, vfsFileOf } from './vfs-file.js';

/** FIONCLEX / FIOCLEX ioctls (asm-generic/ioctls.h). */
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
/** fcntl(F_SETFL) may change only these. */
const SETFL_MASK = O.APPEND | O.NONBLOCK;

/** The open file of fd argument `i`, charging the descriptor lookup. */
function fileArg(ctx: SysCtx, args: readonly number[], i: number): OpenFile | undefined {
  ctx.charge(FD_OP_CYCLES);
  return ctx.task.files.get(intArg(args, i));
}

function readable(file: OpenFile): boolean {
  return (file.flags & O.ACCMODE) !== O.WRONLY;
}

function writable(file: OpenFile): boolean {
  return (file.flags & O.ACCMODE) !== O.RDONLY;
}

/** read(fd, buf, count). */
export const sysRead: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined || !readable(file)) return -Errno.EBADF;
  if (file.ops.read === undefined) return -Errno.EINVAL;
  const count = Math.min(sizeArg(args, 2), MAX_RW_COUNT);
  return file.ops.read(ctx, file, sizeArg(args, 1), count);
};

/** write(fd, buf, count). */
export const sysWrite: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined || !writable(file)) return -Errno.EBADF;
  if (file.ops.write === undefined) return -Errno.EINVAL;
  const count = Math.min(sizeArg(args, 2), MAX_RW_COUNT);
  return file.ops.write(ctx, file, sizeArg(args, 1), count);
};

/** pread64(fd, buf, count, offset). */
export const sysPread64: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined || !readable(file)) return -Errno.EBADF;
  const offset = offArg(args, 3);
  if (offset < 0) return -Errno.EINVAL;
  // Only seekable files support positional I/O (FMODE_PREAD).
  if (file.ops.lseek === undefined) return -Errno.ESPIPE;
  if (file.ops.read === undefined) return -Errno.EINVAL;
  return file.ops.read(ctx, file, sizeArg(args, 1), Math.min(sizeArg(args, 2), MAX_RW_COUNT), offset);
};

/** pwrite64(fd, buf, count, offset). */
export const sysPwrite64: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined || !writable(file)) return -Errno.EBADF;
  const offset = offArg(args, 3);
  if (offset < 0) return -Errno.EINVAL;
  if (file.ops.lseek === undefined) return -Errno.ESPIPE;
  if (file.ops.write === undefined) return -Errno.EINVAL;
  return file.ops.write(ctx, file, sizeArg(args, 1), Math.min(sizeArg(args, 2), MAX_RW_COUNT), offset);
};

/** lseek(fd, offset, whence). */
export const sysLseek: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  if (file.ops.lseek === undefined) return -Errno.ESPIPE;
  return file.ops.lseek(ctx, file, offArg(args, 1), intArg(args, 2));
};

/** fstat(fd, statbuf). */
export const sysFstat: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  const st = file.ops.stat(ctx, file);
  if (typeof st === 'number') return st;
  return ctx.copyOut(sizeArg(args, 1), encodeStat(st)) ? 0 : -Errno.EFAULT;
};

/** getdents64(fd, dirp, count). */
export const sysGetdents64: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  if (file.ops.getdents === undefined) return -Errno.ENOTDIR;
  return file.ops.getdents(ctx, file, sizeArg(args, 1), Math.min(sizeArg(args, 2), MAX_RW_COUNT));
};

/** close(fd). */
export const sysClose: SyscallFn = (ctx, args) => {
  ctx.charge(FD_OP_CYCLES);
  return ctx.task.files.close(intArg(args, 0), ctx) ? 0 : -Errno.EBADF;
};

/** dup(oldfd). */
export const sysDup: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  return ctx.task.files.install(file);
};

/** dup3(oldfd, newfd, flags). */
export const sysDup3: SyscallFn = (ctx, args) => {
  const flags = intArg(args, 2);
  if ((flags & ~O.CLOEXEC) !== 0) return -Errno.EINVAL;
  const oldfd = intArg(args, 0);
  const newfd = intArg(args, 1);
  if (oldfd === newfd) return -Errno.EINVAL;
  if (newfd < 0 || newfd >= FdTable.LIMIT) return -Errno.EBADF;
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  ctx.task.files.setAt(newfd, file, (flags & O.CLOEXEC) !== 0, ctx);
  return newfd;
};

/** fcntl(fd, cmd, arg): DUPFD, DUPFD_CLOEXEC, GETFD, SETFD, GETFL, SETFL. */
export const sysFcntl: SyscallFn = (ctx, args) => {
  const fd = intArg(args, 0);
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  const files = ctx.task.files;
  const arg = intArg(args, 2);
  switch (intArg(args, 1)) {
    case F.DUPFD:
    case F.DUPFD_CLOEXEC:
      if (arg < 0 || arg >= FdTable.LIMIT) return -Errno.EINVAL;
      return files.install(file, intArg(args, 1) === F.DUPFD_CLOEXEC, arg);
    case F.GETFD:
      return files.isCloexec(fd) ? FD_CLOEXEC : 0;
    case F.SETFD:
      files.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
      return 0;
    case F.GETFL:
      return file.flags;
    case F.SETFL:
      file.flags = (file.flags & ~SETFL_MASK) | (arg & SETFL_MASK);
      return 0;
    default:
      return -Errno.EINVAL;
  }
};

/**
 * fsync(fd): the file's own fsync, then (disk-backed tmpfs files, src/kernel/block) its dirty pages
 * written to its owner's disk; a failed write-back is reported (EIO, ENOSPC) as Linux does.
 */
export const sysFsync: SyscallFn = (ctx, args) => {
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  const result = file.ops.fsync?.(ctx, file) ?? -Errno.EINVAL;
  const inode = vfsFileOf(file)?.inode;
  return result < 0 || inode === undefined ? result : fsyncInode(ctx, inode);
};

/** ftruncate(fd, length). */
export const sysFtruncate: SyscallFn = (ctx, args) => {
  const length = offArg(args, 1);
  if (length < 0) return -Errno.EINVAL;
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  if (!writable(file) || file.ops.truncate === undefined) return -Errno.EINVAL;
  return file.ops.truncate(ctx, file, length);
};

/** ioctl(fd, request, arg): FIOCLEX/FIONCLEX here, the rest by the file (ENOTTY if it has none). */
export const sysIoctl: SyscallFn = (ctx, args) => {
  const fd = intArg(args, 0);
  const file = fileArg(ctx, args, 0);
  if (file === undefined) return -Errno.EBADF;
  const request = u32(args[1] ?? 0);
  if (request === FIOCLEX || request === FIONCLEX) {
    ctx.task.files.setCloexec(fd, request === FIOCLEX);
    return 0;
  }
  return file.ops.ioctl?.(ctx, file, request, sizeArg(args, 2)) ?? -Errno.ENOTTY;
};

function u32(value: number): number {
  return value >>> 0;
}
