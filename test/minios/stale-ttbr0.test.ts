// TTBR0_EL1 of every PE names only a live root table with its own ASID, or 0 (calls-memory.ts
// header): after a container task leaves a PE for the OS context, after rc_task_exit, after an
// exec that replaces an address space and after rc_destroy_container, issued from any PE. Two
// PEs, real gate calls only; the registers are read from the PEs, owners from the mini-OS's table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProcessingElement } from '../../src/hw/pe.js';
import { CloneFlag, MallocKind, Owner, RcCall, RcError } from '../../src/minios/abi.js';
import { hostAddressSpace, taskAddressSpace } from '../../src/minios/calls-memory.js';
import { ShimPage } from '../../src/minios/containers.js';
import {
  bootTestPlatform,
  KERNEL_SCRATCH,
  kernelCall,
  OS_POOL,
  type TestPlatform,
} from './platform-helpers.js';
import { bindContainer, digest } from './pte-helpers.js';

const CID = 1;
const ENTRY = 0x40_0000;
const DIGEST_PA = KERNEL_SCRATCH + 0x2000;
/** PT(1) pages for roots: OS_POOL[20..29]. */
const PT_POOL = OS_POOL.slice(20, 30);
const TWO32 = 2 ** 32;

interface World {
  readonly p: TestPlatform;
  readonly pe0: ProcessingElement;
  readonly pe1: ProcessingElement;
}

/** Container 1 bound (exec policy allow) with PT_POOL as its PT pages. */
function world(): World {
  const p = bootTestPlatform();
  bindContainer(p, CID);
  expect(p.call(RcCall.MallocMm, CID, PT_POOL[0]!, PT_POOL.length, MallocKind.Pt)).toBe(0);
  p.machine.memory.writeBytes(DIGEST_PA, digest('/bin/sh'));
  return { p, pe0: p.machine.pes[0]!, pe1: p.machine.pes[1]! };
}

/** rc_task_exec(1, tid) of the allowed binary with root `root`, from `pe`. */
const exec = (pe: ProcessingElement, tid: number, root: number): number =>
  kernelCall(pe, RcCall.TaskExec, CID, tid, DIGEST_PA, ENTRY, root);

/** A new task of container 1 (the first has no parent) with a fresh space rooted at `root`. */
function spawn(p: TestPlatform, parent: number, root: number): number {
  const tid = p.call(RcCall.TaskClone, CID, parent, 0, 0, 0);
  expect(tid).toBeGreaterThan(0);
  expect(exec(p.pe, tid, root)).toBe(0);
  return tid;
}

/**
 * rc_switch_to_depriv(1, tid) on `pe`: the task runs at EL0; then it traps into the kernel, which
 * runs at EL1 in the container's context (shim-GPT(1)) on that PE.
 */
function enter(p: TestPlatform, pe: ProcessingElement, tid: number): void {
  kernelCall(pe, RcCall.SwitchToDepriv, CID, tid);
  expect(pe.el).toBe(0);
  expect(pe.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.viewOf(CID));
  pe.reset(1, 0x3000);
}

/** The con-shim's EL0 frame (x0..x30, PC, SPSR) for rc_switch_to_miniOS reason 1. */
function frame(pc: number): Uint8Array {
  const bytes = new Uint8Array(33 * 8);
  new DataView(bytes.buffer).setBigUint64(31 * 8, BigInt(pc), true);
  return bytes;
}

/** The kernel on `pe`, in the container's context, saves task `tid` and returns to the OS context. */
function save(p: TestPlatform, pe: ProcessingElement, tid: number): number {
  const record = p.minios.containers.get(CID)!;
  const stack = p.minios.ownership.paOf(record.shim[ShimPage.firstStack + pe.id]!);
  p.machine.memory.writeBytes(stack, frame(ENTRY));
  return kernelCall(pe, RcCall.SwitchToMiniOs, 1, CID, tid, stack);
}

/** Root PA and ASID in TTBR0_EL1 of `pe`. */
function ttbr0(pe: ProcessingElement): { root: number; asid: number } {
  const [low, high] = pe.regs.pair('TTBR0_EL1');
  return { root: (high & 0xffff) * TWO32 + ((low & ~1) >>> 0), asid: high >>> 16 };
}

/**
 * Every PE whose TTBR0_EL1 names something other than 0 or the root of a live address space with
 * that space's ASID and the right owner (PT(c) for container c's tasks, PT(os) for host spaces).
 */
function staleTtbr0(p: TestPlatform): string[] {
  const own = p.minios.ownership;
  const live: { root: number; asid: number; kind: number; container: number }[] = [];
  for (const [cid, record] of p.minios.containers) {
    for (const tid of record.tasks.keys()) {
      const space = taskAddressSpace(p.minios, cid, tid);
      if (space !== undefined) live.push({ ...space, kind: Owner.Pt, container: cid });
    }
  }
  for (let id = 1; id <= 64; id++) {
    const space = hostAddressSpace(p.minios, id);
    if (space !== undefined) live.push({ ...space, kind: Owner.PtOs, container: 0 });
  }
  const stale: string[] = [];
  for (const pe of p.machine.pes) {
    const { root, asid } = ttbr0(pe);
    if (root === 0 && asid === 0) continue;
    const index = own.indexOf(root);
    const ok = live.some(
      (s) =>
        s.root === root &&
        s.asid === asid &&
        index >= 0 &&
        own.kindOf(index) === s.kind &&
        own.containerOf(index) === s.container,
    );
    if (!ok) {
      const owner = index < 0 ? 'no memory' : `owner ${own.kindOf(index)}/${own.containerOf(index)}`;
      stale.push(`PE${pe.id}: root 0x${root.toString(16)} (${owner}), ASID 0x${asid.toString(16)}`);
    }
  }
  return stale;
}

describe('no stale TTBR0_EL1 after a container task leaves a PE', () => {
  it('rc_switch_to_miniOS reason 1 returns the PE to the OS context with TTBR0_EL1 = 0', () => {
    const { p, pe1 } = world();
    const tid = spawn(p, 0, PT_POOL[0]!);
    enter(p, pe1, tid);
    expect(ttbr0(pe1)).toEqual(taskAddressSpace(p.minios, CID, tid));
    expect(save(p, pe1, tid)).toBe(0);
    expect(pe1.el).toBe(1);
    expect(pe1.regs.number('GPTBR_EL3') * 4096).toBe(p.minios.views.osL0);
    expect(pe1.regs.pair('TTBR0_EL1')).toEqual([0, 0]);
    // The task comes back on its own space on the next switch, on either PE.
    enter(p, pe1, tid);
    expect(ttbr0(pe1)).toEqual(taskAddressSpace(p.minios, CID, tid));
    expect(staleTtbr0(p)).toEqual([]);
  });

  it('rc_task_exit from PE0 of a task that ran on PE1 leaves no PE naming its dead root', () => {
    const { p, pe0, pe1 } = world();
    const tid = spawn(p, 0, PT_POOL[0]!);
    enter(p, pe1, tid);
    expect(save(p, pe1, tid)).toBe(0);
    expect(kernelCall(pe0, RcCall.TaskExit, CID, tid)).toBe(0);
    expect(staleTtbr0(p)).toEqual([]);
    // The root page is still PT(1), unlinked: it can root a new space (with a new ASID).
    const next = p.call(RcCall.TaskClone, CID, 0, PT_POOL[0]!, 0, 0);
    expect(next).toBeGreaterThan(0);
    expect(staleTtbr0(p)).toEqual([]);
  });

  it('rc_destroy_container from PE0 after its tasks ran on both PEs gives the OS no page a TTBR0_EL1 names', () => {
    const { p, pe0, pe1 } = world();
    const t1 = spawn(p, 0, PT_POOL[0]!);
    const t2 = spawn(p, t1, PT_POOL[1]!);
    enter(p, pe1, t1);
    enter(p, pe0, t2);
    expect(save(p, pe1, t1)).toBe(0);
    expect(save(p, pe0, t2)).toBe(0);
    expect(kernelCall(pe0, RcCall.TaskExit, CID, t1)).toBe(0);
    expect(kernelCall(pe1, RcCall.TaskExit, CID, t2)).toBe(0);
    expect(kernelCall(pe0, RcCall.DestroyContainer, CID)).toBe(0);
    for (const root of PT_POOL.slice(0, 2)) expect(p.minios.ownership.kindAt(root)).toBe(Owner.Os);
    expect(staleTtbr0(p)).toEqual([]);
    for (const pe of p.machine.pes) expect(pe.regs.pair('TTBR0_EL1')).toEqual([0, 0]);
  });

  it('an exec from PE0 that replaces the space of a task saved on PE1 leaves PE1 naming no dead root', () => {
    const { p, pe0, pe1 } = world();
    const tid = spawn(p, 0, PT_POOL[0]!);
    enter(p, pe1, tid);
    expect(save(p, pe1, tid)).toBe(0);
    expect(exec(pe0, tid, PT_POOL[1]!)).toBe(0);
    expect(taskAddressSpace(p.minios, CID, tid)?.root).toBe(PT_POOL[1]);
    expect(staleTtbr0(p)).toEqual([]);
  });

  it("an exec from the task's own system call loads the new space there, or 0 without one", () => {
    const { p, pe1 } = world();
    const tid = spawn(p, 0, PT_POOL[0]!);
    enter(p, pe1, tid);
    expect(exec(pe1, tid, PT_POOL[1]!)).toBe(0);
    expect(ttbr0(pe1)).toEqual(taskAddressSpace(p.minios, CID, tid));
    expect(ttbr0(pe1).root).toBe(PT_POOL[1]);
    expect(staleTtbr0(p)).toEqual([]);
    expect(exec(pe1, tid, 0)).toBe(0);
    expect(taskAddressSpace(p.minios, CID, tid)).toBeUndefined();
    expect(pe1.regs.pair('TTBR0_EL1')).toEqual([0, 0]);
    expect(staleTtbr0(p)).toEqual([]);
  });

  it('refuses (EBUSY, nothing changed) to tear down a space another PE still holds, and allows it once that PE left', () => {
    const { p, pe0, pe1 } = world();
    const t1 = spawn(p, 0, PT_POOL[0]!);
    const t2 = p.call(RcCall.TaskClone, CID, t1, 0, CloneFlag.Vm, 0); // shares t1's space
    expect(t2).toBeGreaterThan(0);
    enter(p, pe1, t1);
    const shared = taskAddressSpace(p.minios, CID, t1)!;
    // t1 leaves the shared space by an exec from PE0 (t2 keeps it alive: allowed)...
    expect(exec(pe0, t1, PT_POOL[1]!)).toBe(0);
    expect(taskAddressSpace(p.minios, CID, t2)).toEqual(shared);
    // ...but t2, its last task, can neither exit nor exec while PE1 still has it in TTBR0_EL1.
    expect(kernelCall(pe0, RcCall.TaskExit, CID, t2)).toBe(RcError.EBUSY);
    expect(exec(pe0, t2, PT_POOL[2]!)).toBe(RcError.EBUSY);
    expect(taskAddressSpace(p.minios, CID, t2)).toEqual(shared);
    expect(ttbr0(pe1)).toEqual(shared);
    expect(staleTtbr0(p)).toEqual([]);
    // PE1 saves its task: it holds nothing, and t2 goes.
    expect(save(p, pe1, t1)).toBe(0);
    expect(kernelCall(pe0, RcCall.TaskExit, CID, t2)).toBe(0);
    expect(staleTtbr0(p)).toEqual([]);
  });

  it('an exec from PE0 of a task running on PE1 is refused while PE1 holds its only space', () => {
    const { p, pe0, pe1 } = world();
    const tid = spawn(p, 0, PT_POOL[0]!);
    enter(p, pe1, tid);
    const space = taskAddressSpace(p.minios, CID, tid)!;
    expect(exec(pe0, tid, PT_POOL[1]!)).toBe(RcError.EBUSY);
    expect(exec(pe0, tid, 0)).toBe(RcError.EBUSY);
    expect(taskAddressSpace(p.minios, CID, tid)).toEqual(space);
    expect(save(p, pe1, tid)).toBe(0);
    expect(exec(pe0, tid, PT_POOL[1]!)).toBe(0);
    expect(staleTtbr0(p)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------ property

/** One step of an untrusted kernel driving container 1's tasks on two PEs. */
type Step =
  | { readonly op: 'spawn'; readonly root: number; readonly shareWith: number }
  | { readonly op: 'enter' | 'save' | 'exit'; readonly pe: number; readonly task: number }
  | { readonly op: 'exec'; readonly pe: number; readonly task: number; readonly root: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('spawn' as const),
    root: fc.integer({ min: 0, max: PT_POOL.length - 1 }),
    shareWith: fc.integer({ min: -1, max: 5 }),
  }),
  fc.record({
    op: fc.constantFrom('enter' as const, 'save' as const, 'exit' as const),
    pe: fc.integer({ min: 0, max: 1 }),
    task: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    op: fc.constant('exec' as const),
    pe: fc.integer({ min: 0, max: 1 }),
    task: fc.integer({ min: 0, max: 5 }),
    root: fc.integer({ min: -1, max: PT_POOL.length - 1 }),
  }),
);

describe('TTBR0_EL1 property', () => {
  it('whatever the kernel does on either PE, every TTBR0_EL1 names a live root with its ASID, or 0', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        const { p } = world();
        const tids: number[] = [];
        /** Tasks entered on each PE and not saved since (its kernel may be in the container's context). */
        const entered = [new Set<number>(), new Set<number>()];
        const tidAt = (i: number): number => tids[i % Math.max(tids.length, 1)] ?? 1;
        const saveAll = (pe: ProcessingElement): void => {
          for (const tid of entered[pe.id]!) expect(save(p, pe, tid)).toBe(0);
          entered[pe.id]!.clear();
        };
        for (const step of steps) {
          switch (step.op) {
            case 'spawn': {
              // From the OS context on PE 0: the first task (exec'd with a fresh space), or a task
              // entering the container with a fresh space or sharing one (CLONE_VM).
              const root = PT_POOL[step.root]!;
              let tid: number;
              if (tids.length === 0) {
                tid = p.call(RcCall.TaskClone, CID, 0, 0, 0, 0);
                if (tid > 0) exec(p.pe, tid, root);
              } else {
                const share = step.shareWith >= 0;
                const parent = tidAt(Math.max(step.shareWith, 0));
                tid = p.call(RcCall.TaskClone, CID, parent, share ? 0 : root, share ? CloneFlag.Vm : 0, 0);
              }
              if (tid > 0) tids.push(tid);
              break;
            }
            case 'enter': {
              const pe = p.machine.pes[step.pe]!;
              const tid = tidAt(step.task);
              kernelCall(pe, RcCall.SwitchToDepriv, CID, tid);
              if (pe.el === 0) {
                pe.reset(1, 0x3000);
                entered[pe.id]!.add(tid);
              }
              break;
            }
            case 'save':
              saveAll(p.machine.pes[step.pe]!);
              break;
            case 'exit': {
              const tid = tidAt(step.task);
              if (kernelCall(p.machine.pes[step.pe]!, RcCall.TaskExit, CID, tid) === 0)
                tids.splice(tids.indexOf(tid), 1);
              break;
            }
            case 'exec':
              exec(p.machine.pes[step.pe]!, tidAt(step.task), step.root < 0 ? 0 : PT_POOL[step.root]!);
              break;
          }
          expect(staleTtbr0(p)).toEqual([]);
        }
        // The end of the container: every PE leaves it, every task exits, the container goes.
        for (const pe of p.machine.pes) saveAll(pe);
        for (const tid of tids) expect(kernelCall(p.machine.pes[1]!, RcCall.TaskExit, CID, tid)).toBe(0);
        expect(p.call(RcCall.DestroyContainer, CID)).toBe(0);
        expect(staleTtbr0(p)).toEqual([]);
      }),
      { numRuns: 40, seed: 0x7_7b40 },
    );
  });
});
