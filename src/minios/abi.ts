/**
 * The mini-OS's only public face (DESIGN.md §2): call numbers, register conventions, argument
 * layouts, owner kinds and error codes of the 16 RContainer calls (spec/rcontainer.md) and of the
 * rcontainer extensions (calls 17 and up). The kernel imports nothing else from src/minios.
 *
 * Calling convention (a gate through EL3, DESIGN.md §4 "rc_* call"): the kernel, at EL1, executes
 * `SMC #0` with x0 = RC_ENTER_MINIOS (the firmware's SiP function id), x1 = the call number and
 * x2..x7 = the arguments. EL3 switches to the Priv-GPT and enters the mini-OS at its fixed entry;
 * the mini-OS validates, acts and returns through EL3 to the instruction after the SMC with the
 * result in x0: 0 or a non-negative value on success, a negative errno on refusal.
 */

import { RC_ENTER_MINIOS } from '../firmware/rc-service.js';
import type { ProcessingElement } from '../hw/pe.js';

/** SMCCC function id of the gate into the mini-OS (firmware RC service, SiP range). */
export { RC_ENTER_MINIOS };

/**
 * The kernel's side of the gate, on `pe` at EL1: x0 = RC_ENTER_MINIOS, x1 = `call`, x2.. = `args`
 * (the other registers cleared), SMC #0; returns x0.
 */
export function rcCall(pe: ProcessingElement, call: number, ...args: number[]): number {
  pe.x.fill(0);
  pe.x[0] = RC_ENTER_MINIOS;
  pe.x[1] = call;
  args.forEach((value, i) => (pe.x[i + 2] = value));
  pe.smc(0);
  return pe.x[0]!;
}

/** The 16 calls of the paper, then the rcontainer extensions (17 and up). */
export const RcCall = {
  CreateShim: 1,
  DestroyShim: 2,
  CreateContainer: 3,
  DestroyContainer: 4,
  MallocMm: 5,
  SetPte: 6,
  CopyPage: 7,
  SetVma: 8,
  SetIopte: 9,
  IpcIn: 10,
  IpcOut: 11,
  TaskClone: 12,
  TaskExec: 13,
  TaskExit: 14,
  SwitchToDepriv: 15,
  SwitchToMiniOs: 16,
  // rcontainer extensions beyond the paper's 16 calls (DESIGN.md §4 "I/O", §5 "launch integrity").
  SealBlock: 17,
  OpenBlock: 18,
  Attest: 19,
  StorageAttach: 20,
  /**
   * rc_set_kernel_entry(syscallVa, faultVa, irqVa): the kernel's handlers (kernel VAs), to which
   * the trampoline and the con-shims forward exceptions. Once, from the OS context.
   */
  SetKernelEntry: 21,
  /** rc_host_space_create(root) → id: a host process address space (a TTBR0 tree of PT(os) pages). */
  HostSpaceCreate: 22,
  /** rc_host_space_destroy(id): its tables scrubbed and returned to the OS, TLBI ASIDE1IS. */
  HostSpaceDestroy: 23,
  /** rc_host_space_switch(id): TTBR0_EL1 of the calling PE = the host space. From the OS context. */
  HostSpaceSwitch: 24,
} as const;
/** A call number. */
export type RcCall = (typeof RcCall)[keyof typeof RcCall];

/** Names of the calls as the paper spells them, indexed by number. */
export const RC_CALL_NAMES: Readonly<Record<number, string>> = {
  1: 'rc_create_shim',
  2: 'rc_destroy_shim',
  3: 'rc_create_container',
  4: 'rc_destroy_container',
  5: 'rc_malloc_mm',
  6: 'rc_set_pte',
  7: 'rc_copy_page',
  8: 'rc_set_vma',
  9: 'rc_set_iopte',
  10: 'rc_ipc_in',
  11: 'rc_ipc_out',
  12: 'rc_task_clone',
  13: 'rc_task_exec',
  14: 'rc_task_exit',
  15: 'rc_switch_to_depriv',
  16: 'rc_switch_to_miniOS',
  17: 'rc_seal_block',
  18: 'rc_open_block',
  19: 'rc_attest',
  20: 'rc_storage_attach',
  21: 'rc_set_kernel_entry',
  22: 'rc_host_space_create',
  23: 'rc_host_space_destroy',
  24: 'rc_host_space_switch',
};

/** Error results (Linux errno values, negated). */
export const RcError = {
  EPERM: -1,
  ENOENT: -2,
  ENOMEM: -12,
  EBUSY: -16,
  EINVAL: -22,
  /** Output buffer too small (rc_attest). */
  ENOSPC: -28,
  /** The channel direction was closed with FIN (rc_ipc_out). */
  EPIPE: -32,
  /** A frame or block that is not genuine: tampered, forged, malformed, misdirected (crypto refusal). */
  EBADMSG: -74,
  /** A frame ahead of the expected sequence number: an earlier one was dropped or reordered. */
  EPROTO: -71,
  /** A counter is used up (a channel's sequence numbers, a block's versions). */
  EOVERFLOW: -75,
  /** A genuine but stale frame or block: replay or rollback. */
  ESTALE: -116,
} as const;
/** An error result. */
export type RcError = (typeof RcError)[keyof typeof RcError];

/** Name of a result for logs and tests. */
export function rcResultName(result: number): string {
  for (const [name, value] of Object.entries(RcError)) if (value === result) return name;
  return result >= 0 ? `ok(${result})` : `error(${result})`;
}

/** Who owns a granule (the mini-OS's ownership table is the single source of truth). */
export const Owner = {
  /** The untrusted OS: kernel and host processes. */
  Os: 0,
  /** The mini-OS: its code and data, the GPT views, its page-table aliases. */
  Mini: 1,
  /** EL3 firmware (GPI Root). */
  Root: 2,
  /** User memory of container c. */
  Ctr: 3,
  /** The con-shim of container c. */
  Shim: 4,
  /** Page-table pages of container c. */
  Pt: 5,
  /** Page-table pages of the kernel (mapped read-only to it). */
  PtOs: 6,
  /** Memory shared by containers with both sides' consent. */
  Shared: 7,
  /** The trampoline: mini-OS code open in every view, mapped read-only and executable. */
  Trampoline: 8,
} as const;
/** An owner kind. */
export type Owner = (typeof Owner)[keyof typeof Owner];

/** Names of owner kinds, indexed by value. */
export const OWNER_NAMES = ['OS', 'MINI', 'ROOT', 'CTR', 'SHIM', 'PT', 'PT(os)', 'SHARED', 'TRAMP'] as const;

/**
 * rc_malloc_mm `kind` argument: which pool of the container receives the granules. Ctr and Pt
 * return 0; Shim maps the granules, writable at EL1 and never executable, into consecutive free
 * slots of the container's window and returns the first slot (ENOMEM when the window is full).
 */
export const MallocKind = { Ctr: Owner.Ctr, Shim: Owner.Shim, Pt: Owner.Pt } as const;

/**
 * Exec policies (rc_create_container `policy`), DESIGN.md §5 and attacks.md Q1. MeasuredOnly:
 * rc_task_exec admits only the measured image's binaries, in the container's own tasks and in a
 * task the OS makes enter it from outside (`exec`). Deny: the same binaries, and rc_task_clone
 * refuses any task entering from outside. Allow: any binary (the residual risk is the caller's).
 */
export const ExecPolicy = { MeasuredOnly: 0, Allow: 1, Deny: 2 } as const;
/** An exec policy. */
export type ExecPolicy = (typeof ExecPolicy)[keyof typeof ExecPolicy];

/**
 * rc_set_pte `space`: 0 = the OS (with tid 0 the kernel's own tables, with tid = a host space id
 * that host process address space), else a container id (a container's task address space).
 */
export const PteSpace = { Kernel: 0 } as const;

/*
 * Argument registers of the memory calls and of the address-space part of the task calls
 * (x2, x3, ... in the order written). Every value is a 64-bit register read as a number; a VA is
 * its two's-complement value (negative = a TTBR1 address), a descriptor travels as two u32 halves.
 *
 * rc_set_vma(cid, tid, start, end, prot) → 0
 *   Register [start, end) as a VMA of the address space of task `tid` of container `cid` (a
 *   record in SHIM(cid)); with prot = VmaFlag.Remove, unregister exactly that VMA.
 *   EINVAL: cid out of range; start/end not 4 KiB-aligned integers, start >= end, start < 0 or
 *           end > USER_VA_LIMIT (kernel or non-canonical VAs); unknown prot bits.
 *   ENOENT: unknown or unbound container, unknown task, a task without an address space; Remove
 *           of a VMA that is not registered.
 *   EPERM:  prot Write together with Exec (W^X); start below VMA_MIN_ADDRESS (reserved).
 *   EBUSY:  overlap with a VMA of the same address space; Remove while a leaf still maps into it.
 *   ENOMEM: MAX_VMAS_PER_SPACE reached, or no room for the record in SHIM(cid).
 *
 * rc_set_pte(space, tid, va, pteLow, pteHigh, level) → 0
 *   Write one stage-1 descriptor (VMSAv8-64, 4 KB granule, 48-bit VA; bits [31:0] in pteLow, [63:32]
 *   in pteHigh) at translation level `level` (0..3) for `va`. space = PteSpace.Kernel (0): the
 *   kernel's TTBR1 tree when `tid` = 0, va in [-2^48, 0); the TTBR0 tree of host address space
 *   `tid` (an id from rc_host_space_create) when tid >= 1, va in [0, USER_VA_LIMIT). space = cid:
 *   the TTBR0 tree of task `tid` of container cid, va in [0, USER_VA_LIMIT). `va` must be aligned to the span of the entry
 *   (512 GiB, 1 GiB, 2 MiB, 4 KiB for levels 0..3); the tables of levels 0..level-1 must already be
 *   linked. The mini-OS writes the descriptor through its own linear map (break-before-make when a
 *   valid descriptor changes) and invalidates the VA: TLBI VAE1IS with the address space's ASID,
 *   or TLBI VAAE1IS for the kernel.
 *   Table descriptors (level 0-2, bits[1:0] = 11) link a page: for a container, a PT(cid) page not
 *   linked anywhere (the mini-OS zeroes it); for the kernel or a host space, an OS page outside
 *   the kernel image that no kernel leaf maps writable and no host leaf maps (the mini-OS turns it
 *   into PT(os) and zeroes it), or a PT(os) page the mini-OS unlinked and could not give back
 *   (never the kernel root, the trampoline's or the SMMU's tables). Bits [11:2] and [58:48] of a table descriptor must be 0; APTable,
 *   XNTable and PXNTable (bits [63:59]) may only restrict and are accepted. Replacing a table
 *   descriptor unlinks its table, which must hold no valid entry; an unlinked kernel or host table
 *   returns to the OS, an unlinked container table to the container's PT pool, all zeroed.
 *   Leaves (level 1-2 block, level 3 page): output address below 2^48 and aligned to the span;
 *   bits [52:48] (OA[51:48], GP, DBM, Contiguous) must be 0. W+X (AP[2] = 0 with UXN = 0 or
 *   PXN = 0) is refused everywhere. A container leaf must be EL0-accessible (AP[1] = 1), non-global
 *   (nG = 1), PXN = 1, map only CTR(cid) granules or Shared granules open to cid, lie inside one
 *   VMA of the address space and grant no more than it (read needs Read, AP[2] = 0 needs Write,
 *   UXN = 0 needs Exec); it is not executable over a granule a kernel leaf still maps writable. A kernel leaf must be EL1-only (AP[1] = 0) with UXN = 1; it may be
 *   writable only over OS granules outside the kernel image (or device windows), executable only
 *   inside the kernel image, and never maps Root memory or a fixed (Root/Secure) range. A host leaf
 *   must be EL0-accessible (AP[1] = 1), non-global (nG = 1), PXN = 1 and map only OS granules
 *   outside the kernel image (never PT(os), the trampoline, MINI, SHIM, CTR, PT, Shared, Root, a
 *   fixed range or a device window); a page it maps stays OS memory (rc_malloc_mm: EBUSY; a table
 *   descriptor or host root: EPERM) until the leaf is gone, and a writable one counts as a
 *   kernel-writable mapping.
 *   EINVAL: malformed arguments or descriptor, VA outside the space or misaligned, missing table.
 *   ENOENT: unknown or unbound container, unknown task, task without an address space, unknown
 *           host space.
 *   EPERM:  a policy refusal above; the mini-OS's own linear-map L0 entry; a table the mini-OS did
 *           not link.
 *   EBUSY:  replacing a table descriptor whose table still holds valid entries.
 *   ENOMEM: the page could not be turned into PT(os).
 *
 * rc_copy_page(cid, dst, src) → 0
 *   Copy the 4 KiB granule at PA `src` to PA `dst`. dst must be CTR(cid); src must be CTR(cid), a
 *   Shared granule open to cid, a SHIM(cid) granule the OS gave with rc_malloc_mm (page cache), or
 *   OS memory; no container leaf may map dst yet (COW copies and page-ins go into fresh pages).
 *   EINVAL: misaligned or equal addresses, cid out of range. ENOENT: unknown container.
 *   EPERM: anything else (another container's memory, MINI, the mini-OS's own SHIM records, PT,
 *   Root, device memory). EBUSY: dst is mapped by a leaf of the container.
 *
 * rc_task_clone(cid, parent, root, flags, framePa) → tid
 *   flags = CloneFlag.Vm: the new task shares the parent's address space (root must be 0).
 *   Otherwise root = 0: no address space yet; root = PA of a PT(cid) page that is not linked and
 *   not writable by the kernel: a new address space with that root (zeroed by the mini-OS) and a
 *   fresh ASID, inheriting copies of the parent's VMAs (fork). framePa = 0: the task's context
 *   starts zeroed; otherwise the PA of the con-shim frame of the parent's clone system call (as for
 *   rc_switch_to_miniOS): the child resumes from a copy of it with x0 = 0.
 *   The task's record (tid, parent, saved PC/SPSR, address-space id, binary digest) and its
 *   context go into SHIM(cid): the record page and the con-shim's context pages hold the first 60
 *   records and 64 contexts; beyond, the mini-OS takes a scrubbed page of its own memory for the
 *   next 64 records or 8 contexts (context pages mapped read-only at the next free slot of
 *   SHIM_WINDOW_CONTEXT_SLOT..SHIM_WINDOW_KERNEL_SLOT - 1). Those pages count against the
 *   container's quota and stay SHIM(cid) until rc_destroy_shim scrubs and frees them.
 *   EINVAL: bad cid, flags, root or frame. ENOENT: unknown or unbound container. EPERM: a parent
 *   outside the container, a second first task (parent 0), a frame outside the shim stacks.
 *   ENOMEM: MAX_TASKS_PER_CONTAINER tasks live; no ASID, record slot or page left (mini-OS
 *   memory or the container's quota).
 * rc_task_exec(cid, tid, digestPa, entryPc, root) → 0
 *   root as for rc_task_clone (0: the task is left without an address space); the task's previous
 *   address space is dropped. A task that execs from its own system call (it runs on the calling
 *   PE) gets its new address space loaded into TTBR0_EL1 there (root 0: TTBR0_EL1 = 0 there).
 *   EBUSY, nothing changed: the old space would go (the task is its last) while it is still in
 *   TTBR0_EL1 of another PE (that PE is in the container's context; it drops the space when it
 *   saves its task, rc_switch_to_miniOS reason 1).
 * rc_task_exit(cid, tid) → 0
 *   When the last task of an address space goes, the mini-OS scrubs every CTR(cid) granule that
 *   only this address space mapped, scrubs its table pages (they stay in the container's PT pool)
 *   and invalidates its ASID (TLBI ASIDE1IS). The task's record and context are zeroed and free
 *   for the next rc_task_clone. EBUSY while the task runs on a PE, or while its address space, of
 *   which it is the last task, is still in TTBR0_EL1 of another PE.
 *
 * rc_switch_to_depriv(cid, tid) → (does not return to the caller)
 *   Enter task `tid`: TTBR0_EL1 = its validated root with its ASID, VBAR_EL1 = the con-shim
 *   vectors of cid, then EL3 switches to shim-GPT(cid) and returns to the trampoline's restore stub,
 *   which reloads x0..x30, ELR_EL1 and SPSR_EL1 from the task's context in SHIM(cid) and ERETs to
 *   EL0. EPERM: no exec'd binary or no address space; EBUSY: running on another PE.
 * rc_switch_to_miniOS(reason, cid, tid, framePa) → 0
 *   The gate itself (always the mini-OS's fixed entry). reason 0: nothing else. reason 1: save the
 *   EL0 frame (x0..x30, PC, SPSR; 33 words) the con-shim pushed at `framePa` — inside one SHIM(cid)
 *   stack granule — into the running task's context and mark it stopped. EINVAL: bad reason or
 *   frame (crossing a page, resuming above EL0); EPERM: frame outside the stacks, task not running.
 *   After a save the caller continues in the OS context (OS-GPT, trampoline vectors): the container
 *   no longer runs on that PE, and the mini-OS has loaded its TTBR0_EL1 with 0 (BADDR 0, ASID 0,
 *   never an address space's), so no container tree stays loaded in the OS context.
 * rc_set_kernel_entry(syscallVa, faultVa, irqVa) → 0
 *   Kernel entries the trampoline (OS context) and con-shims (container context) forward to. From
 *   the OS context, once (EBUSY after); kernel VAs only (EINVAL).
 *
 * Host processes (ordinary processes of the OS context) get TTBR0 address spaces from the mini-OS,
 * since the kernel cannot write TTBR0_EL1. Their leaves are written with rc_set_pte(0, id, ...).
 * rc_host_space_create(x2 root) → id ≥ 1
 *   A new host address space whose level-0 table is the page at PA `root`: an OS page outside the
 *   kernel image that no kernel leaf maps writable and no host leaf maps, linked nowhere (or a
 *   spare PT(os) page, as for a table descriptor). The mini-OS zeroes it and makes it PT(os)
 *   (readable, never writable, by the kernel), and gives the space an ASID from HOST_ASIDS.
 *   EINVAL: root not a 4 KiB-aligned PA. EPERM: any other page. ENOMEM: no host ASID left, or
 *   the page could not be turned into PT(os).
 * rc_host_space_destroy(x2 id) → 0
 *   Drop every leaf, scrub every table of the space and return it to the OS, TLBI ASIDE1IS its ASID
 *   (which is then free). EINVAL: id not an integer ≥ 1. ENOENT: no such space. EBUSY: the space
 *   is in TTBR0_EL1 of some PE (the caller's included): switch that PE to another host space or
 *   into a container task first.
 * rc_host_space_switch(x2 id) → 0
 *   TTBR0_EL1 of the calling PE = root | ASID << 48 of host space `id`, so that the kernel can run
 *   that host process at EL0 (no TLB maintenance is needed: every space has its own ASID).
 *   EPERM: not called from the OS context (OS-GPT). EINVAL: id not an integer ≥ 1. ENOENT: no
 *   such space.
 */

/** rc_set_vma `prot` bits (the PROT_* values). */
export const VmaProt = { Read: 1, Write: 2, Exec: 4 } as const;
/** rc_set_vma `prot` value that removes a VMA instead. */
export const VmaFlag = { Remove: 0x100 } as const;
/** rc_task_clone `flags` (the Linux CLONE_VM value). */
export const CloneFlag = { Vm: 0x100 } as const;
/** Lowest VA a VMA may start at (pages below are reserved, like Linux's mmap_min_addr). */
export const VMA_MIN_ADDRESS = 0x1_0000;
/** End of the TTBR0 (user) range: 48-bit VAs. */
export const USER_VA_LIMIT = 2 ** 48;
/** Largest number of VMAs of one address space. */
export const MAX_VMAS_PER_SPACE = 1024;
/** ASIDs the mini-OS gives container address spaces: [base, base + count). */
export const CONTAINER_ASIDS = { base: 0x8000, count: 0x8000 } as const;
/**
 * ASIDs the mini-OS gives host address spaces: [base, base + count), disjoint from
 * CONTAINER_ASIDS. ASID 0 is never given (the TTBR0_EL1 reset value).
 */
export const HOST_ASIDS = { base: 1, count: 0x7fff } as const;

/**
 * Largest number of live tasks of one container (rc_task_clone: ENOMEM beyond). Each task has a
 * task record and a saved context in SHIM(c); past the first 60 records (the record page) and 64
 * contexts (the con-shim's context pages) the mini-OS takes further pages from its own memory,
 * counted against the container's quota, until rc_destroy_shim.
 */
export const MAX_TASKS_PER_CONTAINER = 1024;

/**
 * Largest container id (ids are 1..MAX_CONTAINER_ID; 0 means "the OS"): every id has a 64 MiB
 * con-shim window in the one L0 entry of the window region, whose L2 tables come from a fixed pool.
 */
export const MAX_CONTAINER_ID = 2047;

/**
 * The con-shim windows in the kernel's TTBR1 space (DESIGN.md §4 "Container syscall"): container
 * c's window is the 64 MiB at {@link containerWindowVa}(c), walkable only under shim-GPT(c): every
 * level-3 table of it is a SHIM(c) page (the first is the con-shim's ShimPage.windowTable, the
 * others the mini-OS adds from its own memory as the kernel's data grows). Its 16384 page slots:
 * - 0 .. 15: the con-shim's pages (vectors, syscall stacks at 12 .. 15, records, the first
 *   64 task contexts), mapped at rc_create_shim;
 * - SHIM_WINDOW_CONTEXT_SLOT .. SHIM_WINDOW_KERNEL_SLOT - 1 (16 .. 143): task-context pages the
 *   mini-OS adds from its own memory when a container has more than 64 tasks (8 contexts each),
 *   read-only and never executable (the restore stub reads a context there);
 * - SHIM_WINDOW_KERNEL_SLOT .. SHIM_WINDOW_SLOTS - 1 (144 .. 16383): the kernel's data for c
 *   (page cache, pipe and socket buffers, about 63 MiB): SHIM pages the kernel gave with
 *   rc_malloc_mm(cid, pa, count, MallocKind.Shim), which returns the slot of the first one.
 */
export const SHIM_WINDOW_BASE = -(2 ** 46) + 2 ** 30;
/** Bytes of one container window (32 level-3 tables). */
export const SHIM_WINDOW_BYTES = 2 ** 26;
/** First window slot (4 KiB page) for the task-context pages the mini-OS adds on demand. */
export const SHIM_WINDOW_CONTEXT_SLOT = 16;
/** Window slots reserved for those context pages (8 contexts each). */
export const SHIM_WINDOW_CONTEXT_PAGES = 128;
/** First window slot (4 KiB page) that holds kernel data. */
export const SHIM_WINDOW_KERNEL_SLOT = SHIM_WINDOW_CONTEXT_SLOT + SHIM_WINDOW_CONTEXT_PAGES;
/** Window slots: the pages of one window. */
export const SHIM_WINDOW_SLOTS = SHIM_WINDOW_BYTES / 4096;

/** Tables the mini-OS keeps for the window region (one L1, one L2 per 512 windows, one L3 for the trampoline). */
export const WINDOW_TABLE_POOL = 136;
/**
 * The granules right after the kernel image that the mini-OS takes at boot: the kernel's TTBR1
 * root table (PT(os)), the trampoline page and the window region's tables (PT(os)). They are not
 * the kernel's to use.
 */
export const MINIOS_RESERVED_AFTER_KERNEL = (2 + WINDOW_TABLE_POOL) * 4096;

/** VA of container `cid`'s con-shim window. */
export function containerWindowVa(cid: number): number {
  return SHIM_WINDOW_BASE + cid * SHIM_WINDOW_BYTES;
}

// ------------------------------------------------------------------ I/O and IPC calls
//
// Who may call (the gate tells the mini-OS the GPT view the caller ran under, from EL3, so it cannot
// be forged): a call that moves plaintext into or out of container c's memory, or that gives c's
// consent, must come from c's context — the kernel serving c under shim-GPT(c) (DESIGN.md §4
// "Container syscall"); the host endpoint (0) speaks from the OS context (OS-GPT). Anything else is
// EPERM. Calls that only manage resources (rc_set_iopte, rc_storage_attach, rc_attest, rc_ipc_in)
// may come from the OS context or the container's own. "OS buffer" below means memory whose every
// granule is OS-owned DRAM (anything else is EPERM).
//
// rc_set_iopte(x2 stream, x3 iova, x4 pa, x5 perms, x6 poolPa, x7 poolCount) → granules consumed
//   Map (perms = IoPerm.Read or Read|Write) or unmap (perms = 0, pa = 0) the 4 KiB device page at
//   `iova` of SMMU stream `stream` (0 ≤ stream < min(2^SMMU_IDR1.SIDSIZE, 2^16)). `iova` is page
//   aligned in [0, 2^48) (the TTB0 range; stream page tables are 48-bit, 4 KiB granule), `pa` a page of
//   OS-owned DRAM. The mini-OS owns the stream's context descriptor (CD) and translation tables: it
//   takes them from the OS granules [poolPa, poolPa + 4096 × poolCount) (1 ≤ poolCount ≤ 8 when
//   tables are needed), scrubs them and makes them PT(os) (readable by the SMMU under the OS-GPT,
//   read-only to the kernel), and returns how many it took from the start of the pool (0..5). On a
//   stream's first call the first granule taken is its CD page: the kernel points the STE's
//   S1ContextPtr at poolPa (Config = stage 1, STRW = NS-EL1) and issues CMD_CFGI_STE. The CD uses
//   ASID = stream. After replacing or removing a mapping the mini-OS issues CMD_TLBI_NH_VA(ASID, iova)
//   and CMD_SYNC through the SMMU command queue (EBUSY, nothing changed, when SMMU_CR0.SMMUEN = 1 and
//   the queue is disabled, full or stopped by an error). Refuses a target that is not OS-owned
//   (container, shim, PT, PT(os) including the I/O tables themselves, MINI, Root, Shared, MMIO).
//   The CD and tables stay PT(os) for the rest of the boot (there is no release call yet).
//
// rc_ipc_in(x2 cid, x3 tidA, x4 tidB, x5 pa, x6 count) → region id ≥ 1
//   Register [pa, pa + 4096 × count) (1 ≤ count ≤ 1024 granules of CTR(cid)) as memory shared by
//   tasks tidA ≠ tidB of container cid, in the I/O record page of SHIM(cid). Refuses a task of
//   another container (EPERM). rc_ipc_in(cid, 0, regionId) unregisters a region.
//
// rc_ipc_out(x2 from, x3 to, x4 control, x5 id, x6 a, x7 b): IPC leaving a container. `from` and
//   `to` are endpoints: a container id, or 0 for the host (the OS). control = op [7:0] | flags [15:8]
//   | length [47:16] ({@link ipcOutControl}). Ops ({@link IpcOutOp}):
//   Offer        (from, to)                        → channel id: `from` consents to a channel to `to`
//   Accept       (from, to, id)                    → 0: `from` consents to channel `id` offered by `to`
//   Seal         (from, to, id, srcPa, dstPa), length = payload bytes (≤ IPC_MAX_PAYLOAD), flags
//                IpcFlag.Fin closes this direction   → frame bytes (IPC_FRAME_OVERHEAD + length).
//                Plaintext from `from`'s memory (CTR/SHIM/Shared of from; an OS buffer for the host);
//                the frame goes to the OS buffer at dstPa.
//   Open         (from, to, id, srcPa, dstPa), length = frame bytes; the caller speaks for `to`, the
//                receiver                           → payload bytes, + IPC_OPEN_FIN when the frame was
//                the sender's last. Payload into `to`'s memory (an OS buffer for the host).
//                Refuses tampering (EBADMSG), replay (ESTALE), reorder or loss (EPROTO), after FIN (EPIPE).
//   Close        (from, to, id)                     → 0: an end drops the channel (both end states).
//   ShareOffer   (from, to, 0, pa), length = granules (1..256): container `from` offers its CTR granules
//                [pa, pa + 4096 × length) to container `to` → share id
//   ShareAccept  (from, to, id)                     → 0: container `from` consents to share `id` of `to`;
//                the granules become Owner.Shared: open in both views, closed everywhere else.
//   Unshare      (from, to, id)                     → 0: either member ends (or withdraws) the share;
//                the granules return to the offering container.
//   A channel is usable only after both Offer and Accept (missing consent: EPERM).
//
// rc_seal_block(x2 cid, x3 block, x4 srcPa, x5 dstPa) → the block's new version (≥ 1)
//   Seal the 4 KiB page srcPa of CTR(cid)/SHIM(cid) as the next version of disk block `block` into the
//   SEALED_BLOCK_BYTES record at the OS buffer dstPa (AES-256-GCM; crypto/storage.ts record format).
// rc_open_block(x2 cid, x3 block, x4 srcPa, x5 dstPa) → the block's version
//   Check the record at the OS buffer srcPa (genuine, of this container, block and current version)
//   and write the plaintext into the page dstPa of CTR(cid)/SHIM(cid). Refuses EBADMSG (tampered,
//   relocated or corrupt version tree), ESTALE (rollback or replay), ENOENT (block never sealed).
// rc_storage_attach(x2 cid, x3 blockCount, x4 treePa) → 0
//   Give container cid a sealed disk of blockCount blocks (1..2^24); its version tree (storage.ts,
//   storageTreeBytes(blockCount) bytes, checked against the root the mini-OS keeps) lives in the OS
//   buffer at the page-aligned treePa, which the kernel must leave alone. blockCount = 0 detaches.
// rc_attest(x2 cid, x3 noncePa, x4 nonceLength, x5 outPa, x6 outLength) → evidence bytes
//   Write the evidence for bound container cid to the OS buffer outPa: the signed attestation report
//   (crypto/attestation.ts: boot measurements, image and config digests, exec policy, the 1..64-byte
//   nonce read from the OS buffer noncePa), then the mini-OS attestation public key (32 bytes) and
//   the platform token (64 bytes) that binds it to the boot chain. ENOSPC if outLength is too small.

/** rc_set_iopte `perms` bits (0 = unmap). Write-only is not expressible and is refused. */
export const IoPerm = { Read: 1, Write: 2 } as const;

/** rc_ipc_out operations (control word bits [7:0]). */
export const IpcOutOp = {
  Offer: 1,
  Accept: 2,
  Seal: 3,
  Open: 4,
  Close: 5,
  ShareOffer: 6,
  ShareAccept: 7,
  Unshare: 8,
} as const;
/** An rc_ipc_out operation. */
export type IpcOutOp = (typeof IpcOutOp)[keyof typeof IpcOutOp];

/** rc_ipc_out flags (control word bits [15:8]). */
export const IpcFlag = { Fin: 1 } as const;

/** The rc_ipc_out control word: op [7:0] | flags [15:8] | length [47:16]. */
export function ipcOutControl(op: IpcOutOp, length = 0, flags = 0): number {
  return op + (flags & 0xff) * 2 ** 8 + length * 2 ** 16;
}

/** Added to rc_ipc_out Open's result when the frame carried FIN. */
export const IPC_OPEN_FIN = 2 ** 32;
/** Largest payload of one sealed frame. */
export const IPC_MAX_PAYLOAD = 65_536;
/** Bytes a sealed frame adds to its payload (32-byte header, 16-byte tag). */
export const IPC_FRAME_OVERHEAD = 48;
/** Bytes of a disk block (plaintext) and of its sealed record. */
export const STORAGE_BLOCK_BYTES = 4096;
/** Bytes of the version tree of a sealed disk of `blockCount` blocks (rc_storage_attach's treePa). */
export { storageTreeBytes } from './crypto/storage.js';
export const SEALED_BLOCK_BYTES = 4144;
/** Bytes rc_attest appends to the report: mini-OS public key (32), platform token (64). */
export const ATTEST_TRAILER_BYTES = 96;
/** Nonce lengths rc_attest accepts. */
export const ATTEST_MAX_NONCE_BYTES = 64;
