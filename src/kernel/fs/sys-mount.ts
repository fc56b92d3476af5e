/**
 * mount, umount2 and pivot_root. Supported: new tmpfs ("mode=" option), proc, devtmpfs and overlay
 * ("lowerdir=a:b,upperdir=c", tmpfs directories) mounts; bind mounts (MS_BIND, MS_REC); remounts
 * changing per-mount flags (MS_REMOUNT [| MS_BIND] with MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC);
 * propagation changes (MS_PRIVATE ...) are accepted and ignored (there is no propagation).
 * All need root in the task's user namespace (SIMPLIFICATION of CAP_SYS_ADMIN over the mount ns).
 */
import type { SysCtx } from '../core/ctx.js';
import type { SyscallFn } from '../core/syscall-fn.js';
import { Errno } from '../uapi/errno.js';
import { AT_FDCWD, MNT_DETACH, MS } from '../uapi/flags.js';
import { makeDevfs, makeOverlay, makeProcfs, makeTmpfs } from './filesystems.js';
import { isDir, type SuperBlock } from './inode.js';
import type { Mount } from './mount.js';
import { lookupPath, PATH_MAX } from './namei.js';
import { sameRef, type PathRef } from './path-ref.js';
import { intArg, pathArg, sizeArg, u32Arg } from './sys-args.js';
import { TmpInode } from './tmpfs.js';

/** Propagation flags (MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED). */
const MS_PROPAGATION = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);
/** umount2 flags: MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW. */
const UMOUNT_FLAGS = 1 | 2 | 4 | 8;
const UMOUNT_NOFOLLOW = 8;
/** Per-mount flags a mount or remount sets. */
const MOUNT_ATTRS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;

function isAdmin(ctx: SysCtx): boolean {
  return ctx.task.cred.euid === 0;
}

/** A string argument that may be NULL. */
function optionalString(ctx: SysCtx, va: number): string | number {
  return va === 0 ? '' : ctx.readString(va, PATH_MAX);
}

/** Parse "a=b,c" mount data. */
function parseOptions(data: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of data.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

/** A tmpfs directory named by `path` (overlay layers). */
function tmpfsDir(ctx: SysCtx, path: string): TmpInode | number {
  const ref = lookupPath(ctx, AT_FDCWD, path, true);
  if (typeof ref === 'number') return ref;
  if (!isDir(ref.inode)) return -Errno.ENOTDIR;
  return ref.inode instanceof TmpInode ? ref.inode : -Errno.EINVAL;
}

/** A new file system of type `fsType` for mount(2). */
function newFileSystem(ctx: SysCtx, fsType: string, data: string): SuperBlock | number {
  const ids = ctx.task.ns.mnt.ids;
  const options = parseOptions(data);
  switch (fsType) {
    case 'tmpfs': {
      const mode = options.get('mode');
      const rootMode = mode === undefined ? 0o1777 : parseInt(mode, 8);
      if (!Number.isInteger(rootMode) || rootMode < 0 || rootMode > 0o7777) return -Errno.EINVAL;
      return makeTmpfs(ctx, ids, ctx.task.cid, rootMode);
    }
    case 'proc':
      return makeProcfs(ctx, ids);
    case 'devtmpfs':
      return makeDevfs(ctx, ids, ctx.task.cid);
    case 'overlay': {
      const lowerPaths = options.get('lowerdir');
      const upperPath = options.get('upperdir');
      if (lowerPaths === undefined || upperPath === undefined) return -Errno.EINVAL;
      const lowers: TmpInode[] = [];
      for (const path of lowerPaths.split(':')) {
        const dir = tmpfsDir(ctx, path);
        if (typeof dir === 'number') return dir;
        lowers.push(dir);
      }
      const upper = tmpfsDir(ctx, upperPath);
      if (typeof upper === 'number') return upper;
      return makeOverlay(ctx, ids, upper, lowers);
    }
    default:
      return -Errno.ENODEV;
  }
}

/** Copy `source`'s mount (and with `recursive` its submounts under `root`) for a bind mount. */
function bindCopy(ctx: SysCtx, source: PathRef, recursive: boolean): Mount {
  const ns = ctx.task.ns.mnt;
  const top = ns.newMount(source.mount.sb, source.inode, source.mount.source, source.mount.flags);
  top.lockedFlags = source.mount.lockedFlags;
  if (recursive) {
    const copyChildren = (from: Mount, to: Mount): void => {
      for (const child of from.children) {
        // Only submounts inside the bound subtree (their mountpoint lies under source.inode).
        if (from === source.mount && !isBelow(child.mountpoint!, source.inode)) continue;
        const copy = ns.newMount(child.sb, child.root, child.source, child.flags);
        copy.lockedFlags = child.lockedFlags;
        to.attach(copy, child.mountpoint!);
        copyChildren(child, copy);
      }
    };
    copyChildren(source.mount, top);
  }
  return top;
}

function isBelow(inode: SuperBlock['root'], ancestor: SuperBlock['root']): boolean {
  for (let at = inode; ; at = at.parentDir!) {
    if (at === ancestor) return true;
    if (at.parentDir === undefined || at.parentDir === at) return false;
  }
}

/** mount(source, target, fstype, flags, data). */
export const sysMount: SyscallFn = (ctx, args) => {
  if (!isAdmin(ctx)) return -Errno.EPERM;
  const source = optionalString(ctx, sizeArg(args, 0));
  if (typeof source === 'number') return source;
  const targetPath = pathArg(ctx, sizeArg(args, 1));
  if (typeof targetPath === 'number') return targetPath;
  const fsType = optionalString(ctx, sizeArg(args, 2));
  if (typeof fsType === 'number') return fsType;
  const flags = u32Arg(args, 3);
  const data = optionalString(ctx, sizeArg(args, 4));
  if (typeof data === 'number') return data;
  const target = lookupPath(ctx, AT_FDCWD, targetPath, true);
  if (typeof target === 'number') return target;

  if ((flags & MS.REMOUNT) !== 0) {
    if (target.inode !== target.mount.root) return -Errno.EINVAL;
    // fs/namespace.c can_change_locked_flags: a locked flag stays set.
    if ((target.mount.lockedFlags & ~flags) !== 0) return -Errno.EPERM;
    target.mount.flags = flags & MOUNT_ATTRS;
    return 0;
  }
  if ((flags & MS.BIND) !== 0) {
    const from = lookupPath(ctx, AT_FDCWD, source, true);
    if (typeof from === 'number') return from;
    if (isDir(from.inode) !== isDir(target.inode)) return -Errno.ENOTDIR;
    target.mount.attach(bindCopy(ctx, from, (flags & MS.REC) !== 0), target.inode);
    return 0;
  }
  if ((flags & MS_PROPAGATION) !== 0) return 0;
  if (!isDir(target.inode)) return -Errno.ENOTDIR;
  const sb = newFileSystem(ctx, fsType, data);
  if (typeof sb === 'number') return sb;
  const mount = ctx.task.ns.mnt.newMount(sb, sb.root, source === '' ? fsType : source, flags & MOUNT_ATTRS);
  target.mount.attach(mount, target.inode);
  return 0;
};

/** umount2(target, flags). */
export const sysUmount2: SyscallFn = (ctx, args) => {
  if (!isAdmin(ctx)) return -Errno.EPERM;
  const flags = intArg(args, 1);
  if ((flags & ~UMOUNT_FLAGS) !== 0) return -Errno.EINVAL;
  const path = pathArg(ctx, sizeArg(args, 0));
  if (typeof path === 'number') return path;
  const target = lookupPath(ctx, AT_FDCWD, path, (flags & UMOUNT_NOFOLLOW) === 0);
  if (typeof target === 'number') return target;
  const mount = target.mount;
  if (target.inode !== mount.root) return -Errno.EINVAL;
  if (mount.parent === undefined) return -Errno.EINVAL;
  const detach = (flags & MNT_DETACH) !== 0;
  if (!detach && sameRef(target, ctx.task.fs.root)) return -Errno.EBUSY;
  // SIMPLIFICATION: busy means "has submounts"; open files and cwds do not pin a mount.
  if (!detach && mount.children.length > 0) return -Errno.EBUSY;
  mount.detach();
  return 0;
};

/** pivot_root(new_root, put_old). */
export const sysPivotRoot: SyscallFn = (ctx, args) => {
  if (!isAdmin(ctx)) return -Errno.EPERM;
  const newPath = pathArg(ctx, sizeArg(args, 0));
  if (typeof newPath === 'number') return newPath;
  const oldPath = pathArg(ctx, sizeArg(args, 1));
  if (typeof oldPath === 'number') return oldPath;
  const newRoot = lookupPath(ctx, AT_FDCWD, newPath, true);
  if (typeof newRoot === 'number') return newRoot;
  const putOld = lookupPath(ctx, AT_FDCWD, oldPath, true);
  if (typeof putOld === 'number') return putOld;
  if (!isDir(newRoot.inode) || !isDir(putOld.inode)) return -Errno.ENOTDIR;
  const ns = ctx.task.ns.mnt;
  const root = ctx.task.fs.root;
  const rootMount = root.mount;
  const newMount = newRoot.mount;
  if (newMount === rootMount || putOld.mount === rootMount) return -Errno.EBUSY;
  if (root.inode !== rootMount.root) return -Errno.EINVAL;
  // SIMPLIFICATION: Linux also requires the current root mount to have a parent (there is always a
  // hidden rootfs below); here a namespace's root mount has none, and pivoting it is allowed.
  if (newRoot.inode !== newMount.root || newMount.parent === undefined) return -Errno.EINVAL;
  if (!ns.contains(newMount)) return -Errno.EINVAL;
  // put_old must be at or under new_root.
  if (!reachableFrom(putOld, newRoot)) return -Errno.EINVAL;
  const rootParent = rootMount.parent;
  const rootMountpoint = rootMount.mountpoint;
  newMount.detach();
  if (rootParent === undefined) {
    ns.root = newMount;
  } else {
    rootMount.detach();
    rootParent.attach(newMount, rootMountpoint!);
  }
  putOld.mount.attach(rootMount, putOld.inode);
  const fresh = { mount: newMount, inode: newMount.root };
  for (const task of ctx.kernel.tasks()) {
    if (task.ns.mnt !== ns) continue;
    if (sameRef(task.fs.root, root)) task.fs.root = fresh;
    if (sameRef(task.fs.cwd, root)) task.fs.cwd = fresh;
  }
  if (sameRef(ctx.task.fs.root, root)) ctx.task.fs.root = fresh;
  if (sameRef(ctx.task.fs.cwd, root)) ctx.task.fs.cwd = fresh;
  return 0;
};

/** True if `ref` is `top` or lies below it in the mount tree. */
function reachableFrom(ref: PathRef, top: PathRef): boolean {
  let at: PathRef = ref;
  for (let guard = 0; guard < 1 << 16; guard++) {
    if (sameRef(at, top)) return true;
    if (at.inode === at.mount.root) {
      const parent = at.mount.parent;
      if (parent === undefined) return false;
      at = { mount: parent, inode: at.mount.mountpoint! };
    } else {
      const up = at.inode.parentDir;
      if (up === undefined || up === at.inode) return false;
      at = { mount: at.mount, inode: up };
    }
  }
  return false;
}
