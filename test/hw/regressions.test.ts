/**
 * Regression tests for bugs found while writing the hw tests (all fixed). Each test states the
 * architectural expectation and the Arm rule it follows.
 */
import { describe, expect, it } from 'vitest';
import { MMU_FAULT_NAMES, MmuFault, TranslationResult, Access, Stage1Walker } from '../../src/hw/mmu.js';
import { GranuleProtectionCheck } from '../../src/hw/gpc.js';
import { Machine } from '../../src/hw/machine.js';
import type { MmioHandler } from '../../src/hw/memory.js';
import { PhysicalMemory } from '../../src/hw/memory.js';
import { Gpi, PAS_NAMES, Pas } from '../../src/hw/pas.js';
import { decodeEl10 } from '../../src/hw/regime.js';
import {
  GptBuilder,
  PageTableBuilder,
  dataVa,
  esrFields,
  leafDescriptor,
  makePeFixture,
  tableDescriptor,
  tcrEl1,
  ttbr,
  vaIndex,
} from './helpers.js';

function show(out: TranslationResult): string {
  return out.fault === MmuFault.None
    ? `ok 0x${out.pa.toString(16)} ${PAS_NAMES[out.pas]}`
    : `${MMU_FAULT_NAMES[out.fault]} L${out.level}`;
}

describe('regression: MMU-off address check uses TCR_ELx.{IPS,PS} instead of PARange', () => {
  // src/hw/mmu.ts flat(): `va >= 2 ** regime.outputBits`, where outputBits = min(TCR PS/IPS, PARange).
  // AArch64.S1DisabledOutput (QEMU get_phys_addr_disabled) checks VA[63:PAMax] with PAMax = the
  // implemented PA size (ID_AA64MMFR0_EL1.PARange); TCR_ELx is not consulted when stage 1 is off.
  it('EL3 with the MMU off and TCR_EL3 at reset (PS = 0) reaches DRAM above 4 GiB', () => {
    const machine = new Machine({
      paRangeBits: 48,
      dram: [{ name: 'dram', base: 0x8_8000_0000, size: 0x1000_0000 }],
    });
    const pe = machine.pes[0]!;
    const out = new TranslationResult();
    pe.probe(0x8_8000_0000, 3, Access.Read, out);
    expect(show(out)).toBe('ok 0x880000000 Root');
  });
});

describe('regression: NSTable in Secure state does not switch the walk to the Non-secure PAS', () => {
  // src/hw/mmu.ts translate(): `const walkPas = state` is fixed for the whole walk. Spec §1.3 (QEMU
  // get_phys_addr_lpae "Process the NSTable bit from the previous level"): after a table descriptor
  // with NSTable = 1, a Secure stage-1 walk fetches the next-level tables from the Non-secure PAS,
  // so those fetches are GPC-checked as Non-secure.
  function secureWorld(tableGpi: number): TranslationResult {
    const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 0x4000_0000 }]);
    const gpt = new GptBuilder(memory, { t: 40, p: 12, s: 30 }, 0x4000_0000);
    gpt.fillL0Blocks(Gpi.Any);
    gpt.setL0Table(1, 0x4100_0000, Gpi.Secure); // Secure memory by default...
    const pt = new PageTableBuilder(memory, 0x5000_0000, 0x10_0000);
    const root = pt.newTable();
    const nsTable = 0x5010_0000; // ...but the level-1 table lives in a Non-secure granule
    gpt.setGpi(nsTable, tableGpi);
    gpt.setGpi(0x6000_0000, Gpi.NonSecure);
    memory.write64Big(root + 8 * vaIndex(0x6000_0000, 0), tableDescriptor(nsTable, { nsTable: true }));
    memory.write64Big(nsTable + 8 * vaIndex(0x6000_0000, 1), leafDescriptor(0x4000_0000, 1));
    const gpc = new GranuleProtectionCheck(memory, 48);
    gpc.configure(gpt.gpccr(), ...gpt.gptbr());
    const regime = decodeEl10({ tcr: tcrEl1(), ttbr0: ttbr(root), ttbr1: ttbr(root), sctlr: [1, 0] }, 48);
    const out = new TranslationResult();
    new Stage1Walker(memory).translate(regime, gpc, Pas.Secure, 0x6000_0000, 1, Access.Read, out);
    return out;
  }

  it('a level-1 table in a Non-secure granule is fetched through the Non-secure PAS', () => {
    expect(show(secureWorld(Gpi.NonSecure))).toBe('ok 0x60000000 NonSecure');
  });

  it('and a Secure-only table granule refuses that Non-secure fetch', () => {
    expect(show(secureWorld(Gpi.Secure))).toBe('Gpc L1');
  });
});

describe('regression: TCR_ELx.HPD = 1 also drops NSTable', () => {
  // src/hw/mmu.ts translate(): `if (!range.hierarchicalDisabled) tableAttrs |= high & 0xf800_0000`
  // discards bit 63 (NSTable) with the permission bits. HPD disables APTable, UXNTable/PXNTable
  // only (Arm ARM TCR_ELx.HPD; QEMU: "HPD disables all the table attributes except NSTable").
  it('a Secure EL1&0 walk through NSTable = 1 with HPD0 = 1 still outputs the Non-secure PAS', () => {
    const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 0x4000_0000 }]);
    const pt = new PageTableBuilder(memory, 0x5000_0000, 0x10_0000);
    const root = pt.newTable();
    pt.map(root, 0x1000, 0x6000_0000, 3, {}, { nsTable: true });
    const gpc = new GranuleProtectionCheck(memory, 48); // GPC off: only the output PAS matters here
    const out = new TranslationResult();
    const walker = new Stage1Walker(memory);
    const regime = (hpd0: boolean) =>
      decodeEl10({ tcr: tcrEl1({ hpd0 }), ttbr0: ttbr(root), ttbr1: ttbr(root), sctlr: [1, 0] }, 48);
    walker.translate(regime(false), gpc, Pas.Secure, 0x1000, 1, Access.Read, out);
    expect(show(out)).toBe('ok 0x60000000 NonSecure');
    walker.translate(regime(true), gpc, Pas.Secure, 0x1000, 1, Access.Read, out);
    expect(show(out)).toBe('ok 0x60000000 NonSecure');
  });
});

describe('regression: an access to a PA outside every region is reported as an abort on the walk', () => {
  // src/hw/pe.ts translateCurrent(): `out.fault = MmuFault.ExternalAbortOnWalk` for an output PA with
  // no memory behind it, so the syndrome says FSC 0b0101LL "synchronous external abort on
  // translation table walk, level 3". The walk succeeded; the access itself aborted, which is
  // DFSC 0b010000 "synchronous External abort, not on translation table walk" (Arm ARM ESR_ELx.ISS
  // DFSC; QEMU ARMFault_SyncExternal → 0x10).
  it('DFSC is 0b010000, not 0b010111', () => {
    const fx = makePeFixture();
    fx.pt.map(fx.root0, 0x6200_0000, 0x2000_0000, 3, { ap: 1, pxn: true, uxn: true }); // no DRAM at 0x2000_0000
    expect(fx.pe.load32(0x6200_0000)).toBe(0);
    expect(esrFields(fx.pe.lastFault).fsc).toBe(0b010000);
  });
});

describe('regression: an access abandoned after the retry limit reports success', () => {
  // src/hw/pe.ts slowLoad()/slowStore() (and accessPage, runAtPc): when the handler keeps returning
  // to the faulting instruction, takeAccessFault() sets lastFault = 0 each time ("retried"), and
  // after MAX_ACCESS_RETRIES the loop falls through to `return 0` / `return false` with lastFault
  // still 0. load32 documents "On an abandoned fault returns 0 with lastFault set": a caller
  // cannot tell a livelocked fault from a successful load of 0.
  it('load32 that never succeeds leaves lastFault set', () => {
    const fx = makePeFixture();
    fx.gpt.setGpi(dataVa(0), Gpi.Root);
    fx.el1Action = (p) => p.eret(); // return to the faulting instruction, fixing nothing
    fx.memory.write32(dataVa(0), 0x1234);
    const value = fx.pe.load32(dataVa(0));
    expect(fx.records.length).toBeGreaterThan(1);
    expect(value).toBe(0);
    expect(fx.pe.lastFault).not.toBe(0);
  });
});

describe('regression: byte loads and failing device reads through the PE are silent', () => {
  // src/hw/pe.ts slowLoad(): `if (size === 1) return this.memory.read8(pa)` returns
  // EXTERNAL_ABORT (-1) for an MMIO page as if it were data, and `return value < 0 ? 0 : value`
  // turns a device's refusal into a successful load of 0, both with lastFault = 0 and no exception.
  // A bus error on a load is a synchronous External abort (DFSC 0b010000) taken by the PE.
  const refusing: MmioHandler = { read32: (offset) => (offset === 0 ? 7 : -1), write32: () => false };

  it('load8 from a device page does not return -1 as data', () => {
    const fx = makePeFixture({ mmio: [{ name: 'dev', base: 0x0900_0000, size: 0x1000, handler: refusing }] });
    fx.pt.map(fx.root0, 0x6a00_0000, 0x0900_0000, 3, { ap: 0, pxn: true, uxn: true });
    const value = fx.pe.load8(0x6a00_0000);
    expect(value).toBeGreaterThanOrEqual(0);
  });

  it('a device read error is an external abort, not a load of 0', () => {
    const fx = makePeFixture({ mmio: [{ name: 'dev', base: 0x0900_0000, size: 0x1000, handler: refusing }] });
    fx.pt.map(fx.root0, 0x6a00_0000, 0x0900_0000, 3, { ap: 0, pxn: true, uxn: true });
    expect(fx.pe.load32(0x6a00_0000)).toBe(7);
    fx.pe.load32(0x6a00_0010);
    expect(fx.pe.lastFault).not.toBe(0);
  });
});

describe('regression: Tlb.stats.hits misses the PE fast-path hits', () => {
  // src/hw/pe.ts load32()/store32() inline hit path bumps counters[Ev.TlbHit] but not
  // tlb.stats.hits (only translateCurrent does), so the TLB's own statistic (STYLE.md rule 7:
  // components own their stats) under-counts: after one miss and one hit it reports 0 hits.
  it('one miss then one hit', () => {
    const fx = makePeFixture();
    fx.pe.load32(dataVa(0));
    fx.pe.load32(dataVa(0));
    expect(fx.pe.tlb.stats.misses).toBe(1);
    expect(fx.pe.tlb.stats.hits).toBe(1);
  });
});

describe('regression: TranslationResult.perms is left set after a GPF on the output', () => {
  // src/hw/mmu.ts checkOutput() sets `out.fault = MmuFault.Gpc` but keeps `out.perms`, although
  // TranslationResult.perms is documented as "set only when the output check passed"; every other
  // fault path clears it (fail()).
  it('perms is 0 when the output check fails', () => {
    const memory = new PhysicalMemory([{ name: 'dram', base: 0x4000_0000, size: 0x4000_0000 }]);
    const gpt = new GptBuilder(memory, { t: 40, p: 12, s: 30 }, 0x4000_0000);
    gpt.fillL0Blocks(Gpi.Any);
    gpt.setL0Table(1, 0x4100_0000, Gpi.NonSecure);
    gpt.setGpi(0x6000_0000, Gpi.Root);
    const pt = new PageTableBuilder(memory, 0x5000_0000, 0x10_0000);
    const root = pt.newTable();
    pt.map(root, 0x1000, 0x6000_0000, 3);
    const gpc = new GranuleProtectionCheck(memory, 48);
    gpc.configure(gpt.gpccr(), ...gpt.gptbr());
    const out = new TranslationResult();
    new Stage1Walker(memory).translate(
      decodeEl10({ tcr: tcrEl1(), ttbr0: ttbr(root), ttbr1: ttbr(root), sctlr: [1, 0] }, 48),
      gpc,
      Pas.NonSecure,
      0x1000,
      1,
      Access.Read,
      out,
    );
    expect(out.fault).toBe(MmuFault.Gpc);
    expect(out.perms).toBe(0);
  });
});

describe('regression: MMU-off translations cached in the TLB leak into MMU-on execution', () => {
  // An access with SCTLR_EL1.M = 0 is flat (VA = PA). Once the MMU is on, the same VA must be
  // translated by the page tables; a flat entry left in the TLB must not be used (MMU-off accesses
  // are not translated through TLB entries at all).
  it('after enabling the MMU the page tables decide, not the earlier flat access', () => {
    const fx = makePeFixture();
    const va = dataVa(0);
    const other = dataVa(1);
    fx.memory.write32(va, 0x1111);
    fx.memory.write32(other, 0x2222);
    fx.pe.setSysRegRaw('SCTLR_EL1', 0, 0);
    expect(fx.pe.load32(va)).toBe(0x1111); // flat: PA = VA
    fx.pt.map(fx.root0, va, other, 3, { ap: 1, pxn: true, uxn: true }); // remap va → other page
    fx.pe.setSysRegRaw('SCTLR_EL1', 1, 0);
    expect(fx.pe.load32(va)).toBe(0x2222);
  });
});
