/**
 * A fake kernel for end-to-end tests of the user layer without the machine model: it runs program
 * generators round-robin (one system call per task per turn), keeps memory in AddressSpaces, files
 * in a FakeFs, and implements the system calls the libc uses with Linux semantics close enough to
 * exercise the programs. Blocking calls are retried each round (ERESTARTSYS-like); when every task
 * is blocked the clock jumps to the next nanosleep deadline, or the run fails with a deadlock.
 * Time: 1 cycle of declared compute = 1 ns, and every system call costs SYSCALL_NS.
 */
import { Errno } from '../../../src/kernel/uapi/errno.js';
import {
  AT,
  AT_FDCWD,
  CLONE,
  F,
  O,
  SIG,
  SEEK,
  WNOHANG,
  wExited,
  wSignaled,
} from '../../../src/kernel/uapi/flags.js';
import { encodeStat, UTSNAME_FIELD } from '../../../src/kernel/uapi/structs.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import {
  parseExecutable,
  type ProgramRegistry,
  type ProgramRun,
  type SyscallRequest,
} from '../../../src/user/program.js';
import { AddressSpace, FakeCpu, FakeFault } from './memory.js';
import {
  BLOCK,
  ByteQueue,
  ConsoleFile,
  DevFile,
  DirFile,
  FdTable,
  PipeEnd,
  RegularFile,
  SocketFile,
  type OpenFile,
} from './files.js';
import { FakeFs, type DirNode, type FsNode } from './fs.js';

/** Simulated cost of one system call. */
export const SYSCALL_NS = 100;
const STACK_TOP = 0x7fff_0000_0000;
const STACK_BYTES = 256 * 1024;
const REALTIME_BASE_S = 1_700_000_000;
/** The umask of every process. */
const UMASK = 0o022;

interface Process {
  readonly pid: number;
  ppid: number;
  mm: AddressSpace;
  files: FdTable;
  cwd: DirNode;
  comm: string;
  readonly threads: Set<Task>;
  zombie: boolean;
  status: number;
  reaped: boolean;
}

interface Task {
  readonly tid: number;
  proc: Process;
  gen: ProgramRun;
  started: boolean;
  resumeWith: number;
  blocked: SyscallRequest | undefined;
  sleepUntil: number | undefined;
  alive: boolean;
}

/** Options of a spawn. */
export interface SpawnOptions {
  readonly env?: readonly string[];
  readonly stdin?: string;
  readonly cwd?: string;
}

/** The fake kernel. */
export class FakeKernel {
  readonly fs = new FakeFs();
  readonly cpu: FakeCpu;
  readonly registry: ProgramRegistry;
  now = 0;
  hostname = 'fake';
  stdout = '';
  stderr = '';
  syscalls = 0;
  readonly mounts: string[] = ['rootfs / rootfs rw 0 0'];
  private readonly tasks: Task[] = [];
  private readonly procs = new Map<number, Process>();
  private nextPid = 1;
  private current: Task | undefined;
  private readonly listeners = new Map<number, SocketFile>();
  private readonly mountSaves = new Map<DirNode, Map<string, FsNode>>();

  constructor(registry: ProgramRegistry) {
    this.registry = registry;
    this.cpu = new FakeCpu({
      currentSpace: () => {
        if (this.current === undefined) throw new Error('no current task');
        return this.current.proc.mm;
      },
      compute: (cycles) => {
        this.now += cycles;
      },
    });
    for (const dir of ['/bin', '/tmp', '/dev', '/etc', '/proc']) this.fs.mkdirs(dir);
    const dev = this.fs.mkdirs('/dev');
    dev.entries.set('null', this.fs.newDev('null'));
    dev.entries.set('zero', this.fs.newDev('zero'));
    this.fs.onProc = () => this.refreshProc();
  }

  /** Start `path` as a new process with console stdio; its pid. */
  spawn(path: string, argv: readonly string[], options: SpawnOptions = {}): number {
    const input = new ByteQueue(1 << 30);
    if (options.stdin !== undefined) input.write(new TextEncoder().encode(options.stdin));
    input.writers = 0;
    const files = new FdTable();
    const decoder = new TextDecoder();
    files.install(new ConsoleFile(() => undefined, input), false);
    files.install(new ConsoleFile((b) => (this.stdout += decoder.decode(b)), input), false);
    files.install(new ConsoleFile((b) => (this.stderr += decoder.decode(b)), input), false);
    const cwd = this.fs.lookup(this.fs.root, options.cwd ?? '/');
    if (typeof cwd === 'number' || cwd.node?.kind !== 'dir') throw new Error('bad cwd');
    const proc = this.newProcess(0, files, cwd.node);
    const task = this.newTask(proc, undefined);
    const err = this.exec(task, path, argv, options.env ?? ['PATH=/bin', 'HOME=/']);
    if (err < 0) throw new Error(`spawn ${path}: errno ${-err}`);
    return proc.pid;
  }

  /** Run until every task has ended (or `maxSyscalls` have been made). */
  run(maxSyscalls = 5_000_000): void {
    const start = this.syscalls;
    for (;;) {
      const live = this.tasks.filter((t) => t.alive);
      if (live.length === 0) return;
      let progress = false;
      for (const task of live) {
        if (!task.alive) continue;
        if (this.step(task)) progress = true;
      }
      if (this.syscalls - start > maxSyscalls) throw new Error('fake kernel: system call budget exhausted');
      if (progress) continue;
      const sleepers = this.tasks
        .filter((t) => t.alive && t.sleepUntil !== undefined)
        .map((t) => t.sleepUntil!);
      if (sleepers.length === 0) {
        const blocked = this.tasks
          .filter((t) => t.alive)
          .map((t) => `${t.tid}:${t.proc.comm}:${t.blocked?.nr}`);
        throw new Error(`fake kernel: deadlock (${blocked.join(', ')})`);
      }
      this.now = Math.max(this.now, Math.min(...sleepers));
    }
  }

  /** Exit status (wait status) of process `pid`, or undefined while it runs. */
  statusOf(pid: number): number | undefined {
    const proc = this.procs.get(pid);
    return proc?.zombie ? proc.status : undefined;
  }

  /** Kill process `pid` from outside (like a test harness). */
  killProcess(pid: number, signal: number): void {
    const proc = this.procs.get(pid);
    if (proc !== undefined && !proc.zombie) this.exitProcess(proc, wSignaled(signal));
  }

  /** All pids ever created that are still running. */
  livePids(): number[] {
    return [...this.procs.values()].filter((p) => !p.zombie).map((p) => p.pid);
  }

  /** Resident memory of live processes (for canary searches). */
  *userMemory(): Generator<Uint8Array> {
    for (const proc of this.procs.values()) if (!proc.zombie) yield* proc.mm.residentBytes();
  }

  /** Bytes waiting in pipes and sockets of live processes. */
  *bufferedBytes(): Generator<Uint8Array> {
    const queues = new Set<ByteQueue>();
    for (const proc of this.procs.values()) {
      if (proc.zombie) continue;
      for (const { file } of proc.files.fds.values()) {
        if (file instanceof PipeEnd) queues.add(file.queue);
        if (file instanceof SocketFile && file.rx !== undefined) queues.add(file.rx);
      }
    }
    for (const queue of queues) yield queue.peek();
  }

  /**
   * Run until every task has ended or is blocked for good (a server waiting in accept), or the
   * clock passed `untilNs`; never throws for a deadlock. For inspecting long-running programs.
   */
  runUntilIdle(untilNs = Infinity): void {
    for (;;) {
      const live = this.tasks.filter((t) => t.alive);
      if (live.length === 0) return;
      let progress = false;
      for (const task of live) if (task.alive && this.step(task)) progress = true;
      if (progress) continue;
      const sleepers = this.tasks
        .filter((t) => t.alive && t.sleepUntil !== undefined)
        .map((t) => t.sleepUntil!);
      const next = Math.min(...sleepers);
      if (sleepers.length === 0 || next > untilNs) return;
      this.now = Math.max(this.now, next);
    }
  }

  // ------------------------------------------------------------------ tasks

  private newProcess(ppid: number, files: FdTable, cwd: DirNode): Process {
    const proc: Process = {
      pid: this.nextPid++,
      ppid,
      mm: new AddressSpace(),
      files,
      cwd,
      comm: '',
      threads: new Set(),
      zombie: false,
      status: 0,
      reaped: false,
    };
    this.procs.set(proc.pid, proc);
    return proc;
  }

  private newTask(proc: Process, gen: ProgramRun | undefined, tid = proc.pid): Task {
    const task: Task = {
      tid,
      proc,
      gen: gen ?? (undefined as unknown as ProgramRun),
      started: false,
      resumeWith: 0,
      blocked: undefined,
      sleepUntil: undefined,
      alive: true,
    };
    proc.threads.add(task);
    this.tasks.push(task);
    return task;
  }

  /** Run a task to its next system call; false when it is still blocked. */
  private step(task: Task): boolean {
    this.current = task;
    try {
      let request = task.blocked;
      if (request === undefined) {
        const next = task.started ? task.gen.next(task.resumeWith) : task.gen.next();
        task.started = true;
        if (next.done) {
          this.exitProcess(task.proc, wExited(next.value));
          return true;
        }
        request = next.value;
      }
      this.syscalls++;
      this.now += SYSCALL_NS;
      const result = this.syscall(task, request);
      if (result === BLOCK) {
        const firstTime = task.blocked === undefined;
        task.blocked = request;
        return firstTime;
      }
      task.blocked = undefined;
      task.resumeWith = result;
      return true;
    } catch (error) {
      if (!(error instanceof FakeFault)) throw error;
      this.exitProcess(task.proc, wSignaled(SIG.SEGV));
      return true;
    } finally {
      this.current = undefined;
    }
  }

  private exitTask(task: Task): void {
    task.alive = false;
    task.proc.threads.delete(task);
  }

  private exitProcess(proc: Process, status: number): void {
    if (proc.zombie) return;
    for (const task of [...proc.threads]) this.exitTask(task);
    proc.files.closeAll();
    proc.zombie = true;
    proc.status = status;
    for (const child of this.procs.values()) if (child.ppid === proc.pid) child.ppid = 0;
  }

  private exec(task: Task, path: string, argv: readonly string[], envp: readonly string[]): number {
    const found = this.fs.lookup(task.proc.cwd, path);
    if (typeof found === 'number') return found;
    const node = found.node;
    if (node === undefined) return -Errno.ENOENT;
    if (node.kind === 'dir') return -Errno.EACCES;
    if (node.kind !== 'file' || (node.mode & 0o111) === 0) return -Errno.EACCES;
    const name = parseExecutable(node.data.subarray(0, node.size));
    const main = name === undefined ? undefined : this.registry.get(name);
    if (main === undefined) return -Errno.ENOEXEC;
    const mm = new AddressSpace();
    mm.map(STACK_TOP - STACK_BYTES, STACK_BYTES);
    const encoder = new TextEncoder();
    let at = STACK_TOP - STACK_BYTES;
    const place = (s: string): number => {
      const bytes = encoder.encode(`${s}\0`);
      mm.write(at, bytes);
      const va = at;
      at += bytes.length;
      return va;
    };
    const argvPointers = argv.map(place);
    const envPointers = envp.map(place);
    at = Math.ceil(at / 8) * 8;
    const array = (pointers: number[]): number => {
      const va = at;
      for (const pointer of [...pointers, 0]) {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, BigInt(pointer), true);
        mm.write(at, b);
        at += 8;
      }
      return va;
    };
    const argvVa = array(argvPointers);
    const envpVa = array(envPointers);
    task.proc.mm = mm;
    for (const [fd, entry] of [...task.proc.files.fds]) if (entry.cloexec) task.proc.files.close(fd);
    task.proc.comm = (path.split('/').pop() ?? path).slice(0, 15);
    task.gen = main(this.cpu, argv.length, argvVa, envpVa);
    task.started = false;
    return 0;
  }

  private refreshProc(): void {
    const proc = this.fs.mkdirs('/proc');
    proc.entries.clear();
    for (const p of this.procs.values()) {
      if (p.zombie) continue;
      const dir = this.fs.newDir(proc);
      dir.entries.set(
        'status',
        this.fs.newFile(new TextEncoder().encode(`Name:\t${p.comm}\nPid:\t${p.pid}\nPPid:\t${p.ppid}\n`)),
      );
      proc.entries.set(String(p.pid), dir);
    }
    proc.entries.set('mounts', this.fs.newFile(new TextEncoder().encode(`${this.mounts.join('\n')}\n`)));
  }

  // ------------------------------------------------------------- helpers

  private str(task: Task, va: number): string {
    const bytes: number[] = [];
    for (let i = 0; i < 4096; i++) {
      const b = task.proc.mm.page(va + i)[(va + i) % 4096]!;
      if (b === 0) break;
      bytes.push(b);
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }

  private strArray(task: Task, va: number): string[] {
    const out: string[] = [];
    for (let i = 0; va !== 0; i++) {
      const b = task.proc.mm.read(va + 8 * i, 8);
      const pointer = Number(new DataView(b.buffer).getBigUint64(0, true));
      if (pointer === 0) break;
      out.push(this.str(task, pointer));
    }
    return out;
  }

  private u32(value: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return b;
  }

  private u64(value: number): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(value))), true);
    return b;
  }

  private lookupAt(task: Task, dirfd: number, pathVa: number, follow = true) {
    if (dirfd !== AT_FDCWD) return -Errno.EBADF;
    return this.fs.lookup(task.proc.cwd, this.str(task, pathVa), follow);
  }

  private statOf(node: FsNode | undefined, file?: OpenFile): Uint8Array {
    const mode = node?.mode ?? file?.type ?? 0;
    return encodeStat({
      dev: 1,
      ino: node?.ino ?? 0,
      mode: node === undefined ? (file?.type ?? 0) | 0o600 : mode,
      nlink: node?.nlink ?? 1,
      uid: 0,
      gid: 0,
      rdev: 0,
      size: node?.kind === 'file' ? node.size : node?.kind === 'dir' ? 4096 : 0,
      blksize: 4096,
      blocks: 0,
      atime: REALTIME_BASE_S,
      mtime: REALTIME_BASE_S,
      ctime: REALTIME_BASE_S,
    });
  }

  private openNode(node: FsNode, flags: number): OpenFile | number {
    if (node.kind === 'dir') {
      if ((flags & O.ACCMODE) !== O.RDONLY) return -Errno.EISDIR;
      return new DirFile(node, flags);
    }
    if (flags & O.DIRECTORY) return -Errno.ENOTDIR;
    if (node.kind === 'dev') return node.dev === 'console' ? -Errno.ENXIO : new DevFile(node.dev, flags);
    if (node.kind === 'link') return -Errno.ELOOP;
    if (flags & O.TRUNC) node.size = 0;
    return new RegularFile(node, flags);
  }

  // ------------------------------------------------------------- syscalls

  private syscall(task: Task, request: SyscallRequest): number {
    const a = (i: number): number => request.args[i] ?? 0;
    const proc = task.proc;
    const mm = proc.mm;
    const files = proc.files;
    switch (request.nr) {
      case Sys.read:
      case Sys.recvfrom: {
        const file = files.get(a(0));
        if (file === undefined) return -Errno.EBADF;
        const r = file.read(a(2));
        if (typeof r === 'number') return r;
        mm.write(a(1), r);
        return r.length;
      }
      case Sys.write:
      case Sys.sendto: {
        const file = files.get(a(0));
        if (file === undefined) return -Errno.EBADF;
        const n = file.write(mm.read(a(1), a(2)));
        if (n === -Errno.EPIPE) {
          this.exitProcess(proc, wSignaled(SIG.PIPE));
          return 0;
        }
        return n;
      }
      case Sys.openat: {
        const flags = a(2);
        const found = this.lookupAt(task, a(0), a(1), (flags & O.NOFOLLOW) === 0);
        if (typeof found === 'number') return found;
        let node = found.node;
        if (node === undefined) {
          if ((flags & O.CREAT) === 0) return -Errno.ENOENT;
          node = this.fs.newFile(new Uint8Array(0), a(3) & 0o7777 & ~UMASK);
          found.parent.entries.set(found.name, node);
        } else if (flags & O.CREAT && flags & O.EXCL) return -Errno.EEXIST;
        const file = this.openNode(node, flags);
        if (typeof file === 'number') return file;
        return files.install(file, (flags & O.CLOEXEC) !== 0);
      }
      case Sys.close:
        return files.close(a(0));
      case Sys.lseek: {
        const file = files.get(a(0));
        if (!(file instanceof RegularFile)) return file === undefined ? -Errno.EBADF : -Errno.ESPIPE;
        const base = a(2) === SEEK.SET ? 0 : a(2) === SEEK.CUR ? file.offset : file.node.size;
        file.offset = base + a(1);
        return file.offset;
      }
      case Sys.pipe2: {
        const queue = new ByteQueue();
        const cloexec = (a(1) & O.CLOEXEC) !== 0;
        const r = files.install(new PipeEnd(queue, true, O.RDONLY), cloexec);
        const w = files.install(new PipeEnd(queue, false, O.WRONLY), cloexec);
        mm.write(a(0), this.u32(r));
        mm.write(a(0) + 4, this.u32(w));
        return 0;
      }
      case Sys.dup: {
        const file = files.get(a(0));
        if (file === undefined) return -Errno.EBADF;
        file.refs++;
        return files.install(file, false);
      }
      case Sys.dup3: {
        const file = files.get(a(0));
        if (file === undefined) return -Errno.EBADF;
        if (a(0) === a(1)) return -Errno.EINVAL;
        files.close(a(1));
        file.refs++;
        files.fds.set(a(1), { file, cloexec: (a(2) & O.CLOEXEC) !== 0 });
        return a(1);
      }
      case Sys.fcntl: {
        const entry = files.fds.get(a(0));
        if (entry === undefined) return -Errno.EBADF;
        switch (a(1)) {
          case F.DUPFD:
          case F.DUPFD_CLOEXEC:
            entry.file.refs++;
            return files.install(entry.file, a(1) === F.DUPFD_CLOEXEC, a(2));
          case F.GETFD:
            return entry.cloexec ? 1 : 0;
          case F.SETFD:
            entry.cloexec = (a(2) & 1) !== 0;
            return 0;
          case F.GETFL:
            return entry.file.flags;
          default:
            return -Errno.EINVAL;
        }
      }
      case Sys.ioctl:
        return files.get(a(0)) === undefined ? -Errno.EBADF : -Errno.ENOTTY;
      case Sys.getdents64: {
        const file = files.get(a(0));
        if (!(file instanceof DirFile)) return file === undefined ? -Errno.EBADF : -Errno.ENOTDIR;
        const out = file.dirents(a(2));
        if (typeof out === 'number') return out;
        mm.write(a(1), out);
        return out.length;
      }
      case Sys.newfstatat: {
        const found = this.lookupAt(task, a(0), a(1), (a(3) & AT.SYMLINK_NOFOLLOW) === 0);
        if (typeof found === 'number') return found;
        if (found.node === undefined) return -Errno.ENOENT;
        mm.write(a(2), this.statOf(found.node));
        return 0;
      }
      case Sys.fstat: {
        const file = files.get(a(0));
        if (file === undefined) return -Errno.EBADF;
        mm.write(a(1), this.statOf(file.node, file));
        return 0;
      }
      case Sys.mkdirat: {
        const found = this.lookupAt(task, a(0), a(1), false);
        if (typeof found === 'number') return found;
        if (found.node !== undefined) return -Errno.EEXIST;
        found.parent.entries.set(found.name, this.fs.newDir(found.parent, a(2) & 0o7777 & ~UMASK));
        return 0;
      }
      case Sys.unlinkat: {
        const found = this.lookupAt(task, a(0), a(1), false);
        if (typeof found === 'number') return found;
        const node = found.node;
        if (node === undefined) return -Errno.ENOENT;
        if (a(2) & AT.REMOVEDIR) {
          if (node.kind !== 'dir') return -Errno.ENOTDIR;
          if (node.entries.size > 0) return -Errno.ENOTEMPTY;
        } else if (node.kind === 'dir') return -Errno.EISDIR;
        found.parent.entries.delete(found.name);
        node.nlink--;
        return 0;
      }
      case Sys.symlinkat: {
        const found = this.lookupAt(task, a(1), a(2), false);
        if (typeof found === 'number') return found;
        if (found.node !== undefined) return -Errno.EEXIST;
        found.parent.entries.set(found.name, this.fs.newLink(this.str(task, a(0))));
        return 0;
      }
      case Sys.linkat: {
        const from = this.lookupAt(task, a(0), a(1), false);
        const to = this.lookupAt(task, a(2), a(3), false);
        if (typeof from === 'number') return from;
        if (typeof to === 'number') return to;
        if (from.node === undefined) return -Errno.ENOENT;
        if (from.node.kind === 'dir') return -Errno.EPERM;
        if (to.node !== undefined) return -Errno.EEXIST;
        to.parent.entries.set(to.name, from.node);
        from.node.nlink++;
        return 0;
      }
      case Sys.renameat: {
        const from = this.lookupAt(task, a(0), a(1), false);
        const to = this.lookupAt(task, a(2), a(3), false);
        if (typeof from === 'number') return from;
        if (typeof to === 'number') return to;
        if (from.node === undefined) return -Errno.ENOENT;
        if (to.node?.kind === 'dir' && to.node.entries.size > 0) return -Errno.ENOTEMPTY;
        from.parent.entries.delete(from.name);
        to.parent.entries.set(to.name, from.node);
        if (from.node.kind === 'dir') from.node.parent = to.parent;
        return 0;
      }
      case Sys.readlinkat: {
        const found = this.lookupAt(task, a(0), a(1), false);
        if (typeof found === 'number') return found;
        if (found.node?.kind !== 'link') return found.node === undefined ? -Errno.ENOENT : -Errno.EINVAL;
        const bytes = new TextEncoder().encode(found.node.target).subarray(0, a(3));
        mm.write(a(2), bytes);
        return bytes.length;
      }
      case Sys.faccessat: {
        const found = this.lookupAt(task, a(0), a(1));
        if (typeof found === 'number') return found;
        if (found.node === undefined) return -Errno.ENOENT;
        return (a(2) & 1) !== 0 && (found.node.mode & 0o111) === 0 ? -Errno.EACCES : 0;
      }
      case Sys.chdir: {
        const found = this.fs.lookup(proc.cwd, this.str(task, a(0)));
        if (typeof found === 'number') return found;
        if (found.node === undefined) return -Errno.ENOENT;
        if (found.node.kind !== 'dir') return -Errno.ENOTDIR;
        proc.cwd = found.node;
        return 0;
      }
      case Sys.getcwd: {
        const bytes = new TextEncoder().encode(`${this.fs.pathOf(proc.cwd)}\0`);
        if (bytes.length > a(1)) return -Errno.ERANGE;
        mm.write(a(0), bytes);
        return bytes.length;
      }
      case Sys.mount: {
        const target = this.fs.lookup(proc.cwd, this.str(task, a(1)));
        if (typeof target === 'number') return target;
        if (target.node?.kind !== 'dir') return target.node === undefined ? -Errno.ENOENT : -Errno.ENOTDIR;
        const type = this.str(task, a(2));
        if (type !== 'tmpfs') return -Errno.ENODEV;
        this.mountSaves.set(target.node, target.node.entries);
        target.node.entries = new Map();
        this.mounts.push(`${this.str(task, a(0))} ${this.fs.pathOf(target.node)} ${type} rw 0 0`);
        return 0;
      }
      case Sys.umount2: {
        const target = this.fs.lookup(proc.cwd, this.str(task, a(0)));
        if (typeof target === 'number') return target;
        const saved = target.node?.kind === 'dir' ? this.mountSaves.get(target.node) : undefined;
        if (saved === undefined || target.node?.kind !== 'dir') return -Errno.EINVAL;
        const path = this.fs.pathOf(target.node);
        target.node.entries = saved;
        this.mountSaves.delete(target.node);
        const i = this.mounts.findIndex((m) => m.split(' ')[1] === path);
        if (i >= 0) this.mounts.splice(i, 1);
        return 0;
      }
      case Sys.getpid:
        return proc.pid;
      case Sys.getppid:
        return proc.ppid;
      case Sys.gettid:
        return task.tid;
      case Sys.getuid:
      case Sys.geteuid:
      case Sys.getgid:
      case Sys.getegid:
      case Sys.set_tid_address:
      case Sys.rt_sigaction:
      case Sys.rt_sigprocmask:
      case Sys.sched_yield:
      case Sys.umask:
        return 0;
      case Sys.exit:
        this.exitTask(task);
        if (proc.threads.size === 0) this.exitProcess(proc, wExited(a(0)));
        return 0;
      case Sys.exit_group:
        this.exitProcess(proc, wExited(a(0)));
        return 0;
      case Sys.clone:
        return this.clone(task, request);
      case Sys.execve: {
        const err = this.exec(
          task,
          this.str(task, a(0)),
          this.strArray(task, a(1)),
          this.strArray(task, a(2)),
        );
        return err < 0 ? err : 0;
      }
      case Sys.wait4: {
        const pid = a(0);
        const children = [...this.procs.values()].filter(
          (c) => c.ppid === proc.pid && !c.reaped && (pid === -1 || c.pid === pid),
        );
        if (children.length === 0) return -Errno.ECHILD;
        const zombie = children.find((c) => c.zombie);
        if (zombie === undefined) return a(2) & WNOHANG ? 0 : BLOCK;
        zombie.reaped = true;
        zombie.ppid = 0;
        if (a(1) !== 0) mm.write(a(1), this.u32(zombie.status));
        return zombie.pid;
      }
      case Sys.kill: {
        const target = this.procs.get(a(0));
        if (target === undefined || target.zombie) return -Errno.ESRCH;
        if (a(1) !== 0 && a(1) !== SIG.CHLD && a(1) !== SIG.CONT) this.exitProcess(target, wSignaled(a(1)));
        return 0;
      }
      case Sys.brk: {
        if (a(0) === 0 || a(0) < mm.brkStart || a(0) > mm.brkStart + 0x4000_0000) return mm.brk;
        mm.brk = a(0);
        return mm.brk;
      }
      case Sys.mmap:
        if (a(4) !== -1 && (a(3) & 0x20) === 0) return -Errno.ENODEV;
        return mm.mmap(a(1));
      case Sys.munmap:
        mm.munmap(a(0), a(1));
        return 0;
      case Sys.clock_gettime: {
        const ns = a(0) === 0 ? this.now + REALTIME_BASE_S * 1e9 : this.now;
        mm.write(a(1), this.u64(Math.floor(ns / 1e9)));
        mm.write(a(1) + 8, this.u64(ns % 1e9));
        return 0;
      }
      case Sys.nanosleep: {
        if (task.sleepUntil === undefined) {
          const b = mm.read(a(0), 16);
          const v = new DataView(b.buffer);
          task.sleepUntil =
            this.now + Number(v.getBigUint64(0, true)) * 1e9 + Number(v.getBigUint64(8, true));
        }
        if (this.now < task.sleepUntil) return BLOCK;
        task.sleepUntil = undefined;
        return 0;
      }
      case Sys.uname: {
        const out = new Uint8Array(6 * UTSNAME_FIELD);
        const fields = ['Linux', this.hostname, '6.1.0-fake', '#1', 'aarch64', '(none)'];
        fields.forEach((f, i) => out.set(new TextEncoder().encode(f), i * UTSNAME_FIELD));
        mm.write(a(0), out);
        return 0;
      }
      case Sys.sethostname:
        this.hostname = new TextDecoder().decode(mm.read(a(0), a(1)));
        return 0;
      case Sys.socket: {
        if (a(1) !== 1) return -Errno.EPROTONOSUPPORT;
        return files.install(new SocketFile(O.RDWR), false);
      }
      case Sys.socketpair: {
        const x = new SocketFile(O.RDWR);
        const y = new SocketFile(O.RDWR);
        SocketFile.pair(x, y);
        mm.write(a(3), this.u32(files.install(x, false)));
        mm.write(a(3) + 4, this.u32(files.install(y, false)));
        return 0;
      }
      case Sys.bind: {
        const sock = files.get(a(0));
        if (!(sock instanceof SocketFile)) return -Errno.ENOTSOCK;
        const port = new DataView(mm.read(a(1), 16).buffer).getUint16(2, false);
        if (this.listeners.has(port)) return -Errno.EADDRINUSE;
        sock.port = port;
        return 0;
      }
      case Sys.listen: {
        const sock = files.get(a(0));
        if (!(sock instanceof SocketFile)) return -Errno.ENOTSOCK;
        sock.state = 'listening';
        this.listeners.set(sock.port, sock);
        sock.onRelease = () => this.listeners.delete(sock.port);
        return 0;
      }
      case Sys.accept4:
      case Sys.accept: {
        const sock = files.get(a(0));
        if (!(sock instanceof SocketFile) || sock.state !== 'listening') return -Errno.EINVAL;
        const conn = sock.backlog.shift();
        return conn === undefined ? BLOCK : files.install(conn, false);
      }
      case Sys.connect: {
        const sock = files.get(a(0));
        if (!(sock instanceof SocketFile)) return -Errno.ENOTSOCK;
        const port = new DataView(mm.read(a(1), 16).buffer).getUint16(2, false);
        const listener = this.listeners.get(port);
        if (listener === undefined) return -Errno.ECONNREFUSED;
        const server = new SocketFile(O.RDWR);
        SocketFile.pair(sock, server);
        listener.backlog.push(server);
        return 0;
      }
      case Sys.shutdown: {
        const sock = files.get(a(0));
        if (!(sock instanceof SocketFile)) return -Errno.ENOTSOCK;
        if (a(1) !== 0) sock.shutdownWrite();
        return 0;
      }
      default:
        return -Errno.ENOSYS;
    }
  }

  private clone(task: Task, request: SyscallRequest): number {
    const flags = request.args[0] ?? 0;
    if (request.child === undefined) return -Errno.EINVAL;
    const gen = request.child();
    if (flags & CLONE.THREAD) {
      const tid = this.nextPid++;
      const thread = this.newTask(task.proc, gen, tid);
      thread.started = false;
      return tid;
    }
    const parent = task.proc;
    const proc = this.newProcess(parent.pid, parent.files.clone(), parent.cwd);
    proc.mm = parent.mm.clone();
    proc.comm = parent.comm;
    this.newTask(proc, gen);
    return proc.pid;
  }
}
