/**
 * procfs: a view of the kernel's tasks, generated on each lookup and read. The root lists "self",
 * "mounts" and one directory per process visible in the reader's pid namespace (named by its pid
 * there); /proc/<pid> has comm, cwd, exe, fd/, maps, mem, mounts, root and status. cwd, root and
 * fd/<n> are magic links (followed to the object itself, not by re-resolving their text).
 * /proc/<pid>/mem reads the task's memory with KernelServices.readTaskMemory at the file offset.
 */
import type { SysCtx, TaskInfo } from '../core/ctx.js';
import type { FileOps, OpenFile } from '../core/file.js';
import { Errno } from '../uapi/errno.js';
import { S, SEEK } from '../uapi/flags.js';
import { PROC_TEXT_CYCLES_PER_BYTE } from './costs.js';
import { direntType, type DirEntry, type FsCtx, type Inode, type SuperBlock } from './inode.js';
import { childPathName, pathName } from './path-name.js';
import type { PathRef } from './path-ref.js';
import { NsHandle, type NsKind } from '../core/ns-handle.js';
import { mapsText, mountsText, statusText, type ProcReader } from './proc-text.js';
import { MAX_RW_COUNT, seekWithin, vfsFileOf, vfsRelease, vfsStat } from './vfs-file.js';

/** Entry kinds of procfs. */
type ProcKind =
  | 'root'
  | 'self'
  | 'mounts-link'
  | 'pid'
  | 'fd'
  | 'fdlink'
  | 'exe'
  | 'cwd'
  | 'rootlink'
  | 'status'
  | 'maps'
  | 'mounts'
  | 'comm'
  | 'mem'
  | 'nsdir'
  | 'ns';

/** Entries of /proc/<pid>, in listing order, with their kind and mode. */
const PID_ENTRIES: readonly (readonly [string, ProcKind, number])[] = [
  ['comm', 'comm', S.IFREG | 0o644],
  ['cwd', 'cwd', S.IFLNK | 0o777],
  ['exe', 'exe', S.IFLNK | 0o777],
  ['fd', 'fd', S.IFDIR | 0o500],
  ['maps', 'maps', S.IFREG | 0o444],
  ['mem', 'mem', S.IFREG | 0o600],
  ['mounts', 'mounts', S.IFREG | 0o444],
  ['ns', 'nsdir', S.IFDIR | 0o511],
  ['root', 'rootlink', S.IFLNK | 0o777],
  ['status', 'status', S.IFREG | 0o444],
];
const KIND_SLOT: Readonly<Record<ProcKind, number>> = {
  root: 0,
  self: 1,
  'mounts-link': 2,
  pid: 3,
  fd: 4,
  fdlink: 5,
  exe: 6,
  cwd: 7,
  rootlink: 8,
  status: 9,
  maps: 10,
  mounts: 11,
  comm: 12,
  mem: 13,
  nsdir: 14,
  ns: 15,
};
/** Namespace entries of /proc/<pid>/ns (setns(2) takes an open one), with their inode slots. */
const NS_ENTRIES: readonly (readonly [NsKind, number])[] = [
  ['ipc', 16],
  ['mnt', 17],
  ['net', 18],
  ['pid', 19],
  ['user', 20],
  ['uts', 21],
];
/** Inode slot of fd 0 in /proc/<pid>/fd. */
const FD_SLOT = 32;
/** Inode numbers: per process, FD_SLOT kind slots then one per fd. */
const INO_PER_PROCESS = FD_SLOT + 1024;
const INO_BASE = 0x1000;

/** A procfs instance. */
export class ProcSuperBlock implements SuperBlock {
  readonly dev: number;
  readonly fsType = 'proc';
  readonly owner = 0;
  readonly root: ProcInode;

  constructor(dev: number) {
    this.dev = dev;
    this.root = new ProcInode(this, { kind: 'root', tgid: 0, fd: -1, mode: S.IFDIR | 0o555, uid: 0, gid: 0 });
  }

  options(): string {
    return '';
  }
}

interface ProcSpec {
  readonly kind: ProcKind;
  /** Global tgid of the process (0 for the root's entries). */
  readonly tgid: number;
  readonly fd: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** A procfs entry. */
export class ProcInode implements Inode {
  readonly sb: ProcSuperBlock;
  readonly ino: number;
  readonly kind: ProcKind;
  readonly tgid: number;
  readonly fd: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly size = 0;
  readonly rdev = 0;
  readonly blocks = 0;
  readonly atime = 0;
  readonly mtime = 0;
  readonly ctime = 0;
  readonly parentDir: ProcInode | undefined;
  readonly dirName: string;
  /** /proc/<pid>/ns/<kind>: the namespace it names. */
  nsTarget: NsHandle | undefined;

  constructor(sb: ProcSuperBlock, spec: ProcSpec, parent?: ProcInode, name = '') {
    this.sb = sb;
    this.kind = spec.kind;
    this.tgid = spec.tgid;
    this.fd = spec.fd;
    this.mode = spec.mode;
    this.uid = spec.uid;
    this.gid = spec.gid;
    this.nlink = (spec.mode & S.IFMT) === S.IFDIR ? 2 : 1;
    this.parentDir = parent ?? this;
    this.dirName = name;
    const nsSlot = NS_ENTRIES.find(([kind]) => kind === name)?.[1];
    const slot =
      spec.kind === 'fdlink'
        ? FD_SLOT + spec.fd
        : spec.kind === 'ns' && nsSlot !== undefined
          ? nsSlot
          : KIND_SLOT[spec.kind];
    this.ino = spec.kind === 'root' ? 1 : INO_BASE + spec.tgid * INO_PER_PROCESS + slot;
  }

  setattr(): number {
    return -Errno.EPERM;
  }

  lookup(ctx: FsCtx, name: string): ProcInode | undefined {
    switch (this.kind) {
      case 'root':
        return this.lookupRoot(ctx, name);
      case 'pid': {
        const task = this.process(ctx);
        const entry = PID_ENTRIES.find(([n]) => n === name);
        if (task === undefined || entry === undefined) return undefined;
        return this.child(entry[1], entry[2], task, -1, name);
      }
      case 'nsdir': {
        const task = this.process(ctx);
        if (task === undefined || !NS_ENTRIES.some(([kind]) => kind === name)) return undefined;
        const entry = this.child('ns', S.IFREG | 0o444, task, -1, name);
        // The entry names the namespace the process is in now (an open descriptor keeps it).
        const kind = name as NsKind;
        // The IPC namespace is not modelled (SysV segments are per container): the nsproxy stands for it.
        entry.nsTarget = new NsHandle(kind, kind === 'ipc' ? task.ns : task.ns[kind]);
        return entry;
      }
      case 'fd': {
        const task = this.process(ctx);
        if (task === undefined || !/^(0|[1-9][0-9]*)$/.test(name)) return undefined;
        const fd = Number(name);
        if (task.files.get(fd) === undefined) return undefined;
        const mode = S.IFLNK | 0o700;
        return this.child('fdlink', mode, task, fd, name);
      }
      default:
        return undefined;
    }
  }

  readdir(ctx: FsCtx): DirEntry[] {
    switch (this.kind) {
      case 'root': {
        const out: DirEntry[] = [
          { name: 'self', ino: INO_BASE + KIND_SLOT.self, type: direntType(S.IFLNK) },
          { name: 'mounts', ino: INO_BASE + KIND_SLOT['mounts-link'], type: direntType(S.IFLNK) },
        ];
        for (const [pid, task] of visibleProcesses(ctx)) {
          out.push({ name: String(pid), ino: procIno(task.tgid, 'pid'), type: direntType(S.IFDIR) });
        }
        return out;
      }
      case 'pid':
        return this.process(ctx) === undefined
          ? []
          : PID_ENTRIES.map(([name, kind, mode]) => ({
              name,
              ino: procIno(this.tgid, kind),
              type: direntType(mode),
            }));
      case 'nsdir':
        return this.process(ctx) === undefined
          ? []
          : NS_ENTRIES.map(([name, slot]) => ({
              name,
              ino: INO_BASE + this.tgid * INO_PER_PROCESS + slot,
              type: direntType(S.IFREG),
            }));
      case 'fd': {
        const task = this.process(ctx);
        return (task?.files.entries() ?? []).map(([fd]) => ({
          name: String(fd),
          ino: INO_BASE + this.tgid * INO_PER_PROCESS + FD_SLOT + fd,
          type: direntType(S.IFLNK),
        }));
      }
      default:
        return [];
    }
  }

  readlink(ctx: FsCtx): string | undefined {
    const reader = ctx.task;
    if (reader === undefined) return undefined;
    switch (this.kind) {
      case 'self': {
        const leader = ctx.kernel.task(reader.tgid) ?? reader;
        return String(leader.pidIn(reader.ns.pid));
      }
      case 'mounts-link':
        return 'self/mounts';
      case 'exe':
        return this.process(ctx)?.exePath;
      case 'cwd':
      case 'rootlink': {
        const target = this.followLink(ctx);
        return target === undefined ? undefined : pathName(target, reader.fs.root).path;
      }
      case 'fdlink': {
        const file = this.process(ctx)?.files.get(this.fd);
        return file === undefined ? undefined : describeFile(ctx as SysCtx, file);
      }
      default:
        return undefined;
    }
  }

  followLink(ctx: FsCtx): PathRef | undefined {
    switch (this.kind) {
      case 'cwd':
        return this.process(ctx)?.fs.cwd;
      case 'rootlink':
        return this.process(ctx)?.fs.root;
      case 'fdlink': {
        const file = this.process(ctx)?.files.get(this.fd);
        return file === undefined ? undefined : vfsFileOf(file)?.ref;
      }
      default:
        return undefined;
    }
  }

  fileOps(ctx: FsCtx): FileOps | number {
    if (this.process(ctx) === undefined) return -Errno.ESRCH;
    switch (this.kind) {
      case 'status':
        return textOps((c) => statusText(readerOf(c), this.process(c)!, this.process(c)!.fs.umask), this);
      case 'maps':
        return textOps((c) => mapsText(this.process(c)!), this);
      case 'mounts':
        return textOps((c) => mountsText(this.process(c)!), this);
      case 'comm':
        return textOps((c) => `${this.process(c)!.comm}\n`, this);
      case 'mem':
        return memOps(this.tgid);
      case 'ns':
        return NS_FILE_OPS;
      default:
        return -Errno.ENXIO;
    }
  }

  /**
   * For an entry of /proc/<pid>/ns: the namespace it named when it was looked up, for setns(2).
   * SIMPLIFICATION: Linux makes these magic links to nsfs inodes; here they are files.
   */
  namespace(): NsHandle | undefined {
    return this.nsTarget;
  }

  /** The process this entry describes, if it still exists. */
  process(ctx: FsCtx): TaskInfo | undefined {
    return this.tgid === 0 ? undefined : ctx.kernel.task(this.tgid);
  }

  private lookupRoot(ctx: FsCtx, name: string): ProcInode | undefined {
    if (name === 'self') {
      return new ProcInode(
        this.sb,
        { kind: 'self', tgid: 0, fd: -1, mode: S.IFLNK | 0o777, uid: 0, gid: 0 },
        this,
        name,
      );
    }
    if (name === 'mounts') {
      const spec = { kind: 'mounts-link' as const, tgid: 0, fd: -1, mode: S.IFLNK | 0o777, uid: 0, gid: 0 };
      return new ProcInode(this.sb, spec, this, name);
    }
    if (!/^[1-9][0-9]*$/.test(name)) return undefined;
    const pid = Number(name);
    const found = visibleProcesses(ctx).find(([p]) => p === pid);
    if (found === undefined) return undefined;
    return this.child('pid', S.IFDIR | 0o555, found[1], -1, name);
  }

  private child(kind: ProcKind, mode: number, task: TaskInfo, fd: number, name: string): ProcInode {
    const user = task.ns.user;
    const spec = {
      kind,
      tgid: task.tgid,
      fd,
      mode,
      uid: user.toGlobal(task.cred.euid, 'uid'),
      gid: user.toGlobal(task.cred.egid, 'gid'),
    };
    return new ProcInode(this.sb, spec, this, name);
  }
}

function procIno(tgid: number, kind: ProcKind): number {
  return INO_BASE + tgid * INO_PER_PROCESS + KIND_SLOT[kind];
}

/** Processes (thread-group leaders) visible in the reader's pid namespace, by their pid there. */
function visibleProcesses(ctx: FsCtx): [number, TaskInfo][] {
  const reader = ctx.task;
  if (reader === undefined) return [];
  const out: [number, TaskInfo][] = [];
  for (const task of ctx.kernel.tasks()) {
    if (task.tid !== task.tgid) continue;
    const pid = task.pidIn(reader.ns.pid);
    if (pid !== 0) out.push([pid, task]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function readerOf(ctx: SysCtx): ProcReader {
  return {
    task: ctx.task,
    lookup: (tid) => ctx.kernel.task(tid),
    threads: (tgid) => {
      let n = 0;
      for (const task of ctx.kernel.tasks()) if (task.tgid === tgid) n++;
      return n;
    },
  };
}

/** What /proc/<pid>/fd/<n> shows for an open file. */
export function describeFile(ctx: SysCtx, file: OpenFile): string {
  const vfs = vfsFileOf(file);
  if (vfs !== undefined) {
    const root = ctx.task.fs.root;
    const where =
      (vfs.ref.inode.mode & S.IFMT) === S.IFDIR
        ? pathName(vfs.ref, root)
        : childPathName(vfs.parent, vfs.name, root);
    return where.path + (vfs.inode.nlink === 0 ? ' (deleted)' : '');
  }
  const st = file.ops.stat(ctx, file);
  if (typeof st === 'number') return 'anon_inode:[unknown]';
  switch (st.mode & S.IFMT) {
    case S.IFIFO:
      return `pipe:[${st.ino}]`;
    case S.IFSOCK:
      return `socket:[${st.ino}]`;
    default:
      return `anon_inode:[${st.ino}]`;
  }
}

/** Operations of a generated text file. */
function textOps(generate: (ctx: SysCtx) => string, inode: ProcInode): FileOps {
  const bytesOf = (ctx: SysCtx): Uint8Array | number => {
    if (inode.process(ctx) === undefined) return -Errno.ESRCH;
    const bytes = new TextEncoder().encode(generate(ctx));
    ctx.charge(bytes.length * PROC_TEXT_CYCLES_PER_BYTE);
    return bytes;
  };
  return {
    read(ctx, file, va, length, offset) {
      const bytes = bytesOf(ctx);
      if (typeof bytes === 'number') return bytes;
      const at = offset ?? file.offset;
      if (at >= bytes.length || length === 0) return 0;
      const chunk = bytes.subarray(at, Math.min(bytes.length, at + Math.min(length, MAX_RW_COUNT)));
      if (!ctx.copyOut(va, chunk)) return -Errno.EFAULT;
      if (offset === undefined) file.offset += chunk.length;
      return chunk.length;
    },
    lseek(ctx, file, offset, whence) {
      if (whence !== SEEK.END) return seekWithin(file, offset, whence, 0);
      const bytes = bytesOf(ctx);
      return typeof bytes === 'number' ? bytes : seekWithin(file, offset, whence, bytes.length);
    },
    stat: vfsStat,
    release: vfsRelease,
  };
}

/** Operations of /proc/<pid>/mem: reads of the task's memory at the file offset (a virtual address). */
function memOps(tgid: number): FileOps {
  return {
    read(ctx, file, va, length, offset) {
      let at = offset ?? file.offset;
      const total = Math.min(length, MAX_RW_COUNT);
      let done = 0;
      while (done < total) {
        const chunk = Math.min(total - done, 4096 - (at % 4096));
        const bytes = ctx.kernel.readTaskMemory(ctx, tgid, at, chunk);
        if (bytes === undefined) break;
        const copied = ctx.copyOut(va + done, bytes);
        bytes.fill(0);
        if (!copied) return done > 0 ? done : -Errno.EFAULT;
        done += chunk;
        at += chunk;
      }
      if (done === 0 && total > 0) return -Errno.EIO;
      if (offset === undefined) file.offset += done;
      return done;
    },
    lseek(_ctx, file, offset, whence) {
      if (whence === SEEK.END) return -Errno.EINVAL;
      return seekWithin(file, offset, whence, 0);
    },
    stat: vfsStat,
    release: vfsRelease,
  };
}

/** An open /proc/<pid>/ns/<kind>: nothing to read; it only names a namespace for setns(2). */
const NS_FILE_OPS: FileOps = {
  read: () => -Errno.EINVAL,
  stat: vfsStat,
  release: vfsRelease,
};
