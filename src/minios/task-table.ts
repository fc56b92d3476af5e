/**
 * The task table of a container in SHIM(c): for each live task a record slot (tid, parent, saved
 * PC/SPSR, address-space id, binary digest; containers.ts ShimRecord) and a context slot (the
 * saved x0..x30, PC, SPSR that the trampoline's restore stub reloads), for up to
 * MAX_TASKS_PER_CONTAINER tasks (abi.ts).
 *
 * Where they live:
 *  - record slots 0 .. RECORD_PAGE_TASK_SLOTS - 1 (60) in the record page, the rest in extra task
 *    pages (TASK_PAGE_SLOTS = 64 each, ContainerRecord.taskPages), which are not in the window;
 *  - contexts 0 .. FIXED_CONTEXTS - 1 (64) in the con-shim's context pages (ShimPage), the rest in
 *    extra context pages (CONTEXTS_PER_PAGE = 8 each, ContainerRecord.contextPages), page i mapped
 *    read-only and never executable at window slot SHIM_WINDOW_CONTEXT_SLOT + i, so that the
 *    restore stub reads every context the same way: through the window, under shim-GPT(c).
 * Extra pages come from the mini-OS heap when every slot of their kind is taken: scrubbed, MINI →
 * SHIM(c) (closed to the OS and to every other container), charged to the container's quota. They
 * stay with the container (a freed slot is zeroed and reused) until rc_destroy_shim scrubs them
 * and gives them back to the heap. A slot number never moves while its task lives, so exit and
 * save touch one slot only.
 */
import { assert } from '../hw/bits.js';
import {
  MAX_TASKS_PER_CONTAINER,
  Owner,
  RcError,
  SHIM_WINDOW_CONTEXT_PAGES,
  SHIM_WINDOW_CONTEXT_SLOT,
} from './abi.js';
import type { CallContext } from './calls.js';
import {
  CONTEXT_SLOT_BYTES,
  CONTEXTS_PER_PAGE,
  ownedGranuleCount,
  RECORD_PAGE_TASK_SLOTS,
  ShimPage,
  ShimRecord,
  TASK_PAGE_SLOTS,
  type ContainerRecord,
} from './containers.js';
import type { MiniOs } from './minios.js';
import { containerWindow } from './trampoline.js';

const GRANULE = 4096;
/** Contexts in the con-shim's own context pages. */
export const FIXED_CONTEXTS = ShimPage.contextPages * CONTEXTS_PER_PAGE;
/** Largest number of contexts of one container (the fixed ones and every extra page's). */
export const MAX_CONTEXTS = FIXED_CONTEXTS + SHIM_WINDOW_CONTEXT_PAGES * CONTEXTS_PER_PAGE;
/** Largest number of extra task pages: enough for MAX_TASKS_PER_CONTAINER records. */
export const MAX_TASK_PAGES = Math.ceil((MAX_TASKS_PER_CONTAINER - RECORD_PAGE_TASK_SLOTS) / TASK_PAGE_SLOTS);

/** Where a context slot is: its PA, and its window slot and offset there. */
export interface ContextLocation {
  readonly pa: number;
  readonly windowSlot: number;
  readonly offset: number;
}

/** Push `count` numbers from `first` on a free stack so that the lowest is on top. */
function pushFree(stack: number[], first: number, count: number): void {
  for (let n = first + count - 1; n >= first; n--) stack.push(n);
}

/** The free stacks of a new container: the record page's slots and the con-shim's contexts. */
export function initialFreeSlots(): { freeContexts: number[]; freeTaskSlots: number[] } {
  const freeContexts: number[] = [];
  const freeTaskSlots: number[] = [];
  pushFree(freeContexts, 0, FIXED_CONTEXTS);
  pushFree(freeTaskSlots, 0, RECORD_PAGE_TASK_SLOTS);
  return { freeContexts, freeTaskSlots };
}

/** PA of record slot `slot` of `record` (the page must be there). */
export function taskSlotPa(minios: MiniOs, record: ContainerRecord, slot: number): number {
  const own = minios.ownership;
  if (slot < RECORD_PAGE_TASK_SLOTS)
    return own.paOf(record.shim[0]!) + ShimRecord.tasks + slot * ShimRecord.taskSlotBytes;
  const extra = slot - RECORD_PAGE_TASK_SLOTS;
  const page = record.taskPages[Math.floor(extra / TASK_PAGE_SLOTS)];
  assert(page !== undefined, 'a task slot in use lies in a task page of its container');
  return own.paOf(page) + (extra % TASK_PAGE_SLOTS) * ShimRecord.taskSlotBytes;
}

/** Where context `context` of `record` is (the page must be there). */
export function contextLocation(minios: MiniOs, record: ContainerRecord, context: number): ContextLocation {
  const fixed = context < FIXED_CONTEXTS;
  const pageNumber = Math.floor((fixed ? context : context - FIXED_CONTEXTS) / CONTEXTS_PER_PAGE);
  const page = fixed ? record.shim[ShimPage.firstContext + pageNumber] : record.contextPages[pageNumber];
  assert(page !== undefined, 'a context in use lies in a context page of its container');
  const offset = (context % CONTEXTS_PER_PAGE) * CONTEXT_SLOT_BYTES;
  return {
    pa: minios.ownership.paOf(page) + offset,
    windowSlot: fixed ? ShimPage.firstContext + pageNumber : SHIM_WINDOW_CONTEXT_SLOT + pageNumber,
    offset,
  };
}

/** VA of context `context` of `record` in the container's window (what the restore stub reads). */
export function contextVa(minios: MiniOs, record: ContainerRecord, context: number): number {
  const { windowSlot, offset } = contextLocation(minios, record, context);
  return containerWindow(record.cid) + windowSlot * GRANULE + offset;
}

/**
 * A scrubbed granule of the mini-OS heap turned into SHIM(cid), charged to the container; undefined
 * (nothing changed) when the quota is reached, the heap is empty or the GPT views cannot change.
 */
export function takeHeapPage({ minios, pe, port }: CallContext, record: ContainerRecord): number | undefined {
  if (ownedGranuleCount(record) >= minios.params.containerQuota) return undefined;
  const pa = minios.heap.allocate(GRANULE);
  if (pa === undefined) return undefined;
  const index = minios.ownership.indexOf(pa);
  minios.scrub(port, index);
  if (!minios.transfer(pe, [index], Owner.Shim, record.cid)) {
    minios.heap.freeBlock(pa, GRANULE);
    return undefined;
  }
  return index;
}

/** Give a granule taken by takeHeapPage back to the heap (scrubbed, SHIM(cid) → MINI). */
export function returnHeapPage({ minios, pe, port }: CallContext, index: number): void {
  minios.scrub(port, index);
  // SHIM(c) → MINI only closes the granule in shim-GPT(c): no view needs a new table.
  assert(minios.transfer(pe, [index], Owner.Mini, 0), 'a SHIM granule can go back to MINI');
  minios.heap.freeBlock(minios.ownership.paOf(index), GRANULE);
}

/** One more task page (64 free record slots) and the step that undoes it; undefined if none. */
function addTaskPage(context: CallContext, record: ContainerRecord): (() => void) | undefined {
  if (record.taskPages.length >= MAX_TASK_PAGES) return undefined;
  const index = takeHeapPage(context, record);
  if (index === undefined) return undefined;
  const first = RECORD_PAGE_TASK_SLOTS + record.taskPages.length * TASK_PAGE_SLOTS;
  record.taskPages.push(index);
  pushFree(record.freeTaskSlots, first, TASK_PAGE_SLOTS);
  return () => {
    record.freeTaskSlots.splice(record.freeTaskSlots.length - TASK_PAGE_SLOTS, TASK_PAGE_SLOTS);
    record.taskPages.pop();
    returnHeapPage(context, index);
  };
}

/** One more context page (8 free contexts) mapped read-only in the window, and its undo step. */
function addContextPage(context: CallContext, record: ContainerRecord): (() => void) | undefined {
  const { minios, pe, port } = context;
  if (record.contextPages.length >= SHIM_WINDOW_CONTEXT_PAGES) return undefined;
  const index = takeHeapPage(context, record);
  if (index === undefined) return undefined;
  const windowTable = minios.ownership.paOf(record.shim[ShimPage.windowTable]!);
  const slot = SHIM_WINDOW_CONTEXT_SLOT + record.contextPages.length;
  const va = containerWindow(record.cid) + slot * GRANULE;
  const unmap = (): void => {
    port.write64(windowTable + 8 * slot, 0, 0);
    pe.tlbi('VAAE1IS', va);
  };
  if (!minios.trampoline.mapContextPage(port, windowTable, slot, minios.ownership.paOf(index))) {
    unmap();
    returnHeapPage(context, index);
    return undefined;
  }
  const first = FIXED_CONTEXTS + record.contextPages.length * CONTEXTS_PER_PAGE;
  record.contextPages.push(index);
  pushFree(record.freeContexts, first, CONTEXTS_PER_PAGE);
  return () => {
    record.freeContexts.splice(record.freeContexts.length - CONTEXTS_PER_PAGE, CONTEXTS_PER_PAGE);
    record.contextPages.pop();
    unmap();
    returnHeapPage(context, index);
  };
}

/**
 * Make sure one record slot and one context slot are free for a new task, adding a page of each
 * kind that has none left. Returns the step that undoes what it added (for a clone that fails
 * later), or ENOMEM with nothing changed.
 */
export function reserveTaskSlots(context: CallContext, record: ContainerRecord): RcError | (() => void) {
  if (record.tasks.size >= MAX_TASKS_PER_CONTAINER) return RcError.ENOMEM;
  const undo: (() => void)[] = [];
  const rollback = (): void => undo.reverse().forEach((step) => step());
  if (record.freeTaskSlots.length === 0) {
    const added = addTaskPage(context, record);
    if (added === undefined) return RcError.ENOMEM;
    undo.push(added);
  }
  if (record.freeContexts.length === 0) {
    const added = addContextPage(context, record);
    if (added === undefined) {
      rollback();
      return RcError.ENOMEM;
    }
    undo.push(added);
  }
  return rollback;
}

/** Take the reserved record slot and context (lowest free first). */
export function takeTaskSlots(record: ContainerRecord): { slot: number; context: number } {
  const slot = record.freeTaskSlots.pop();
  const context = record.freeContexts.pop();
  assert(slot !== undefined && context !== undefined, 'a record slot and a context were reserved');
  return { slot, context };
}

/** Free a task's record slot and context for reuse (the caller has zeroed both). */
export function releaseTaskSlots(record: ContainerRecord, slot: number, context: number): void {
  record.freeTaskSlots.push(slot);
  record.freeContexts.push(context);
}

/** Window slots of container `record` that map context pages (for TLB maintenance on unmap). */
export function contextWindowSlots(record: ContainerRecord): number[] {
  return record.contextPages.map((_, i) => SHIM_WINDOW_CONTEXT_SLOT + i);
}
