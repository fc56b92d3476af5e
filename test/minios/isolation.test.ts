// Isolation properties of the whole trusted platform, checked through the machine's MMU and GPC:
// the stale-TLB flaw of the public prototype, and random and forged rc_* call sequences.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { split64 } from '../../src/hw/bits.js';
import { PageAllocator, PageTableLayout } from '../../src/hw/layout.js';
import { ExecPolicy, MallocKind, Owner, RcCall } from '../../src/minios/abi.js';
import {
  bootTestPlatform,
  openIn,
  OS_POOL,
  writeImageArguments,
  type TestPlatform,
} from './platform-helpers.js';

/**
 * The kernel's mapping of the victim granule. The TLB is direct-mapped: this VA's index is chosen so
 * that no page the firmware or mini-OS touch during the calls below evicts the kernel's entry
 * (a 64 Ki-entry TLB and an index no PA in the Root or MINI regions shares).
 */
const VICTIM_VA = 0x1234_5000;
const VECTORS_VA = 0x2000_0000;

/**
 * A kernel with its own TTBR0 tables in OS memory mapping VICTIM_VA → `target` and a vector page
 * whose handler skips a faulting access (a compromised kernel can map anything it likes).
 */
function kernelMapping(p: TestPlatform, target: number): void {
  const memory = p.machine.memory;
  const tables = new PageTableLayout(memory, new PageAllocator(0xb000_0000, 0x10_0000));
  tables.map(VICTIM_VA, target, { ap: 0, pxn: true, uxn: true });
  tables.map(VECTORS_VA, 0xb100_0000, { ap: 0, uxn: true });
  if (p.machine.code.at(0xb100_0000 + 0x200) === undefined) {
    p.machine.code.register(0xb100_0000 + 0x200, 'kernel-abort-handler', (pe) => {
      pe.regs.setNumber('ELR_EL1', pe.regs.number('ELR_EL1') + 4);
      pe.eret();
    });
  }
  p.pe.setSysRegRaw('TTBR0_EL1', ...split64(tables.root));
  p.pe.setSysRegRaw('VBAR_EL1', VECTORS_VA, 0);
  p.pe.tlbi('VMALLE1');
}

describe('stale GPT information after an edit', () => {
  for (const skip of [false, true]) {
    it(`a granule given to a container is ${skip ? 'still readable by the kernel when the TLBI is skipped (the prototype flaw)' : 'unreadable by the kernel once TLBI RPALOS ran'}`, () => {
      // With the GPT-tagged TLB the gate's GPT switches flush nothing, so only the edit's own
      // maintenance can remove the kernel's cached permission.
      const p = bootTestPlatform({ skipTlbMaintenance: skip }, { gptTaggedTlb: true, tlbEntries: 1 << 16 });
      const target = OS_POOL[10]!;
      kernelMapping(p, target);
      p.machine.memory.write32(target, 0x1111);
      expect(p.pe.load32(VICTIM_VA)).toBe(0x1111); // OS memory: allowed, and now cached in the TLB
      expect(p.call(RcCall.CreateShim, 1)).toBe(0);
      expect(p.call(RcCall.MallocMm, 1, target, 1, MallocKind.Ctr)).toBe(0);
      p.machine.memory.write32(target, 0x5ec2e7); // the container's secret
      const value = p.pe.load32(VICTIM_VA);
      if (skip) {
        expect(value).toBe(0x5ec2e7);
        expect(p.pe.lastFault).toBe(0);
      } else {
        expect(value).toBe(0);
        expect(p.pe.lastFault & 0x3f).toBe(0x28); // GPF on the access
      }
    });
  }

  it('without the extension every gate switch flushes the TLB, so the same read faults', () => {
    const p = bootTestPlatform({ skipTlbMaintenance: true });
    const target = OS_POOL[10]!;
    kernelMapping(p, target);
    p.pe.load32(VICTIM_VA);
    expect(p.call(RcCall.CreateShim, 1)).toBe(0);
    expect(p.call(RcCall.MallocMm, 1, target, 1, MallocKind.Ctr)).toBe(0);
    p.pe.load32(VICTIM_VA);
    expect(p.pe.lastFault & 0x3f).toBe(0x28);
  });
});

/** A call the stand-in kernel (honest or forging) may make. */
type Step =
  | { op: 'shim' | 'destroyShim' | 'destroy' | 'bind'; cid: number }
  | { op: 'malloc'; cid: number; slot: number; count: number; kind: number }
  | { op: 'clone' | 'exit'; cid: number; tid: number }
  | { op: 'forged'; call: number; args: number[] };

const cid = fc.integer({ min: 1, max: 2 });
const wild = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }),
  fc.constantFrom(0x8000_0000, 0x8020_0000, 0x9000_0000, 2 ** 48, 2 ** 52 - 4096, -(2 ** 47)),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constantFrom('shim' as const, 'bind' as const), cid }), weight: 3 },
  {
    arbitrary: fc.record({ op: fc.constantFrom('destroyShim' as const, 'destroy' as const), cid }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('malloc' as const),
      cid,
      slot: fc.integer({ min: 0, max: OS_POOL.length - 1 }),
      count: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom(MallocKind.Ctr, MallocKind.Pt, MallocKind.Shim),
    }),
    weight: 3,
  },
  fc.record({
    op: fc.constantFrom('clone' as const, 'exit' as const),
    cid,
    tid: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    op: fc.constant('forged' as const),
    call: fc.integer({ min: -2, max: 20 }),
    args: fc.array(wild, { maxLength: 6 }),
  }),
);

function run(p: TestPlatform, s: Step, list: { list: number; config: number; configLength: number }): void {
  switch (s.op) {
    case 'shim':
      p.call(RcCall.CreateShim, s.cid);
      break;
    case 'destroyShim':
      p.call(RcCall.DestroyShim, s.cid);
      break;
    case 'destroy':
      p.call(RcCall.DestroyContainer, s.cid);
      break;
    case 'bind':
      p.call(RcCall.CreateContainer, s.cid, list.list, list.config, list.configLength, ExecPolicy.Allow);
      break;
    case 'malloc':
      p.call(RcCall.MallocMm, s.cid, OS_POOL[s.slot]!, s.count, s.kind);
      break;
    case 'clone':
      p.call(RcCall.TaskClone, s.cid, s.tid);
      break;
    case 'exit':
      p.call(RcCall.TaskExit, s.cid, s.tid);
      break;
    case 'forged':
      p.call(s.call, ...s.args);
      break;
  }
}

/** Granules worth checking: the OS pool, the mini-OS region's first granules, the Root region. */
function sampleGranules(p: TestPlatform): number[] {
  const mini = p.minios.boot.miniRegion.base;
  const shims = [...p.minios.containers.values()].flatMap((c) =>
    c.shim.map((i) => p.minios.ownership.paOf(i)),
  );
  return [
    ...OS_POOL,
    ...OS_POOL.map((pa) => pa + 32 * 4096),
    mini,
    mini + 0x1_0000,
    p.firmware.layout.root.base,
    ...shims,
  ];
}

describe('random and forged rc_* call sequences', () => {
  it('keep every view equal to the ownership rule, checked by the GPC, and scrub what leaves a container', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 20 }), (steps) => {
        const p = bootTestPlatform();
        const list = writeImageArguments(p, [], '{}');
        // Every granule the kernel hands out carries a recognisable pattern until a container owns it.
        for (const pa of OS_POOL) p.machine.memory.write32(pa, 0x0505_0505);
        const owners = new Map<number, string>();
        for (const s of steps) {
          run(p, s, list);
          expect(p.pe.halted).toBeUndefined();
          expect(p.pe.el).toBe(1);
          // What a container owned and no longer owns must be zero (scrubbed before it left);
          // meanwhile every container writes its secrets into what it owns.
          for (const pa of OS_POOL.flatMap((base) => [base, base + 4096, base + 8192])) {
            const now = p.minios.ownership.describe(p.minios.ownership.indexOf(pa));
            const before = owners.get(pa) ?? 'OS';
            if (before !== 'OS' && now === 'OS') expect(p.machine.memory.read32(pa)).toBe(0);
            if (now !== 'OS') p.machine.memory.write32(pa, 0x5ec2e7);
            owners.set(pa, now);
          }
        }
        const views = [0, ...p.minios.containers.keys()];
        for (const pa of sampleGranules(p)) {
          const kind = p.minios.ownership.kindAt(pa)!;
          const owner = p.minios.ownership.containerAt(pa);
          const openInViews = views.filter((viewer) =>
            openIn(p, viewer === 0 ? p.minios.views.osL0 : p.minios.views.viewOf(viewer)!, pa),
          );
          if (kind === Owner.Os || kind === Owner.PtOs) expect(openInViews).toEqual(views);
          else if (kind === Owner.Ctr || kind === Owner.Shim || kind === Owner.Pt)
            expect(openInViews).toEqual([owner]);
          else expect(openInViews).toEqual([]);
        }
      }),
      { seed: 2025, numRuns: 40 },
    );
  });
});
