/**
 * Calls that change directory entries: mkdirat, unlinkat, renameat, symlinkat, linkat, and
 * readlinkat. Checks follow fs/namei.c in Linux's order (name kind, read-only mount, existence,
 * permission, type, busy mounts, emptiness).
 */
import type { SysCtx } from '../core/ctx.js';
import type { SyscallFn } from '../core/syscall-fn.js';
import { Errno } from '../uapi/errno.js';
import { AT, S } from '../uapi/flags.js';
import { INODE_OP_CYCLES } from './costs.js';
import { isDir, isSymlink, type Inode } from './inode.js';
import { lookupPath, PATH_MAX, walk } from './namei.js';
import { mayModifyDir, newOwner } from './open.js';
import type { PathRef } from './path-ref.js';
import { intArg, pathArg, sizeArg, u32Arg } from './sys-args.js';
import { vfsFileOf } from './vfs-file.js';

/** True if `ref` is the root of a mount (a mountpoint as seen from above). */
function isMountRoot(ref: PathRef): boolean {
  return ref.inode === ref.mount.root;
}

/** True if the directory has entries besides "." and "..". */
function hasEntries(ctx: SysCtx, dir: Inode): boolean {
  return (dir.readdir?.(ctx).length ?? 0) > 0;
}

/** mkdirat(dirfd, pathname, mode). */
export const sysMkdirat: SyscallFn = (ctx, args) => {
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const w = walk(ctx, intArg(args, 0), path, false);
  if (typeof w === 'number') return w;
  if (w.target !== undefined) return -Errno.EEXIST;
  const denied = mayModifyDir(ctx, w.parent);
  if (denied < 0) return denied;
  const mode = S.IFDIR | (u32Arg(args, 2) & 0o1777 & ~ctx.task.fs.umask);
  const made = w.parent.inode.create?.(ctx, w.last, { mode, ...newOwner(ctx) }) ?? -Errno.EPERM;
  if (typeof made === 'number') return made;
  ctx.charge(INODE_OP_CYCLES);
  return 0;
};

/** unlinkat(dirfd, pathname, flags): unlink, or rmdir with AT_REMOVEDIR. */
export const sysUnlinkat: SyscallFn = (ctx, args) => {
  const flags = intArg(args, 2);
  if ((flags & ~AT.REMOVEDIR) !== 0) return -Errno.EINVAL;
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const w = walk(ctx, intArg(args, 0), path, false);
  if (typeof w === 'number') return w;
  const rmdir = (flags & AT.REMOVEDIR) !== 0;
  if (rmdir) {
    if (w.last === '.') return -Errno.EINVAL;
    if (w.last === '..') return -Errno.ENOTEMPTY;
    if (w.last === '') return -Errno.EBUSY;
  } else if (w.last === '' || w.last === '.' || w.last === '..') {
    return -Errno.EISDIR;
  }
  if (w.parent.mount.readOnly) return -Errno.EROFS;
  const target = w.target;
  if (target === undefined) return -Errno.ENOENT;
  const denied = mayModifyDir(ctx, w.parent);
  if (denied < 0) return denied;
  if (rmdir) {
    if (!isDir(target.inode)) return -Errno.ENOTDIR;
    if (isMountRoot(target)) return -Errno.EBUSY;
    if (hasEntries(ctx, target.inode)) return -Errno.ENOTEMPTY;
  } else {
    if (isDir(target.inode)) return -Errno.EISDIR;
    if (isMountRoot(target)) return -Errno.EBUSY;
  }
  ctx.charge(INODE_OP_CYCLES);
  return w.parent.inode.remove?.(ctx, w.last) ?? -Errno.EPERM;
};

/** True if `dir` is `ancestor` or lies below it in the same file system. */
function isWithin(dir: Inode, ancestor: Inode): boolean {
  for (let at: Inode | undefined = dir; at !== undefined; at = at.parentDir) {
    if (at === ancestor) return true;
    if (at.parentDir === at) return false;
  }
  return false;
}

/** renameat(olddirfd, oldpath, newdirfd, newpath). */
export const sysRenameat: SyscallFn = (ctx, args) => {
  const oldPath = pathArg(ctx, sizeArg(args, 1));
  if (typeof oldPath === 'number') return oldPath;
  const newPath = pathArg(ctx, sizeArg(args, 3));
  if (typeof newPath === 'number') return newPath;
  const from = walk(ctx, intArg(args, 0), oldPath, false);
  if (typeof from === 'number') return from;
  const to = walk(ctx, intArg(args, 2), newPath, false);
  if (typeof to === 'number') return to;
  if (from.parent.mount !== to.parent.mount) return -Errno.EXDEV;
  const special = (name: string): boolean => name === '' || name === '.' || name === '..';
  if (special(from.last) || special(to.last)) return -Errno.EBUSY;
  if (from.parent.mount.readOnly) return -Errno.EROFS;
  const source = from.target;
  if (source === undefined) return -Errno.ENOENT;
  const sourceIsDir = isDir(source.inode);
  if (!sourceIsDir && (from.trailingSlash || to.trailingSlash)) return -Errno.ENOTDIR;
  let denied = mayModifyDir(ctx, from.parent);
  if (denied >= 0) denied = mayModifyDir(ctx, to.parent);
  if (denied < 0) return denied;
  const target = to.target;
  if (target !== undefined && target.inode === source.inode) return 0;
  if (isMountRoot(source) || (target !== undefined && isMountRoot(target))) return -Errno.EBUSY;
  if (sourceIsDir) {
    if (target !== undefined) {
      if (!isDir(target.inode)) return -Errno.ENOTDIR;
      if (hasEntries(ctx, target.inode)) return -Errno.ENOTEMPTY;
    }
    if (isWithin(to.parent.inode, source.inode)) return -Errno.EINVAL;
  } else if (target !== undefined && isDir(target.inode)) {
    return -Errno.EISDIR;
  }
  ctx.charge(INODE_OP_CYCLES);
  return from.parent.inode.rename?.(ctx, from.last, to.parent.inode, to.last) ?? -Errno.EPERM;
};

/** symlinkat(target, newdirfd, linkpath). */
export const sysSymlinkat: SyscallFn = (ctx, args) => {
  const text = ctx.readString(sizeArg(args, 0), PATH_MAX);
  if (typeof text === 'number') return text;
  if (text === '') return -Errno.ENOENT;
  const path = pathArg(ctx, sizeArg(args, 2));
  if (typeof path === 'number') return path;
  const w = walk(ctx, intArg(args, 1), path, false);
  if (typeof w === 'number') return w;
  if (w.target !== undefined) return -Errno.EEXIST;
  if (w.trailingSlash) return -Errno.ENOENT;
  const denied = mayModifyDir(ctx, w.parent);
  if (denied < 0) return denied;
  const made =
    w.parent.inode.create?.(ctx, w.last, { mode: S.IFLNK | 0o777, ...newOwner(ctx), target: text }) ??
    -Errno.EPERM;
  if (typeof made === 'number') return made;
  ctx.charge(INODE_OP_CYCLES);
  return 0;
};

/** linkat(olddirfd, oldpath, newdirfd, newpath, flags). */
export const sysLinkat: SyscallFn = (ctx, args) => {
  const flags = intArg(args, 4);
  if ((flags & ~(AT.SYMLINK_FOLLOW | AT.EMPTY_PATH)) !== 0) return -Errno.EINVAL;
  const oldPath = pathArg(ctx, sizeArg(args, 1));
  if (typeof oldPath === 'number') return oldPath;
  let source: PathRef | number;
  if (oldPath === '' && (flags & AT.EMPTY_PATH) !== 0) {
    const file = ctx.task.files.get(intArg(args, 0));
    const vfs = file === undefined ? undefined : vfsFileOf(file);
    source = vfs === undefined ? -Errno.EBADF : vfs.ref;
  } else {
    source = lookupPath(ctx, intArg(args, 0), oldPath, (flags & AT.SYMLINK_FOLLOW) !== 0);
  }
  if (typeof source === 'number') return source;
  const newPath = pathArg(ctx, sizeArg(args, 3));
  if (typeof newPath === 'number') return newPath;
  const w = walk(ctx, intArg(args, 2), newPath, false);
  if (typeof w === 'number') return w;
  if (w.target !== undefined) return -Errno.EEXIST;
  if (w.trailingSlash) return -Errno.ENOENT;
  if (source.mount !== w.parent.mount) return -Errno.EXDEV;
  const denied = mayModifyDir(ctx, w.parent);
  if (denied < 0) return denied;
  if (isDir(source.inode)) return -Errno.EPERM;
  if (source.inode.nlink === 0) return -Errno.ENOENT;
  ctx.charge(INODE_OP_CYCLES);
  return w.parent.inode.link?.(ctx, w.last, source.inode) ?? -Errno.EPERM;
};

/** readlinkat(dirfd, pathname, buf, bufsiz): bytes placed (no NUL). */
export const sysReadlinkat: SyscallFn = (ctx, args) => {
  const size = intArg(args, 3);
  if (size <= 0) return -Errno.EINVAL;
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const ref = lookupPath(ctx, intArg(args, 0), path, false);
  if (typeof ref === 'number') return ref;
  if (!isSymlink(ref.inode)) return -Errno.EINVAL;
  const text = ref.inode.readlink?.(ctx);
  if (text === undefined) return -Errno.ENOENT;
  const bytes = new TextEncoder().encode(text).subarray(0, size);
  return ctx.copyOut(sizeArg(args, 2), bytes) ? bytes.length : -Errno.EFAULT;
};
