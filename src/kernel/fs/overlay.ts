/**
 * overlayfs (Documentation/filesystems/overlayfs.rst) for container roots: read-only lower tmpfs
 * trees merged under a writable upper tmpfs tree. A lookup takes the upper entry if there is one,
 * else the topmost lower one; directories merge down the layers until an opaque directory or a
 * non-directory. Writes copy the object up first (its parents too, data page by page through the
 * PE into pages of the upper file system's owner); removing a name that a lower layer has leaves a
 * whiteout (a 0:0 character device) in the upper tree; a directory created over a whiteout is
 * opaque. As in Linux without redirect_dir, renaming a directory that has lower content fails with
 * EXDEV (mv then copies). Lower layers are never modified.
 */
import { Errno } from '../uapi/errno.js';
import { O, S } from '../uapi/flags.js';
import { COPY_UP_CYCLES } from './costs.js';
import {
  direntType,
  isDir,
  type AttrChange,
  type DirEntry,
  type FsCtx,
  type Inode,
  type NewInode,
  type SuperBlock,
} from './inode.js';
import { isWhiteout, TmpInode } from './tmpfs.js';
import type { FileOps } from '../core/file.js';

/** Parameters of an overlay instance. */
export interface OverlayParams {
  readonly dev: number;
  /** The writable upper directory (a tmpfs directory; its file system's owner owns copied-up data). */
  readonly upper: TmpInode;
  /** The read-only lower directories, topmost first. */
  readonly lowers: readonly TmpInode[];
}

/** Layers an inode number can encode (real ino × LAYER_SLOTS + layer index). */
const LAYER_SLOTS = 16;

const WHITEOUT: NewInode = { mode: S.IFCHR, uid: 0, gid: 0, rdev: 0 };

/** An overlay instance. */
export class OverlaySuperBlock implements SuperBlock {
  readonly dev: number;
  readonly fsType = 'overlay';
  readonly owner: number;
  readonly root: OvlInode;
  readonly upperRoot: TmpInode;
  readonly lowerRoots: readonly TmpInode[];

  constructor(params: OverlayParams) {
    this.dev = params.dev;
    this.upperRoot = params.upper;
    this.lowerRoots = params.lowers;
    this.owner = params.upper.sb.owner;
    this.root = new OvlInode(this, params.upper, [...params.lowers], undefined, '');
  }

  /** Index of the layer holding `inode` (0 = upper). */
  layerOf(inode: TmpInode): number {
    if (inode.sb === this.upperRoot.sb) return 0;
    const i = this.lowerRoots.findIndex((root) => root.sb === inode.sb);
    return Math.min(LAYER_SLOTS - 1, i + 1);
  }

  options(): string {
    return '';
  }
}

/** An overlay inode: the upper object (once it exists) and the lower objects it merges. */
export class OvlInode implements Inode {
  readonly sb: OverlaySuperBlock;
  readonly ino: number;
  upper: TmpInode | undefined;
  /** Lower objects, topmost first (several only for merged directories). */
  lowers: TmpInode[];
  parentDir: OvlInode | undefined;
  dirName: string;
  /** Children already looked up, so that a name keeps its inode (mount points, cwd). */
  private readonly cache = new Map<string, OvlInode>();

  constructor(
    sb: OverlaySuperBlock,
    upper: TmpInode | undefined,
    lowers: TmpInode[],
    parent: OvlInode | undefined,
    name: string,
  ) {
    this.sb = sb;
    this.upper = upper;
    this.lowers = lowers;
    this.parentDir = parent ?? this;
    this.dirName = name;
    const real = upper ?? lowers[0]!;
    this.ino = real.ino * LAYER_SLOTS + sb.layerOf(real);
  }

  /** The object that currently holds the data and attributes. */
  get real(): TmpInode {
    return this.upper ?? this.lowers[0]!;
  }
  get mode(): number {
    return this.real.mode;
  }
  get uid(): number {
    return this.real.uid;
  }
  get gid(): number {
    return this.real.gid;
  }
  get nlink(): number {
    return this.real.nlink;
  }
  get size(): number {
    return this.real.size;
  }
  get rdev(): number {
    return this.real.rdev;
  }
  get blocks(): number {
    return this.real.blocks;
  }
  get atime(): number {
    return this.real.atime;
  }
  get mtime(): number {
    return this.real.mtime;
  }
  get ctime(): number {
    return this.real.ctime;
  }

  setattr(ctx: FsCtx, change: AttrChange): number {
    const err = this.copyUp(ctx);
    return err < 0 ? err : this.upper!.setattr(ctx, change);
  }

  lookup(ctx: FsCtx, name: string): OvlInode | undefined {
    if (!isDir(this)) return undefined;
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    let upper: TmpInode | undefined;
    let merging = true;
    const u = this.upper?.lookup(ctx, name);
    if (u !== undefined) {
      if (isWhiteout(u)) return undefined;
      upper = u;
      merging = isDir(u) && !u.opaque;
    }
    const lowers: TmpInode[] = [];
    if (merging && !(this.upper?.opaque ?? false)) {
      for (const dir of this.lowers) {
        const l = dir.lookup(ctx, name);
        if (l === undefined) continue;
        if (isWhiteout(l)) break;
        const first = upper === undefined && lowers.length === 0;
        if (!first && !isDir(l)) break;
        lowers.push(l);
        if (!isDir(l) || l.opaque) break;
      }
    }
    if (upper === undefined && lowers.length === 0) return undefined;
    const child = new OvlInode(this.sb, upper, lowers, this, name);
    this.cache.set(name, child);
    return child;
  }

  readdir(ctx: FsCtx): DirEntry[] {
    const out: DirEntry[] = [];
    const seen = new Set<string>();
    const consider = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      const child = this.lookup(ctx, name);
      if (child !== undefined) out.push({ name, ino: child.ino, type: direntType(child.mode) });
    };
    if (this.upper !== undefined) for (const name of this.upper.children?.keys() ?? []) consider(name);
    if (!(this.upper?.opaque ?? false)) {
      for (const dir of this.lowers) for (const name of dir.children?.keys() ?? []) consider(name);
    }
    return out;
  }

  create(ctx: FsCtx, name: string, spec: NewInode): OvlInode | number {
    const err = this.copyUp(ctx);
    if (err < 0) return err;
    const upper = this.upper!;
    const existing = upper.lookup(ctx, name);
    let overWhiteout = false;
    if (existing !== undefined) {
      if (!isWhiteout(existing)) return -Errno.EEXIST;
      upper.remove(ctx, name);
      overWhiteout = true;
    }
    const created = upper.create(ctx, name, spec);
    if (typeof created === 'number') return created;
    if (overWhiteout && isDir(created)) created.opaque = true;
    this.cache.delete(name);
    return this.lookup(ctx, name) ?? -Errno.EIO;
  }

  link(ctx: FsCtx, name: string, target: Inode): number {
    if (!(target instanceof OvlInode) || target.sb !== this.sb) return -Errno.EXDEV;
    let err = target.copyUp(ctx);
    if (err >= 0) err = this.copyUp(ctx);
    if (err < 0) return err;
    const upper = this.upper!;
    const existing = upper.lookup(ctx, name);
    if (existing !== undefined) {
      if (!isWhiteout(existing)) return -Errno.EEXIST;
      upper.remove(ctx, name);
    }
    this.cache.delete(name);
    return upper.link(ctx, name, target.upper!);
  }

  remove(ctx: FsCtx, name: string): number {
    const child = this.lookup(ctx, name);
    if (child === undefined) return -Errno.ENOENT;
    const err = this.copyUp(ctx);
    if (err < 0) return err;
    const upper = this.upper!;
    const needWhiteout = this.lowerHas(ctx, name);
    if (child.upper !== undefined) {
      clearWhiteouts(ctx, child.upper);
      const removed = upper.remove(ctx, name);
      if (removed < 0) return removed;
    }
    this.cache.delete(name);
    if (needWhiteout) {
      const whiteout = upper.create(ctx, name, WHITEOUT);
      if (typeof whiteout === 'number') return whiteout;
    }
    return 0;
  }

  rename(ctx: FsCtx, oldName: string, newDir: Inode, newName: string): number {
    if (!(newDir instanceof OvlInode) || newDir.sb !== this.sb) return -Errno.EXDEV;
    const child = this.lookup(ctx, oldName);
    if (child === undefined) return -Errno.ENOENT;
    // Linux without redirect_dir: a directory with lower content cannot be renamed.
    if (isDir(child) && child.lowers.length > 0) return -Errno.EXDEV;
    if (newDir.lookup(ctx, newName) === child) return 0;
    let err = child.copyUp(ctx);
    if (err >= 0) err = newDir.copyUp(ctx);
    if (err < 0) return err;
    const newUpper = newDir.upper!;
    const there = newUpper.lookup(ctx, newName);
    if (there !== undefined && isDir(there)) clearWhiteouts(ctx, there);
    const oldNeedsWhiteout = this.lowerHas(ctx, oldName);
    const newHidesLower = newDir.lowerHas(ctx, newName);
    err = this.upper!.rename(ctx, oldName, newUpper, newName);
    if (err < 0) return err;
    if (isDir(child) && newHidesLower) child.upper!.opaque = true;
    this.cache.delete(oldName);
    newDir.cache.set(newName, child);
    child.parentDir = newDir;
    child.dirName = newName;
    child.lowers = [];
    if (oldNeedsWhiteout) {
      const whiteout = this.upper!.create(ctx, oldName, WHITEOUT);
      if (typeof whiteout === 'number') return whiteout;
    }
    return 0;
  }

  readlink(): string | undefined {
    return this.real.target;
  }

  openTarget(ctx: FsCtx, flags: number): Inode | number {
    if (isDir(this)) return this;
    const writing = (flags & O.ACCMODE) !== O.RDONLY || (flags & O.TRUNC) !== 0;
    if (writing && (this.mode & S.IFMT) === S.IFREG) {
      const err = this.copyUp(ctx);
      if (err < 0) return err;
    }
    return this.real;
  }

  fileOps(ctx: FsCtx, flags: number): FileOps | number {
    return this.real.fileOps(ctx, flags);
  }

  /** Make sure the object exists in the upper tree (copying its parents and data up). */
  copyUp(ctx: FsCtx): number {
    if (this.upper !== undefined) return 0;
    const parent = this.parentDir;
    if (parent === undefined || parent === this) return -Errno.EIO;
    const err = parent.copyUp(ctx);
    if (err < 0) return err;
    ctx.charge(COPY_UP_CYCLES);
    const lower = this.lowers[0]!;
    const spec: NewInode =
      lower.target !== undefined
        ? { mode: lower.mode, uid: lower.uid, gid: lower.gid, target: lower.target }
        : { mode: lower.mode, uid: lower.uid, gid: lower.gid, rdev: lower.rdev };
    const upperParent = parent.upper!;
    const created = upperParent.create(ctx, this.dirName, spec);
    if (typeof created === 'number') return created;
    if (lower.data !== undefined && created.data !== undefined) {
      const copied = created.data.copyFrom(ctx, lower.data);
      if (copied < 0) {
        upperParent.remove(ctx, this.dirName);
        return copied;
      }
    }
    created.atime = lower.atime;
    created.mtime = lower.mtime;
    this.upper = created;
    return 0;
  }

  /** True if a lower layer has a visible entry `name` under this directory. */
  private lowerHas(ctx: FsCtx, name: string): boolean {
    if (this.upper?.opaque ?? false) return false;
    for (const dir of this.lowers) {
      const l = dir.lookup(ctx, name);
      if (l !== undefined) return !isWhiteout(l);
    }
    return false;
  }
}

/** Remove the whiteouts of an upper directory that is about to be removed or replaced. */
function clearWhiteouts(ctx: FsCtx, dir: TmpInode): void {
  for (const [name, child] of [...(dir.children ?? [])]) if (isWhiteout(child)) dir.remove(ctx, name);
}
