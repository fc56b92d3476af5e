/**
 * Path resolution (fs/namei.c): absolute paths from the task's root, relative ones from its cwd or a
 * directory fd; "." and ".." (never above the task's root, and across mount roots to the mountpoint);
 * mounts crossed downwards; symlinks followed with at most 40 per resolution (MAXSYMLINKS), the last
 * component only when asked; a trailing slash requires a directory. Each component costs
 * PATH_COMPONENT_CYCLES and needs search (x) permission on the directory it is looked up in.
 */
import type { SysCtx } from '../core/ctx.js';
import { Errno } from '../uapi/errno.js';
import { AT_FDCWD } from '../uapi/flags.js';
import { PATH_COMPONENT_CYCLES } from './costs.js';
import { isDir, isSymlink } from './inode.js';
import type { Mount } from './mount.js';
import { sameRef, type PathRef } from './path-ref.js';
import { MAY, permission } from './perm.js';
import { vfsFileOf } from './vfs-file.js';

/** Symlinks followed in one resolution before ELOOP (include/linux/namei.h MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
/** Longest path including its NUL (PATH_MAX). */
export const PATH_MAX = 4096;
/** Longest component (NAME_MAX). */
export const NAME_MAX = 255;

/** The outcome of a walk: the parent directory of the last component, and what it names. */
export interface Walk {
  /** The directory the last component was looked up in. */
  readonly parent: PathRef;
  /** The last component ("" when the path named the start itself, like "/"; may be "." or ".."). */
  readonly last: string;
  /** What the path names, if it exists (after following a final symlink when asked). */
  readonly target: PathRef | undefined;
  /** The path ended with "/". */
  readonly trailingSlash: boolean;
}

/** The directory a *at() call starts from: the cwd, or the directory open at `dirfd`. */
export function startDir(ctx: SysCtx, dirfd: number): PathRef | number {
  if (dirfd === AT_FDCWD) return ctx.task.fs.cwd;
  const file = ctx.task.files.get(dirfd);
  if (file === undefined) return -Errno.EBADF;
  const vfs = vfsFileOf(file);
  if (vfs === undefined || !isDir(vfs.ref.inode)) return -Errno.ENOTDIR;
  return vfs.ref;
}

/** The mount stack on `ref` crossed downwards: the root of the topmost mount there. */
export function crossMounts(ref: PathRef): PathRef {
  let at = ref;
  for (let m: Mount | undefined = at.mount.mountedOn(at.inode); m !== undefined; m = m.mountedOn(m.root)) {
    at = { mount: m, inode: m.root };
  }
  return at;
}

/** The parent of `ref`, never above `root` (follow_dotdot). */
export function dotdot(ref: PathRef, root: PathRef): PathRef {
  let at = ref;
  for (;;) {
    if (sameRef(at, root)) return at;
    if (at.inode !== at.mount.root)
      return crossMounts({ mount: at.mount, inode: at.inode.parentDir ?? at.inode });
    const parent = at.mount.parent;
    if (parent === undefined) return at;
    at = { mount: parent, inode: at.mount.mountpoint! };
  }
}

const ENCODER = new TextEncoder();

/** UTF-8 length of a component. */
function byteLength(name: string): number {
  return /^[\x00-\x7f]*$/.test(name) ? name.length : ENCODER.encode(name).length;
}

/**
 * Walk `path` from `dirfd` (AT_FDCWD or a directory fd; ignored for absolute paths). A missing last
 * component is not an error (target undefined); a missing intermediate one is ENOENT.
 */
export function walk(ctx: SysCtx, dirfd: number, path: string, followLast: boolean): Walk | number {
  if (path.length === 0) return -Errno.ENOENT;
  const root = ctx.task.fs.root;
  let cur: PathRef;
  if (path.startsWith('/')) {
    cur = root;
  } else {
    const start = startDir(ctx, dirfd);
    if (typeof start === 'number') return start;
    cur = start;
  }
  return walkFrom(ctx, cur, path, followLast);
}

/** {@link walk} from a given directory. */
export function walkFrom(ctx: SysCtx, start: PathRef, path: string, followLast: boolean): Walk | number {
  const root = ctx.task.fs.root;
  const trailingSlash = path.endsWith('/');
  const pending = path.split('/').filter((c) => c !== '');
  pending.reverse();
  let cur = path.startsWith('/') ? root : start;
  if (pending.length === 0) return { parent: cur, last: '', target: cur, trailingSlash: false };
  let links = 0;
  for (;;) {
    const name = pending.pop()!;
    const isLast = pending.length === 0;
    if (byteLength(name) > NAME_MAX) return -Errno.ENAMETOOLONG;
    ctx.charge(PATH_COMPONENT_CYCLES);
    if (!isDir(cur.inode)) return -Errno.ENOTDIR;
    const denied = permission(ctx.task, cur.inode, MAY.EXEC);
    if (denied < 0) return denied;
    let next: PathRef;
    if (name === '.') {
      next = cur;
    } else if (name === '..') {
      next = dotdot(cur, root);
    } else {
      const child = cur.inode.lookup?.(ctx, name);
      if (child === undefined) {
        if (isLast) return { parent: cur, last: name, target: undefined, trailingSlash };
        return -Errno.ENOENT;
      }
      next = crossMounts({ mount: cur.mount, inode: child });
    }
    if (isSymlink(next.inode) && (!isLast || followLast || trailingSlash)) {
      if (++links > MAX_SYMLINKS) return -Errno.ELOOP;
      const magic = next.inode.followLink?.(ctx);
      if (magic !== undefined) {
        next = magic;
      } else {
        const target = next.inode.readlink?.(ctx);
        if (target === undefined || target === '') return -Errno.ENOENT;
        const parts = target.split('/').filter((c) => c !== '');
        if (target.startsWith('/')) cur = root;
        if (parts.length > 0) {
          for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
          continue;
        }
        next = root;
      }
    }
    if (isLast) {
      if (trailingSlash && !isDir(next.inode)) return -Errno.ENOTDIR;
      return { parent: cur, last: name, target: next, trailingSlash };
    }
    cur = next;
  }
}

/** Resolve `path` to an existing object. */
export function lookupPath(ctx: SysCtx, dirfd: number, path: string, follow: boolean): PathRef | number {
  const w = walk(ctx, dirfd, path, follow);
  if (typeof w === 'number') return w;
  return w.target ?? -Errno.ENOENT;
}
