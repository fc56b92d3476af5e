/**
 * Opening files by path (fs/namei.c do_filp_open, fs/open.c): O_CREAT / O_EXCL / O_TRUNC /
 * O_DIRECTORY / O_NOFOLLOW, the umask, permission and read-only-mount checks, and the choice of file
 * operations by file type (regular data in kernel pages, directories, devices, procfs files).
 */
import type { SysCtx } from '../core/ctx.js';
import { OpenFile, type FileOps } from '../core/file.js';
import { Errno } from '../uapi/errno.js';
import { MS, O, S } from '../uapi/flags.js';
import { INODE_OP_CYCLES } from './costs.js';
import { isDir, isRegular, isSymlink, type FsCtx, type Inode } from './inode.js';
import { walk } from './namei.js';
import type { PathRef } from './path-ref.js';
import { MAY, permission, taskIds } from './perm.js';
import { DIRECTORY_OPS, REGULAR_FILE_OPS, VfsFile } from './vfs-file.js';

/** open flags that describe the open, not the open file (not kept in f_flags). */
const OPEN_ONLY_FLAGS = O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.CLOEXEC;

/** True if opening with `flags` writes (write access or O_TRUNC). */
export function opensForWrite(flags: number): boolean {
  const acc = flags & O.ACCMODE;
  return acc !== O.RDONLY || (flags & O.TRUNC) !== 0;
}

/** May the task create or remove entries in directory `dir`: 0, -ENOENT, -EROFS or -EACCES. */
export function mayModifyDir(ctx: SysCtx, dir: PathRef): number {
  if (dir.inode.nlink === 0) return -Errno.ENOENT;
  if (dir.mount.readOnly) return -Errno.EROFS;
  return permission(ctx.task, dir.inode, MAY.WRITE | MAY.EXEC);
}

/** Owner ids (global) for an inode the task creates. */
export function newOwner(ctx: SysCtx): { uid: number; gid: number } {
  const ids = taskIds(ctx.task);
  return { uid: ids.uid, gid: ids.gid };
}

/** The file operations for opening `real` (after the overlay chose it). */
function opsFor(ctx: FsCtx, ref: PathRef, real: Inode, flags: number): FileOps | number {
  if (isDir(real)) return DIRECTORY_OPS;
  if (isRegular(real) && real.read !== undefined) return REGULAR_FILE_OPS;
  if ((real.mode & S.IFMT) === S.IFCHR && (ref.mount.flags & MS.NODEV) !== 0) return -Errno.EACCES;
  return real.fileOps?.(ctx, flags) ?? -Errno.ENXIO;
}

/**
 * An open file for `ref` (no permission checks: the caller made them). `parent` and `name` say
 * where it was found, for /proc/<pid>/fd.
 */
export function openRef(
  ctx: FsCtx,
  ref: PathRef,
  parent: PathRef,
  name: string,
  flags: number,
): OpenFile | number {
  const chosen = ref.inode.openTarget?.(ctx, flags) ?? ref.inode;
  if (typeof chosen === 'number') return chosen;
  const ops = opsFor(ctx, ref, chosen, flags);
  if (typeof ops === 'number') return ops;
  if ((flags & O.TRUNC) !== 0 && isRegular(chosen) && chosen.size !== 0) {
    const err = chosen.setattr(ctx, { size: 0 });
    if (err < 0) return err;
  }
  chosen.retain?.();
  return new OpenFile(ops, flags & ~OPEN_ONLY_FLAGS, new VfsFile(ref, chosen, parent, name));
}

/** openat(2) without installing the descriptor: the open file or -errno. */
export function openPath(
  ctx: SysCtx,
  dirfd: number,
  path: string,
  flags: number,
  mode: number,
): OpenFile | number {
  const creating = (flags & O.CREAT) !== 0;
  const exclusive = creating && (flags & O.EXCL) !== 0;
  const follow = (flags & O.NOFOLLOW) === 0 && !exclusive;
  const w = walk(ctx, dirfd, path, follow);
  if (typeof w === 'number') return w;
  let target = w.target;
  let created = false;
  if (target === undefined) {
    if (!creating) return -Errno.ENOENT;
    if (w.trailingSlash) return -Errno.EISDIR;
    const denied = mayModifyDir(ctx, w.parent);
    if (denied < 0) return denied;
    const perms = mode & 0o7777 & ~ctx.task.fs.umask;
    // A directory without a create operation refuses with EACCES (lookup_open in fs/namei.c).
    const inode =
      w.parent.inode.create?.(ctx, w.last, { mode: S.IFREG | perms, ...newOwner(ctx) }) ?? -Errno.EACCES;
    if (typeof inode === 'number') return inode;
    ctx.charge(INODE_OP_CYCLES);
    target = { mount: w.parent.mount, inode };
    created = true;
  } else if (exclusive) {
    return -Errno.EEXIST;
  }
  const inode = target.inode;
  if (isSymlink(inode)) return -Errno.ELOOP;
  if ((flags & O.DIRECTORY) !== 0 && !isDir(inode)) return -Errno.ENOTDIR;
  const acc = flags & O.ACCMODE;
  if (isDir(inode) && (creating || acc !== O.RDONLY || (flags & O.TRUNC) !== 0)) return -Errno.EISDIR;
  if (!created) {
    const writing = opensForWrite(flags);
    if (writing && target.mount.readOnly && (isRegular(inode) || isDir(inode))) return -Errno.EROFS;
    const mask = (acc !== O.WRONLY ? MAY.READ : 0) | (writing ? MAY.WRITE : 0);
    const denied = permission(ctx.task, inode, mask);
    if (denied < 0) return denied;
  }
  return openRef(ctx, target, w.parent, w.last, flags);
}
