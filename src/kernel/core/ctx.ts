/**
 * What a system call runs with: the PE it runs on, the calling task, and the kernel's services.
 * Subsystems (fs, ipc, net, mm) are written against these interfaces, not the kernel class.
 */
import type { ProcessingElement } from '../../hw/pe.js';
import type { FdTable, StdioTag } from './file.js';
import type { WaitQueue } from './wait.js';
import type { FsState } from '../fs/fs-state.js';
import type { Namespaces } from './namespaces.js';
import type { Platform } from '../hooks.js';

/** Credentials of a task (real, effective, saved and filesystem ids, in the task's user namespace). */
export interface Cred {
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  suid: number;
  sgid: number;
}

/** A memory area of an address space, as /proc/<pid>/maps shows it. */
export interface VmaInfo {
  readonly start: number;
  readonly end: number;
  readonly prot: number;
  readonly shared: boolean;
  /** Path of the mapped file, or a label like "[heap]", "[stack]", or "" for anonymous memory. */
  readonly name: string;
}

/** The view of a task that subsystems use. */
export interface TaskInfo {
  /** Global thread id and thread-group (process) id. */
  readonly tid: number;
  readonly tgid: number;
  /** Container the task belongs to (0 = a host process). */
  readonly cid: number;
  /** Process name (the last exec'd file name, at most 15 characters). */
  readonly comm: string;
  /** Path of the executable. */
  readonly exePath: string;
  readonly state: 'running' | 'runnable' | 'sleeping' | 'zombie';
  readonly parentTgid: number;
  readonly cred: Cred;
  readonly files: FdTable;
  readonly fs: FsState;
  readonly ns: Namespaces;
  /** Memory areas of the task's address space. */
  vmas(): readonly VmaInfo[];
  /** pid of the task as seen from pid namespace `ns` (0 if it is not visible there). */
  pidIn(ns: Namespaces['pid']): number;
}

/** Kernel pages for kernel data that belongs to a context (file pages, pipe and socket buffers). */
export interface KernelPages {
  /**
   * A zeroed 4 KiB page for `owner` (0 = the OS, c = container c), zeroed through `pe` which must
   * run in a context that can reach it (the OS context for 0, container c's for c). Its kernel VA,
   * or undefined when no memory is left.
   */
  alloc(pe: ProcessingElement, owner: number): number | undefined;
  /** Give back a page from alloc. */
  free(owner: number, va: number): void;
  /** PA of the page at kernel VA `va` from alloc (for page-ins into user memory). */
  paOf(owner: number, va: number): number | undefined;
  /** Pages in use by `owner`. */
  inUse(owner: number): number;
}

/** The machine's console (the terminal behind /dev/tty and /dev/console). */
export interface Console {
  /**
   * Write `length` bytes of user memory at `va` to the console (as stream `tag`: session 0's
   * stdout by default); bytes written or -errno.
   */
  write(ctx: SysCtx, va: number, length: number, tag?: StdioTag): number;
  /** Read console input (stream `tag`'s own, if any) into user memory; bytes read, 0 at end of input. */
  read(ctx: SysCtx, va: number, length: number, tag?: StdioTag): number;
  /** Whether session `session` of context `cid` is a terminal (TCGETS answers) or a pipe (ENOTTY). */
  isTerminal(cid: number, session: number): boolean;
}

/** The platform hooks of sealed IPC (hooks.ts Platform, "IPC leaving a container"). */
export type IpcPlatform = Pick<Platform, 'sealsIpc' | 'ipcConsent' | 'ipcSeal' | 'ipcOpen' | 'ipcClose'>;

/** Kernel services a system call may use. */
export interface KernelServices {
  readonly pages: KernelPages;
  readonly console: Console;
  /** Architecture name of the running design ("native" or "rcontainer"). */
  readonly design: string;
  /**
   * The platform's hooks for IPC that leaves a context (sealed frames, DESIGN.md §4 "I/O"); the
   * Kernel passes its whole Platform. Absent (test kernels): nothing is sealed.
   */
  readonly platform?: IpcPlatform;
  /** Send signal `sig` to the thread group of `tgid` (global id); false if there is none. */
  sendSignal(tgid: number, sig: number): boolean;
  /** Every live task (for procfs and kill). */
  tasks(): Iterable<TaskInfo>;
  /** The task with global tid `tid`. */
  task(tid: number): TaskInfo | undefined;
  /** Read `length` bytes of task `tid`'s memory at `va` (for /proc/<pid>/mem); undefined on a fault. */
  readTaskMemory(ctx: SysCtx, tid: number, va: number, length: number): Uint8Array | undefined;
}

/** The context of one system call. */
export interface SysCtx {
  readonly pe: ProcessingElement;
  readonly task: TaskInfo;
  readonly kernel: KernelServices;
  /** Copy `length` bytes from user memory (the task's address space); undefined on EFAULT. */
  copyIn(va: number, length: number): Uint8Array | undefined;
  /** Copy bytes to user memory; false on EFAULT. */
  copyOut(va: number, data: Uint8Array): boolean;
  /** A NUL-terminated string of at most `max` bytes; -EFAULT or -ENAMETOOLONG on failure. */
  readString(va: number, max?: number): string | number;
  readU32(va: number): number | undefined;
  readU64(va: number): number | undefined;
  writeU32(va: number, value: number): boolean;
  writeU64(va: number, value: number): boolean;
  /** Read kernel memory at a kernel VA (a KernelPages page); undefined if the access faults. */
  kread(kva: number, length: number): Uint8Array | undefined;
  /** Write kernel memory at a kernel VA; false if the access faults. */
  kwrite(kva: number, data: Uint8Array): boolean;
  /**
   * Copy between user memory and kernel memory without a JS copy of the data outliving the call
   * (the bytes pass through the PE). Returns false on a fault.
   */
  userToKernel(va: number, kva: number, length: number): boolean;
  kernelToUser(kva: number, va: number, length: number): boolean;
  /** Park the task on `queue`: returns -ERESTARTSYS, which the handler returns. */
  sleep(queue: WaitQueue): number;
  /** Simulated time of the PE, nanoseconds. */
  now(): number;
  /** Charge `cycles` of kernel work to the PE. */
  charge(cycles: number): void;
}
