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
  /** The task's record slot (task-table.ts: the record page, then the extra task pages). */
  readonly slot: number;
  /** The task's context number (task-table.ts: the con-shim's context pages, then the extra ones). */
  readonly context: number;
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
  /**
   * Level-3 tables of the window beyond the first (ShimPage.windowTable): granule indices of SHIM
   * pages from the mini-OS heap; entry i maps window slots 512 × (i + 1) .. 512 × (i + 2) - 1.
   */
  readonly windowTables: number[];
  /** Next free window slot for kernel data pages (abi.ts SHIM_WINDOW_KERNEL_SLOT and up). */
  nextWindowSlot: number;
  /**
   * SHIM(cid) granules the mini-OS took from its heap for task contexts beyond the con-shim's
   * ShimPage.contextPages: page i is mapped read-only at window slot SHIM_WINDOW_CONTEXT_SLOT + i.
   */
  readonly contextPages: number[];
  /** SHIM(cid) granules from the mini-OS heap for task records beyond the record page's. */
  readonly taskPages: number[];
  /** Free context numbers and free task-record slots (stacks, lowest on top). */
  readonly freeContexts: number[];
  readonly freeTaskSlots: number[];
}

/**
 * Granules of SHIM(cid) the container is charged for (MiniOsParams.containerQuota): the con-shim
 * and the records the mini-OS added (shim), the kernel's data pages (shimFromOs) and the extra
 * task-record and context pages.
 */
export function shimGranuleCount(record: ContainerRecord): number {
  return (
    record.shim.length +
    record.shimFromOs.size +
    record.contextPages.length +
    record.taskPages.length +
    record.windowTables.length
  );
}

/** Every granule container `record` is charged for: CTR, PT and SHIM. */
export function ownedGranuleCount(record: ContainerRecord): number {
  return record.ctr.size + record.pt.size + shimGranuleCount(record);
}

/**
 * Fixed pages of a con-shim, as indices into ContainerRecord.shim: the record page, the I/O record
 * page (rc_ipc_in regions), then the task context pages. Pages added later (VMA records) come after
 * the initial shimGranules; extra task-record and context pages are kept apart
 * (ContainerRecord.taskPages, contextPages).
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
/** Bytes of a context slot (CONTEXT_BYTES rounded up). */
export const CONTEXT_SLOT_BYTES = 512;
/** Context slots per page. */
export const CONTEXTS_PER_PAGE = 4096 / CONTEXT_SLOT_BYTES;

/** Layout of the record page (first SHIM granule), in bytes. */
export const ShimRecord = {
  magic: 0x00, // u32 'SHIM'
  cid: 0x04, // u32
  bound: 0x08, // u32
  policy: 0x0c, // u32
  imageDigest: 0x10, // 32 bytes
  configDigest: 0x30, // 32 bytes
  taskCount: 0x50, // u32, live tasks
  /**
   * Task slots to the end of the page (60): tid u32 +0, parent u32 +4, saved PC u64 +8, saved
   * SPSR u32 +16, address-space id u32 +20, binary digest 32 bytes +32. An extra task page
   * (ContainerRecord.taskPages) is 64 such slots from offset 0; a free slot is zero.
   */
  tasks: 0x100,
  taskSlotBytes: 64,
} as const;

/** Task slots of the record page. */
export const RECORD_PAGE_TASK_SLOTS = (4096 - ShimRecord.tasks) / ShimRecord.taskSlotBytes;
/** Task slots of an extra task page. */
export const TASK_PAGE_SLOTS = 4096 / ShimRecord.taskSlotBytes;

/** 'SHIM' little-endian. */
export const SHIM_MAGIC = 0x4d49_4853;
