/**
 * Open files of the VFS: the private state of an OpenFile opened by path (VfsFile), and the file
 * operations of regular files and directories. Devices and procfs files bring their own read/write
 * but share {@link vfsStat}.
 */
import type { SysCtx } from '../core/ctx.js';
import type { FileOps, OpenFile } from '../core/file.js';
import { Errno } from '../uapi/errno.js';
import { O, SEEK, S } from '../uapi/flags.js';
import { encodeDirent, type Stat } from '../uapi/structs.js';
import { DIRENT_CYCLES } from './costs.js';
import { direntType, type DirEntry, type Inode } from './inode.js';
import type { PathRef } from './path-ref.js';

/** Largest single read or write (Linux MAX_RW_COUNT). */
export const MAX_RW_COUNT = 0x7fff_f000;

/** The VFS state of an open file. */
export class VfsFile {
  /** Where the file was opened: the mount and the inode as the path named it (overlay inode). */
  readonly ref: PathRef;
  /** The inode the data operations use (the overlay's real inode; otherwise ref.inode). */
  readonly inode: Inode;
  /** The directory it was opened in and the name used (for /proc/<pid>/fd of non-directories). */
  readonly parent: PathRef;
  readonly name: string;
  /** getdents: the entries listed, taken when a listing starts at offset 0. */
  entries: DirEntry[] | undefined;

  constructor(ref: PathRef, inode: Inode, parent: PathRef, name: string) {
    this.ref = ref;
    this.inode = inode;
    this.parent = parent;
    this.name = name;
  }
}

/** The VfsFile of an open file, if it was opened through the VFS. */
export function vfsFileOf(file: OpenFile): VfsFile | undefined {
  return file.data instanceof VfsFile ? file.data : undefined;
}

/** stat of an inode as the calling task sees it (ids mapped into its user namespace). */
export function inodeStat(ctx: Pick<SysCtx, 'task'>, inode: Inode): Stat {
  const user = ctx.task.ns.user;
  return {
    dev: inode.sb.dev,
    ino: inode.ino,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: user.fromGlobal(inode.uid, 'uid'),
    gid: user.fromGlobal(inode.gid, 'gid'),
    rdev: inode.rdev,
    size: inode.size,
    blksize: 4096,
    blocks: inode.blocks,
    atime: inode.atime,
    mtime: inode.mtime,
    ctime: inode.ctime,
  };
}

/** FileOps.stat of every VFS file. */
export function vfsStat(ctx: SysCtx, file: OpenFile): Stat | number {
  const vfs = vfsFileOf(file);
  return vfs === undefined ? -Errno.EBADF : inodeStat(ctx, vfs.inode);
}

/** FileOps.release of every VFS file. */
export function vfsRelease(file: OpenFile): void {
  vfsFileOf(file)?.inode.release?.();
}

/** lseek over a file of `size` bytes. */
export function seekWithin(file: OpenFile, offset: number, whence: number, size: number): number {
  let base: number;
  switch (whence) {
    case SEEK.SET:
      base = 0;
      break;
    case SEEK.CUR:
      base = file.offset;
      break;
    case SEEK.END:
      base = size;
      break;
    default:
      return -Errno.EINVAL;
  }
  const target = base + offset;
  if (target < 0 || !Number.isSafeInteger(target)) return -Errno.EINVAL;
  file.offset = target;
  return target;
}

/** Operations of an open regular file. */
export const REGULAR_FILE_OPS: FileOps = {
  read(ctx, file, va, length, offset) {
    const inode = vfsFileOf(file)!.inode;
    const at = offset ?? file.offset;
    const n = inode.read?.(ctx, at, va, Math.min(length, MAX_RW_COUNT)) ?? -Errno.EINVAL;
    if (n > 0 && offset === undefined) file.offset += n;
    return n;
  },
  write(ctx, file, va, length, offset) {
    const inode = vfsFileOf(file)!.inode;
    const append = (file.flags & O.APPEND) !== 0;
    // O_APPEND: every write goes to the end (pwrite too, as Linux does).
    const at = append ? inode.size : (offset ?? file.offset);
    const n = inode.write?.(ctx, at, va, Math.min(length, MAX_RW_COUNT)) ?? -Errno.EINVAL;
    if (n > 0 && offset === undefined) file.offset = at + n;
    return n;
  },
  lseek(_ctx, file, offset, whence) {
    return seekWithin(file, offset, whence, vfsFileOf(file)!.inode.size);
  },
  stat: vfsStat,
  fsync: () => 0,
  truncate(ctx, file, length) {
    return vfsFileOf(file)!.inode.setattr(ctx, { size: length });
  },
  release: vfsRelease,
};

/** Operations of an open directory. */
export const DIRECTORY_OPS: FileOps = {
  read: () => -Errno.EISDIR,
  write: () => -Errno.EISDIR,
  lseek(_ctx, file, offset, whence) {
    // Directory offsets are entry indices (SIMPLIFICATION: Linux tmpfs uses cursor positions).
    if (whence === SEEK.END) return -Errno.EINVAL;
    const target = seekWithin(file, offset, whence, 0);
    if (target === 0) vfsFileOf(file)!.entries = undefined;
    return target;
  },
  getdents(ctx, file, va, length) {
    const vfs = vfsFileOf(file)!;
    const dir = vfs.ref.inode;
    if (file.offset === 0 || vfs.entries === undefined) {
      const parent = dir.parentDir ?? dir;
      vfs.entries = [
        { name: '.', ino: dir.ino, type: direntType(S.IFDIR) },
        { name: '..', ino: parent.ino, type: direntType(S.IFDIR) },
        ...(dir.readdir?.(ctx) ?? []),
      ];
    }
    const entries = vfs.entries;
    let used = 0;
    while (file.offset < entries.length) {
      const entry = entries[file.offset]!;
      const record = encodeDirent(entry.ino, file.offset + 1, entry.type, entry.name);
      if (used + record.length > length) {
        if (used === 0) return -Errno.EINVAL;
        break;
      }
      if (!ctx.copyOut(va + used, record)) return used > 0 ? used : -Errno.EFAULT;
      used += record.length;
      file.offset++;
      ctx.charge(DIRENT_CYCLES);
    }
    return used;
  },
  stat: vfsStat,
  fsync: () => 0,
  release: vfsRelease,
};
