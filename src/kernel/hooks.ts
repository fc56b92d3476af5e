/**
 * The platform hooks: every place where RContainer modified Linux to call the mini-OS, as one
 * interface (issue 4). `src/designs/` implements it twice: `native` (a plain kernel that writes its
 * page tables and system registers itself under one open GPT view) and `rcontainer` (every hook
 * goes through minios/abi.ts and the gate). The kernel decides *what* happens (which task runs,
 * which page maps where); the design decides *how* the machine is told.
 */
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import type { KernelPages } from './core/ctx.js';

/** The design's handle of a task's hardware context (address space, saved registers). */
export interface HwTask {
  /** Container of the task (0 = host process). */
  readonly cid: number;
}

/** What the kernel does when the machine traps into it (the design's entry code calls these). */
export interface KernelHandlers {
  /**
   * A system call from EL0 of the task current on `pe`: its result, or -ERESTARTSYS when the task
   * blocked (parked on a queue; the design saves it with its PC rewound to the SVC), or TASK_GONE
   * when the task no longer runs (it exited or was killed).
   */
  syscall(pe: ProcessingElement, nr: number, args: readonly number[]): number;
  /**
   * A synchronous abort at `far` (from EL0 when `user`): FaultOutcome.Retry after fixing it,
   * Fixup to abandon a kernel access to user memory (EFAULT), Gone when the task was killed.
   */
  fault(pe: ProcessingElement, far: number, esr: number, user: boolean): FaultOutcome;
  /**
   * An IRQ (timer) taken while `pe` ran a task at EL0: Resume it, Preempt it (the kernel put it back
   * on the run queue: the design saves it), or Gone (it was killed: the design drops it).
   */
  irq(pe: ProcessingElement): IrqOutcome;
  /**
   * Called on the way back to EL0 from a system call: true when the current task must give up the
   * PE now (the kernel has put it back on the run queue): the design saves it.
   */
  shouldYield(pe: ProcessingElement): boolean;
  /** After EXEC_DONE: the registers the new image starts with. */
  takeExecStart(pe: ProcessingElement): UserStart | undefined;
  /** After SIGNAL_ENTRY: where the task enters its signal handler. */
  takeSignalEntry(pe: ProcessingElement): SignalEntry | undefined;
}

/**
 * A signal handler entry (Linux's setup_rt_frame on arm64): PC = the handler, x0 = the signal,
 * x30 = sa_restorer, so that the handler returns into rt_sigreturn.
 */
export interface SignalEntry {
  readonly pc: number;
  readonly sig: number;
  readonly lr: number;
}

/**
 * The result of KernelHandlers.syscall when the task enters a signal handler instead of returning
 * from the call: the design takes the entry from KernelHandlers.takeSignalEntry.
 */
export const SIGNAL_ENTRY = -0x7fff_0002;
/**
 * The result of rt_sigreturn when the interrupted call is to be issued again (SA_RESTART): the
 * design returns to the SVC (PC rewound), as Linux restores a frame whose PC was rewound.
 */
export const RESTART_CALL = -0x7fff_0003;

/** The result of KernelHandlers.syscall when the calling task is gone. */
export const TASK_GONE = -0x7fff_0000;
/**
 * The result of KernelHandlers.syscall when the call replaced the program (execve): the design
 * takes the new image's registers from KernelHandlers.takeExecStart and returns to it.
 */
export const EXEC_DONE = -0x7fff_0001;

/** What the IRQ handler decided. */
export const IrqOutcome = { Resume: 0, Preempt: 1, Gone: 2 } as const;
export type IrqOutcome = (typeof IrqOutcome)[keyof typeof IrqOutcome];

/** What a fault handler decided. */
export const FaultOutcome = { Retry: 0, Fixup: 1, Gone: 2 } as const;
export type FaultOutcome = (typeof FaultOutcome)[keyof typeof FaultOutcome];

/** Where the contents of a page being populated come from. */
export interface PageSource {
  readonly pa: number;
  /** Kernel VA of the source when it is a kernel page (a file page). */
  readonly kva?: number;
}

/** Page protections for mapPage (PROT_* bits). */
export type PageProt = number;

/** A physical memory range the kernel manages. */
export interface MemoryRange {
  readonly base: number;
  readonly size: number;
}

/** The measured launch data of a container. */
export interface ContainerLaunch {
  /** SHA-256 digests of the binaries of the image (measuredOnly exec policy). */
  readonly binaries: readonly Uint8Array[];
  /** Image configuration bytes (measured). */
  readonly config: Uint8Array;
  /** Exec policy (minios/abi.ts ExecPolicy). */
  readonly policy: number;
}

/** The platform a kernel runs on. */
export interface Platform {
  readonly design: 'native' | 'rcontainer';
  readonly machine: Machine;
  /** DRAM the kernel may hand out for user memory (not mapped by the kernel's linear map). */
  readonly userMemory: readonly MemoryRange[];
  /** Kernel data pages (file pages, pipe and socket buffers) per owning context. */
  readonly pages: KernelPages;
  /** Kernel VA of the block device's register window (devices/block.ts BlockReg). */
  readonly blockDeviceVa: number;

  /** Install the kernel's trap handlers and leave every PE idle in the OS context. Once. */
  start(handlers: KernelHandlers): void;

  // ------------------------------------------------------------ containers
  /** Create container `cid`: its shim, measured launch data. 0 or -errno. */
  containerCreate(pe: ProcessingElement, cid: number, launch: ContainerLaunch): number;
  /** Destroy container `cid` once its tasks have exited. 0 or -errno. */
  containerDestroy(pe: ProcessingElement, cid: number): number;
  /**
   * Evidence for container `cid` with a 1..64-byte `nonce`: the signed attestation report and the
   * keys that bind it to the boot chain (rc_attest), or -errno (-95 EOPNOTSUPP when the design
   * has no attestation).
   */
  attest(pe: ProcessingElement, cid: number, nonce: Uint8Array): Uint8Array | number;

  // ------------------------------------------------------------ tasks and address spaces
  /**
   * A new task of container `cid`: `fork` gets a new empty address space, `thread` shares the
   * parent's, `init` has none until exec (its first task, or with `parent` set, a process entering
   * the running container, e.g. `rcontainer exec`). For fork and thread this is called from the parent's
   * system call on `pe`: the child resumes as a copy of the parent's trapped registers with x0 = 0
   * and TPIDR_EL0 = `tls` when given. The handle, or -errno.
   */
  taskCreate(
    pe: ProcessingElement,
    cid: number,
    parent: HwTask | undefined,
    kind: 'fork' | 'thread' | 'init',
    tls?: number,
  ): HwTask | number;
  /** Exec: the task gets a new empty address space; `digest` is the binary's SHA-256. 0 or -errno. */
  taskExec(pe: ProcessingElement, task: HwTask, digest: Uint8Array, entry: number): number;
  /** The task is gone: release its hardware context (its address space when it was the last user). */
  taskExit(pe: ProcessingElement, task: HwTask): void;
  /** Register (or with prot < 0, remove) the VMA [start, end) of the task's address space. 0 or -errno. */
  setVma(pe: ProcessingElement, task: HwTask, start: number, end: number, prot: number): number;
  /** Map the page `pa` at `va` with `prot` (replacing any mapping). 0 or -errno. */
  mapPage(pe: ProcessingElement, task: HwTask, va: number, pa: number, prot: PageProt): number;
  /** Remove the mapping of `va` (no-op when there is none). 0 or -errno. */
  unmapPage(pe: ProcessingElement, task: HwTask, va: number): number;
  /** A page of user memory for context `cid` (not yet mapped anywhere), or undefined. */
  userPage(pe: ProcessingElement, cid: number): number | undefined;
  /**
   * How many times userPage had to take memory the slow way (rc_malloc_mm: scrub, close to the
   * OS, open to the container, TLBI by range) instead of from a ready pool (DESIGN.md §4).
   */
  slowAllocations(): number;
  /** A user page no address space maps any more goes back to the context's pool. */
  freeUserPage(pe: ProcessingElement, cid: number, pa: number): void;
  /**
   * Map the fresh page `dstPa` (from userPage) at `va` with `prot`, filled with zeros (no `source`)
   * or with a copy of the page `source.pa`: a kernel page readable at `source.kva`, or else the page
   * `task` maps readable at `va` now (copy on write). 0 or -errno.
   */
  populatePage(
    pe: ProcessingElement,
    task: HwTask,
    va: number,
    dstPa: number,
    prot: PageProt,
    source?: PageSource,
  ): number;

  // ------------------------------------------------------------ storage (DESIGN.md §4 "I/O")
  /**
   * The disk of context `owner` (0 = the host): how many 4 KiB blocks it has (0 if none) and how
   * many bytes each takes on the device (4096 in plaintext, more when sealed).
   */
  disk(owner: number): { readonly blocks: number; readonly bytesPerBlock: number };
  /**
   * A per-PE bounce buffer in OS memory that the device DMAs to and from: its PA and kernel VA,
   * `bytes` long (at least bytesPerBlock).
   */
  bounce(pe: ProcessingElement): { readonly pa: number; readonly kva: number; readonly bytes: number };
  /**
   * Put block `block` of `owner`'s disk, whose plaintext is the kernel page `srcKva` (a page of the
   * owner's: called in the owner's context), into the bounce buffer as it must reach the disk: a
   * plain copy, or under rcontainer a record sealed by the mini-OS. Returns the bytes to write, or
   * -errno.
   */
  blockToDisk(pe: ProcessingElement, owner: number, block: number, srcKva: number): number;
  /**
   * The reverse: the bounce buffer holds block `block` as read from `owner`'s disk; put its
   * plaintext into the kernel page `dstKva`. 0, or -errno: a sealed block that was tampered with,
   * moved or rolled back is refused (-74 EBADMSG, -116 ESTALE), one never written is -2 (ENOENT).
   */
  blockFromDisk(pe: ProcessingElement, owner: number, block: number, dstKva: number): number;

  // ------------------------------------------------------------ IPC leaving a container
  /**
   * True when bytes from context `from` to context `to` must cross as sealed frames (rc_ipc_out
   * under rcontainer, between different contexts); false: the kernel copies them itself.
   */
  sealsIpc(from: number, to: number): boolean;
  /**
   * Consent of context `self` (the caller runs in it) to a channel with `peer`: a new channel id
   * (rc_ipc_out Offer) when `channel` is undefined, else accept the peer's channel (Accept): 0.
   * Negative: -errno.
   */
  ipcConsent(pe: ProcessingElement, self: number, peer: number, channel?: number): number;
  /**
   * Seal `length` bytes (≤ IPC_PAYLOAD_MAX) of context `from`'s kernel page `srcKva` for `to` on
   * `channel` into the OS kernel page `frameKva` (owner 0): the frame's length, or -errno. With
   * `fin`, the frame closes this direction.
   */
  ipcSeal(
    pe: ProcessingElement,
    from: number,
    to: number,
    channel: number,
    srcKva: number,
    length: number,
    frameKva: number,
    fin: boolean,
  ): number;
  /**
   * Open the frame of `frameLength` bytes at OS page `frameKva` for receiver `to` (the caller runs
   * in `to`'s context) into `to`'s kernel page `dstKva`: { bytes, fin } or -errno (-74 tampered,
   * -116 replayed, -71 reordered or lost).
   */
  ipcOpen(
    pe: ProcessingElement,
    from: number,
    to: number,
    channel: number,
    frameKva: number,
    frameLength: number,
    dstKva: number,
  ): { readonly bytes: number; readonly fin: boolean } | number;
  /** Drop `self`'s end of `channel` (rc_ipc_out Close). */
  ipcClose(pe: ProcessingElement, self: number, peer: number, channel: number): void;

  // ------------------------------------------------------------ running tasks
  /**
   * Run `task` at EL0 on `pe`, which is idle in the OS context: its registers come back as they
   * were saved, or, for a task entering a new image (`start`), zeroed with PC = `start.pc`. Control
   * leaves the caller. `threadId` is written to TPIDRRO_EL0 (the thread-identity register).
   */
  enterUser(pe: ProcessingElement, task: HwTask, threadId: number, start?: UserStart): void;
  /**
   * Inside a trap taken from `task` at EL0: save its context so that it can be entered again
   * (with `rewind`, at the SVC again, to restart a blocked call), and leave `pe` idle in the OS
   * context. Control returns to the caller, which must then return from its handler.
   */
  saveUser(pe: ProcessingElement, task: HwTask, rewind: boolean): void;
  /** Inside a trap: leave `pe` idle in the OS context without saving (the task is gone). */
  dropUser(pe: ProcessingElement): void;
}

/**
 * Where a new image starts. Its arguments are in memory, at ARG_BLOCK_VA (argc, then the argv and
 * envp pointers, as u64): the stack pointer's place in the Linux ABI.
 * SIMPLIFICATION: SP_EL0 is not modelled (nor saved by the mini-OS), so the ABI fixes the address.
 */
export interface UserStart {
  readonly pc: number;
}

/** Largest payload of one sealed IPC frame: the frame (payload + 48 bytes) fits a 4 KiB page. */
export const IPC_PAYLOAD_MAX = 4096 - 48;

/** Address of a new image's argument block (the top page of its stack). */
export const ARG_BLOCK_VA = 0x7fff_f000_0000 - 4096;

/** VA every PE sits at while idle in the kernel (no code there: control returns to the scheduler). */
export const KERNEL_IDLE_VA = -(2 ** 48) + 0x10_0000;
