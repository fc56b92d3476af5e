/**
 * A mount: a file system (or, for a bind mount, a subtree of one) attached at a directory of its
 * parent mount, with per-mount flags (Linux struct mount).
 */
import { MS } from '../uapi/flags.js';
import type { Inode, SuperBlock } from './inode.js';

/** Per-mount flags that this VFS honours. */
export const MOUNT_FLAG_MASK = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** One mount of a mount tree. */
export class Mount {
  /** Mount id (/proc/self/mountinfo's first field). */
  readonly id: number;
  readonly sb: SuperBlock;
  /** Root of the mount: the file system's root, or a subdirectory for a bind mount. */
  readonly root: Inode;
  /** What mount(2) was given as the source ("tmpfs", "proc", "overlay", a path for binds). */
  readonly source: string;
  /** MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC. */
  flags: number;
  /**
   * Flags a remount may not clear (fs/namespace.c MNT_LOCK_READONLY/NODEV/NOSUID/NOEXEC): set by
   * the runtime on a container's untrusted volumes, kept by bind copies.
   */
  lockedFlags = 0;
  /** The mount this one is attached to, and the inode of that mount it covers. */
  parent: Mount | undefined;
  mountpoint: Inode | undefined;
  /** Mounts attached inside this one, in mount order. */
  readonly children: Mount[] = [];

  constructor(id: number, sb: SuperBlock, root: Inode, source: string, flags: number) {
    this.id = id;
    this.sb = sb;
    this.root = root;
    this.source = source;
    this.flags = flags & MOUNT_FLAG_MASK;
  }

  get readOnly(): boolean {
    return (this.flags & MS.RDONLY) !== 0;
  }

  /** The mount on top of `inode` of this mount, if one is attached there (the latest one). */
  mountedOn(inode: Inode): Mount | undefined {
    for (let i = this.children.length - 1; i >= 0; i--) {
      const child = this.children[i]!;
      if (child.mountpoint === inode) return child;
    }
    return undefined;
  }

  /** Attach `child` at `mountpoint` of this mount. */
  attach(child: Mount, mountpoint: Inode): void {
    child.parent = this;
    child.mountpoint = mountpoint;
    this.children.push(child);
  }

  /** Detach this mount (and its subtree) from its parent. */
  detach(): void {
    const parent = this.parent;
    if (parent !== undefined) {
      const i = parent.children.indexOf(this);
      if (i >= 0) parent.children.splice(i, 1);
    }
    this.parent = undefined;
    this.mountpoint = undefined;
  }

  /** This mount and every mount below it, parents first. */
  subtree(): Mount[] {
    const out: Mount[] = [this];
    for (let i = 0; i < out.length; i++) out.push(...out[i]!.children);
    return out;
  }

  /** Option string of /proc/mounts ("rw", "ro,nosuid,nodev,noexec", plus fs options). */
  optionString(): string {
    const parts = [this.readOnly ? 'ro' : 'rw'];
    if ((this.flags & MS.NOSUID) !== 0) parts.push('nosuid');
    if ((this.flags & MS.NODEV) !== 0) parts.push('nodev');
    if ((this.flags & MS.NOEXEC) !== 0) parts.push('noexec');
    const extra = this.sb.options();
    if (extra !== '') parts.push(extra);
    return parts.join(',');
  }
}
