/**
 * openat, chdir, getcwd and umask.
 */
import type { SyscallFn } from '../core/syscall-fn.js';
import { Errno } from '../uapi/errno.js';
import { AT_FDCWD, O } from '../uapi/flags.js';
import { FD_OP_CYCLES } from './costs.js';
import { isDir } from './inode.js';
import { lookupPath } from './namei.js';
import { openPath } from './open.js';
import { pathName } from './path-name.js';
import { MAY, permission } from './perm.js';
import { intArg, pathArg, sizeArg, u32Arg } from './sys-args.js';

/** openat(dirfd, pathname, flags, mode). */
export const sysOpenat: SyscallFn = (ctx, args) => {
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const flags = intArg(args, 2);
  const file = openPath(ctx, intArg(args, 0), path, flags, u32Arg(args, 3));
  if (typeof file === 'number') return file;
  ctx.charge(FD_OP_CYCLES);
  const fd = ctx.task.files.install(file, (flags & O.CLOEXEC) !== 0);
  if (fd < 0) file.ops.release?.(file);
  return fd;
};

/** chdir(path). */
export const sysChdir: SyscallFn = (ctx, args) => {
  const path = pathArg(ctx, sizeArg(args, 0));
  if (typeof path === 'number') return path;
  const ref = lookupPath(ctx, AT_FDCWD, path, true);
  if (typeof ref === 'number') return ref;
  if (!isDir(ref.inode)) return -Errno.ENOTDIR;
  const denied = permission(ctx.task, ref.inode, MAY.EXEC);
  if (denied < 0) return denied;
  ctx.task.fs.cwd = ref;
  return 0;
};

/** getcwd(buf, size): the length of the path including its NUL. */
export const sysGetcwd: SyscallFn = (ctx, args) => {
  const fs = ctx.task.fs;
  const name = pathName(fs.cwd, fs.root);
  let text = name.reachable ? name.path : `(unreachable)${name.path}`;
  if (fs.cwd.inode.nlink === 0) text += ' (deleted)';
  const bytes = new TextEncoder().encode(text + '\0');
  if (sizeArg(args, 1) < bytes.length) return -Errno.ERANGE;
  return ctx.copyOut(sizeArg(args, 0), bytes) ? bytes.length : -Errno.EFAULT;
};

/** umask(mask): the previous mask. */
export const sysUmask: SyscallFn = (ctx, args) => {
  const fs = ctx.task.fs;
  const old = fs.umask;
  fs.umask = u32Arg(args, 0) & 0o777;
  return old;
};
