/**
 * A stand-in kernel for VFS tests: one PE at EL1 with the MMU off (VA = PA, GPC off without
 * firmware), user memory and kernel pages in one DRAM region, fake tasks, and a SysCtx per call.
 * Accesses outside the user range (for copyIn/copyOut) or the kernel-page range (kread/kwrite) fail
 * like faults, so EFAULT paths are testable.
 */
import { Machine } from '../../../src/hw/machine.js';
import type { ProcessingElement } from '../../../src/hw/pe.js';
import type {
  Console,
  Cred,
  KernelPages,
  KernelServices,
  SysCtx,
  TaskInfo,
  VmaInfo,
} from '../../../src/kernel/core/ctx.js';
import { FdTable } from '../../../src/kernel/core/file.js';
import {
  PidNamespace,
  UserNamespace,
  UtsNamespace,
  type Namespaces,
} from '../../../src/kernel/core/namespaces.js';
import { WaitQueue } from '../../../src/kernel/core/wait.js';
import { FsState } from '../../../src/kernel/fs/fs-state.js';
import type { MountNamespace } from '../../../src/kernel/fs/mount-namespace.js';
import { FS_SYSCALLS } from '../../../src/kernel/fs/syscalls.js';
import { fsCtxFor, Vfs, type FsCtx } from '../../../src/kernel/fs/vfs.js';
import { NetNamespace } from '../../../src/kernel/net/net-namespace.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { AT_FDCWD, O } from '../../../src/kernel/uapi/flags.js';
import { decodeDirents, decodeStat, STAT_BYTES, type Stat } from '../../../src/kernel/uapi/structs.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';

export const DRAM_BASE = 0x8000_0000;
export const DRAM_SIZE = 0x1000_0000;
/** User memory: [USER_BASE, USER_END). */
export const USER_BASE = DRAM_BASE;
export const USER_END = DRAM_BASE + 0x0800_0000;
/** Kernel pages: [KPAGES_BASE, KPAGES_END). */
export const KPAGES_BASE = USER_END;
export const KPAGES_END = DRAM_BASE + DRAM_SIZE;
const PAGE = 4096;

/** A KernelPages over a physical range, with a free list and per-owner counts. */
export class TestPages implements KernelPages {
  private next: number;
  private readonly end: number;
  private readonly freeList: number[] = [];
  private readonly owners = new Map<number, number>();
  private readonly counts = new Map<number, number>();

  constructor(base: number, end: number) {
    this.next = base;
    this.end = end;
  }

  alloc(pe: ProcessingElement, owner: number): number | undefined {
    let va = this.freeList.pop();
    if (va === undefined) {
      if (this.next + PAGE > this.end) return undefined;
      va = this.next;
      this.next += PAGE;
    }
    pe.fillBytes(va, PAGE, 0);
    this.owners.set(va, owner);
    this.counts.set(owner, this.inUse(owner) + 1);
    return va;
  }

  free(owner: number, va: number): void {
    if (this.owners.get(va) !== owner)
      throw new Error(`free of page ${va.toString(16)} not owned by ${owner}`);
    this.owners.delete(va);
    this.counts.set(owner, this.inUse(owner) - 1);
    this.freeList.push(va);
  }

  paOf(owner: number, va: number): number | undefined {
    return this.owners.get(va) === owner ? va : undefined;
  }

  inUse(owner: number): number {
    return this.counts.get(owner) ?? 0;
  }

  /** Kernel VAs of live pages (for tests that look at the raw memory). */
  livePages(): number[] {
    return [...this.owners.keys()];
  }
}

/** A console that records output and serves queued input. */
export class TestConsole implements Console {
  output = '';
  input: string[] = [];

  write(ctx: SysCtx, va: number, length: number): number {
    const bytes = ctx.copyIn(va, length);
    if (bytes === undefined) return -Errno.EFAULT;
    this.output += new TextDecoder().decode(bytes);
    return length;
  }

  isTerminal(): boolean {
    return true;
  }

  read(ctx: SysCtx, va: number, length: number): number {
    const next = this.input.shift();
    if (next === undefined) return 0;
    const bytes = new TextEncoder().encode(next).subarray(0, length);
    return ctx.copyOut(va, bytes) ? bytes.length : -Errno.EFAULT;
  }
}

/** A fake task. */
export class TestTask implements TaskInfo {
  readonly tid: number;
  readonly tgid: number;
  readonly cid: number;
  comm = 'test';
  exePath = '/bin/test';
  state: TaskInfo['state'] = 'running';
  parentTgid = 0;
  readonly cred: Cred;
  files = new FdTable();
  fs: FsState;
  readonly ns: Namespaces;
  /** pid per pid namespace. */
  readonly pids = new Map<PidNamespace, number>();
  vmaList: VmaInfo[] = [];

  constructor(tid: number, tgid: number, cid: number, cred: Cred, fs: FsState, ns: Namespaces) {
    this.tid = tid;
    this.tgid = tgid;
    this.cid = cid;
    this.cred = cred;
    this.fs = fs;
    this.ns = ns;
  }

  vmas(): readonly VmaInfo[] {
    return this.vmaList;
  }

  pidIn(ns: PidNamespace): number {
    return this.pids.get(ns) ?? 0;
  }
}

/** Options of a new task. */
export interface TaskOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly cid?: number;
  readonly mnt?: MountNamespace;
  readonly pid?: PidNamespace;
  readonly user?: UserNamespace;
  /** Thread group to join (a thread of that process). */
  readonly tgid?: number;
}

/** The test machine and kernel. */
export class FsHarness {
  readonly machine: Machine;
  readonly pe: ProcessingElement;
  readonly pages = new TestPages(KPAGES_BASE, KPAGES_END);
  readonly console = new TestConsole();
  readonly vfs = new Vfs();
  readonly hostNs: MountNamespace;
  readonly rootPidNs = new PidNamespace(undefined);
  readonly rootUserNs = new UserNamespace(undefined);
  readonly tasks = new Map<number, TestTask>();
  readonly kernel: KernelServices;
  private nextTid = 1;
  private userNext = USER_BASE + PAGE;
  clock = 0;

  constructor() {
    this.machine = new Machine({ dram: [{ name: 'dram0', base: DRAM_BASE, size: DRAM_SIZE }], pes: 1 });
    this.pe = this.machine.pes[0]!;
    this.pe.reset(1, 0);
    const tasks = this.tasks;
    const pe = this.pe;
    this.kernel = {
      pages: this.pages,
      console: this.console,
      design: 'native',
      sendSignal: () => false,
      tasks: () => tasks.values(),
      task: (tid) => tasks.get(tid),
      readTaskMemory: (_ctx, _tid, va, length) =>
        va >= USER_BASE && va + length <= USER_END ? pe.readBytes(va, length) : undefined,
    };
    this.hostNs = this.vfs.createRootNamespace(this.fsCtx());
  }

  /** An FsCtx for boot-time population. */
  fsCtx(): FsCtx {
    return fsCtxFor(this.pe, this.kernel, () => this.clock);
  }

  /** A new process (or thread with `tgid`) in the host namespaces unless told otherwise. */
  task(options: TaskOptions = {}): TestTask {
    const uid = options.uid ?? 0;
    const gid = options.gid ?? uid;
    const cred: Cred = { uid, gid, euid: uid, egid: gid, suid: uid, sgid: gid };
    const mnt = options.mnt ?? this.hostNs;
    const ns: Namespaces = {
      mnt,
      pid: options.pid ?? this.rootPidNs,
      uts: new UtsNamespace('test'),
      user: options.user ?? this.rootUserNs,
      net: new NetNamespace(),
    };
    const tid = this.nextTid++;
    const task = new TestTask(tid, options.tgid ?? tid, options.cid ?? 0, cred, FsState.at(mnt), ns);
    for (let pidNs: PidNamespace | undefined = ns.pid; pidNs !== undefined; pidNs = pidNs.parent) {
      task.pids.set(pidNs, pidNs.allocate());
    }
    this.tasks.set(tid, task);
    return task;
  }

  /** The SysCtx of a call by `task`. */
  ctx(task: TaskInfo): SysCtx {
    const pe = this.pe;
    const inUser = (va: number, length: number): boolean =>
      Number.isFinite(va) && va >= USER_BASE && va + length <= USER_END;
    const inKernel = (va: number, length: number): boolean => va >= KPAGES_BASE && va + length <= KPAGES_END;
    const ctx: SysCtx = {
      pe,
      task,
      kernel: this.kernel,
      copyIn: (va, length) => (inUser(va, length) ? pe.readBytes(va, length) : undefined),
      copyOut: (va, data) => inUser(va, data.length) && pe.writeBytes(va, data),
      readString: (va, max = 4096) => {
        const bytes: number[] = [];
        for (let i = 0; i < max; i++) {
          if (!inUser(va + i, 1)) return -Errno.EFAULT;
          const b = pe.load8(va + i);
          if (pe.lastFault !== 0) return -Errno.EFAULT;
          if (b === 0) return new TextDecoder().decode(new Uint8Array(bytes));
          bytes.push(b);
        }
        return -Errno.ENAMETOOLONG;
      },
      readU32: (va) => (inUser(va, 4) ? pe.load32(va) : undefined),
      readU64: (va) => (inUser(va, 8) ? pe.load64(va) : undefined),
      writeU32: (va, value) => inUser(va, 4) && pe.store32(va, value),
      writeU64: (va, value) => inUser(va, 8) && pe.store64(va, value >>> 0, Math.floor(value / 2 ** 32)),
      kread: (kva, length) => (inKernel(kva, length) ? pe.readBytes(kva, length) : undefined),
      kwrite: (kva, data) => inKernel(kva, data.length) && pe.writeBytes(kva, data),
      userToKernel: (va, kva, length) => {
        if (!inUser(va, length) || !inKernel(kva, length)) return false;
        const bytes = pe.readBytes(va, length);
        return bytes !== undefined && pe.writeBytes(kva, bytes);
      },
      kernelToUser: (kva, va, length) => {
        if (!inUser(va, length) || !inKernel(kva, length)) return false;
        const bytes = pe.readBytes(kva, length);
        return bytes !== undefined && pe.writeBytes(va, bytes);
      },
      sleep: (queue: WaitQueue) => queue.sleep({ wake: () => undefined }),
      now: () => this.clock,
      charge: (cycles) => pe.compute(cycles),
    };
    return ctx;
  }

  /** Run system call `nr` for `task`. */
  sys(task: TaskInfo, nr: number, ...args: number[]): number {
    const handler = FS_SYSCALLS[nr];
    if (handler === undefined) throw new Error(`no fs syscall ${nr}`);
    return handler(this.ctx(task), args);
  }

  // ------------------------------------------------------------------ user memory helpers

  /** `length` bytes of fresh user memory. */
  alloc(length: number): number {
    const va = this.userNext;
    this.userNext += Math.ceil(Math.max(length, 1) / 64) * 64;
    if (this.userNext > USER_END) throw new Error('test user memory exhausted');
    return va;
  }

  /** A NUL-terminated string in user memory. */
  str(text: string): number {
    const bytes = new TextEncoder().encode(text);
    const va = this.alloc(bytes.length + 1);
    this.pe.writeBytes(va, bytes);
    this.pe.store8(va + bytes.length, 0);
    return va;
  }

  /** Bytes in user memory. */
  bytes(data: Uint8Array | string): number {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const va = this.alloc(bytes.length);
    this.pe.writeBytes(va, bytes);
    return va;
  }

  read(va: number, length: number): Uint8Array {
    return this.pe.readBytes(va, length)!;
  }

  text(va: number, length: number): string {
    return new TextDecoder().decode(this.read(va, length));
  }

  // ------------------------------------------------------------------ call wrappers

  open(
    task: TaskInfo,
    path: string,
    flags: number = O.RDONLY,
    mode = 0o644,
    dirfd: number = AT_FDCWD,
  ): number {
    return this.sys(task, Sys.openat, dirfd, this.str(path), flags, mode);
  }

  /** Write `data` to fd: the result. */
  write(task: TaskInfo, fd: number, data: string | Uint8Array): number {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.sys(task, Sys.write, fd, this.bytes(bytes), bytes.length);
  }

  /** Read up to `length` bytes from fd: the text, or the errno result as a number. */
  readText(task: TaskInfo, fd: number, length = 4096): string | number {
    const va = this.alloc(length);
    const n = this.sys(task, Sys.read, fd, va, length);
    return n < 0 ? n : this.text(va, n);
  }

  /** Create (or truncate) a file with contents. */
  writeFile(task: TaskInfo, path: string, data: string | Uint8Array, mode = 0o644): number {
    const fd = this.open(task, path, O.WRONLY | O.CREAT | O.TRUNC, mode);
    if (fd < 0) return fd;
    const n = this.write(task, fd, data);
    this.sys(task, Sys.close, fd);
    return n;
  }

  /** A whole file's contents, or the errno. */
  readFile(task: TaskInfo, path: string): string | number {
    const fd = this.open(task, path);
    if (fd < 0) return fd;
    let out = '';
    for (;;) {
      const chunk = this.readText(task, fd, 8192);
      if (typeof chunk === 'number') {
        this.sys(task, Sys.close, fd);
        return chunk;
      }
      if (chunk === '') break;
      out += chunk;
    }
    this.sys(task, Sys.close, fd);
    return out;
  }

  stat(task: TaskInfo, path: string, flags = 0, dirfd: number = AT_FDCWD): Stat | number {
    const va = this.alloc(STAT_BYTES);
    const r = this.sys(task, Sys.newfstatat, dirfd, this.str(path), va, flags);
    return r < 0 ? r : decodeStat(this.read(va, STAT_BYTES));
  }

  fstat(task: TaskInfo, fd: number): Stat | number {
    const va = this.alloc(STAT_BYTES);
    const r = this.sys(task, Sys.fstat, fd, va);
    return r < 0 ? r : decodeStat(this.read(va, STAT_BYTES));
  }

  mkdir(task: TaskInfo, path: string, mode = 0o755): number {
    return this.sys(task, Sys.mkdirat, AT_FDCWD, this.str(path), mode);
  }

  unlink(task: TaskInfo, path: string, flags = 0): number {
    return this.sys(task, Sys.unlinkat, AT_FDCWD, this.str(path), flags);
  }

  rename(task: TaskInfo, from: string, to: string): number {
    return this.sys(task, Sys.renameat, AT_FDCWD, this.str(from), AT_FDCWD, this.str(to));
  }

  symlink(task: TaskInfo, target: string, path: string): number {
    return this.sys(task, Sys.symlinkat, this.str(target), AT_FDCWD, this.str(path));
  }

  link(task: TaskInfo, from: string, to: string, flags = 0): number {
    return this.sys(task, Sys.linkat, AT_FDCWD, this.str(from), AT_FDCWD, this.str(to), flags);
  }

  readlink(task: TaskInfo, path: string): string | number {
    const va = this.alloc(4096);
    const n = this.sys(task, Sys.readlinkat, AT_FDCWD, this.str(path), va, 4096);
    return n < 0 ? n : this.text(va, n);
  }

  /** Names in a directory (getdents64), or the errno. */
  list(task: TaskInfo, path: string): string[] | number {
    const fd = this.open(task, path, O.RDONLY | O.DIRECTORY);
    if (fd < 0) return fd;
    const names: string[] = [];
    const va = this.alloc(512);
    for (;;) {
      const n = this.sys(task, Sys.getdents64, fd, va, 512);
      if (n < 0) return n;
      if (n === 0) break;
      for (const d of decodeDirents(this.read(va, n))) names.push(d.name);
    }
    this.sys(task, Sys.close, fd);
    return names.filter((n) => n !== '.' && n !== '..');
  }

  getcwd(task: TaskInfo): string | number {
    const va = this.alloc(4096);
    const n = this.sys(task, Sys.getcwd, va, 4096);
    return n < 0 ? n : this.text(va, n - 1);
  }

  chdir(task: TaskInfo, path: string): number {
    return this.sys(task, Sys.chdir, this.str(path));
  }

  mount(task: TaskInfo, source: string, target: string, fsType: string, flags = 0, data = ''): number {
    const s = source === '' ? 0 : this.str(source);
    const f = fsType === '' ? 0 : this.str(fsType);
    const d = data === '' ? 0 : this.str(data);
    return this.sys(task, Sys.mount, s, this.str(target), f, flags, d);
  }
}

/** Errno as a negative result. */
export const E = (name: keyof typeof Errno): number => -Errno[name];
