/**
 * Memory calls of the mini-OS: rc_set_vma, rc_set_pte, rc_copy_page (spec/rcontainer.md; argument
 * registers and errors in abi.ts), the address-space half of rc_task_clone/exec/exit, and the
 * address spaces of host processes (rc_host_space_create/destroy/switch).
 *
 * Every descriptor the MMU walks in the kernel's TTBR1 tree (below the kernel root, except the
 * mini-OS's own linear-map L0 entry), in the TTBR0 trees of container tasks and in the TTBR0 trees
 * of host processes is written here, by the mini-OS through its linear map, after validation
 * (DESIGN.md §1 "Mixed page table"). What the mini-OS keeps to validate (per MiniOs):
 *
 *  - `tables`: every page-table page it linked: its space (0 = the OS: the kernel or a host
 *    process, else the container), the address space it belongs to and its level. A page is linked
 *    at most once, so TLB maintenance by VA is exact and no table can alias another.
 *  - `kernelWritable[g]`: the number of kernel leaves that grant EL1 write to granule g, and of
 *    host leaves that grant EL0 write (the kernel drives its host processes); a page cannot become
 *    a table or container memory while the kernel can write it.
 *  - `hostMapped[g]`: the number of host leaves that map granule g (any permission); a page a host
 *    process maps stays OS memory: it becomes neither a table nor container memory.
 *  - `userMapped[g]`: the number of container leaves that map granule g (private memory = the
 *    CTR granules whose count an exiting address space takes to zero; they are scrubbed).
 *  - `spareOsTables`: PT(os) pages it unlinked but could not give back to the OS; with OS pages,
 *    the only pages a kernel or host table descriptor may link (never the trampoline's tables).
 *  - host address spaces (root, ASID from HOST_ASIDS) and the one each PE has in TTBR0_EL1.
 *  - per container: its address spaces (root, ASID, tasks, VMAs) and its record area in SHIM.
 *  - the container address space each PE has in TTBR0_EL1 (`containerLoaded`).
 *
 * TTBR0_EL1 of every PE names only a live root table with its own ASID (a host space's PT(os)
 * root, a container space's PT(c) root) or the reserved value 0. The mini-OS can write only the
 * TTBR0_EL1 of the PE it runs on, so it keeps that invariant in three steps:
 *  - a PE that leaves a container task for the OS context (rc_switch_to_miniOS reason 1) gets
 *    TTBR0_EL1 = 0 there and then (unloadTaskSpace): no container tree stays loaded under the
 *    OS-GPT, where the kernel runs;
 *  - a space the calling PE still holds is taken out of its TTBR0_EL1 before its tables are
 *    released and its ASID invalidated (detach);
 *  - a space that another PE's TTBR0_EL1 still holds is not torn down: rc_task_exec and
 *    rc_task_exit refuse with EBUSY (spaceBusyElsewhere), as rc_host_space_destroy does for
 *    host spaces. That PE is in the container's context; it drops the space when it leaves.
 * So when TLBI ASIDE1IS retires an ASID, no PE can refill an entry tagged with it from the dead
 * tree before the ASID is given again, and rc_destroy_container (no tasks, hence no spaces) never
 * gives the OS a page some TTBR0_EL1 still names.
 *
 * SIMPLIFICATION (as for ownership.ts): these indexes are host typed arrays and maps. The records
 * an attacker could care about are also written into SHIM(c), and every descriptor lives only in
 * simulated memory; the walks below read the tables from memory, not from the index.
 *
 * SHIM(c) layout of the memory records: "record area" granules that the mini-OS takes from its
 * heap on demand (MINI → SHIM(c), scrubbed, appended to ContainerRecord.shim so that
 * rc_destroy_shim scrubs and frees them), each holding 128 slots of 32 bytes:
 *   address space: +0 u32 kind = 1, +4 u32 ASID, +8 u64 root PA, +16 u32 id, +20 u32 task count
 *   VMA:           +0 u32 kind = 2, +4 u32 address-space id, +8 u64 start, +16 u64 end, +24 u32 prot
 *   free slots are zero. A task's record slot (containers.ts ShimRecord.tasks, task-table.ts)
 *   holds the task's address-space id at +20 (0: none).
 *
 * TLB maintenance uses the inner-shareable broadcast forms (TLBI VAE1IS, VAAE1IS, ASIDE1IS): an
 * address space may have run on any PE.
 */
import { decodeBootInfo } from '../firmware/boot-info.js';
import { assert } from '../hw/bits.js';
import { Gpi } from '../hw/pas.js';
import {
  CloneFlag,
  CONTAINER_ASIDS,
  HOST_ASIDS,
  MAX_VMAS_PER_SPACE,
  Owner,
  PteSpace,
  RcCall,
  RcError,
  USER_VA_LIMIT,
  VMA_MIN_ADDRESS,
  VmaFlag,
  VmaProt,
} from './abi.js';
import { isCid, refuse, type CallContext, type CallHandler, type CallOutcome } from './calls.js';
import { ownedGranuleCount, type ContainerRecord } from './containers.js';
import { isIoTableGranule } from './calls-io.js';
import type { MiniOs } from './minios.js';
import type { OwnershipTable } from './ownership.js';
import type { LinearMapPort } from './port.js';

/** A physical address range. */
interface Range {
  readonly base: number;
  readonly size: number;
}

/** A page-table page the mini-OS linked. */
interface TablePage {
  /** 0 for the OS's trees (the kernel's, a host process's), else the container id. */
  readonly space: number;
  /** The address space it belongs to (undefined for the kernel). */
  readonly owner: SpaceOwner | undefined;
  /** Translation level of the table (0 = a root). */
  readonly level: number;
}

/** A VMA of a container address space. */
interface Vma {
  readonly start: number;
  readonly end: number;
  readonly prot: number;
  /** Valid leaves inside the VMA. */
  leaves: number;
  readonly slot: number;
}

/** A container task address space: one TTBR0 tree. */
interface AddressSpace {
  readonly kind: 'container';
  readonly id: number;
  /** PA of the level-0 table. */
  readonly root: number;
  readonly asid: number;
  readonly tasks: Set<number>;
  /** Sorted by start, never overlapping. */
  readonly vmas: Vma[];
  readonly slot: number;
}

/** A host process address space: one TTBR0 tree of PT(os) pages. */
interface HostSpace {
  readonly kind: 'host';
  readonly id: number;
  /** PA of the level-0 table (PT(os)). */
  readonly root: number;
  readonly asid: number;
}

/** The address space a TTBR0 tree belongs to. */
type SpaceOwner = AddressSpace | HostSpace;

/** ASIDs of one range: [base, base + count), those in use, the next one to try. */
interface AsidPool {
  readonly base: number;
  readonly count: number;
  readonly used: Set<number>;
  next: number;
}

/** What this module keeps about one container. */
interface ContainerMemory {
  /** The record this state belongs to (a re-created container gets fresh state). */
  readonly record: ContainerRecord;
  /** tid → its address space. */
  readonly spaceOf: Map<number, AddressSpace>;
  /** Granule indices of the record area, in slot order. */
  readonly areas: number[];
  /** Free slot numbers (a stack, lowest on top). */
  readonly freeSlots: number[];
  nextSpaceId: number;
}

/** What this module keeps about one mini-OS. */
interface MemoryState {
  readonly minios: MiniOs;
  readonly kernelWritable: Uint32Array;
  readonly userMapped: Uint32Array;
  readonly hostMapped: Uint32Array;
  /** Granule index → the linked table page there. */
  readonly tables: Map<number, TablePage>;
  /** Unlinked PT(os) pages that may be linked again (see the header). */
  readonly spareOsTables: Set<number>;
  /** ASIDs of container address spaces (CONTAINER_ASIDS) and of host ones (HOST_ASIDS). */
  readonly asids: AsidPool;
  readonly hostAsids: AsidPool;
  /** Live host address spaces by id. */
  readonly hostSpaces: Map<number, HostSpace>;
  nextHostId: number;
  /** PE id → the host space the mini-OS last loaded into its TTBR0_EL1 (if still there). */
  readonly hostLoaded: Map<number, HostSpace>;
  /** PE id → the container space the mini-OS last loaded into its TTBR0_EL1 (if still there). */
  readonly containerLoaded: Map<number, AddressSpace>;
  /** The kernel image (text and rodata) from the firmware's boot information; undefined if unreadable. */
  readonly kernelImage: Range | undefined;
  /** L0 index of the mini-OS's linear map in the kernel root. */
  readonly miniL0Index: number;
  readonly containers: Map<number, ContainerMemory>;
}

const GRANULE = 4096;
const TWO32 = 2 ** 32;
const TWO48 = 2 ** 48;
/** Bytes one entry maps at levels 0..3. */
const SPAN = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12] as const;
const SLOT_BYTES = 32;
const SLOTS_PER_GRANULE = GRANULE / SLOT_BYTES;
/**
 * Largest record area of one container (32768 slots): room for MAX_TASKS_PER_CONTAINER address
 * spaces with 31 VMAs each on average (1 MiB of mini-OS memory, charged to the container's quota).
 */
const MAX_RECORD_GRANULES = 256;
const SlotKind = { Space: 1, Vma: 2 } as const;
/** Byte offset of the address-space id in a task slot of the record page. */
const TASK_SLOT_SPACE_ID = 20;
const PROT_ALL = VmaProt.Read | VmaProt.Write | VmaProt.Exec;

/** Descriptor kinds at a level (spec/cca-hardware.md §7.3). */
const Desc = { Invalid: 0, Table: 1, Leaf: 2, Reserved: 3 } as const;
type Desc = (typeof Desc)[keyof typeof Desc];

const states = new WeakMap<MiniOs, MemoryState>();
/** Every live state, so that forgetMemory can reach them without a mini-OS handle. */

// ------------------------------------------------------------------------------------ state

function stateOf(minios: MiniOs, port: LinearMapPort): MemoryState {
  const existing = states.get(minios);
  if (existing !== undefined) return existing;
  const granules = minios.ownership.granules;
  const state: MemoryState = {
    minios,
    kernelWritable: new Uint32Array(granules),
    userMapped: new Uint32Array(granules),
    hostMapped: new Uint32Array(granules),
    tables: new Map(),
    spareOsTables: new Set(),
    asids: { ...CONTAINER_ASIDS, used: new Set(), next: CONTAINER_ASIDS.base },
    hostAsids: { ...HOST_ASIDS, used: new Set(), next: HOST_ASIDS.base },
    hostSpaces: new Map(),
    nextHostId: 1,
    hostLoaded: new Map(),
    containerLoaded: new Map(),
    kernelImage: readKernelImage(minios, port),
    miniL0Index: Math.floor((minios.params.linearBase + TWO48) / SPAN[0]) % 512,
    containers: new Map(),
  };
  state.tables.set(minios.ownership.indexOf(minios.kernelRoot), {
    space: PteSpace.Kernel,
    owner: undefined,
    level: 0,
  });
  states.set(minios, state);
  return state;
}

/**
 * The kernel image region from the boot information the firmware left in the last granule of the
 * MINI region (firmware/boot-info.ts), validated like any input.
 */
function readKernelImage(minios: MiniOs, port: LinearMapPort): Range | undefined {
  const region = minios.boot.miniRegion;
  const bytes = port.readBytes(region.base + region.size - GRANULE, GRANULE);
  const info = bytes === undefined ? undefined : decodeBootInfo(bytes);
  if (info === undefined) return undefined;
  const { kernelBase: base, kernelSize: size } = info;
  if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || size <= 0) return undefined;
  if (base % GRANULE !== 0 || size % GRANULE !== 0 || base + size > 2 ** 52) return undefined;
  return { base, size };
}

function containerMemory(state: MemoryState, record: ContainerRecord): ContainerMemory {
  const existing = state.containers.get(record.cid);
  if (existing !== undefined && existing.record === record) return existing;
  const fresh: ContainerMemory = { record, spaceOf: new Map(), areas: [], freeSlots: [], nextSpaceId: 1 };
  state.containers.set(record.cid, fresh);
  return fresh;
}

// ------------------------------------------------------------------------------------ helpers

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}

function isGranulePa(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value < 2 ** 52 && value % GRANULE === 0;
}

/** Output address of a descriptor (bits [51:12]). */
function outputAddress(low: number, high: number): number {
  return (high & 0xfffff) * TWO32 + ((low & 0xfffff000) >>> 0);
}

function kindAt(low: number, level: number): Desc {
  if ((low & 1) === 0) return Desc.Invalid;
  if (level < 3 && (low & 2) !== 0) return Desc.Table;
  // Block at level 0 (4 KB granule, DS = 0) and a level-3 entry with bits 01 are reserved.
  if (level === 0 || (level === 3 && (low & 2) === 0)) return Desc.Reserved;
  return Desc.Leaf;
}

/** AP[2] = 0: writable at some EL. */
function leafWritable(low: number): boolean {
  return ((low >>> 7) & 1) === 0;
}

/** AP[1] = 1: accessible at EL0. */
function leafEl0(low: number): boolean {
  return ((low >>> 6) & 1) === 1;
}

function leafPxn(high: number): boolean {
  return ((high >>> 21) & 1) === 1;
}

function leafUxn(high: number): boolean {
  return ((high >>> 22) & 1) === 1;
}

function tableIndex(vaBits: number, level: number): number {
  return Math.floor(vaBits / SPAN[level]!) % 512;
}

function inRange(pa: number, range: Range): boolean {
  return pa >= range.base && pa < range.base + range.size;
}

function overlaps(base: number, size: number, range: Range): boolean {
  return base < range.base + range.size && range.base < base + size;
}

/** Index of the VMA containing `va`, or -1 (binary search over the sorted list). */
function vmaIndexAt(vmas: readonly Vma[], va: number): number {
  let low = 0;
  let high = vmas.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const vma = vmas[middle]!;
    if (va < vma.start) high = middle - 1;
    else if (va >= vma.end) low = middle + 1;
    else return middle;
  }
  return -1;
}

/** Position where a VMA starting at `start` goes in the sorted list. */
function vmaInsertionPoint(vmas: readonly Vma[], start: number): number {
  let low = 0;
  let high = vmas.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (vmas[middle]!.start < start) low = middle + 1;
    else high = middle;
  }
  return low;
}

// ------------------------------------------------------------------------------------ record area

function slotPa(minios: MiniOs, memory: ContainerMemory, slot: number): number {
  const granule = memory.areas[Math.floor(slot / SLOTS_PER_GRANULE)];
  assert(granule !== undefined, 'memory record slot inside the record area');
  return minios.ownership.paOf(granule) + (slot % SLOTS_PER_GRANULE) * SLOT_BYTES;
}

/**
 * Make `count` slots free, growing the record area with scrubbed MINI granules given to SHIM(c).
 * All or nothing: on failure the granules added here go back to the heap.
 */
function reserveSlots({ minios, pe, port }: CallContext, memory: ContainerMemory, count: number): boolean {
  const record = memory.record;
  const own = minios.ownership;
  const added: number[] = [];
  const undo = (): void => {
    for (const index of added.reverse()) {
      memory.areas.pop();
      const first = memory.areas.length * SLOTS_PER_GRANULE;
      for (let i = memory.freeSlots.length - 1; i >= 0; i--) {
        if (memory.freeSlots[i]! >= first) memory.freeSlots.splice(i, 1);
      }
      record.shim.splice(record.shim.lastIndexOf(index), 1);
      minios.transfer(pe, [index], Owner.Mini, 0);
      minios.heap.freeBlock(own.paOf(index), GRANULE);
    }
  };
  while (memory.freeSlots.length < count) {
    const pa =
      memory.areas.length < MAX_RECORD_GRANULES && ownedGranuleCount(record) < minios.params.containerQuota
        ? minios.heap.allocate(GRANULE)
        : undefined;
    if (pa === undefined) {
      undo();
      return false;
    }
    const index = own.indexOf(pa);
    minios.scrub(port, index);
    if (!minios.transfer(pe, [index], Owner.Shim, record.cid)) {
      minios.heap.freeBlock(pa, GRANULE);
      undo();
      return false;
    }
    added.push(index);
    record.shim.push(index);
    memory.areas.push(index);
    const first = (memory.areas.length - 1) * SLOTS_PER_GRANULE;
    // Push in reverse so that the lowest slot is taken first.
    for (let slot = first + SLOTS_PER_GRANULE - 1; slot >= first; slot--) memory.freeSlots.push(slot);
  }
  return true;
}

function takeSlot(memory: ContainerMemory): number {
  const slot = memory.freeSlots.pop();
  assert(slot !== undefined, 'a memory record slot was reserved');
  return slot;
}

function freeSlot(minios: MiniOs, port: LinearMapPort, memory: ContainerMemory, slot: number): void {
  port.fill(slotPa(minios, memory, slot), SLOT_BYTES, 0);
  memory.freeSlots.push(slot);
}

function write64(port: LinearMapPort, pa: number, value: number): void {
  const high = Math.floor(value / TWO32);
  port.write64(pa, (value - high * TWO32) >>> 0, high >>> 0);
}

function writeSpaceSlot(
  minios: MiniOs,
  port: LinearMapPort,
  memory: ContainerMemory,
  space: AddressSpace,
): void {
  const at = slotPa(minios, memory, space.slot);
  port.write32(at, SlotKind.Space);
  port.write32(at + 4, space.asid);
  write64(port, at + 8, space.root);
  port.write32(at + 16, space.id);
  port.write32(at + 20, space.tasks.size);
}

function writeVmaSlot(
  minios: MiniOs,
  port: LinearMapPort,
  memory: ContainerMemory,
  space: AddressSpace,
  vma: Vma,
): void {
  const at = slotPa(minios, memory, vma.slot);
  port.write32(at, SlotKind.Vma);
  port.write32(at + 4, space.id);
  write64(port, at + 8, vma.start);
  write64(port, at + 16, vma.end);
  port.write32(at + 24, vma.prot);
}

// ------------------------------------------------------------------------------------ address spaces

function asidsLeft(pool: AsidPool): boolean {
  return pool.used.size < pool.count;
}

function allocateAsid(pool: AsidPool): number {
  assert(asidsLeft(pool), 'a free ASID was checked for');
  const end = pool.base + pool.count;
  for (;;) {
    const asid = pool.next;
    pool.next = asid + 1 === end ? pool.base : asid + 1;
    if (!pool.used.has(asid)) {
      pool.used.add(asid);
      return asid;
    }
  }
}

/**
 * Check that `root` can become the root table of a new address space of container `cid`: a PT(cid)
 * page, linked nowhere, that no kernel leaf maps writable. Returns its granule index or an error.
 */
function checkRoot(state: MemoryState, cid: number, root: number): number {
  if (!isGranulePa(root)) return RcError.EINVAL;
  const own = state.minios.ownership;
  const index = own.indexOf(root);
  if (index < 0 || own.kindOf(index) !== Owner.Pt || own.containerOf(index) !== cid) return RcError.EPERM;
  if (state.tables.has(index) || state.kernelWritable[index]! > 0) return RcError.EPERM;
  return index;
}

/** Create an address space rooted at `root` (validated), with copies of `inherit`. */
function createSpace(
  context: CallContext,
  state: MemoryState,
  memory: ContainerMemory,
  root: number,
  inherit: readonly Vma[],
): AddressSpace {
  const { minios, port } = context;
  const index = minios.ownership.indexOf(root);
  minios.scrub(port, index);
  const space: AddressSpace = {
    kind: 'container',
    id: memory.nextSpaceId++,
    root,
    asid: allocateAsid(state.asids),
    tasks: new Set(),
    vmas: [],
    slot: takeSlot(memory),
  };
  state.tables.set(index, { space: memory.record.cid, owner: space, level: 0 });
  writeSpaceSlot(minios, port, memory, space);
  for (const vma of inherit) {
    const copy: Vma = { start: vma.start, end: vma.end, prot: vma.prot, leaves: 0, slot: takeSlot(memory) };
    space.vmas.push(copy);
    writeVmaSlot(minios, port, memory, space, copy);
  }
  return space;
}

function attach(context: CallContext, memory: ContainerMemory, space: AddressSpace, tid: number): void {
  space.tasks.add(tid);
  memory.spaceOf.set(tid, space);
  writeSpaceSlot(context.minios, context.port, memory, space);
}

/** Take task `tid` out of its address space; the last task out tears the space down. */
function detach(context: CallContext, state: MemoryState, memory: ContainerMemory, tid: number): void {
  const space = memory.spaceOf.get(tid);
  if (space === undefined) return;
  memory.spaceOf.delete(tid);
  space.tasks.delete(tid);
  if (space.tasks.size > 0) {
    writeSpaceSlot(context.minios, context.port, memory, space);
    return;
  }
  const { minios, pe, port } = context;
  // Out of TTBR0_EL1 first, then the tables, then the ASID: the callers refused (EBUSY) a space
  // another PE holds, and the calling PE drops it here.
  for (const [peId, loaded] of state.containerLoaded) {
    if (loaded !== space) continue;
    assert(peId === pe.id, 'a space loaded on another PE is not torn down');
    unloadTtbr0(context, state);
  }
  const tree: Tree = { space: memory.record.cid, owner: space, root: space.root, record: memory.record };
  releaseTable(context, state, tree, space.root, 0);
  // No entry tagged with the ASID may outlive the space (the ASID is reused).
  pe.tlbi('ASIDE1IS', space.asid); // broadcast: the address space may have run on any PE
  state.asids.used.delete(space.asid);
  for (const vma of space.vmas) freeSlot(minios, port, memory, vma.slot);
  freeSlot(minios, port, memory, space.slot);
}

/**
 * Tear down the table at `pa` (level `level`) of a dying address space: drop what every leaf
 * contributes to the reverse maps, then scrub the table itself. For a container, CTR(cid) granules
 * no other leaf maps (the space's private memory) are scrubbed and the tables stay in the
 * container's PT pool; the tables of a host space go back to the OS.
 */
function releaseTable(context: CallContext, state: MemoryState, tree: Tree, pa: number, level: number): void {
  const { minios, port } = context;
  const own = minios.ownership;
  const bytes = port.readBytes(pa, GRANULE);
  assert(bytes !== undefined, 'the mini-OS can read a page-table page');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < 512; i++) {
    const low = view.getUint32(8 * i, true);
    const high = view.getUint32(8 * i + 4, true);
    const kind = kindAt(low, level);
    if (kind === Desc.Table) {
      const child = outputAddress(low, high);
      assert(
        state.tables.get(own.indexOf(child))?.owner === tree.owner,
        'a linked table belongs to its address space',
      );
      releaseTable(context, state, tree, child, level + 1);
    } else if (kind === Desc.Leaf) {
      countLeaf(state, tree, undefined, low, high, level, -1);
      if (tree.owner?.kind !== 'container') continue;
      forEachGranule(own, outputAddress(low, high), SPAN[level]!, (index) => {
        if (index < 0) return;
        if (
          state.userMapped[index] === 0 &&
          own.kindOf(index) === Owner.Ctr &&
          own.containerOf(index) === tree.space
        )
          minios.scrub(port, index);
      });
    }
  }
  const index = own.indexOf(pa);
  minios.scrub(port, index);
  state.tables.delete(index);
  if (tree.space === PteSpace.Kernel) returnOsTable(context, state, index);
}

function forEachGranule(
  own: OwnershipTable,
  base: number,
  size: number,
  visit: (index: number) => void,
): void {
  for (let pa = base; pa < base + size; pa += GRANULE) visit(own.indexOf(pa));
}

// ------------------------------------------------------------------------------------ task calls

/**
 * The address-space part of rc_task_clone(cid, parent, root, flags): validate; return an error, or
 * the step that attaches the new task once the caller has created it (it cannot fail).
 */
export function prepareCloneSpace(
  context: CallContext,
  record: ContainerRecord,
  parent: number,
  root: number,
  flags: number,
): RcError | ((tid: number) => void) {
  if (flags !== 0 && flags !== CloneFlag.Vm) return RcError.EINVAL;
  if (!Number.isSafeInteger(root)) return RcError.EINVAL;
  const state = stateOf(context.minios, context.port);
  const memory = containerMemory(state, record);
  const parentSpace = parent === 0 ? undefined : memory.spaceOf.get(parent);
  if (flags === CloneFlag.Vm) {
    if (root !== 0 || parentSpace === undefined) return RcError.EINVAL;
    return (tid) => attach(context, memory, parentSpace, tid);
  }
  if (root === 0) return () => undefined;
  const checked = checkRoot(state, record.cid, root);
  if (checked < 0) return checked as RcError;
  if (!asidsLeft(state.asids)) return RcError.ENOMEM;
  const inherit = parentSpace?.vmas ?? [];
  if (!reserveSlots(context, memory, 1 + inherit.length)) return RcError.ENOMEM;
  return (tid) => attach(context, memory, createSpace(context, state, memory, root, inherit), tid);
}

/**
 * The address-space part of rc_task_exec(cid, tid, digestPa, entryPc, root): validate `root`;
 * return an error or the step that drops the task's old address space and attaches the new one.
 */
export function prepareExecSpace(
  context: CallContext,
  record: ContainerRecord,
  tid: number,
  root: number,
): RcError | (() => void) {
  if (!Number.isSafeInteger(root)) return RcError.EINVAL;
  const state = stateOf(context.minios, context.port);
  const memory = containerMemory(state, record);
  if (spaceBusyElsewhere(context, record, tid)) return RcError.EBUSY;
  if (root === 0) return () => detach(context, state, memory, tid);
  const checked = checkRoot(state, record.cid, root);
  if (checked < 0) return checked as RcError;
  if (!asidsLeft(state.asids)) return RcError.ENOMEM;
  if (!reserveSlots(context, memory, 1)) return RcError.ENOMEM;
  return () => {
    detach(context, state, memory, tid);
    attach(context, memory, createSpace(context, state, memory, root, []), tid);
  };
}

/**
 * True when task `tid` is the last task of an address space that the TTBR0_EL1 of a PE other than
 * the calling one holds: taking the task out would tear down a tree that PE can still walk (and
 * free an ASID it can still tag TLB entries with), and the mini-OS cannot write another PE's
 * TTBR0_EL1. rc_task_exec and rc_task_exit then refuse with EBUSY.
 */
export function spaceBusyElsewhere(context: CallContext, record: ContainerRecord, tid: number): boolean {
  const state = states.get(context.minios);
  const memory = state?.containers.get(record.cid);
  if (state === undefined || memory?.record !== record) return false;
  const space = memory.spaceOf.get(tid);
  if (space === undefined || space.tasks.size > 1) return false;
  for (const [peId, loaded] of state.containerLoaded)
    if (loaded === space && peId !== context.pe.id) return true;
  return false;
}

/** rc_task_exit's address-space part: the task leaves its address space (scrubbing as it dies). */
export function releaseTaskSpace(context: CallContext, record: ContainerRecord, tid: number): void {
  const state = stateOf(context.minios, context.port);
  detach(context, state, containerMemory(state, record), tid);
}

/** Address-space id of task `tid` (0: none), for its task slot in SHIM. */
export function taskSpaceId(minios: MiniOs, record: ContainerRecord, tid: number): number {
  const memory = states.get(minios)?.containers.get(record.cid);
  return memory?.record === record ? (memory.spaceOf.get(tid)?.id ?? 0) : 0;
}

/** Byte offset of the address-space id in a task slot (see the header). */
export const TASK_SLOT_SPACE_ID_OFFSET = TASK_SLOT_SPACE_ID;

/**
 * The TTBR0 tree of task `tid` of container `cid`: root PA and ASID, for the mini-OS to program
 * TTBR0_EL1 when it switches to the task; undefined when the task has no address space.
 */
export function taskAddressSpace(
  minios: MiniOs,
  cid: number,
  tid: number,
): { root: number; asid: number } | undefined {
  const memory = states.get(minios)?.containers.get(cid);
  if (memory === undefined || memory.record !== minios.containers.get(cid)) return undefined;
  const space = memory.spaceOf.get(tid);
  return space === undefined ? undefined : { root: space.root, asid: space.asid };
}

/**
 * Load TTBR0_EL1 of the calling PE with the address space of task `tid` of container `cid` (root
 * and ASID), for rc_switch_to_depriv; false (nothing changed) when the task has none.
 */
export function loadTaskSpace(context: CallContext, cid: number, tid: number): boolean {
  const state = stateOf(context.minios, context.port);
  const memory = state.containers.get(cid);
  if (memory === undefined || memory.record !== context.minios.containers.get(cid)) return false;
  const space = memory.spaceOf.get(tid);
  if (space === undefined) return false;
  loadTtbr0(context, space);
  state.hostLoaded.delete(context.pe.id);
  state.containerLoaded.set(context.pe.id, space);
  return true;
}

/**
 * The calling PE leaves its container task for the OS context (rc_switch_to_miniOS reason 1): no
 * container tree may stay in its TTBR0_EL1 under the OS-GPT, so it gets the reserved value 0.
 * Nothing to do when it holds no container space.
 */
export function unloadTaskSpace(context: CallContext): void {
  const state = states.get(context.minios);
  if (state !== undefined && state.containerLoaded.has(context.pe.id)) unloadTtbr0(context, state);
}

function loadTtbr0({ pe }: CallContext, space: { root: number; asid: number }): void {
  pe.msr('TTBR0_EL1', space.root % TWO32, (Math.floor(space.root / TWO32) | (space.asid << 16)) >>> 0);
}

/**
 * TTBR0_EL1 of the calling PE = 0: TTBR0_EL1.BADDR = 0 and TTBR0_EL1.ASID = 0 (TCR_EL1.A1 = 0,
 * AS = 1: the current ASID comes from TTBR0_EL1; spec/cca-hardware.md §7.1). The mini-OS never
 * gives ASID 0 to an address space (HOST_ASIDS and CONTAINER_ASIDS exclude it) and every leaf
 * it admits under TTBR0 is non-global (nG = 1), so no TLB entry an address space cached can match
 * on this PE (ARM DDI 0487, TLB matching: a non-global entry is used only while its ASID is the
 * current ASID), and the dead tree can no longer be walked from here to refill one.
 * SIMPLIFICATION: a real mini-OS would point TTBR0_EL1 at a reserved all-zero table (as Linux's
 * cpu_set_reserved_ttbr0 does with reserved_pg_dir) or set TCR_EL1.EPD0 = 1 (a TTBR0 TLB miss
 * is then a Translation fault without a walk), since the TTBR0_EL1 reset value is UNKNOWN and
 * PA 0 may be memory. Here 0 is the reset value every PE starts with, and PA 0 is never memory
 * the kernel can write: either no memory at all, or the EL3 Root region that firmware/layout.ts
 * puts at the base of the first DRAM bank; a walk from it faults in every view.
 */
function unloadTtbr0({ pe }: CallContext, state: MemoryState): void {
  pe.msr('TTBR0_EL1', 0, 0);
  state.hostLoaded.delete(pe.id);
  state.containerLoaded.delete(pe.id);
}

/**
 * Number of leaves that pin the granule at `pa` to the OS: kernel leaves that let EL1 write it,
 * host leaves that map it. It must not become container memory or a table while > 0.
 */
export function osMappings(minios: MiniOs, pa: number): number {
  const index = minios.ownership.indexOf(pa);
  const state = states.get(minios);
  return index < 0 || state === undefined ? 0 : state.kernelWritable[index]! + state.hostMapped[index]!;
}

/** Number of kernel leaves that let EL1 write the granule at `pa` (for ownership changes elsewhere). */
export function kernelWritableMappings(minios: MiniOs, pa: number): number {
  const index = minios.ownership.indexOf(pa);
  return index < 0 ? 0 : (states.get(minios)?.kernelWritable[index] ?? 0);
}

/** Number of container leaves that map the granule at `pa` (it must not change owner while > 0). */
export function containerMappings(minios: MiniOs, pa: number): number {
  const index = minios.ownership.indexOf(pa);
  return index < 0 ? 0 : (states.get(minios)?.userMapped[index] ?? 0);
}

// ------------------------------------------------------------------------------------ rc_set_vma

/** rc_set_vma(cid, tid, start, end, prot). */
function setVma(context: CallContext, args: readonly number[]): CallOutcome {
  const [cid = 0, tid = 0, start = 0, end = 0, prot = 0] = args;
  const { minios, port } = context;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start % GRANULE !== 0 ||
    end % GRANULE !== 0
  ) {
    return refuse(RcError.EINVAL);
  }
  if (start >= end || start < 0 || end > USER_VA_LIMIT) return refuse(RcError.EINVAL);
  const remove = prot === VmaFlag.Remove;
  if (!remove && (!Number.isInteger(prot) || prot < 0 || prot > PROT_ALL)) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined || !record.bound || !record.tasks.has(tid)) return refuse(RcError.ENOENT);
  const state = stateOf(minios, port);
  const memory = containerMemory(state, record);
  const space = memory.spaceOf.get(tid);
  if (space === undefined) return refuse(RcError.ENOENT);
  const vmas = space.vmas;
  if (remove) {
    const at = vmaIndexAt(vmas, start);
    const vma = vmas[at];
    if (vma === undefined || vma.start !== start || vma.end !== end) return refuse(RcError.ENOENT);
    if (vma.leaves > 0) return refuse(RcError.EBUSY);
    vmas.splice(at, 1);
    freeSlot(minios, port, memory, vma.slot);
    return { result: 0 };
  }
  if ((prot & VmaProt.Write) !== 0 && (prot & VmaProt.Exec) !== 0) return refuse(RcError.EPERM);
  if (start < VMA_MIN_ADDRESS) return refuse(RcError.EPERM);
  const at = vmaInsertionPoint(vmas, start);
  const before = vmas[at - 1];
  const after = vmas[at];
  if ((before !== undefined && before.end > start) || (after !== undefined && after.start < end))
    return refuse(RcError.EBUSY);
  if (vmas.length >= MAX_VMAS_PER_SPACE) return refuse(RcError.ENOMEM);
  if (!reserveSlots(context, memory, 1)) return refuse(RcError.ENOMEM);
  const vma: Vma = { start, end, prot, leaves: 0, slot: takeSlot(memory) };
  vmas.splice(at, 0, vma);
  writeVmaSlot(minios, port, memory, space, vma);
  return { result: 0 };
}

// ------------------------------------------------------------------------------------ rc_set_pte

/** The tree an rc_set_pte writes into. */
interface Tree {
  /** 0 for the OS's trees (the kernel's, a host process's), else the container id. */
  readonly space: number;
  /** undefined for the kernel's tree. */
  readonly owner: SpaceOwner | undefined;
  readonly root: number;
  /** The record of the container (undefined for the kernel). */
  readonly record: ContainerRecord | undefined;
}

/**
 * PA of the descriptor for `vaBits` at `level`, walking the tables the mini-OS linked (read from
 * memory and checked against the index), or an error.
 */
function locate(state: MemoryState, port: LinearMapPort, tree: Tree, vaBits: number, level: number): number {
  const own = state.minios.ownership;
  let table = tree.root;
  for (let l = 0; l < level; l++) {
    const at = table + 8 * tableIndex(vaBits, l);
    const low = port.read32(at);
    const high = port.read32(at + 4);
    if (kindAt(low, l) !== Desc.Table) return RcError.EINVAL;
    const next = outputAddress(low, high);
    const page = state.tables.get(own.indexOf(next));
    // A table the mini-OS did not link (its own linear map, or a stray descriptor) is never entered.
    if (
      page === undefined ||
      page.space !== tree.space ||
      page.owner !== tree.owner ||
      page.level !== l + 1
    ) {
      return RcError.EPERM;
    }
    table = next;
  }
  return table + 8 * tableIndex(vaBits, level);
}

/** Validate a kernel leaf (TTBR1). */
function checkKernelLeaf(state: MemoryState, low: number, high: number, level: number): RcError | 0 {
  const image = state.kernelImage;
  const minios = state.minios;
  const own = minios.ownership;
  if (image === undefined) return RcError.EPERM;
  // EL1 only (no EL0 access to kernel memory), never executable at EL0.
  if (leafEl0(low) || !leafUxn(high)) return RcError.EPERM;
  const writable = leafWritable(low);
  const executable = !leafPxn(high);
  const base = outputAddress(low, high);
  const size = SPAN[level]!;
  for (const fixed of minios.boot.fixedRanges) if (overlaps(base, size, fixed)) return RcError.EPERM;
  // Executable only inside the kernel image, which is never writable: no W^X bypass by aliasing.
  if (executable && (base < image.base || base + size > image.base + image.size)) return RcError.EPERM;
  for (let pa = base; pa < base + size; pa += GRANULE) {
    const index = own.indexOf(pa);
    if (index < 0) continue; // a device window
    const kind = own.kindOf(index);
    if (kind === Owner.Root) return RcError.EPERM;
    // Writable: OS memory outside the kernel image only (never PT, MINI, SHIM, CTR, shared memory).
    if (writable && (kind !== Owner.Os || inRange(pa, image))) return RcError.EPERM;
  }
  return 0;
}

/**
 * Validate a host leaf (TTBR0 of a host process): EL0-accessible, non-global, PXN, and only over
 * OS memory outside the kernel image (never a table, the trampoline, MINI, SHIM, CTR, PT, Shared,
 * Root, a fixed range or a device window). W^X is checked by the caller.
 */
function checkHostLeaf(state: MemoryState, low: number, high: number, level: number): RcError | 0 {
  const image = state.kernelImage;
  const minios = state.minios;
  const own = minios.ownership;
  if (image === undefined) return RcError.EPERM;
  if (!leafEl0(low) || (low & 0x800) === 0 || !leafPxn(high)) return RcError.EPERM;
  const base = outputAddress(low, high);
  const size = SPAN[level]!;
  for (const fixed of minios.boot.fixedRanges) if (overlaps(base, size, fixed)) return RcError.EPERM;
  if (overlaps(base, size, image)) return RcError.EPERM;
  for (let pa = base; pa < base + size; pa += GRANULE) {
    const index = own.indexOf(pa);
    if (index < 0 || own.kindOf(index) !== Owner.Os) return RcError.EPERM;
  }
  return 0;
}

/** Validate a container leaf (TTBR0 of `tree.owner`); returns the VMA it lies in or an error. */
function checkUserLeaf(
  state: MemoryState,
  tree: Tree,
  owner: AddressSpace,
  va: number,
  low: number,
  high: number,
  level: number,
): RcError | Vma {
  const minios = state.minios;
  const own = minios.ownership;
  const cid = tree.space;
  // User memory: EL0-accessible, tagged with the ASID, never executable at EL1.
  if (!leafEl0(low) || (low & 0x800) === 0 || !leafPxn(high)) return RcError.EPERM;
  const size = SPAN[level]!;
  const vma = owner.vmas[vmaIndexAt(owner.vmas, va)];
  if (vma === undefined || va + size > vma.end) return RcError.EPERM;
  if ((vma.prot & VmaProt.Read) === 0) return RcError.EPERM;
  if (leafWritable(low) && (vma.prot & VmaProt.Write) === 0) return RcError.EPERM;
  if (!leafUxn(high) && (vma.prot & VmaProt.Exec) === 0) return RcError.EPERM;
  const base = outputAddress(low, high);
  const executable = !leafUxn(high);
  for (let pa = base; pa < base + size; pa += GRANULE) {
    const index = own.indexOf(pa);
    if (index < 0) return RcError.EPERM; // device memory
    const kind = own.kindOf(index);
    const mine = kind === Owner.Ctr && own.containerOf(index) === cid;
    const shared =
      kind === Owner.Shared &&
      minios.views.gpiFor(cid, Owner.Shared, own.containerOf(index), index) === Gpi.NonSecure;
    if (!mine && !shared) return RcError.EPERM;
    // A page the kernel kept a writable mapping of (from before it was given to c) is never code.
    if (executable && state.kernelWritable[index]! > 0) return RcError.EPERM;
  }
  return vma;
}

/**
 * Validate the page a table descriptor links (or a host root). Returns its granule index, or an
 * error. For the OS's trees it is an OS page (to become PT(os)) or a spare PT(os) page.
 */
function checkTablePage(state: MemoryState, tree: Tree, pa: number): RcError | number {
  const own = state.minios.ownership;
  const index = own.indexOf(pa);
  if (index < 0 || state.tables.has(index) || state.kernelWritable[index]! > 0) return RcError.EPERM;
  // A page a host process maps stays OS memory (no EL0 view of a table).
  if (state.hostMapped[index]! > 0) return RcError.EPERM;
  const kind = own.kindOf(index);
  if (tree.space === PteSpace.Kernel) {
    const image = state.kernelImage;
    if (image === undefined || inRange(pa, image)) return RcError.EPERM;
    // Other PT(os) pages are the kernel root, the trampoline's tables and the SMMU's I/O tables:
    // never part of a tree the kernel edits.
    if (kind !== Owner.Os && !(kind === Owner.PtOs && state.spareOsTables.has(index))) return RcError.EPERM;
    if (isIoTableGranule(state.minios, index)) return RcError.EPERM;
    return index;
  }
  if (kind !== Owner.Pt || own.containerOf(index) !== tree.space) return RcError.EPERM;
  return index;
}

/** True when no entry of the table at `pa` is valid. */
function tableEmpty(port: LinearMapPort, pa: number): boolean {
  const bytes = port.readBytes(pa, GRANULE);
  assert(bytes !== undefined, 'the mini-OS can read a page-table page');
  for (let i = 0; i < GRANULE; i += 8) if ((bytes[i]! & 1) !== 0) return false;
  return true;
}

/** Add (+1) or remove (-1) what a leaf contributes to the reverse maps and its VMA. */
function countLeaf(
  state: MemoryState,
  tree: Tree,
  vma: Vma | undefined,
  low: number,
  high: number,
  level: number,
  delta: 1 | -1,
): void {
  const own = state.minios.ownership;
  if (vma !== undefined) vma.leaves += delta;
  const counts: Uint32Array[] = [];
  if (tree.owner?.kind === 'container') counts.push(state.userMapped);
  else {
    // Kernel and host leaves: what the kernel can write, and what host processes map.
    if (leafWritable(low)) counts.push(state.kernelWritable);
    if (tree.owner?.kind === 'host') counts.push(state.hostMapped);
  }
  forEachGranule(own, outputAddress(low, high), SPAN[level]!, (index) => {
    if (index >= 0) for (const c of counts) c[index] = c[index]! + delta;
  });
}

function invalidateVa(context: CallContext, tree: Tree, va: number): void {
  // Broadcast: the mapping may be cached on every PE, not only the one running the mini-OS.
  if (tree.owner === undefined) context.pe.tlbi('VAAE1IS', va);
  else context.pe.tlbi('VAE1IS', va, tree.owner.asid);
}

/** rc_set_pte(space, tid, va, pteLow, pteHigh, level). */
function setPte(context: CallContext, args: readonly number[]): CallOutcome {
  const [spaceArg = 0, tid = 0, va = 0, low = 0, high = 0, level = 0] = args;
  const { minios, port } = context;
  if (!Number.isInteger(level) || level < 0 || level > 3 || !isU32(low) || !isU32(high))
    return refuse(RcError.EINVAL);
  if (!Number.isSafeInteger(va)) return refuse(RcError.EINVAL);
  const state = stateOf(minios, port);
  let tree: Tree;
  let vaBits: number;
  if (spaceArg === PteSpace.Kernel && tid === 0) {
    if (va < -TWO48 || va >= 0) return refuse(RcError.EINVAL);
    vaBits = va + TWO48;
    // The mini-OS's own region (its linear map and every table below it) is never the kernel's.
    if (tableIndex(vaBits, 0) === state.miniL0Index || tableIndex(vaBits, 0) === minios.windowL0Index) {
      return refuse(RcError.EPERM);
    }
    tree = { space: PteSpace.Kernel, owner: undefined, root: minios.kernelRoot, record: undefined };
  } else if (spaceArg === PteSpace.Kernel) {
    // A host process's TTBR0 tree: `tid` is the host space id.
    if (!Number.isSafeInteger(tid) || tid < 0 || va < 0 || va >= USER_VA_LIMIT) return refuse(RcError.EINVAL);
    vaBits = va;
    const owner = state.hostSpaces.get(tid);
    if (owner === undefined) return refuse(RcError.ENOENT);
    tree = { space: PteSpace.Kernel, owner, root: owner.root, record: undefined };
  } else {
    if (!isCid(spaceArg)) return refuse(RcError.EINVAL);
    if (va < 0 || va >= USER_VA_LIMIT) return refuse(RcError.EINVAL);
    vaBits = va;
    const record = minios.containers.get(spaceArg);
    if (record === undefined || !record.bound || !record.tasks.has(tid)) return refuse(RcError.ENOENT);
    const owner = containerMemory(state, record).spaceOf.get(tid);
    if (owner === undefined) return refuse(RcError.ENOENT);
    tree = { space: spaceArg, owner, root: owner.root, record };
  }
  const span = SPAN[level]!;
  if (vaBits % span !== 0) return refuse(RcError.EINVAL);
  const at = locate(state, port, tree, vaBits, level);
  if (at < 0) return refuse(at as RcError);
  const own = minios.ownership;

  // The new descriptor, validated before anything changes.
  const newKind = kindAt(low, level);
  if (newKind === Desc.Reserved) return refuse(RcError.EINVAL);
  let newVma: Vma | undefined;
  let linkIndex = -1;
  if (newKind === Desc.Table) {
    // Bits [11:2] and [58:48] are ignored by the walk: they must be zero (no hidden payloads).
    if ((low & 0xffc) !== 0 || (high & 0x07ff_0000) !== 0) return refuse(RcError.EINVAL);
  } else if (newKind === Desc.Leaf) {
    // Bits [52:48] are refused: OA[51:48] (48-bit OA; the walk reads them as address bits), GP,
    // DBM (no hardware dirty state) and Contiguous (a TLB may then merge 16 entries).
    if ((high & 0x001f_0000) !== 0) return refuse(RcError.EINVAL);
    if (outputAddress(low, high) % span !== 0) return refuse(RcError.EINVAL);
    // W^X: writable at some EL and executable at some EL.
    if (leafWritable(low) && (!leafUxn(high) || !leafPxn(high))) return refuse(RcError.EPERM);
    if (tree.owner === undefined || tree.owner.kind === 'host') {
      const checked =
        tree.owner === undefined
          ? checkKernelLeaf(state, low, high, level)
          : checkHostLeaf(state, low, high, level);
      if (checked !== 0) return refuse(checked);
    } else {
      const checked = checkUserLeaf(state, tree, tree.owner, va, low, high, level);
      if (typeof checked === 'number') return refuse(checked);
      newVma = checked;
    }
  }

  // The old descriptor: a table is replaced only when it is empty and the mini-OS linked it.
  const oldLow = port.read32(at);
  const oldHigh = port.read32(at + 4);
  const oldKind = kindAt(oldLow, level);
  const oldTarget = outputAddress(oldLow, oldHigh);
  const sameTable =
    oldKind === Desc.Table && newKind === Desc.Table && outputAddress(low, high) === oldTarget;
  let unlinkIndex = -1;
  if (oldKind === Desc.Table && !sameTable) {
    unlinkIndex = own.indexOf(oldTarget);
    const page = state.tables.get(unlinkIndex);
    if (page === undefined || page.owner !== tree.owner || page.space !== tree.space)
      return refuse(RcError.EPERM);
    if (!tableEmpty(port, oldTarget)) return refuse(RcError.EBUSY);
  }
  if (newKind === Desc.Table && !sameTable) {
    const checked = checkTablePage(state, tree, outputAddress(low, high));
    if (checked < 0) return refuse(checked as RcError);
    linkIndex = checked;
    // A new table of the OS leaves the OS: PT(os), read-only to the kernel from now on.
    if (tree.space === PteSpace.Kernel && !takeOsTable(context, state, linkIndex))
      return refuse(RcError.ENOMEM);
  }

  // Commit. Break-before-make: a valid descriptor is invalidated (and its VA) before the new one.
  if (oldKind === Desc.Table || oldKind === Desc.Leaf) {
    port.write32(at, 0);
    port.write32(at + 4, 0);
    invalidateVa(context, tree, va);
  }
  if (oldKind === Desc.Leaf) {
    const oldVma =
      tree.owner?.kind === 'container' ? tree.owner.vmas[vmaIndexAt(tree.owner.vmas, va)] : undefined;
    countLeaf(state, tree, oldVma, oldLow, oldHigh, level, -1);
  }
  if (unlinkIndex >= 0) {
    minios.scrub(port, unlinkIndex);
    state.tables.delete(unlinkIndex);
    if (tree.space === PteSpace.Kernel) returnOsTable(context, state, unlinkIndex);
  }
  if (linkIndex >= 0) {
    minios.scrub(port, linkIndex);
    state.tables.set(linkIndex, { space: tree.space, owner: tree.owner, level: level + 1 });
  }
  if (newKind === Desc.Leaf) countLeaf(state, tree, newVma, low, high, level, 1);
  if (newKind === Desc.Invalid) {
    port.write32(at, low);
    port.write32(at + 4, high);
  } else {
    // Upper half first, valid bit last.
    port.write32(at + 4, high);
    port.write32(at, low);
  }
  return { result: 0 };
}

// ------------------------------------------------------------------------------------ rc_copy_page

/** rc_copy_page(cid, dst, src). */
function copyPage({ minios, port }: CallContext, args: readonly number[]): CallOutcome {
  // SIMPLIFICATION: the whole granule is copied (no offset/length).
  const [cid = 0, dst = 0, src = 0] = args;
  if (!isCid(cid)) return refuse(RcError.EINVAL);
  if (!isGranulePa(dst) || !isGranulePa(src) || dst === src) return refuse(RcError.EINVAL);
  const record = minios.containers.get(cid);
  if (record === undefined) return refuse(RcError.ENOENT);
  const own = minios.ownership;
  const to = own.indexOf(dst);
  const from = own.indexOf(src);
  if (to < 0 || own.kindOf(to) !== Owner.Ctr || own.containerOf(to) !== cid) return refuse(RcError.EPERM);
  if (from < 0) return refuse(RcError.EPERM);
  // Only into a page no leaf maps yet (a COW copy or a page-in): never behind the back of a live,
  // possibly read-only or executable, mapping of the container.
  if (stateOf(minios, port).userMapped[to]! > 0) return refuse(RcError.EBUSY);
  const kind = own.kindOf(from);
  const allowed =
    kind === Owner.Os ||
    (kind === Owner.Ctr && own.containerOf(from) === cid) ||
    // Kernel-given shim memory (the page cache), never the mini-OS's own records in SHIM(c).
    (kind === Owner.Shim && own.containerOf(from) === cid && record.shimFromOs.has(from)) ||
    (kind === Owner.Shared &&
      minios.views.gpiFor(cid, Owner.Shared, own.containerOf(from), from) === Gpi.NonSecure);
  if (!allowed) return refuse(RcError.EPERM);
  // One copy into the mini-OS, then out: the source is read once.
  const bytes = port.readBytes(src, GRANULE);
  if (bytes === undefined || !port.writeBytes(dst, bytes)) return refuse(RcError.EPERM);
  return { result: 0 };
}

// ------------------------------------------------------------------------------------ host address spaces

/** A new table of the OS's trees: an OS page becomes PT(os), or a spare PT(os) page is reused. */
function takeOsTable(context: CallContext, state: MemoryState, index: number): boolean {
  if (state.spareOsTables.delete(index)) return true;
  return context.minios.transfer(context.pe, [index], Owner.PtOs, 0);
}

/**
 * An unlinked (scrubbed) table of the OS's trees goes back to the OS. That never allocates (PT(os)
 * and OS look alike in every view); if it failed the page would stay a spare PT(os) page.
 */
function returnOsTable(context: CallContext, state: MemoryState, index: number): void {
  if (!context.minios.transfer(context.pe, [index], Owner.Os, 0)) state.spareOsTables.add(index);
}

function isHostSpaceId(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

/** rc_host_space_create(root) → id. */
function createHostSpace(context: CallContext, args: readonly number[]): CallOutcome {
  const [root = 0] = args;
  const { minios, port } = context;
  if (!isGranulePa(root)) return refuse(RcError.EINVAL);
  const state = stateOf(minios, port);
  const index = checkTablePage(
    state,
    { space: PteSpace.Kernel, owner: undefined, root, record: undefined },
    root,
  );
  if (index < 0) return refuse(index as RcError);
  if (!asidsLeft(state.hostAsids)) return refuse(RcError.ENOMEM);
  if (!takeOsTable(context, state, index)) return refuse(RcError.ENOMEM);
  minios.scrub(port, index);
  const space: HostSpace = {
    kind: 'host',
    id: state.nextHostId++,
    root,
    asid: allocateAsid(state.hostAsids),
  };
  state.tables.set(index, { space: PteSpace.Kernel, owner: space, level: 0 });
  state.hostSpaces.set(space.id, space);
  return { result: space.id };
}

/** rc_host_space_destroy(id). */
function destroyHostSpace(context: CallContext, args: readonly number[]): CallOutcome {
  const [id = 0] = args;
  const { minios, port, pe } = context;
  if (!isHostSpaceId(id)) return refuse(RcError.EINVAL);
  const state = stateOf(minios, port);
  const space = state.hostSpaces.get(id);
  if (space === undefined) return refuse(RcError.ENOENT);
  // A PE whose TTBR0_EL1 still holds it would walk pages that are the OS's again.
  for (const loaded of state.hostLoaded.values()) if (loaded === space) return refuse(RcError.EBUSY);
  releaseTable(
    context,
    state,
    { space: PteSpace.Kernel, owner: space, root: space.root, record: undefined },
    space.root,
    0,
  );
  // No entry tagged with the ASID may outlive the space (the ASID is reused); any PE may hold one.
  pe.tlbi('ASIDE1IS', space.asid);
  state.hostAsids.used.delete(space.asid);
  state.hostSpaces.delete(id);
  return { result: 0 };
}

/** rc_host_space_switch(id): TTBR0_EL1 of the calling PE = the host space. OS context only. */
function switchHostSpace(context: CallContext, args: readonly number[]): CallOutcome {
  const [id = 0] = args;
  const { minios, port, pe, callerView } = context;
  if (callerView !== minios.views.osL0) return refuse(RcError.EPERM);
  if (!isHostSpaceId(id)) return refuse(RcError.EINVAL);
  const state = stateOf(minios, port);
  const space = state.hostSpaces.get(id);
  if (space === undefined) return refuse(RcError.ENOENT);
  loadTtbr0(context, space);
  state.hostLoaded.set(pe.id, space);
  state.containerLoaded.delete(pe.id);
  return { result: 0 };
}

/** Root PA and ASID of host address space `id`, or undefined. */
export function hostAddressSpace(minios: MiniOs, id: number): { root: number; asid: number } | undefined {
  const space = states.get(minios)?.hostSpaces.get(id);
  return space === undefined ? undefined : { root: space.root, asid: space.asid };
}

// ------------------------------------------------------------------------------------ registry

/** Handlers by call number. */
export const MEMORY_CALLS: Readonly<Record<number, CallHandler>> = {
  [RcCall.SetVma]: setVma,
  [RcCall.SetPte]: setPte,
  [RcCall.CopyPage]: copyPage,
  [RcCall.HostSpaceCreate]: createHostSpace,
  [RcCall.HostSpaceDestroy]: destroyHostSpace,
  [RcCall.HostSpaceSwitch]: switchHostSpace,
};

/**
 * Forget what this module keeps about container `cid` of `minios` once its shim is gone (called
 * after the container left minios.containers).
 */
export function forgetMemory(minios: MiniOs, cid: number): void {
  const state = states.get(minios);
  const memory = state?.containers.get(cid);
  if (state === undefined || memory === undefined || minios.containers.get(cid) === memory.record) return;
  assert(memory.spaceOf.size === 0, 'a container without tasks has no address spaces');
  state.containers.delete(cid);
}
