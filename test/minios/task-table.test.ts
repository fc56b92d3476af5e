// The task table of a container past the con-shim's own pages: 1024 tasks, contexts in extra
// SHIM(c) pages mapped read-only in the window (restored by the trampoline's stub), record slots
// in extra task pages, reuse after exit, ENOMEM at the limit, on an empty heap and at the quota,
// and every extra page back in the mini-OS heap, scrubbed, after rc_destroy_shim.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Access, MmuFault, TranslationResult } from '../../src/hw/mmu.js';
import {
  containerWindowVa,
  ExecPolicy,
  MallocKind,
  MAX_TASKS_PER_CONTAINER,
  Owner,
  PteSpace,
  RcCall,
  RcError,
  SHIM_WINDOW_CONTEXT_PAGES,
  SHIM_WINDOW_CONTEXT_SLOT,
  SHIM_WINDOW_KERNEL_SLOT,
  VmaProt,
} from '../../src/minios/abi.js';
import { taskAddressSpace } from '../../src/minios/calls-memory.js';
import {
  CONTEXTS_PER_PAGE,
  ownedGranuleCount,
  RECORD_PAGE_TASK_SLOTS,
  ShimPage,
  ShimRecord,
  TASK_PAGE_SLOTS,
  type ContainerRecord,
} from '../../src/minios/containers.js';
import { contextLocation, FIXED_CONTEXTS, MAX_CONTEXTS, taskSlotPa } from '../../src/minios/task-table.js';
import { bootTestPlatform, KERNEL_SCRATCH, openIn, OS_POOL, type TestPlatform } from './platform-helpers.js';
import { bindContainer, digest, kernelLeaf, linkTables, setPte, TWO48 } from './pte-helpers.js';

const SH = digest('/bin/sh');
const DIGEST_PA = KERNEL_SCRATCH + 0x2000;
const ENTRY = 0x40_0000;
/** Extra pages 1024 tasks need: contexts past the first 64, records past the first 60. */
const CONTEXT_PAGES_FOR_MAX = Math.ceil((MAX_TASKS_PER_CONTAINER - FIXED_CONTEXTS) / CONTEXTS_PER_PAGE);
const TASK_PAGES_FOR_MAX = Math.ceil((MAX_TASKS_PER_CONTAINER - RECORD_PAGE_TASK_SLOTS) / TASK_PAGE_SLOTS);

function bound(p: TestPlatform, cid: number): ContainerRecord {
  bindContainer(p, cid, ExecPolicy.MeasuredOnly, [SH]);
  p.machine.memory.writeBytes(DIGEST_PA, SH);
  return p.minios.containers.get(cid)!;
}

/** Clone until the container has `count` tasks (the first with parent 0, the others its children). */
function cloneUpTo(p: TestPlatform, cid: number, count: number): number[] {
  const record = p.minios.containers.get(cid)!;
  const tids: number[] = [];
  while (record.tasks.size < count) {
    const parent = record.tasks.size === 0 ? 0 : record.tasks.keys().next().value!;
    const tid = p.call(RcCall.TaskClone, cid, parent, 0, 0);
    expect(tid).toBeGreaterThan(0);
    tids.push(tid);
  }
  return tids;
}

const isZero = (p: TestPlatform, pa: number, length = 4096): boolean =>
  p.machine.memory.readBytes(pa, length)!.every((b) => b === 0);

/** The level-3 descriptor of window slot `slot` of container `record` (low half). */
function windowLeaf(p: TestPlatform, record: ContainerRecord, slot: number): number {
  return p.machine.memory.read32(p.minios.ownership.paOf(record.shim[ShimPage.windowTable]!) + 8 * slot);
}

const extraPages = (record: ContainerRecord): number[] => [...record.contextPages, ...record.taskPages];

describe('the window layout', () => {
  it('reserves slots for context pages between the con-shim and the kernel data', () => {
    expect(SHIM_WINDOW_CONTEXT_SLOT).toBe(ShimPage.mapped);
    expect(SHIM_WINDOW_KERNEL_SLOT).toBe(SHIM_WINDOW_CONTEXT_SLOT + SHIM_WINDOW_CONTEXT_PAGES);
    expect(MAX_CONTEXTS).toBeGreaterThanOrEqual(MAX_TASKS_PER_CONTAINER);
    expect(MAX_TASKS_PER_CONTAINER).toBeGreaterThanOrEqual(1024);
  });
});

describe('1024 tasks in one container', () => {
  it('keeps their records and contexts in SHIM(c), maps the extra context pages read-only, and refuses the 1025th', () => {
    const p = bootTestPlatform();
    const record = bound(p, 1);
    bound(p, 2);
    const tids = cloneUpTo(p, 1, MAX_TASKS_PER_CONTAINER);
    expect(record.tasks.size).toBe(MAX_TASKS_PER_CONTAINER);
    expect(record.contextPages).toHaveLength(CONTEXT_PAGES_FOR_MAX);
    expect(record.taskPages).toHaveLength(TASK_PAGES_FOR_MAX);
    // Every extra page is SHIM(1): open in shim-GPT(1) only.
    for (const index of extraPages(record)) {
      const pa = p.minios.ownership.paOf(index);
      expect(p.minios.ownership.kindOf(index)).toBe(Owner.Shim);
      expect(p.minios.ownership.containerOf(index)).toBe(1);
      expect(openIn(p, record.view, pa)).toBe(true);
      expect(openIn(p, p.minios.views.osL0, pa)).toBe(false);
      expect(openIn(p, p.minios.views.viewOf(2)!, pa)).toBe(false);
    }
    // Context page i is at window slot SHIM_WINDOW_CONTEXT_SLOT + i: a page descriptor, AP = 0b10
    // (EL1 read-only), PXN and UXN.
    record.contextPages.forEach((index, i) => {
      const table = p.minios.ownership.paOf(record.shim[ShimPage.windowTable]!);
      const low = windowLeaf(p, record, SHIM_WINDOW_CONTEXT_SLOT + i);
      const high = p.machine.memory.read32(table + 8 * (SHIM_WINDOW_CONTEXT_SLOT + i) + 4);
      expect(low & 0b11).toBe(0b11);
      expect((low >>> 6) & 0b11).toBe(0b10);
      expect((high >>> 21) & 0b11).toBe(0b11);
      expect((low & 0xffff_f000) >>> 0).toBe(p.minios.ownership.paOf(index) % 2 ** 32);
    });
    // Nothing is mapped past the last context page in the reserved range.
    expect(windowLeaf(p, record, SHIM_WINDOW_CONTEXT_SLOT + CONTEXT_PAGES_FOR_MAX) & 1).toBe(0);
    // Each task's record slot names it, in simulated memory; the record page counts them.
    const recordPage = p.minios.ownership.paOf(record.shim[0]!);
    expect(p.machine.memory.read32(recordPage + ShimRecord.taskCount)).toBe(MAX_TASKS_PER_CONTAINER);
    const seen = new Set<number>();
    for (const tid of tids) {
      const task = record.tasks.get(tid)!;
      expect(p.machine.memory.read32(taskSlotPa(p.minios, record, task.slot))).toBe(tid);
      expect(seen.has(task.context)).toBe(false);
      seen.add(task.context);
    }
    // The 1025th is refused, and nothing changes.
    const heap = p.minios.heap.available;
    expect(p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0)).toBe(RcError.ENOMEM);
    expect(record.tasks.size).toBe(MAX_TASKS_PER_CONTAINER);
    expect(p.minios.heap.available).toBe(heap);
    expect(extraPages(record)).toHaveLength(CONTEXT_PAGES_FOR_MAX + TASK_PAGES_FOR_MAX);
    // Another container is not affected.
    expect(p.call(RcCall.TaskClone, 2, 0, 0, 0)).toBeGreaterThan(0);
  });

  it('frees the record slot and context of an exited task for the next clone', () => {
    const p = bootTestPlatform();
    const record = bound(p, 1);
    const tids = cloneUpTo(p, 1, MAX_TASKS_PER_CONTAINER);
    // One task in the fixed pages, one whose record is in a task page and context in a context page.
    const early = record.tasks.get(tids[3]!)!;
    const late = record.tasks.get(tids[700]!)!;
    expect(early.context).toBeLessThan(FIXED_CONTEXTS);
    expect(late.context).toBeGreaterThanOrEqual(FIXED_CONTEXTS);
    expect(late.slot).toBeGreaterThanOrEqual(RECORD_PAGE_TASK_SLOTS);
    const heap = p.minios.heap.available;
    const pages = extraPages(record);
    for (const task of [early, late]) {
      expect(p.call(RcCall.TaskExit, 1, task.tid)).toBe(0);
      expect(isZero(p, taskSlotPa(p.minios, record, task.slot), ShimRecord.taskSlotBytes)).toBe(true);
      expect(isZero(p, contextLocation(p.minios, record, task.context).pa, 33 * 8)).toBe(true);
    }
    // Two clones take the two freed slots again (lowest first for the next one): no new page.
    const again = [p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0), p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0)];
    expect(again.every((tid) => tid > 0)).toBe(true);
    const reused = again.map((tid) => record.tasks.get(tid)!);
    expect(new Set(reused.map((t) => t.slot))).toEqual(new Set([early.slot, late.slot]));
    expect(new Set(reused.map((t) => t.context))).toEqual(new Set([early.context, late.context]));
    expect(extraPages(record)).toEqual(pages);
    expect(p.minios.heap.available).toBe(heap);
    expect(p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0)).toBe(RcError.ENOMEM);
  });

  it('rc_destroy_shim scrubs every extra page and returns it to the mini-OS heap', () => {
    const p = bootTestPlatform();
    const heap = p.minios.heap.available;
    const record = bound(p, 1);
    const heapBound = p.minios.heap.available;
    const tids = cloneUpTo(p, 1, MAX_TASKS_PER_CONTAINER);
    const pages = extraPages(record);
    expect(pages).toHaveLength(CONTEXT_PAGES_FOR_MAX + TASK_PAGES_FOR_MAX);
    // The extra pages, and nothing else, came from the heap.
    expect(p.minios.heap.available).toBe(heapBound - pages.length * 4096);
    // Leave a secret in every extra page, as a task's context or record would.
    for (const index of pages) p.machine.memory.write32(p.minios.ownership.paOf(index) + 64, 0x5ec2e7);
    expect(p.call(RcCall.DestroyShim, 1)).toBe(RcError.EBUSY); // tasks live
    for (const tid of tids) expect(p.call(RcCall.TaskExit, 1, tid)).toBe(0);
    expect(p.call(RcCall.DestroyContainer, 1)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 1)).toBe(0);
    for (const index of pages) {
      expect(p.minios.ownership.kindOf(index)).toBe(Owner.Mini);
      expect(isZero(p, p.minios.ownership.paOf(index))).toBe(true);
    }
    expect(p.minios.heap.available).toBe(heap);
    expect(shimGranulesIn(p, p.minios.boot.miniRegion)).toEqual(new Map());
    // A new container with the same id starts from the con-shim's pages again.
    const again = bound(p, 1);
    expect(extraPages(again)).toEqual([]);
    cloneUpTo(p, 1, FIXED_CONTEXTS + 1);
    expect(again.contextPages).toHaveLength(1);
    expect(again.taskPages).toHaveLength(1);
  });
});

/** SHIM granules in `region` by container (from the ownership table). */
function shimGranulesIn(p: TestPlatform, region: { base: number; size: number }): Map<number, number[]> {
  const own = p.minios.ownership;
  const found = new Map<number, number[]>();
  for (let pa = region.base; pa < region.base + region.size; pa += 4096) {
    const index = own.indexOf(pa);
    if (own.kindOf(index) !== Owner.Shim) continue;
    const cid = own.containerOf(index);
    found.set(cid, [...(found.get(cid) ?? []), index]);
  }
  return found;
}

describe('1024 forked tasks', () => {
  it('each get an address space with copies of the parent’s VMAs, and give everything back', () => {
    const p = bootTestPlatform();
    const heap = p.minios.heap.available;
    const record = bound(p, 1);
    const tables = 0xb000_0000; // OS memory outside the pool: one root table per task
    expect(p.call(RcCall.MallocMm, 1, tables, MAX_TASKS_PER_CONTAINER, MallocKind.Pt)).toBe(0);
    const first = p.call(RcCall.TaskClone, 1, 0, tables, 0);
    for (let v = 1; v <= 4; v++)
      expect(p.call(RcCall.SetVma, 1, first, v * 0x100_0000, v * 0x100_0000 + 4096, VmaProt.Read)).toBe(0);
    for (let i = 1; i < MAX_TASKS_PER_CONTAINER; i++)
      expect(p.call(RcCall.TaskClone, 1, first, tables + i * 4096, 0)).toBeGreaterThan(0);
    expect(record.tasks.size).toBe(MAX_TASKS_PER_CONTAINER);
    const last = [...record.tasks.keys()].at(-1)!;
    expect(taskAddressSpace(p.minios, 1, last)?.root).toBe(tables + (MAX_TASKS_PER_CONTAINER - 1) * 4096);
    for (const tid of [...record.tasks.keys()]) expect(p.call(RcCall.TaskExit, 1, tid)).toBe(0);
    expect(p.call(RcCall.DestroyContainer, 1)).toBe(0);
    expect(p.call(RcCall.DestroyShim, 1)).toBe(0);
    expect(p.minios.heap.available).toBe(heap);
    expect(shimGranulesIn(p, p.minios.boot.miniRegion)).toEqual(new Map());
  });
});

describe('running a task whose context is in an extra page', () => {
  /** Container 1 with FIXED_CONTEXTS + 5 tasks; the last exec'd with an address space. */
  function world(): { p: TestPlatform; record: ContainerRecord; tid: number } {
    const p = bootTestPlatform();
    const record = bound(p, 1);
    const tids = cloneUpTo(p, 1, FIXED_CONTEXTS + 5);
    const tid = tids.at(-1)!;
    const root = OS_POOL[20]!;
    expect(p.call(RcCall.MallocMm, 1, root, 1, MallocKind.Pt)).toBe(0);
    expect(p.call(RcCall.TaskExec, 1, tid, DIGEST_PA, ENTRY, root)).toBe(0);
    expect(record.tasks.get(tid)!.context).toBeGreaterThanOrEqual(FIXED_CONTEXTS);
    return { p, record, tid };
  }

  /** The con-shim's EL0 frame: x0..x30, PC, SPSR. */
  function frame(pc: number): Uint8Array {
    const bytes = new Uint8Array(33 * 8);
    const view = new DataView(bytes.buffer);
    for (let r = 0; r <= 30; r++) view.setBigUint64(8 * r, BigInt(0x7000 + r), true);
    view.setBigUint64(31 * 8, BigInt(pc), true);
    return bytes;
  }

  it('saves its frame there and the restore stub reloads every register through the window', () => {
    const { p, record, tid } = world();
    const task = record.tasks.get(tid)!;
    const location = contextLocation(p.minios, record, task.context);
    expect(location.windowSlot).toBeGreaterThanOrEqual(SHIM_WINDOW_CONTEXT_SLOT);
    expect(location.windowSlot).toBeLessThan(SHIM_WINDOW_KERNEL_SLOT);
    expect(record.contextPages).toContain(p.minios.ownership.indexOf(location.pa));
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    expect(p.pe.pc).toBe(ENTRY);
    // The task traps into the kernel (EL1, still under shim-GPT(1)): the context's window VA reads
    // the extra page, and is read-only there.
    p.pe.reset(1, 0x3000);
    const va = containerWindowVa(1) + location.windowSlot * 4096 + location.offset;
    const out = new TranslationResult();
    p.pe.probe(va, 1, Access.Read, out);
    expect(out.fault).toBe(MmuFault.None);
    expect(out.pa).toBe(location.pa);
    p.pe.probe(va, 1, Access.Write, out);
    expect(out.fault).toBe(MmuFault.Permission);
    p.pe.probe(va, 1, Access.Fetch, out);
    expect(out.fault).not.toBe(MmuFault.None);
    // The con-shim pushed a frame on its stack; the mini-OS saves it into the task's context.
    const stack = p.minios.ownership.paOf(record.shim[ShimPage.firstStack]!);
    p.machine.memory.writeBytes(stack, frame(ENTRY + 0x124));
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack)).toBe(0);
    expect(p.machine.memory.read32(location.pa + 5 * 8)).toBe(0x7005);
    p.pe.x.fill(0);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    expect(p.pe.el).toBe(0);
    expect(p.pe.pc).toBe(ENTRY + 0x124);
    expect([...p.pe.x.slice(0, 31)]).toEqual(Array.from({ length: 31 }, (_, r) => 0x7000 + r));
    expect(p.pe.regs.number('GPTBR_EL3') * 4096).toBe(record.view);
  });

  it('is out of the kernel’s reach: no frame, copy source or writable kernel mapping of the extra pages', () => {
    const { p, record, tid } = world();
    const contextPage = p.minios.ownership.paOf(record.contextPages[0]!);
    const taskPage = p.minios.ownership.paOf(record.taskPages[0]!);
    // From the OS context the window's walk faults on the GPC.
    const out = new TranslationResult();
    p.pe.probe(containerWindowVa(1) + SHIM_WINDOW_CONTEXT_SLOT * 4096, 1, Access.Read, out);
    expect(out.fault).toBe(MmuFault.Gpc);
    p.call(RcCall.SwitchToDepriv, 1, tid);
    p.pe.reset(1, 0x3000);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, contextPage)).toBe(RcError.EPERM);
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, taskPage)).toBe(RcError.EPERM);
    const stack = p.minios.ownership.paOf(record.shim[ShimPage.firstStack]!);
    p.machine.memory.writeBytes(stack, frame(ENTRY));
    expect(p.call(RcCall.SwitchToMiniOs, 1, 1, tid, stack)).toBe(0);
    // A clone's frame must come from the stacks too.
    expect(p.call(RcCall.TaskClone, 1, tid, 0, 0, contextPage)).toBe(RcError.EPERM);
    const ctr = OS_POOL[21]!;
    expect(p.call(RcCall.MallocMm, 1, ctr, 1, MallocKind.Ctr)).toBe(0);
    expect(p.call(RcCall.CopyPage, 1, ctr, contextPage)).toBe(RcError.EPERM);
    expect(p.call(RcCall.CopyPage, 1, ctr, taskPage)).toBe(RcError.EPERM);
    const kva = -TWO48 + 2 ** 39 + 0x20_0000;
    linkTables(p, PteSpace.Kernel, 0, kva, OS_POOL.slice(40, 43));
    expect(setPte(p, PteSpace.Kernel, 0, kva, kernelLeaf(contextPage), 3)).toBe(RcError.EPERM);
    expect(setPte(p, PteSpace.Kernel, 0, kva, kernelLeaf(taskPage), 3)).toBe(RcError.EPERM);
  });
});

describe('rc_task_clone out of memory', () => {
  it('refuses with ENOMEM when the mini-OS heap is empty, and succeeds once a page is back', () => {
    const p = bootTestPlatform();
    const record = bound(p, 1);
    const tids = cloneUpTo(p, 1, FIXED_CONTEXTS);
    const taken: number[] = [];
    for (let pa = p.minios.heap.allocate(4096); pa !== undefined; pa = p.minios.heap.allocate(4096))
      taken.push(pa);
    const owned = ownedGranuleCount(record);
    expect(p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0)).toBe(RcError.ENOMEM);
    expect(record.tasks.size).toBe(FIXED_CONTEXTS);
    expect(ownedGranuleCount(record)).toBe(owned);
    p.minios.heap.freeBlock(taken.pop()!, 4096);
    expect(p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0)).toBeGreaterThan(0);
    expect(record.contextPages).toHaveLength(1);
    expect(p.minios.heap.available).toBe(0);
  });

  it('charges the extra pages to the container quota', () => {
    // The con-shim's 16 granules and one more: the first task page fits, the first context page not.
    const p = bootTestPlatform({ containerQuota: 17 });
    const record = bound(p, 1);
    const tids = cloneUpTo(p, 1, FIXED_CONTEXTS);
    expect(record.taskPages).toHaveLength(1);
    expect(ownedGranuleCount(record)).toBe(17);
    expect(p.call(RcCall.TaskClone, 1, tids[0]!, 0, 0)).toBe(RcError.ENOMEM);
    expect(record.contextPages).toEqual([]);
    // The quota also holds against the kernel's pages.
    expect(p.call(RcCall.MallocMm, 1, OS_POOL[0]!, 1, MallocKind.Ctr)).toBe(RcError.ENOMEM);
  });
});

// ------------------------------------------------------------------------------------ properties

type Step =
  | { op: 'clone'; cid: 1 | 2; count: number; parent: number }
  | { op: 'exit'; cid: 1 | 2; count: number; pick: number }
  | { op: 'recreate'; cid: 1 | 2 };

const cidArb = fc.constantFrom(1 as const, 2 as const);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('clone' as const),
      cid: cidArb,
      count: fc.integer({ min: 1, max: 300 }),
      parent: fc.nat(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('exit' as const),
      cid: cidArb,
      count: fc.integer({ min: 1, max: 200 }),
      pick: fc.nat(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('recreate' as const), cid: cidArb }), weight: 1 },
);

function runStep(p: TestPlatform, s: Step): void {
  const record = p.minios.containers.get(s.cid)!;
  const live = (): number[] => [...record.tasks.keys()];
  switch (s.op) {
    case 'clone':
      for (let i = 0; i < s.count; i++) {
        const tids = live();
        const parent = tids.length === 0 ? 0 : tids[s.parent % tids.length]!;
        const result = p.call(RcCall.TaskClone, s.cid, parent, 0, 0);
        if (record.tasks.size === MAX_TASKS_PER_CONTAINER && result < 0) {
          expect(result).toBe(RcError.ENOMEM);
          break;
        }
        expect(result).toBeGreaterThan(0);
      }
      break;
    case 'exit':
      for (let i = 0; i < s.count && record.tasks.size > 0; i++) {
        const tids = live();
        expect(p.call(RcCall.TaskExit, s.cid, tids[(s.pick + i * 7) % tids.length]!)).toBe(0);
      }
      break;
    case 'recreate':
      for (const tid of live()) expect(p.call(RcCall.TaskExit, s.cid, tid)).toBe(0);
      expect(p.call(RcCall.DestroyContainer, s.cid)).toBe(0);
      expect(p.call(RcCall.DestroyShim, s.cid)).toBe(0);
      bound(p, s.cid);
      break;
  }
}

/**
 * One owner per granule and no leak: every SHIM granule of the MINI region is listed by exactly
 * one container (its own), every listed one is SHIM of that container; the free stacks and the
 * live tasks partition the slots of the pages there; live slots hold their task, free ones zero.
 */
function checkTaskTables(p: TestPlatform): void {
  const own = p.minios.ownership;
  const listed = new Map<number, number>();
  for (const [cid, record] of p.minios.containers) {
    for (const index of [...record.shim, ...extraPages(record)]) {
      expect(listed.has(index)).toBe(false);
      listed.set(index, cid);
      expect(own.kindOf(index)).toBe(Owner.Shim);
      expect(own.containerOf(index)).toBe(cid);
    }
    const slotCount = RECORD_PAGE_TASK_SLOTS + record.taskPages.length * TASK_PAGE_SLOTS;
    const contextCount = FIXED_CONTEXTS + record.contextPages.length * CONTEXTS_PER_PAGE;
    const tasks = [...record.tasks.values()];
    const usedSlots = tasks.map((t) => t.slot);
    const usedContexts = tasks.map((t) => t.context);
    expect(new Set([...usedSlots, ...record.freeTaskSlots]).size).toBe(slotCount);
    expect(usedSlots.length + record.freeTaskSlots.length).toBe(slotCount);
    expect(new Set([...usedContexts, ...record.freeContexts]).size).toBe(contextCount);
    expect(usedContexts.length + record.freeContexts.length).toBe(contextCount);
    for (const task of tasks) {
      expect(p.machine.memory.read32(taskSlotPa(p.minios, record, task.slot))).toBe(task.tid);
      expect(contextLocation(p.minios, record, task.context).pa).toBe(task.contextPa);
    }
    for (const slot of record.freeTaskSlots)
      expect(isZero(p, taskSlotPa(p.minios, record, slot), ShimRecord.taskSlotBytes)).toBe(true);
    for (const context of record.freeContexts)
      expect(isZero(p, contextLocation(p.minios, record, context).pa, 33 * 8)).toBe(true);
    // A page is added only when the slots before it are all taken.
    expect(record.contextPages.length).toBeLessThanOrEqual(CONTEXT_PAGES_FOR_MAX);
    expect(record.taskPages.length).toBeLessThanOrEqual(TASK_PAGES_FOR_MAX);
  }
  for (const [cid, indices] of shimGranulesIn(p, p.minios.boot.miniRegion))
    for (const index of indices) expect(listed.get(index)).toBe(cid);
}

describe('random clone, exit and recreate sequences', () => {
  it('keep one owner per granule, the slots partitioned, and give every page back at the end', () => {
    let peak = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 10 }), (steps) => {
        const p = bootTestPlatform();
        const heap = p.minios.heap.available;
        bound(p, 1);
        bound(p, 2);
        for (const s of steps) {
          runStep(p, s);
          expect(p.pe.halted).toBeUndefined();
          checkTaskTables(p);
          for (const record of p.minios.containers.values()) peak = Math.max(peak, record.tasks.size);
        }
        for (const cid of [1, 2] as const) {
          runStep(p, { op: 'recreate', cid });
          expect(p.call(RcCall.DestroyContainer, cid)).toBe(0);
          expect(p.call(RcCall.DestroyShim, cid)).toBe(0);
        }
        expect(p.minios.heap.available).toBe(heap);
        expect(shimGranulesIn(p, p.minios.boot.miniRegion)).toEqual(new Map());
      }),
      { seed: 1024, numRuns: 12 },
    );
    // The sequences did reach the extra pages.
    expect(peak).toBeGreaterThan(FIXED_CONTEXTS + CONTEXTS_PER_PAGE);
  });
});
