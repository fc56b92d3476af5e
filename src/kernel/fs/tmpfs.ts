/**
 * tmpfs: a file system whose inodes live in kernel memory. Directory entries are JS maps (names are
 * metadata); file data are kernel pages of the superblock's owner (page-data.ts). devfs is a tmpfs
 * with device nodes and a device table; overlay upper and lower layers are tmpfs trees.
 */
import type { KernelPages, SysCtx } from '../core/ctx.js';
import type { FileOps } from '../core/file.js';
import { Errno } from '../uapi/errno.js';
import { S } from '../uapi/flags.js';
import type { Devices } from './devices.js';
import {
  direntType,
  nowSeconds,
  type AttrChange,
  type DirEntry,
  type FsCtx,
  type Inode,
  type NewInode,
  type SuperBlock,
} from './inode.js';
import { PageData, type PageBacking } from './page-data.js';

/** Parameters of a tmpfs instance. */
export interface TmpfsParams {
  /** st_dev of the instance. */
  readonly dev: number;
  /** Container owning the data pages (0 = host). */
  readonly owner: number;
  readonly pages: KernelPages;
  /** Type name for /proc/mounts (default "tmpfs"). */
  readonly fsType?: string;
  /** Mode of the root directory (default 01777, as tmpfs). */
  readonly rootMode?: number;
  /** Device table for character device nodes (devfs). */
  readonly devices?: Devices;
  /** Simulated time of creation, seconds. */
  readonly time?: number;
  /** Disk backing of the file pages (src/kernel/block); default none: pages stay in memory. */
  readonly backing?: PageBacking;
}

/** A tmpfs instance. */
export class TmpfsSuperBlock implements SuperBlock {
  readonly dev: number;
  readonly fsType: string;
  readonly owner: number;
  readonly root: TmpInode;
  readonly pages: KernelPages;
  readonly devices: Devices | undefined;
  /** Disk backing of its files' pages (set before any regular file exists), or undefined. */
  backing: PageBacking | undefined;
  private nextIno = 1;

  constructor(params: TmpfsParams) {
    this.dev = params.dev;
    this.owner = params.owner;
    this.pages = params.pages;
    this.backing = params.backing;
    this.fsType = params.fsType ?? 'tmpfs';
    this.devices = params.devices;
    this.root = new TmpInode(
      this,
      { mode: S.IFDIR | (params.rootMode ?? 0o1777), uid: 0, gid: 0 },
      params.time ?? 0,
    );
  }

  /** A fresh inode number. */
  allocIno(): number {
    return this.nextIno++;
  }

  options(): string {
    return '';
  }

  /**
   * Write back the dirty pages of every file reachable from the root (syncfs); in the owner's
   * context. 0 or the first -errno. Without a backing: 0.
   */
  sync(ctx: FsCtx): number {
    if (this.backing === undefined) return 0;
    let result = 0;
    const seen = new Set<TmpInode>();
    const pending: TmpInode[] = [this.root];
    for (let inode = pending.pop(); inode !== undefined; inode = pending.pop()) {
      if (seen.has(inode)) continue;
      seen.add(inode);
      const written = inode.data?.writeback(ctx) ?? 0;
      if (written < 0 && result === 0) result = written;
      for (const child of inode.children?.values() ?? []) pending.push(child);
    }
    return result;
  }
}

/** A tmpfs inode: directory, regular file, symlink or device node. */
export class TmpInode implements Inode {
  readonly sb: TmpfsSuperBlock;
  readonly ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  readonly rdev: number;
  atime: number;
  mtime: number;
  ctime: number;
  parentDir: TmpInode | undefined;
  dirName = '';
  /** Overlay: a directory that hides the lower layers' directory of the same name. */
  opaque = false;
  /** Directories: entries in creation order. */
  readonly children: Map<string, TmpInode> | undefined;
  /** Regular files: data pages. */
  readonly data: PageData | undefined;
  /** Symlinks: target. */
  readonly target: string | undefined;
  private openCount = 0;

  constructor(sb: TmpfsSuperBlock, spec: NewInode, time: number) {
    this.sb = sb;
    this.ino = sb.allocIno();
    this.mode = spec.mode;
    this.uid = spec.uid;
    this.gid = spec.gid;
    this.rdev = spec.rdev ?? 0;
    this.atime = this.mtime = this.ctime = time;
    const type = spec.mode & S.IFMT;
    this.children = type === S.IFDIR ? new Map() : undefined;
    this.data = type === S.IFREG ? new PageData(sb.owner, sb.pages, sb.backing) : undefined;
    this.target = type === S.IFLNK ? (spec.target ?? '') : undefined;
    this.nlink = type === S.IFDIR ? 2 : 1;
    if (type === S.IFDIR) this.parentDir = this;
  }

  get size(): number {
    if (this.data !== undefined) return this.data.size;
    if (this.target !== undefined) return new TextEncoder().encode(this.target).length;
    return this.children !== undefined ? 4096 : 0;
  }

  get blocks(): number {
    return this.data !== undefined ? this.data.pageCount * 8 : 0;
  }

  setattr(ctx: FsCtx, change: AttrChange): number {
    if (change.size !== undefined) {
      if (this.data === undefined) return -Errno.EINVAL;
      const err = this.data.truncate(ctx, change.size);
      if (err < 0) return err;
      this.mtime = nowSeconds(ctx);
    }
    if (change.mode !== undefined) this.mode = (this.mode & S.IFMT) | (change.mode & 0o7777);
    if (change.uid !== undefined) this.uid = change.uid;
    if (change.gid !== undefined) this.gid = change.gid;
    this.ctime = nowSeconds(ctx);
    return 0;
  }

  lookup(_ctx: FsCtx, name: string): TmpInode | undefined {
    return this.children?.get(name);
  }

  readdir(): DirEntry[] {
    const out: DirEntry[] = [];
    for (const [name, child] of this.children ?? []) {
      out.push({ name, ino: child.ino, type: direntType(child.mode) });
    }
    return out;
  }

  create(ctx: FsCtx, name: string, spec: NewInode): TmpInode | number {
    if (this.children === undefined) return -Errno.ENOTDIR;
    if (this.children.has(name)) return -Errno.EEXIST;
    const child = new TmpInode(this.sb, spec, nowSeconds(ctx));
    this.children.set(name, child);
    if (child.children !== undefined) {
      child.parentDir = this;
      child.dirName = name;
      this.nlink++;
    }
    this.touch(ctx);
    return child;
  }

  link(ctx: FsCtx, name: string, target: Inode): number {
    if (this.children === undefined) return -Errno.ENOTDIR;
    if (!(target instanceof TmpInode) || target.sb !== this.sb) return -Errno.EXDEV;
    if (this.children.has(name)) return -Errno.EEXIST;
    this.children.set(name, target);
    target.nlink++;
    target.ctime = nowSeconds(ctx);
    this.touch(ctx);
    return 0;
  }

  remove(ctx: FsCtx, name: string): number {
    const child = this.children?.get(name);
    if (child === undefined) return -Errno.ENOENT;
    this.children!.delete(name);
    this.unlinked(child);
    this.touch(ctx);
    return 0;
  }

  rename(ctx: FsCtx, oldName: string, newDir: Inode, newName: string): number {
    if (!(newDir instanceof TmpInode) || newDir.sb !== this.sb) return -Errno.EXDEV;
    const child = this.children?.get(oldName);
    if (child === undefined) return -Errno.ENOENT;
    if (newDir.children === undefined) return -Errno.ENOTDIR;
    const replaced = newDir.children.get(newName);
    if (replaced === child) return 0;
    this.children!.delete(oldName);
    if (replaced !== undefined) newDir.unlinked(replaced);
    newDir.children.set(newName, child);
    if (child.children !== undefined) {
      child.parentDir = newDir;
      child.dirName = newName;
      this.nlink--;
      newDir.nlink++;
    }
    child.ctime = nowSeconds(ctx);
    this.touch(ctx);
    newDir.touch(ctx);
    return 0;
  }

  readlink(): string | undefined {
    return this.target;
  }

  read(ctx: SysCtx, offset: number, va: number, length: number): number {
    return this.data === undefined ? -Errno.EINVAL : this.data.read(ctx, offset, va, length);
  }

  write(ctx: SysCtx, offset: number, va: number, length: number): number {
    if (this.data === undefined) return -Errno.EINVAL;
    const written = this.data.write(ctx, offset, va, length);
    if (written > 0) this.mtime = this.ctime = nowSeconds(ctx);
    return written;
  }

  readKernel(ctx: FsCtx, offset: number, length: number): Uint8Array | undefined {
    return this.data?.readKernel(ctx, offset, length);
  }

  writeKernel(ctx: FsCtx, offset: number, data: Uint8Array): number {
    return this.data === undefined ? -Errno.EINVAL : this.data.writeKernel(ctx, offset, data);
  }

  page(ctx: FsCtx, index: number, allocate: boolean): number | undefined {
    return this.data?.page(ctx, index, allocate);
  }

  /** fsync: write the file's dirty pages to its disk (a backed file system only): 0 or -errno. */
  fsync(ctx: FsCtx): number {
    return this.data?.writeback(ctx) ?? 0;
  }

  fileOps(_ctx: FsCtx, _flags: number): FileOps | number {
    if ((this.mode & S.IFMT) !== S.IFCHR) return -Errno.ENXIO;
    return this.sb.devices?.open(this.rdev) ?? -Errno.ENXIO;
  }

  retain(): void {
    this.openCount++;
  }

  release(): void {
    this.openCount--;
    this.freeIfUnused();
  }

  /** Bookkeeping after the entry naming `child` was removed. */
  private unlinked(child: TmpInode): void {
    if (child.children !== undefined) {
      child.nlink = 0;
      this.nlink--;
    } else {
      child.nlink--;
    }
    child.freeIfUnused();
  }

  private freeIfUnused(): void {
    if (this.nlink === 0 && this.openCount === 0) this.data?.freeAll();
  }

  private touch(ctx: FsCtx): void {
    this.mtime = this.ctime = nowSeconds(ctx);
  }
}

/** fsync of `inode` when it is a tmpfs file (the data inode of an open file): 0 or -errno. */
export function fsyncInode(ctx: FsCtx, inode: Inode): number {
  return inode instanceof TmpInode ? inode.fsync(ctx) : 0;
}

/** Overlay whiteout: a character device 0:0 (Documentation/filesystems/overlayfs.rst). */
export function isWhiteout(inode: Inode): boolean {
  return (inode.mode & S.IFMT) === S.IFCHR && inode.rdev === 0;
}
