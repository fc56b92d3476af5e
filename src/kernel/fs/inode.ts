/**
 * The file-system objects the VFS works with: superblocks and inodes. Each file system (tmpfs,
 * overlay, devfs, procfs) implements {@link Inode}; the VFS (path walk, system calls) only uses this
 * interface. Directory entries (names) are metadata and live in JS; regular-file data lives in kernel
 * pages in simulated memory (page-data.ts).
 */
import type { SysCtx, TaskInfo } from '../core/ctx.js';
import type { FileOps } from '../core/file.js';
import { DT, S } from '../uapi/flags.js';
import type { PathRef } from './path-ref.js';

/**
 * What file systems need from the calling context: the PE and kernel services to allocate and reach
 * kernel pages, the clock, and (for procfs) the calling task. A SysCtx is one; boot code builds one
 * with {@link fsCtxFor} (vfs.ts).
 */
export type FsCtx = Pick<SysCtx, 'pe' | 'kernel' | 'kread' | 'kwrite' | 'charge' | 'now'> & {
  readonly task?: TaskInfo;
};

/** One directory entry as readdir returns it (without "." and ".."). */
export interface DirEntry {
  readonly name: string;
  readonly ino: number;
  /** DT_* type. */
  readonly type: number;
}

/** What to create in a directory. */
export interface NewInode {
  /** Type and permission bits (S_IFREG | 0644 ...). */
  readonly mode: number;
  /** Global (initial user namespace) owner ids. */
  readonly uid: number;
  readonly gid: number;
  /** Symlink target. */
  readonly target?: string;
  /** Device number of a character device. */
  readonly rdev?: number;
}

/** Attribute changes (chmod, chown, truncate). */
export interface AttrChange {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
}

/** A mounted file-system instance. */
export interface SuperBlock {
  /** st_dev of its inodes. */
  readonly dev: number;
  /** Type name as /proc/mounts shows it ("tmpfs", "overlay", "devtmpfs", "proc"). */
  readonly fsType: string;
  /** Container whose kernel pages hold the data (0 = the host). */
  readonly owner: number;
  readonly root: Inode;
  /** Extra options for /proc/mounts ("" if none). */
  options(): string;
}

/**
 * A file-system object. Attribute fields are current values (the overlay reports its real inode's);
 * change them through {@link Inode.setattr}. uid/gid are global ids.
 */
export interface Inode {
  readonly sb: SuperBlock;
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly size: number;
  readonly rdev: number;
  /** 512-byte blocks allocated. */
  readonly blocks: number;
  /** Times in seconds of simulated time. */
  readonly atime: number;
  readonly mtime: number;
  readonly ctime: number;
  /** Directories: the parent directory (the root's parent is itself) and the name in it. */
  readonly parentDir: Inode | undefined;
  readonly dirName: string;

  /** Change attributes: 0 or -errno (the VFS checked permissions). */
  setattr(ctx: FsCtx, change: AttrChange): number;

  /** Directories: the child called `name` (never "." or ".."). */
  lookup?(ctx: FsCtx, name: string): Inode | undefined;
  /** Directories: the entries, in a stable order, without "." and "..". */
  readdir?(ctx: FsCtx): DirEntry[];
  /** Directories: create an entry (the VFS checked that `name` is free): the new inode or -errno. */
  create?(ctx: FsCtx, name: string, spec: NewInode): Inode | number;
  /** Directories: add a hard link `name` to `target` (same file system). */
  link?(ctx: FsCtx, name: string, target: Inode): number;
  /** Directories: remove entry `name` (the VFS checked type and emptiness). */
  remove?(ctx: FsCtx, name: string): number;
  /**
   * Directories: move entry `oldName` to `newName` in `newDir` (same file system), replacing what is
   * there (the VFS checked types and emptiness).
   */
  rename?(ctx: FsCtx, oldName: string, newDir: Inode, newName: string): number;

  /** Symlinks: the target text. */
  readlink?(ctx: FsCtx): string | undefined;
  /** Magic links (procfs): the object they stand for, followed without re-resolving a path. */
  followLink?(ctx: FsCtx): PathRef | undefined;

  /** Regular files: read into user memory at `va`; bytes read or -errno. */
  read?(ctx: SysCtx, offset: number, va: number, length: number): number;
  /** Regular files: write from user memory at `va`; bytes written or -errno. */
  write?(ctx: SysCtx, offset: number, va: number, length: number): number;
  /** Regular files: read `length` bytes at `offset` into a kernel buffer (exec headers). */
  readKernel?(ctx: FsCtx, offset: number, length: number): Uint8Array | undefined;
  /** Regular files: write kernel bytes at `offset` (boot-time population): 0 or -errno. */
  writeKernel?(ctx: FsCtx, offset: number, data: Uint8Array): number;
  /** Regular files: the kernel VA of data page `index`, allocated if `allocate` (mmap). */
  page?(ctx: FsCtx, index: number, allocate: boolean): number | undefined;

  /**
   * The inode an open with `flags` works on: itself, or (overlay) the real inode after a copy-up
   * for writing; -errno on failure.
   */
  openTarget?(ctx: FsCtx, flags: number): Inode | number;
  /** Special files: their own file operations (devices, procfs files), or -errno. */
  fileOps?(ctx: FsCtx, flags: number): FileOps | number;
  /** An open file now refers to the inode / stopped referring to it. */
  retain?(): void;
  release?(): void;
}

/** File type of a mode. */
export function fileType(mode: number): number {
  return mode & S.IFMT;
}

export function isDir(inode: Inode): boolean {
  return (inode.mode & S.IFMT) === S.IFDIR;
}

export function isSymlink(inode: Inode): boolean {
  return (inode.mode & S.IFMT) === S.IFLNK;
}

export function isRegular(inode: Inode): boolean {
  return (inode.mode & S.IFMT) === S.IFREG;
}

/** DT_* of a mode. */
export function direntType(mode: number): number {
  switch (mode & S.IFMT) {
    case S.IFDIR:
      return DT.DIR;
    case S.IFREG:
      return DT.REG;
    case S.IFLNK:
      return DT.LNK;
    case S.IFCHR:
      return DT.CHR;
    case S.IFBLK:
      return DT.BLK;
    case S.IFIFO:
      return DT.FIFO;
    case S.IFSOCK:
      return DT.SOCK;
    default:
      return DT.UNKNOWN;
  }
}

/** Linux makedev for small numbers (new_encode_dev of major < 4096, minor < 256). */
export function makedev(major: number, minor: number): number {
  return major * 256 + minor;
}

/** Seconds of simulated time for inode times. */
export function nowSeconds(ctx: Pick<FsCtx, 'now'>): number {
  return ctx.now() / 1e9;
}
