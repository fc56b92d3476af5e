/**
 * Attribute calls by path: newfstatat, fchmodat, fchownat, faccessat.
 */
import type { SysCtx } from '../core/ctx.js';
import type { SyscallFn } from '../core/syscall-fn.js';
import { Errno } from '../uapi/errno.js';
import { AT, AT_FDCWD, S } from '../uapi/flags.js';
import { encodeStat, type Stat } from '../uapi/structs.js';
import { isDir, isRegular, isSymlink } from './inode.js';
import { lookupPath } from './namei.js';
import type { PathRef } from './path-ref.js';
import { capableOver, isOwner, permission, taskIds } from './perm.js';
import { intArg, pathArg, sizeArg, u32Arg } from './sys-args.js';
import { inodeStat, vfsFileOf } from './vfs-file.js';

/** AT_NO_AUTOMOUNT: accepted and ignored (no automounts here). */
const AT_NO_AUTOMOUNT = 0x800;
/** access(2) mode bits: R_OK, W_OK, X_OK (same values as MAY_READ, MAY_WRITE, MAY_EXEC). */
const ACCESS_MASK = 7;
const W_OK = 2;
/** chown's "leave unchanged" id. */
const NO_CHANGE = 0xffff_ffff;

/** The object named by (dirfd, path, flags) of the *at calls that take AT_EMPTY_PATH. */
function objectArg(ctx: SysCtx, dirfd: number, path: string, flags: number): PathRef | number {
  if (path === '' && (flags & AT.EMPTY_PATH) !== 0) {
    if (dirfd === AT_FDCWD) return ctx.task.fs.cwd;
    const file = ctx.task.files.get(dirfd);
    if (file === undefined) return -Errno.EBADF;
    return vfsFileOf(file)?.ref ?? -Errno.EBADF;
  }
  return lookupPath(ctx, dirfd, path, (flags & AT.SYMLINK_NOFOLLOW) === 0);
}

/** newfstatat(dirfd, pathname, statbuf, flags). */
export const sysNewfstatat: SyscallFn = (ctx, args) => {
  const flags = intArg(args, 3);
  if ((flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH | AT_NO_AUTOMOUNT)) !== 0) return -Errno.EINVAL;
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const dirfd = intArg(args, 0);
  let st: Stat | number;
  if (path === '' && (flags & AT.EMPTY_PATH) !== 0 && dirfd !== AT_FDCWD) {
    // Any open file (pipes and sockets too) can be stat'ed by descriptor.
    const file = ctx.task.files.get(dirfd);
    if (file === undefined) return -Errno.EBADF;
    st = file.ops.stat(ctx, file);
  } else {
    const ref = objectArg(ctx, dirfd, path, flags);
    if (typeof ref === 'number') return ref;
    st = inodeStat(ctx, ref.inode);
  }
  if (typeof st === 'number') return st;
  return ctx.copyOut(sizeArg(args, 2), encodeStat(st)) ? 0 : -Errno.EFAULT;
};

/** fchmodat(dirfd, pathname, mode). */
export const sysFchmodat: SyscallFn = (ctx, args) => {
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const ref = lookupPath(ctx, intArg(args, 0), path, true);
  if (typeof ref === 'number') return ref;
  if (ref.mount.readOnly) return -Errno.EROFS;
  if (!isOwner(ctx.task, ref.inode)) return -Errno.EPERM;
  return ref.inode.setattr(ctx, { mode: u32Arg(args, 2) & 0o7777 });
};

/** fchownat(dirfd, pathname, owner, group, flags). */
export const sysFchownat: SyscallFn = (ctx, args) => {
  const flags = intArg(args, 4);
  if ((flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH)) !== 0) return -Errno.EINVAL;
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const ref = objectArg(ctx, intArg(args, 0), path, flags);
  if (typeof ref === 'number') return ref;
  const user = ctx.task.ns.user;
  const owner = u32Arg(args, 2);
  const group = u32Arg(args, 3);
  const uid = owner === NO_CHANGE ? undefined : user.toGlobal(owner, 'uid');
  const gid = group === NO_CHANGE ? undefined : user.toGlobal(group, 'gid');
  if (uid === -1 || gid === -1) return -Errno.EINVAL;
  if (ref.mount.readOnly) return -Errno.EROFS;
  const inode = ref.inode;
  if (!capableOver(ctx.task, inode)) {
    // An owner may only "change" the owner to itself and the group to its own group.
    const ids = taskIds(ctx.task);
    const uidOk = uid === undefined || uid === inode.uid;
    const gidOk = gid === undefined || gid === inode.gid || gid === ids.gid;
    if (ids.uid !== inode.uid || !uidOk || !gidOk) return -Errno.EPERM;
  }
  let mode: number | undefined;
  if (!isDir(inode) && !isSymlink(inode) && (uid !== undefined || gid !== undefined)) {
    // chown clears set-user-ID, and set-group-ID when group-executable (notify_change / should_remove_suid).
    const clear = S.ISUID | ((inode.mode & 0o010) !== 0 ? S.ISGID : 0);
    if ((inode.mode & clear) !== 0) mode = inode.mode & ~clear & 0o7777;
  }
  return inode.setattr(ctx, {
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
    ...(mode !== undefined ? { mode } : {}),
  });
};

/** faccessat(dirfd, pathname, mode): checked with the real ids. */
export const sysFaccessat: SyscallFn = (ctx, args) => {
  const mode = intArg(args, 2);
  if ((mode & ~ACCESS_MASK) !== 0) return -Errno.EINVAL;
  const path = pathArg(ctx, sizeArg(args, 1));
  if (typeof path === 'number') return path;
  const ref = lookupPath(ctx, intArg(args, 0), path, true);
  if (typeof ref === 'number') return ref;
  if (mode === 0) return 0;
  if ((mode & W_OK) !== 0 && ref.mount.readOnly && (isRegular(ref.inode) || isDir(ref.inode))) {
    return -Errno.EROFS;
  }
  return permission(ctx.task, ref.inode, mode, true);
};
