/**
 * The TLB (src/hw/tlb.ts) as a unit, and the architectural TLB behaviour of a PE (src/hw/pe.ts):
 * cached translations and cached GPT information stay in effect until the matching TLBI
 * (spec/cca-hardware.md §4.1-4.2), ASID tagging, TLBI broadcast, and the gptTaggedTlb extension.
 */
import { describe, expect, it } from 'vitest';
import { Ev } from '../../src/hw/cost.js';
import { Ec } from '../../src/hw/exceptions.js';
import { GLOBAL_ASID, Tlb } from '../../src/hw/tlb.js';
import { Gpi } from '../../src/hw/pas.js';
import type { ProcessingElement } from '../../src/hw/pe.js';
import {
  FX,
  atEl3,
  buildFixtureGpt,
  dataVa,
  esrFields,
  leafDescriptor,
  makePeFixture,
  mapFixtureCode,
  tcrEl1,
  ttbr,
  type PeFixture,
} from './helpers.js';

const NS_EL10 = 2; // regime tag of the Non-secure EL1&0 regime (state * 2)

function fill(
  tlb: Tlb,
  vpn: number,
  options: { regime?: number; asid?: number; pagePa?: number; sizeShift?: number; gptTag?: number } = {},
): void {
  tlb.fill(
    vpn,
    options.regime ?? NS_EL10,
    options.asid ?? GLOBAL_ASID,
    options.gptTag ?? 0,
    1,
    options.pagePa ?? vpn * 4096,
    1,
    0x3f,
    options.sizeShift ?? 12,
  );
}

function holds(tlb: Tlb, vpn: number): boolean {
  return tlb.vpn[tlb.indexOf(vpn)] === vpn;
}

describe('Tlb unit', () => {
  it('rejects sizes that are not a power of two', () => {
    for (const n of [0, 3, 12, 1.5, -4]) expect(() => new Tlb({ entries: n })).toThrow(RangeError);
    expect(new Tlb({ entries: 1 }).size).toBe(1);
  });

  it('is direct-mapped: a page number replaces the entry with the same index', () => {
    const tlb = new Tlb({ entries: 16 });
    expect(tlb.occupancy()).toBe(0);
    fill(tlb, 0x60000);
    fill(tlb, 0x60001);
    expect(tlb.occupancy()).toBe(2);
    // The next page number with the same (hashed) index as 0x60000.
    let other = 0x60002;
    while (tlb.indexOf(other) !== tlb.indexOf(0x60000)) other++;
    fill(tlb, other);
    expect(holds(tlb, 0x60000)).toBe(false);
    expect(holds(tlb, other)).toBe(true);
    expect(tlb.occupancy()).toBe(2);
    expect(tlb.stats.fills).toBe(3);
  });

  it('indexes negative (TTBR1) page numbers inside the arrays', () => {
    const tlb = new Tlb({ entries: 8 });
    for (const vpn of [-1, -8, -9, -(2 ** 36)]) {
      const i = tlb.indexOf(vpn);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(8);
      fill(tlb, vpn);
      expect(holds(tlb, vpn)).toBe(true);
    }
  });

  it('invalidateAll empties the TLB or, with a regime, only that regime', () => {
    const tlb = new Tlb({ entries: 16 });
    fill(tlb, 1, { regime: NS_EL10 });
    fill(tlb, 2, { regime: 5 });
    fill(tlb, 3, { regime: NS_EL10 });
    tlb.invalidateAll(NS_EL10);
    expect([1, 2, 3].map((v) => holds(tlb, v))).toEqual([false, true, false]);
    tlb.invalidateAll();
    expect(tlb.occupancy()).toBe(0);
  });

  it('invalidateVa with an ASID (VAE1) removes that ASID and global entries only; without one (VAAE1) any ASID', () => {
    const tlb = new Tlb({ entries: 16 });
    fill(tlb, 1, { asid: 7 });
    fill(tlb, 2, { asid: 8 });
    fill(tlb, 3, { asid: GLOBAL_ASID });
    fill(tlb, 4, { asid: 7, regime: 0 });
    tlb.invalidateVa(1 * 4096 + 12, NS_EL10, 7);
    tlb.invalidateVa(2 * 4096, NS_EL10, 7);
    tlb.invalidateVa(3 * 4096, NS_EL10, 7);
    tlb.invalidateVa(4 * 4096, NS_EL10, 7); // other regime
    expect([1, 2, 3, 4].map((v) => holds(tlb, v))).toEqual([false, true, false, true]);
    tlb.invalidateVa(2 * 4096, NS_EL10, undefined);
    expect(holds(tlb, 2)).toBe(false);
  });

  it('invalidateVa removes every page entry of a block that contains the address', () => {
    const tlb = new Tlb({ entries: 64 });
    const block = 0x40200; // first page of a 2 MB block
    fill(tlb, block + 1, { sizeShift: 21 });
    fill(tlb, block + 9, { sizeShift: 21 });
    fill(tlb, block + 20); // a 4 KB page inside the same 2 MB of VA
    fill(tlb, block + 512 + 3, { sizeShift: 21 }); // the next block
    tlb.invalidateVa((block + 30) * 4096, NS_EL10, undefined);
    expect([1, 9, 20, 515].map((o) => holds(tlb, block + o))).toEqual([false, false, true, true]);
  });

  it('invalidateAsid removes non-global entries of that ASID and regime', () => {
    const tlb = new Tlb({ entries: 16 });
    fill(tlb, 1, { asid: 7 });
    fill(tlb, 2, { asid: 8 });
    fill(tlb, 3, { asid: GLOBAL_ASID });
    fill(tlb, 4, { asid: 7, regime: 6 });
    tlb.invalidateAsid(7, NS_EL10);
    expect([1, 2, 3, 4].map((v) => holds(tlb, v))).toEqual([false, true, true, true]);
  });

  it('invalidatePaRange removes entries whose output page lies in [base, base + size)', () => {
    const tlb = new Tlb({ entries: 16 });
    fill(tlb, 1, { pagePa: 0x6000_0000 - 4096 });
    fill(tlb, 2, { pagePa: 0x6000_0000 });
    fill(tlb, 3, { pagePa: 0x6000_f000 });
    fill(tlb, 4, { pagePa: 0x6001_0000 });
    tlb.invalidatePaRange(0x6000_0000, 0x1_0000);
    expect([1, 2, 3, 4].map((v) => holds(tlb, v))).toEqual([true, false, false, true]);
  });
});

// ------------------------------------------------------------------------------------ PE

function walks(pe: ProcessingElement): number {
  return pe.counters[Ev.TlbMiss]!;
}

/** Write a distinct marker into each data page (and one more page at PA data + 16 pages). */
function markers(fx: PeFixture): void {
  for (let i = 0; i < FX.dataPages + 4; i++) fx.memory.write32(dataVa(i), 0xa000_0000 + i);
}

function ptePa(fx: PeFixture, root: number, va: number): number {
  return fx.pt.entryPa(root, va, 3);
}

describe('PE: cached translations', () => {
  it('a TLB hit returns the cached translation without walking', () => {
    const fx = makePeFixture();
    markers(fx);
    const pe = fx.pe;
    expect(pe.load32(dataVa(0))).toBe(0xa000_0000);
    const walksAfterFirst = walks(pe);
    const reads = pe.counters[Ev.WalkRead]!;
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(pe.load32(dataVa(0) + 8)).toBe(0);
    expect(pe.store32(dataVa(0) + 8, 77)).toBe(true);
    expect(pe.load32(dataVa(0) + 8)).toBe(77);
    expect(walks(pe)).toBe(walksAfterFirst);
    expect(pe.counters[Ev.WalkRead]).toBe(reads);
    expect(pe.counters[Ev.TlbHit]).toBe(3);
  });

  it('a PTE edit stays invisible until TLBI VAE1 for that page', () => {
    const fx = makePeFixture();
    markers(fx);
    const pe = fx.pe;
    const va = dataVa(1);
    expect(pe.load32(va)).toBe(0xa000_0001);
    // Remap page 1 onto page 2's frame, in memory only.
    fx.memory.write64Big(
      ptePa(fx, fx.root0, va),
      leafDescriptor(dataVa(2), 3, { ap: 1, pxn: true, uxn: true }),
    );
    expect(pe.load32(va)).toBe(0xa000_0001);
    // A store through the stale entry still reaches the old frame.
    expect(pe.store32(va + 4, 0x55)).toBe(true);
    expect(fx.memory.read32(dataVa(1) + 4)).toBe(0x55);
    expect(fx.memory.read32(dataVa(2) + 4)).toBe(0);
    // Invalidating a different page changes nothing.
    expect(pe.tlbi('VAE1', dataVa(3))).toBe(true);
    expect(pe.load32(va)).toBe(0xa000_0001);
    expect(pe.tlbi('VAE1', va + 0x123)).toBe(true);
    expect(pe.load32(va)).toBe(0xa000_0002);
  });

  it('TLBI VAAE1, VMALLE1 and ALLE3 (from EL3) have their own scope', () => {
    const fx = makePeFixture();
    markers(fx);
    const pe = fx.pe;
    const remap = (i: number, to: number): void => {
      fx.memory.write64Big(
        ptePa(fx, fx.root0, dataVa(i)),
        leafDescriptor(dataVa(to), 3, { ap: 1, pxn: true, uxn: true }),
      );
    };
    for (const i of [1, 3, 4]) expect(pe.load32(dataVa(i))).toBe(0xa000_0000 + i);
    remap(1, 2);
    remap(3, 2);
    remap(4, 2);
    expect(pe.tlbi('VAAE1', dataVa(1))).toBe(true);
    expect([1, 3, 4].map((i) => pe.load32(dataVa(i)) - 0xa000_0000)).toEqual([2, 3, 4]);
    atEl3(fx, (p) => p.tlbi('ALLE3')); // the EL3 regime only
    expect([3, 4].map((i) => pe.load32(dataVa(i)) - 0xa000_0000)).toEqual([3, 4]);
    expect(pe.tlbi('VMALLE1')).toBe(true);
    expect([3, 4].map((i) => pe.load32(dataVa(i)) - 0xa000_0000)).toEqual([2, 2]);
  });
});

describe('PE: ASID tagging', () => {
  /** A second root: vectors and code as in the fixture; data page i maps page i + 8; page 15 is global. */
  function secondRoot(fx: PeFixture): number {
    const root = fx.pt.newTable();
    mapFixtureCode(fx.pt, root);
    for (let i = 0; i < 8; i++)
      fx.pt.map(root, dataVa(i), dataVa(i + 8), 3, { ap: 1, pxn: true, uxn: true, ng: true });
    return root;
  }

  it('nG = 1 entries are not used under another ASID; global entries are', () => {
    const fx = makePeFixture({ nonGlobalData: true });
    markers(fx);
    const pe = fx.pe;
    // Page 7 of the first root is global (nG = 0); the second root maps it elsewhere.
    fx.memory.write64Big(
      ptePa(fx, fx.root0, dataVa(7)),
      leafDescriptor(dataVa(7), 3, { ap: 1, pxn: true, uxn: true }),
    );
    const rootB = secondRoot(fx);
    expect(pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 1))).toBe(true);
    expect(pe.load32(dataVa(0))).toBe(0xa000_0000);
    expect(pe.load32(dataVa(7))).toBe(0xa000_0007);
    // Context switch to ASID 2 without any TLBI.
    expect(pe.msr('TTBR0_EL1', ...ttbr(rootB, 2))).toBe(true);
    expect(pe.load32(dataVa(0))).toBe(0xa000_0008); // ASID 1's entry is not used
    expect(pe.load32(dataVa(7))).toBe(0xa000_0007); // the global entry is
  });

  it('reusing an ASID with new tables needs TLBI ASIDE1', () => {
    const fx = makePeFixture({ nonGlobalData: true });
    markers(fx);
    const pe = fx.pe;
    const rootB = secondRoot(fx);
    expect(pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 1))).toBe(true);
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003);
    expect(pe.msr('TTBR0_EL1', ...ttbr(rootB, 1))).toBe(true);
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003); // stale: same ASID
    expect(pe.tlbi('ASIDE1', 2)).toBe(true); // another ASID: no effect
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003);
    expect(pe.tlbi('ASIDE1', 1)).toBe(true);
    expect(pe.load32(dataVa(3))).toBe(0xa000_000b);
  });

  it("TLBI VAE1 uses the current ASID: it does not remove another ASID's entry", () => {
    const fx = makePeFixture({ nonGlobalData: true });
    markers(fx);
    const pe = fx.pe;
    const rootB = secondRoot(fx);
    expect(pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 1))).toBe(true);
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003);
    expect(pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 2))).toBe(true);
    expect(pe.tlbi('VAE1', dataVa(3))).toBe(true); // ASID 2
    expect(pe.msr('TTBR0_EL1', ...ttbr(rootB, 1))).toBe(true);
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003); // ASID 1's entry survived
  });
});

describe('PE: entries are tagged by translation regime and security state', () => {
  it('an EL1&0 entry is not used by the EL3 regime for the same VA', () => {
    const fx = makePeFixture();
    markers(fx);
    const va = 0x6300_0000; // EL1&0 maps it onto data page 2; with the EL3 MMU off it is PA 0x6300_0000
    fx.pt.map(fx.root0, va, dataVa(2), 3, { ap: 0, pxn: true, uxn: true });
    fx.gpt.setGpi(va, Gpi.Any);
    fx.memory.write32(va, 0x3333);
    expect(fx.pe.load32(va)).toBe(0xa000_0002);
    let atEl3Value = 0;
    atEl3(fx, (p) => {
      atEl3Value = p.load32(va);
    });
    expect(atEl3Value).toBe(0x3333);
    expect(fx.pe.load32(va)).toBe(0xa000_0002);
  });

  it('a Non-secure entry is not used after SCR_EL3 makes EL1 Secure', () => {
    const fx = makePeFixture();
    markers(fx);
    // Tables and vectors readable from any PAS, so that the Secure walk itself succeeds.
    fx.gpt.setGpiRange(FX.ptPool, 0x1_0000, Gpi.Any);
    fx.gpt.setGpiRange(FX.el1Vectors, 0x1000, Gpi.Any);
    expect(fx.pe.load32(dataVa(3))).toBe(0xa000_0003);
    atEl3(fx, (p) => p.msr('SCR_EL3', 0, 0)); // NS = 0: Secure EL1&0 after the ERET
    expect(fx.pe.lowerSecurityState).toBe(0);
    expect(fx.pe.load32(dataVa(3))).toBe(0); // walked again: Secure PAS on a Non-secure granule
    expect(esrFields(fx.pe.lastFault).fsc).toBe(0x28);
  });
});

describe('PE: ASID source and size (TCR_EL1.A1, TCR_EL1.AS)', () => {
  function asidWorld(tcr: Parameters<typeof tcrEl1>[0]): PeFixture {
    const fx = makePeFixture({ nonGlobalData: true });
    markers(fx);
    expect(fx.pe.msr('TCR_EL1', ...tcrEl1(tcr))).toBe(true);
    return fx;
  }
  const remapPage1 = (fx: PeFixture): void => {
    fx.memory.write64Big(
      ptePa(fx, fx.root0, dataVa(1)),
      leafDescriptor(dataVa(2), 3, { ap: 1, pxn: true, uxn: true, ng: true }),
    );
  };

  it('A1 = 1 takes the ASID from TTBR1_EL1', () => {
    const fx = asidWorld({ a1: true });
    const pe = fx.pe;
    pe.msr('TTBR1_EL1', ...ttbr(fx.root0, 1));
    expect(pe.load32(dataVa(1))).toBe(0xa000_0001);
    remapPage1(fx);
    pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 9)); // TTBR0's ASID field is not the ASID
    expect(pe.load32(dataVa(1))).toBe(0xa000_0001);
    pe.msr('TTBR1_EL1', ...ttbr(fx.root0, 2));
    expect(pe.load32(dataVa(1))).toBe(0xa000_0002);
  });

  it('AS = 0 uses 8-bit ASIDs; AS = 1 uses all 16 bits', () => {
    for (const as16 of [false, true]) {
      const fx = asidWorld({ as16 });
      const pe = fx.pe;
      pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 0x0001));
      expect(pe.load32(dataVa(1))).toBe(0xa000_0001);
      remapPage1(fx);
      pe.msr('TTBR0_EL1', ...ttbr(fx.root0, 0x0101));
      expect(pe.load32(dataVa(1))).toBe(as16 ? 0xa000_0002 : 0xa000_0001);
    }
  });
});

describe('PE: cached GPT information', () => {
  /** PE at EL1 NS has read page `i`; then EL3 software (the test) makes its granule Root in memory. */
  function staleSetup(i: number): PeFixture {
    const fx = makePeFixture();
    markers(fx);
    expect(fx.pe.load32(dataVa(i))).toBe(0xa000_0000 + i);
    fx.gpt.setGpi(dataVa(i), Gpi.Root);
    return fx;
  }

  function expectGpf(fx: PeFixture, va: number): void {
    const before = fx.records.length;
    expect(fx.pe.load32(va)).toBe(0);
    const esr = esrFields(fx.pe.lastFault);
    expect(esr.ec).toBe(Ec.DataAbortSame);
    expect(esr.fsc).toBe(0x28);
    expect(fx.records.length).toBe(before + 1);
    expect(fx.records.at(-1)!.far).toBe(va);
  }

  it('a GPT edit without TLBI leaves the old permission in effect; TLBI RPALOS at EL3 removes it', () => {
    const fx = staleSetup(4);
    const pe = fx.pe;
    expect(pe.load32(dataVa(4))).toBe(0xa000_0004);
    expect(pe.store32(dataVa(4) + 16, 9)).toBe(true);
    expect(pe.lastFault).toBe(0);
    // RPALOS for a neighbouring granule does not help.
    atEl3(fx, (p) => expect(p.tlbi('RPALOS', dataVa(5) / 4096)).toBe(true));
    expect(pe.load32(dataVa(4))).toBe(0xa000_0004);
    atEl3(fx, (p) => expect(p.tlbi('RPALOS', dataVa(4) / 4096)).toBe(true));
    expectGpf(fx, dataVa(4));
    expect(pe.store32(dataVa(4), 1)).toBe(false);
    expect(fx.memory.read32(dataVa(4))).toBe(0xa000_0004);
  });

  it('TLBI PAALL issued at EL3 (PE put at EL3 by reset) removes it too', () => {
    const fx = staleSetup(2);
    const pe = fx.pe;
    expect(pe.load32(dataVa(2))).toBe(0xa000_0002);
    pe.reset(3);
    expect(pe.el).toBe(3);
    expect(pe.tlbi('PAALL')).toBe(true);
    pe.reset(1, FX.mainPc);
    expectGpf(fx, dataVa(2));
  });

  it('TLBI RPAOS and PAALLOS work as well', () => {
    for (const op of ['RPAOS', 'PAALLOS'] as const) {
      const fx = staleSetup(6);
      atEl3(fx, (p) => expect(p.tlbi(op, dataVa(6) / 4096)).toBe(true));
      expectGpf(fx, dataVa(6));
    }
  });

  it('RPALOS decodes SIZE [47:44]: a 2 MB range covers the granule; a reserved SIZE or a misaligned base invalidates nothing', () => {
    const fx = staleSetup(3);
    const pe = fx.pe;
    const twoMb = 3 * 2 ** 44;
    atEl3(fx, (p) => p.tlbi('RPALOS', 12 * 2 ** 44 + dataVa(3) / 4096)); // SIZE 12: reserved
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003);
    atEl3(fx, (p) => p.tlbi('RPALOS', twoMb + dataVa(3) / 4096)); // base not 2 MB aligned
    expect(pe.load32(dataVa(3))).toBe(0xa000_0003);
    atEl3(fx, (p) => p.tlbi('RPALOS', twoMb + FX.data / 4096)); // [data, data + 2 MB)
    expectGpf(fx, dataVa(3));
  });

  it('a GPTBR_EL3 switch without TLBI keeps using cached GPT information (gptTaggedTlb off)', () => {
    const fx = makePeFixture();
    markers(fx);
    const pe = fx.pe;
    const gptB = buildFixtureGpt(fx.memory, FX.gptL0B, FX.gptL1B);
    gptB.setGpi(dataVa(0), Gpi.NoAccess);
    expect(pe.load32(dataVa(0))).toBe(0xa000_0000);
    atEl3(fx, (p) => expect(p.msr('GPTBR_EL3', ...gptB.gptbr())).toBe(true));
    const missesBefore = walks(pe);
    expect(pe.load32(dataVa(0))).toBe(0xa000_0000); // stale hit
    expect(walks(pe)).toBe(missesBefore);
    atEl3(fx, (p) => p.tlbi('PAALL'));
    expectGpf(fx, dataVa(0));
  });

  it('gptTaggedTlb keeps entries of two GPTBR values apart without flushing', () => {
    const fx = makePeFixture({ machine: { gptTaggedTlb: true } });
    markers(fx);
    const pe = fx.pe;
    const gptA = fx.gpt.gptbr();
    const gptB = buildFixtureGpt(fx.memory, FX.gptL0B, FX.gptL1B);
    gptB.setGpi(dataVa(12), Gpi.NoAccess);
    expect(pe.load32(dataVa(12))).toBe(0xa000_000c); // filled under GPT A
    atEl3(fx, (p) => p.msr('GPTBR_EL3', ...gptB.gptbr()));
    expectGpf(fx, dataVa(12)); // nothing cached under GPT A is used under GPT B
    expect(pe.load32(dataVa(11))).toBe(0xa000_000b); // filled under GPT B
    atEl3(fx, (p) => p.msr('GPTBR_EL3', ...gptA));
    const missesBefore = walks(pe);
    expect(pe.load32(dataVa(12))).toBe(0xa000_000c); // GPT A's entry survived the switches
    expect(walks(pe)).toBe(missesBefore);
    expect(pe.load32(dataVa(11))).toBe(0xa000_000b);
    expect(walks(pe)).toBe(missesBefore + 1); // GPT B's entry is not used under GPT A
  });
});

describe('TLBI broadcast between PEs', () => {
  function twoPes(): PeFixture {
    const fx = makePeFixture({ machine: { pes: 2 } });
    markers(fx);
    const pe1 = fx.machine.pes[1]!;
    expect(pe1.el).toBe(1);
    expect(pe1.load32(dataVa(5))).toBe(0xa000_0005);
    fx.gpt.setGpi(dataVa(5), Gpi.Realm);
    return fx;
  }

  it('PAALL is local to the issuing PE; PAALLOS and RPALOS reach every PE', () => {
    const fx = twoPes();
    const pe1 = fx.machine.pes[1]!;
    atEl3(fx, (p) => p.tlbi('PAALL'));
    expect(pe1.load32(dataVa(5))).toBe(0xa000_0005);
    atEl3(fx, (p) => p.tlbi('RPALOS', dataVa(5) / 4096));
    expect(pe1.load32(dataVa(5))).toBe(0);
    expect(esrFields(pe1.lastFault).fsc).toBe(0x28);

    const again = twoPes();
    atEl3(again, (p) => p.tlbi('PAALLOS'));
    expect(again.machine.pes[1]!.load32(dataVa(5))).toBe(0);
  });

  it('VMALLE1IS reaches every PE, VMALLE1 only the issuer', () => {
    const fx = makePeFixture({ machine: { pes: 2 } });
    markers(fx);
    const pe1 = fx.machine.pes[1]!;
    expect(pe1.load32(dataVa(1))).toBe(0xa000_0001);
    fx.memory.write64Big(
      ptePa(fx, fx.root0, dataVa(1)),
      leafDescriptor(dataVa(2), 3, { ap: 1, pxn: true, uxn: true }),
    );
    expect(fx.pe.tlbi('VMALLE1')).toBe(true);
    expect(pe1.load32(dataVa(1))).toBe(0xa000_0001);
    expect(fx.pe.tlbi('VMALLE1IS')).toBe(true);
    expect(pe1.load32(dataVa(1))).toBe(0xa000_0002);
  });
});
