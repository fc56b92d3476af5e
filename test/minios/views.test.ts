// GptViews against the real GPC: every view's GPIs follow the ownership table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GPC_OK, GranuleProtectionCheck } from '../../src/hw/gpc.js';
import { PhysicalMemory } from '../../src/hw/memory.js';
import { Pas } from '../../src/hw/pas.js';
import { Owner } from '../../src/minios/abi.js';
import { MiniHeap } from '../../src/minios/heap.js';
import { OwnershipTable } from '../../src/minios/ownership.js';
import type { PhysPort } from '../../src/minios/port.js';
import { GptViews } from '../../src/minios/views.js';

const DRAM = { base: 0x8000_0000, size: 4 * 2 ** 30 }; // 4 GiB: four L0 regions of 1 GiB
const ROOT = { base: 0x8000_0000, size: 0x20_0000 };
const MINI = { base: 0x8020_0000, size: 0x200_0000 };
const GEOMETRY = { t: 36, s: 30 }; // PPS 64 GB, L0GPTSZ 1 GB

/** Direct memory access, standing in for the mini-OS's linear map in these unit tests. */
function directPort(memory: PhysicalMemory): PhysPort {
  return {
    read32: (pa) => memory.read32(pa),
    write32: (pa, v) => memory.write32(pa, v),
    write64: (pa, lo, hi) => memory.write64(pa, lo, hi),
    readBytes: (pa, n) => memory.readBytes(pa, n),
    writeBytes: (pa, d) => memory.writeBytes(pa, d),
    fill: (pa, n, v) => memory.fill(pa, n, v),
  };
}

function setup() {
  const memory = new PhysicalMemory([{ name: 'dram', ...DRAM }]);
  const own = new OwnershipTable([DRAM]);
  for (let pa = ROOT.base; pa < ROOT.base + ROOT.size; pa += 4096) own.set(own.indexOf(pa), Owner.Root, 0);
  for (let pa = MINI.base; pa < MINI.base + MINI.size; pa += 4096) own.set(own.indexOf(pa), Owner.Mini, 0);
  const heap = new MiniHeap();
  heap.addRegion(MINI.base, MINI.size);
  const views = GptViews.build(directPort(memory), own, heap, GEOMETRY, [{ ...ROOT, gpi: 0xa }])!;
  expect(views).toBeDefined();
  return { memory, own, heap, views };
}

/** A GPC unit looking through the view at `l0` (PPS 64 GB = 0b001, PGS 4 KB, L0GPTSZ 1 GB). */
function gpcFor(memory: PhysicalMemory, l0: number): GranuleProtectionCheck {
  const gpc = new GranuleProtectionCheck(memory, 48, 16);
  gpc.configure((1 << 16) | (0b11 << 12) | (0b01 << 10) | (0b01 << 8) | 0b001, l0 / 4096, 0);
  return gpc;
}

function allowed(gpc: GranuleProtectionCheck, pa: number): boolean {
  return gpc.check(pa, Pas.NonSecure, Pas.NonSecure) === GPC_OK;
}

/** The rule every view must follow, from the ownership table alone. */
function expected(own: OwnershipTable, viewer: number, pa: number): boolean {
  const kind = own.kindAt(pa)!;
  if (kind === Owner.Os || kind === Owner.PtOs) return true;
  if (kind === Owner.Ctr || kind === Owner.Shim || kind === Owner.Pt)
    return viewer !== 0 && own.containerAt(pa) === viewer;
  return false;
}

describe('GptViews', () => {
  it('builds an OS-GPT that closes MINI and Root memory and opens the rest', () => {
    const { memory, views } = setup();
    const gpc = gpcFor(memory, views.osL0);
    expect(allowed(gpc, ROOT.base)).toBe(false);
    expect(allowed(gpc, MINI.base + 0x1000)).toBe(false);
    expect(allowed(gpc, MINI.base + MINI.size)).toBe(true);
    expect(allowed(gpc, DRAM.base + 3 * 2 ** 30)).toBe(true);
  });

  it('a container view opens its own granules and nothing of another container', () => {
    const { memory, own, views } = setup();
    views.createView(1);
    views.createView(2);
    const a = own.indexOf(0xc000_0000);
    const b = own.indexOf(0xc000_1000);
    own.set(a, Owner.Ctr, 1);
    views.update(a, Owner.Os, 0);
    own.set(b, Owner.Shim, 2);
    views.update(b, Owner.Os, 0);
    const os = gpcFor(memory, views.osL0);
    const v1 = gpcFor(memory, views.viewOf(1)!);
    const v2 = gpcFor(memory, views.viewOf(2)!);
    expect([allowed(os, 0xc000_0000), allowed(v1, 0xc000_0000), allowed(v2, 0xc000_0000)]).toEqual([
      false,
      true,
      false,
    ]);
    expect([allowed(os, 0xc000_1000), allowed(v1, 0xc000_1000), allowed(v2, 0xc000_1000)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(allowed(v1, 0xc000_2000)).toBe(true); // OS memory is open in every view
    expect(allowed(v1, MINI.base)).toBe(false);
  });

  it('costs a container one L0 table plus one L1 table per region it owns memory in', () => {
    const { own, views } = setup();
    const before = views.bytes;
    views.createView(7);
    const l0 = 8 * 2 ** (GEOMETRY.t - GEOMETRY.s);
    expect(views.bytes - before).toBe(Math.max(l0, 4096));
    const index = own.indexOf(0x1_4000_0000);
    own.set(index, Owner.Ctr, 7);
    views.update(index, Owner.Os, 0);
    expect(views.bytes - before).toBe(Math.max(l0, 4096) + 2 ** (GEOMETRY.s - 13) * 2); // + its L1 and the OS-GPT's new L1
    own.set(index, Owner.Os, 0);
    views.update(index, Owner.Ctr, 7);
    views.dropView(7);
    expect(views.bytes - before).toBe(2 ** (GEOMETRY.s - 13)); // only the OS-GPT's new L1 table stays
  });

  it('keeps every view equal to the ownership rule under random owner changes (real GPC reads)', () => {
    const granules = [
      0x8400_0000, 0x8400_1000, 0x8400_2000, 0xc000_0000, 0xc000_f000, 0x1_0000_0000, 0x1_7fff_f000,
    ];
    const change = fc.record({
      granule: fc.constantFrom(...granules),
      kind: fc.constantFrom(Owner.Os, Owner.Ctr, Owner.Shim, Owner.Pt),
      container: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 30 }), (changes) => {
        const { memory, own, views } = setup();
        for (const cid of [1, 2, 3]) views.createView(cid);
        for (const { granule, kind, container } of changes) {
          const index = own.indexOf(granule);
          const oldKind = own.kindOf(index);
          const oldContainer = own.containerOf(index);
          own.set(index, kind, kind === Owner.Os ? 0 : container);
          expect(views.update(index, oldKind, oldContainer)).toBe(true);
        }
        for (const viewer of [0, 1, 2, 3]) {
          const gpc = gpcFor(memory, viewer === 0 ? views.osL0 : views.viewOf(viewer)!);
          for (const pa of [...granules, ROOT.base, MINI.base, 0x9000_0000]) {
            expect(allowed(gpc, pa), `viewer ${viewer} pa 0x${pa.toString(16)}`).toBe(
              expected(own, viewer, pa),
            );
          }
        }
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});

describe('MiniHeap', () => {
  it('hands out naturally aligned blocks and merges buddies on free', () => {
    const heap = new MiniHeap();
    heap.addRegion(0x10_0000, 0x10_0000);
    const a = heap.allocate(0x2_0000)!;
    expect(a % 0x2_0000).toBe(0);
    const b = heap.allocate(4096)!;
    expect(b % 4096).toBe(0);
    expect(heap.available).toBe(0x10_0000 - 0x2_0000 - 0x1000);
    heap.freeBlock(a, 0x2_0000);
    heap.freeBlock(b, 4096);
    expect(heap.available).toBe(0x10_0000);
    expect(heap.allocate(0x10_0000)).toBe(0x10_0000); // everything merged back into one block
  });

  it('refuses what it cannot hold', () => {
    const heap = new MiniHeap();
    heap.addRegion(0x10_0000, 0x1_0000);
    expect(heap.allocate(0x2_0000)).toBeUndefined();
  });
});
