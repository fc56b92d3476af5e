/**
 * Test harness for pipes and sockets: a machine whose PE 0 runs at EL1 with the MMU off (VA = PA,
 * SCTLR_EL1.M = 0, no GPC), a bump allocator of kernel pages over a PA range, and fake tasks whose
 * SysCtx moves bytes through the PE. sleep() records the queue a task parked on; sendSignal records
 * signals. User memory of every task is one window of DRAM; an access outside it is EFAULT.
 */
import { Machine } from '../../../src/hw/machine.js';
import type { ProcessingElement } from '../../../src/hw/pe.js';
import type {
  IpcPlatform,
  KernelPages,
  KernelServices,
  SysCtx,
  TaskInfo,
} from '../../../src/kernel/core/ctx.js';
import { FdTable } from '../../../src/kernel/core/file.js';
import type { Namespaces } from '../../../src/kernel/core/namespaces.js';
import type { SyscallFn } from '../../../src/kernel/core/syscall-fn.js';
import { WaitQueue, type Sleeper } from '../../../src/kernel/core/wait.js';
import { IPC_SYSCALLS } from '../../../src/kernel/ipc/pipe-syscalls.js';
import { NetNamespace } from '../../../src/kernel/net/net-namespace.js';
import { NET_SYSCALLS } from '../../../src/kernel/net/net-syscalls.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { decodeStat, encodeStat, type Stat } from '../../../src/kernel/uapi/structs.js';

/** DRAM of the test machine. */
const DRAM_BASE = 0x8000_0000;
const DRAM_SIZE = 0x1000_0000;
/** User memory window shared by the fake tasks. */
export const USER_BASE = 0x8000_0000;
export const USER_SIZE = 0x40_0000;
/** Kernel pages handed out by the bump allocator. */
const KPAGES_BASE = 0x8100_0000;
const KPAGE = 4096;

/** KernelPages over [base, base + pages * 4 KiB): bump allocation, a free list, per-owner counts. */
export class BumpPages implements KernelPages {
  private next: number;
  private readonly end: number;
  private readonly freeList: number[] = [];
  private readonly used = new Map<number, number>();
  /** Owner of each page in use (kva → owner), to catch double frees and wrong owners. */
  readonly owners = new Map<number, number>();
  /** Most pages ever in use at once. */
  peak = 0;

  constructor(base: number, pages: number) {
    this.next = base;
    this.end = base + pages * KPAGE;
  }

  alloc(pe: ProcessingElement, owner: number): number | undefined {
    let va = this.freeList.pop();
    if (va === undefined) {
      if (this.next >= this.end) return undefined;
      va = this.next;
      this.next += KPAGE;
    }
    if (!pe.fillBytes(va, KPAGE, 0)) throw new Error(`cannot zero kernel page 0x${va.toString(16)}`);
    this.owners.set(va, owner);
    this.used.set(owner, this.inUse(owner) + 1);
    this.peak = Math.max(this.peak, this.owners.size);
    return va;
  }

  free(owner: number, va: number): void {
    const was = this.owners.get(va);
    if (was !== owner) throw new Error(`free of 0x${va.toString(16)} by owner ${owner}, page owner ${was}`);
    this.owners.delete(va);
    this.used.set(owner, this.inUse(owner) - 1);
    this.freeList.push(va);
  }

  paOf(owner: number, va: number): number | undefined {
    // MMU off: a kernel VA is its PA.
    return this.owners.get(va) === owner ? va : undefined;
  }

  inUse(owner: number): number {
    return this.used.get(owner) ?? 0;
  }

  /** Pages in use by every owner. */
  get total(): number {
    return this.owners.size;
  }
}

/** A signal sent through KernelServices.sendSignal. */
export interface SentSignal {
  readonly tgid: number;
  readonly sig: number;
}

/** A fake task: its SysCtx, its descriptor table, and what happened to it. */
export interface FakeTask {
  readonly ctx: SysCtx;
  readonly info: TaskInfo;
  readonly files: FdTable;
  /** Queues the task parked on, in order. */
  readonly parkedOn: WaitQueue[];
  /** Times the task was woken. */
  woken: number;
  /** Kernel cycles charged. */
  charged: number;
}

/** Options of a fake task. */
export interface TaskOptions {
  readonly cid?: number;
  readonly net?: NetNamespace;
  readonly euid?: number;
}

/** The world of a test: one machine, one kernel's services, any number of tasks. */
export class Harness {
  readonly machine: Machine;
  readonly pe: ProcessingElement;
  readonly pages: BumpPages;
  readonly signals: SentSignal[] = [];
  readonly net = new NetNamespace();
  readonly kernel: KernelServices;
  private nextTid = 100;
  private readonly tasks: TaskInfo[] = [];

  /** `ipc`: the platform's sealed-IPC hooks (none: nothing can be sealed). */
  constructor(design: 'native' | 'rcontainer' = 'native', kernelPages = 512, ipc?: IpcPlatform) {
    this.machine = new Machine({ dram: [{ name: 'dram0', base: DRAM_BASE, size: DRAM_SIZE }], pes: 1 });
    this.pe = this.machine.pes[0]!;
    this.pe.reset(1, 0);
    this.pages = new BumpPages(KPAGES_BASE, kernelPages);
    const signals = this.signals;
    const tasks = this.tasks;
    this.kernel = {
      pages: this.pages,
      console: { write: () => -Errno.ENOSYS, read: () => -Errno.ENOSYS, isTerminal: () => true },
      design,
      sendSignal: (tgid, sig) => {
        signals.push({ tgid, sig });
        return true;
      },
      tasks: () => tasks,
      task: (tid) => tasks.find((t) => t.tid === tid),
      readTaskMemory: () => undefined,
      ...(ipc !== undefined ? { platform: ipc } : {}),
    };
  }

  /** A new task (its own thread group, descriptor table and sleeper). */
  task(options: TaskOptions = {}): FakeTask {
    const tid = this.nextTid++;
    const files = new FdTable();
    const euid = options.euid ?? 0;
    const ns: Partial<Namespaces> = { net: options.net ?? this.net };
    const info: TaskInfo = {
      tid,
      tgid: tid,
      cid: options.cid ?? 0,
      comm: 'test',
      exePath: '/bin/test',
      state: 'running',
      parentTgid: 1,
      cred: { uid: euid, gid: euid, euid, egid: euid, suid: euid, sgid: euid },
      files,
      fs: {} as TaskInfo['fs'],
      ns: ns as Namespaces,
      vmas: () => [],
      pidIn: () => tid,
    };
    this.tasks.push(info);
    const task: FakeTask = { ctx: undefined!, info, files, parkedOn: [], woken: 0, charged: 0 };
    const sleeper: Sleeper = { wake: () => void task.woken++ };
    (task as { ctx: SysCtx }).ctx = this.makeCtx(task, info, sleeper);
    return task;
  }

  /** Put `data` in user memory at `va` (directly, as the test's "user program"). */
  poke(va: number, data: Uint8Array): void {
    if (!this.machine.memory.writeBytes(va, data)) throw new Error('poke outside DRAM');
  }

  /** Read `length` bytes of user memory at `va`. */
  peek(va: number, length: number): Uint8Array {
    const out = this.machine.memory.readBytes(va, length);
    if (out === undefined) throw new Error('peek outside DRAM');
    return out;
  }

  /** A little-endian u32 of user memory. */
  peekU32(va: number): number {
    return new DataView(this.peek(va, 4).buffer).getUint32(0, true);
  }

  private makeCtx(task: FakeTask, info: TaskInfo, sleeper: Sleeper): SysCtx {
    const pe = this.pe;
    const inUser = (va: number, length: number): boolean =>
      Number.isSafeInteger(va) && length >= 0 && va >= USER_BASE && va + length <= USER_BASE + USER_SIZE;
    const inKernel = (kva: number, length: number): boolean => {
      const page = Math.floor(kva / KPAGE) * KPAGE;
      return this.pages.owners.has(page) && kva + length <= page + KPAGE;
    };
    const readU = (va: number, length: number): number | undefined => {
      if (!inUser(va, length)) return undefined;
      const bytes = pe.readBytes(va, length)!;
      let value = 0;
      for (let i = length - 1; i >= 0; i--) value = value * 256 + bytes[i]!;
      return value;
    };
    const writeU = (va: number, value: number, length: number): boolean => {
      if (!inUser(va, length)) return false;
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(value / 256 ** i) % 256;
      return pe.writeBytes(va, bytes);
    };
    return {
      pe,
      task: info,
      kernel: this.kernel,
      copyIn: (va, length) => (inUser(va, length) ? pe.readBytes(va, length) : undefined),
      copyOut: (va, data) => inUser(va, data.length) && pe.writeBytes(va, data),
      readString: () => -Errno.EFAULT,
      readU32: (va) => readU(va, 4),
      readU64: (va) => readU(va, 8),
      writeU32: (va, value) => writeU(va, value, 4),
      writeU64: (va, value) => writeU(va, value, 8),
      kread: (kva, length) => (inKernel(kva, length) ? pe.readBytes(kva, length) : undefined),
      kwrite: (kva, data) => inKernel(kva, data.length) && pe.writeBytes(kva, data),
      userToKernel: (va, kva, length) => {
        if (!inUser(va, length) || !inKernel(kva, length)) return false;
        return pe.writeBytes(kva, pe.readBytes(va, length)!);
      },
      kernelToUser: (kva, va, length) => {
        if (!inUser(va, length) || !inKernel(kva, length)) return false;
        return pe.writeBytes(va, pe.readBytes(kva, length)!);
      },
      sleep: (queue) => {
        task.parkedOn.push(queue);
        return queue.sleep(sleeper);
      },
      now: () => 0,
      charge: (cycles) => void (task.charged += cycles),
    };
  }
}

/** Every IPC and socket handler by number. */
const TABLE: Readonly<Record<number, SyscallFn>> = { ...IPC_SYSCALLS, ...NET_SYSCALLS };

/** Run system call `nr` as `task`. */
export function sys(task: FakeTask, nr: number, ...args: number[]): number {
  const handler = TABLE[nr];
  if (handler === undefined) throw new Error(`no handler for syscall ${nr}`);
  return handler(task.ctx, args);
}

/** read(2) through the open file's operations. */
export function read(task: FakeTask, fd: number, va: number, length: number): number {
  const file = task.files.get(fd);
  if (file === undefined) return -Errno.EBADF;
  return file.ops.read?.(task.ctx, file, va, length) ?? -Errno.EINVAL;
}

/** write(2) through the open file's operations. */
export function write(task: FakeTask, fd: number, va: number, length: number): number {
  const file = task.files.get(fd);
  if (file === undefined) return -Errno.EBADF;
  return file.ops.write?.(task.ctx, file, va, length) ?? -Errno.EINVAL;
}

/** close(2). */
export function close(task: FakeTask, fd: number): number {
  return task.files.close(fd) ? 0 : -Errno.EBADF;
}

/** fstat(2): the stat record, round-tripped through its user-ABI encoding. */
export function fstat(task: FakeTask, fd: number): Stat | number {
  const file = task.files.get(fd);
  if (file === undefined) return -Errno.EBADF;
  const st = file.ops.stat(task.ctx, file);
  return typeof st === 'number' ? st : decodeStat(encodeStat(st));
}

/** lseek(2). */
export function lseek(task: FakeTask, fd: number, offset: number, whence: number): number {
  const file = task.files.get(fd);
  if (file === undefined) return -Errno.EBADF;
  return file.ops.lseek?.(task.ctx, file, offset, whence) ?? -Errno.ESPIPE;
}

/** Bytes of a deterministic pattern: byte i is (seed + i * 7) mod 251. */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed + i * 7) % 251;
  return out;
}

/** The ASCII bytes of `text`. */
export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Encode a sockaddr_un for `path` (NUL-terminated); its length is 2 + path + 1. */
export function sockaddrUn(path: string): Uint8Array {
  const bytes = ascii(path);
  const out = new Uint8Array(2 + bytes.length + 1);
  out[0] = 1;
  out.set(bytes, 2);
  return out;
}

/** Encode a sockaddr_in (port and address in host order). */
export function sockaddrIn(addr: number, port: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, false);
  view.setUint32(4, addr, false);
  return out;
}

/**
 * Search the JS object graph from `roots` for `needle` in strings, typed arrays and ArrayBuffers
 * (the machine, its memory and PEs are the simulated hardware and are skipped). The paths found.
 */
export function findInObjectGraph(
  roots: readonly unknown[],
  needle: Uint8Array,
  skip: readonly object[],
): string[] {
  const seen = new Set<unknown>(skip);
  const found: string[] = [];
  const text = new TextDecoder('latin1').decode(needle);
  const hasBytes = (bytes: Uint8Array): boolean => {
    outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  };
  const stack: [unknown, string][] = roots.map((root, i) => [root, `root${i}`]);
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(text)) found.push(path);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      if (hasBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))) found.push(path);
      continue;
    }
    if (value instanceof ArrayBuffer) {
      if (hasBytes(new Uint8Array(value))) found.push(path);
      continue;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) stack.push([k, `${path}.key`], [v, `${path}.get`]);
      continue;
    }
    if (value instanceof Set) {
      for (const v of value) stack.push([v, `${path}.item`]);
      continue;
    }
    for (const key of Object.getOwnPropertyNames(value)) {
      stack.push([(value as Record<string, unknown>)[key], `${path}.${key}`]);
    }
  }
  return found;
}
