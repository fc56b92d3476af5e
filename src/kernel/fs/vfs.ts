/**
 * The VFS of the untrusted kernel: the entry points the kernel core uses. (This header is the
 * README of src/kernel/fs.)
 *
 * Layout of the folder:
 *   inode.ts, path-ref.ts      the Inode / SuperBlock interfaces every file system implements
 *   page-data.ts               regular-file data in KernelPages pages (simulated memory, §3)
 *   tmpfs.ts, overlay.ts       tmpfs; overlayfs (container roots: copy-up, whiteouts, opaque dirs)
 *   devices.ts, procfs.ts      devfs devices (null, zero, full, urandom, tty, console); procfs
 *   mount.ts, mount-namespace.ts, fs-state.ts   mount tree, CLONE_NEWNS copies, per-task root/cwd/umask
 *   namei.ts, path-name.ts     path resolution (symlinks, "..", mounts) and d_path
 *   perm.ts, open.ts           permission checks; open by path
 *   vfs-file.ts                open-file state (VfsFile) and regular/directory FileOps
 *   sys-*.ts, syscalls.ts      the system calls: FS_SYSCALLS keyed by Sys.* number
 *
 * What the core calls:
 *   const vfs = new Vfs();
 *   const hostNs = vfs.createRootNamespace(fsCtx);            // tmpfs / with /bin /dev /proc /tmp /etc /root
 *   populate(fsCtx, hostNs, '/bin/sh', image, 0o755);         // boot: write executables (OS context)
 *   initTask.fs = FsState.at(hostNs); initTask.ns.mnt = hostNs;
 *   fork:    child.fs = parent.fs.clone(); child.files = parent.files.clone();
 *   CLONE_NEWNS / unshare: ns.mnt = ns.mnt.clone(); task.fs.rebase(ns.mnt);
 *   setns / container start: task.fs.enter(ns);
 *   container root: const layer = vfs.createLayer(fsCtx); populate(fsCtx, layer.root, ...);
 *                   const ns = vfs.createContainerRoot(fsCtx, [layer], cid);
 *   container disks (src/kernel/block): vfs.pageBacking = new DiskStore(platform) before the first
 *                   container root; fsync(fd) then writes a file's dirty pages to its owner's disk.
 *   execve:  resolveExecutable(ctx, path) → { file, header, exePath } | -errno;
 *            read the image with file.ops.read(ctx, file, va, length, offset), or map its pages with
 *            filePage(ctx, file, index, allocate); then releaseFile(file) (or install it in an FdTable).
 *   syscalls: FS_SYSCALLS (syscalls.ts) merged into the dispatcher.
 *
 * FsCtx is the part of a SysCtx that file systems need (pe, kernel, kread, kwrite, charge, now):
 * a SysCtx is one; fsCtxFor(pe, kernel) builds one for boot code running in the OS context.
 */
import type { KernelServices, SysCtx } from '../core/ctx.js';
import type { OpenFile } from '../core/file.js';
import type { ProcessingElement } from '../../hw/pe.js';
import { Errno } from '../uapi/errno.js';
import { AT_FDCWD, MS, O, S } from '../uapi/flags.js';
import { devfsSeed } from './devices.js';
import { makeDevfs, makeOverlay, makeProcfs, makeTmpfs } from './filesystems.js';
import { FsIds } from './fs-ids.js';
import { isDir, isRegular, type FsCtx, type Inode } from './inode.js';
import { MountNamespace } from './mount-namespace.js';
import { crossMounts, walk } from './namei.js';
import { openRef } from './open.js';
import type { PageBackingProvider } from './page-data.js';
import { childPathName } from './path-name.js';
import type { PathRef } from './path-ref.js';
import { MAY, permission } from './perm.js';
import type { TmpfsSuperBlock } from './tmpfs.js';
import { vfsFileOf } from './vfs-file.js';

export { FsState } from './fs-state.js';
export { MountNamespace } from './mount-namespace.js';
export { FS_SYSCALLS } from './syscalls.js';
export type { FsCtx } from './inode.js';

/** Bytes of an executable's start that resolveExecutable returns. */
export const EXEC_HEADER_BYTES = 256;

/** What execve needs from the VFS. */
export interface ExecTarget {
  /** The executable, open read-only (refs 0: install it or call releaseFile). */
  readonly file: OpenFile;
  /** Its first bytes (at most EXEC_HEADER_BYTES). */
  readonly header: Uint8Array;
  /** Its path as the task sees it (for /proc/<pid>/exe and comm). */
  readonly exePath: string;
}

/** Directories of the host's root file system: name, mode. */
const ROOT_DIRS: readonly (readonly [string, number])[] = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['proc', 0o555],
  ['root', 0o700],
  ['tmp', 0o1777],
];

/** The VFS of one kernel: the counters of its mounts and file systems, and the factories. */
export class Vfs {
  readonly ids = new FsIds();
  /**
   * Disk backing of container roots (src/kernel/block DiskStore), set once at boot: the upper layer
   * of a container root made afterwards keeps its file pages on the container's disk. Undefined:
   * upper layers stay in memory.
   */
  pageBacking: PageBackingProvider | undefined;

  /**
   * The host's initial mount namespace: a tmpfs owned by 0 with /bin /dev /etc /proc /root /tmp,
   * devtmpfs on /dev and procfs on /proc.
   */
  createRootNamespace(ctx: FsCtx): MountNamespace {
    const rootfs = makeTmpfs(ctx, this.ids, 0, 0o755);
    const ns = MountNamespace.create(this.ids, rootfs, 'rootfs');
    this.addStandardMounts(ctx, ns, rootfs.root, 0);
    return ns;
  }

  /** A standalone tmpfs tree to fill with populate(), e.g. an image layer (data owned by `owner`). */
  createLayer(ctx: FsCtx, owner = 0): TmpfsSuperBlock {
    return makeTmpfs(ctx, this.ids, owner, 0o755);
  }

  /**
   * A container's mount namespace: an overlay of `lowers` (topmost first, never written) under a new
   * upper tmpfs owned by container `cid`, with devtmpfs on /dev and procfs on /proc.
   */
  createContainerRoot(ctx: FsCtx, lowers: readonly TmpfsSuperBlock[], cid: number): MountNamespace {
    const upper = makeTmpfs(ctx, this.ids, cid, 0o755);
    upper.backing = this.pageBacking?.forOwner(cid);
    const overlay = makeOverlay(
      ctx,
      this.ids,
      upper.root,
      lowers.map((layer) => layer.root),
    );
    const ns = MountNamespace.create(this.ids, overlay, 'overlay');
    this.addStandardMounts(ctx, ns, overlay.root, cid);
    return ns;
  }

  private addStandardMounts(ctx: FsCtx, ns: MountNamespace, root: Inode, owner: number): void {
    for (const [name, mode] of ROOT_DIRS) {
      if (root.lookup?.(ctx, name) === undefined)
        root.create?.(ctx, name, { mode: S.IFDIR | mode, uid: 0, gid: 0 });
    }
    const dev = root.lookup?.(ctx, 'dev');
    const proc = root.lookup?.(ctx, 'proc');
    const devfs = makeDevfs(ctx, this.ids, owner, devfsSeed(owner));
    const procfs = makeProcfs(ctx, this.ids);
    if (dev !== undefined) ns.root.attach(ns.newMount(devfs, devfs.root, 'devtmpfs', MS.NOSUID), dev);
    if (proc !== undefined) {
      ns.root.attach(ns.newMount(procfs, procfs.root, 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC), proc);
    }
  }
}

/** Options of {@link populate}. */
export interface PopulateOptions {
  /** Owner ids (global; default 0). */
  readonly uid?: number;
  readonly gid?: number;
  /** Create a symlink to this target instead of a regular file (bytes ignored). */
  readonly symlink?: string;
}

/**
 * Write a file (or symlink) at `path` of a namespace or a directory tree, creating missing parent
 * directories (0755), replacing an existing file. Boot-time and image-building use from the OS
 * context: no permission checks, symlinks not followed. 0 or -errno.
 */
export function populate(
  ctx: FsCtx,
  where: MountNamespace | Inode,
  path: string,
  bytes: Uint8Array,
  mode: number,
  options: PopulateOptions = {},
): number {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined || parts.includes('..') || name === '..') return -Errno.EINVAL;
  const uid = options.uid ?? 0;
  const gid = options.gid ?? 0;
  let dir: PathRef | Inode = where instanceof MountNamespace ? where.rootRef() : where;
  const inodeOf = (at: PathRef | Inode): Inode => ('inode' in at ? at.inode : at);
  const step = (at: PathRef | Inode, child: Inode): PathRef | Inode =>
    'inode' in at ? crossMounts({ mount: at.mount, inode: child }) : child;
  for (const part of parts) {
    const current = inodeOf(dir);
    let child = current.lookup?.(ctx, part);
    if (child === undefined) {
      const made = current.create?.(ctx, part, { mode: S.IFDIR | 0o755, uid, gid }) ?? -Errno.ENOTDIR;
      if (typeof made === 'number') return made;
      child = made;
    }
    if (!isDir(child)) return -Errno.ENOTDIR;
    dir = step(dir, child);
  }
  const parent = inodeOf(dir);
  const existing = parent.lookup?.(ctx, name);
  if (existing !== undefined) {
    if (isDir(existing)) return -Errno.EISDIR;
    const removed = parent.remove?.(ctx, name) ?? -Errno.EPERM;
    if (removed < 0) return removed;
  }
  const spec =
    options.symlink !== undefined
      ? { mode: S.IFLNK | 0o777, uid, gid, target: options.symlink }
      : { mode: S.IFREG | (mode & 0o7777), uid, gid };
  const inode = parent.create?.(ctx, name, spec) ?? -Errno.ENOTDIR;
  if (typeof inode === 'number') return inode;
  if (options.symlink !== undefined) return 0;
  const data = inode.openTarget?.(ctx, O.WRONLY) ?? inode;
  if (typeof data === 'number') return data;
  return data.writeKernel?.(ctx, 0, bytes) ?? -Errno.EINVAL;
}

/**
 * Find the executable for execve: ENOENT / ENOTDIR / ELOOP from the walk, EACCES for a directory, a
 * non-regular file, a noexec mount or no execute permission (root needs some x bit).
 */
export function resolveExecutable(ctx: SysCtx, path: string): ExecTarget | number {
  const w = walk(ctx, AT_FDCWD, path, true);
  if (typeof w === 'number') return w;
  const target = w.target;
  if (target === undefined) return -Errno.ENOENT;
  const inode = target.inode;
  if (!isRegular(inode)) return -Errno.EACCES;
  if ((target.mount.flags & MS.NOEXEC) !== 0) return -Errno.EACCES;
  const denied = permission(ctx.task, inode, MAY.EXEC);
  if (denied < 0) return denied;
  const file = openRef(ctx, target, w.parent, w.last, O.RDONLY);
  if (typeof file === 'number') return file;
  const header = vfsFileOf(file)!.inode.readKernel?.(ctx, 0, EXEC_HEADER_BYTES);
  if (header === undefined) {
    releaseFile(file);
    return -Errno.EIO;
  }
  return { file, header, exePath: childPathName(w.parent, w.last, ctx.task.fs.root).path };
}

/** Release an open file that no descriptor refers to (refs 0), e.g. an exec file after loading. */
export function releaseFile(file: OpenFile): void {
  if (file.refs === 0) file.ops.release?.(file);
}

/** The kernel VA of data page `index` of an open regular file (allocated if asked), for mmap. */
export function filePage(ctx: FsCtx, file: OpenFile, index: number, allocate: boolean): number | undefined {
  return vfsFileOf(file)?.inode.page?.(ctx, index, allocate);
}

/** An FsCtx for code running in the OS context on `pe` (boot): kernel VAs reached through the PE. */
export function fsCtxFor(pe: ProcessingElement, kernel: KernelServices, now: () => number = () => 0): FsCtx {
  return {
    pe,
    kernel,
    kread: (kva, length) => pe.readBytes(kva, length),
    kwrite: (kva, data) => pe.writeBytes(kva, data),
    charge: (cycles) => pe.compute(cycles),
    now,
  };
}
