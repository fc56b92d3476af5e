/**
 * Container and task records kept by the mini-OS. The authoritative copy of what the hardware or
 * an attacker could care about (digests, policy, task records, saved contexts) is written into the
 * container's SHIM granules; the host objects here are the mini-OS's index into them.
 */
import type { ExecPolicy } from './abi.js';

/** A task of a container, as rc_task_clone/exec/exit record it. */
export interface TaskRecord {
  readonly tid: number;
  readonly parent: number;
  /** SHA-256 of the binary last exec'd (hex), or undefined before any exec. */
  binary: string | undefined;
  /** Saved EL0 context for rc_switch_to_depriv: resume PC and SPSR (x0..x30 live in SHIM). */
  savedPc: number;
  savedSpsr: number;
  /** PA of the task's context slot in SHIM(c). */
  readonly contextPa: number;
  /** PE the task is running on (between rc_switch_to_depriv and the save of its context). */
  runningOn: number | undefined;
}

/** A container known to the mini-OS. */
export interface ContainerRecord {
  readonly cid: number;
  /** L0 base PA of shim-GPT(cid). */
  readonly view: number;
  /** Granule indices of SHIM(cid), first = the record page. */
  readonly shim: number[];
  /** Bound by rc_create_container. */
  bound: boolean;
  imageDigest: Uint8Array | undefined;
  configDigest: Uint8Array | undefined;
  policy: ExecPolicy | undefined;
  /** Digests of binaries in the measured image (hex), for the measuredOnly exec policy. */
  readonly measuredBinaries: Set<string>;
  readonly tasks: Map<number, TaskRecord>;
  nextTid: number;
  /** Granule indices of CTR(cid) and PT(cid). */
  readonly ctr: Set<number>;
  readonly pt: Set<number>;
  /** SHIM(cid) granules that rc_malloc_mm took from the OS (they go back to the OS, not the heap). */
  readonly shimFromOs: Set<number>;
  /** Next free window slot for kernel data pages (abi.ts SHIM_WINDOW_KERNEL_SLOT and up). */
  nextWindowSlot: number;
}

/**
 * Fixed pages of a con-shim, as indices into ContainerRecord.shim: the record page, the I/O record
 * page (rc_ipc_in regions), then the task context pages. Pages added later (VMA records) come after
 * the initial shimGranules.
 */
export const ShimPage = {
  record: 0,
  io: 1,
  firstContext: 2,
  contextPages: 8,
  /** The level-3 table of the container's window in the kernel's TTBR1 space. */
  windowTable: 10,
  /** The con-shim's exception vectors (mini-OS code, executable at EL1 in the window). */
  vectors: 11,
  /** Syscall stacks the kernel runs on while it serves the container (writable in the window). */
  firstStack: 12,
  /** Pages of the shim mapped in the window: 0 .. mapped - 1. */
  mapped: 16,
} as const;

/** A saved EL0 context: x0..x30, PC and SPSR, 8 bytes each. */
export const CONTEXT_BYTES = 33 * 8;
/** Context slots per page (slot size rounded up to 512 bytes). */
export const CONTEXTS_PER_PAGE = 4096 / 512;

/** Layout of the record page (first SHIM granule), in bytes. */
export const ShimRecord = {
  magic: 0x00, // u32 'SHIM'
  cid: 0x04, // u32
  bound: 0x08, // u32
  policy: 0x0c, // u32
  imageDigest: 0x10, // 32 bytes
  configDigest: 0x30, // 32 bytes
  taskCount: 0x50, // u32
  /** Task slots: tid u32, parent u32, saved PC u64, saved SPSR u32, binary digest 32 bytes. */
  tasks: 0x100,
  taskSlotBytes: 64,
} as const;

/** 'SHIM' little-endian. */
export const SHIM_MAGIC = 0x4d49_4853;
