/**
 * The RContainer GPT-switch service (src/firmware/rc-service.ts) on a booted monitor with a
 * stand-in mini-OS: the gate always lands on the mini-OS entry, every refusal, the GPTBR_EL3
 * switch with TLBI PAALL (and without it under the gptTaggedTlb extension, with no stale access
 * either), and RC_TLBI's operands. The test plays the kernel at EL1 (MMU off, VA = PA); GPT views
 * are bytes in DRAM, written as the mini-OS would write them.
 */
import { describe, expect, it } from 'vitest';
import { Ev } from '../../src/hw/cost.js';
import { Gpi } from '../../src/hw/pas.js';
import type { ProcessingElement } from '../../src/hw/pe.js';
import { SmmuReg } from '../../src/hw/smmu.js';
import {
  MINIOS_ENTRY_SPSR,
  RC_ENTER_MINIOS,
  RC_LEAVE_MINIOS,
  RC_SERVICE_VERSION,
  RC_SET_DMA_GPT,
  RC_TLBI,
  RC_VERSION,
} from '../../src/firmware/rc-service.js';
import { SmcReturn } from '../../src/firmware/smccc.js';
import {
  bootFixture,
  buildView,
  canRead,
  gptBase,
  GIB,
  MINIOS_REPLY,
  recordTlbis,
  smc,
  type BootFixture,
} from './helpers.js';

const OS_VIEW_TABLES = 0x9000_0000;
const VIEW_B_TABLES = 0x9040_0000;
/**
 * A granule of ordinary DRAM the tests open and close. Its TLB set (direct-mapped, 1024 entries)
 * differs from those of the pages the gate fetches (EL3 vectors at the start of DRAM: set 0).
 */
const G = 0xa000_5000;
const EL1H = 0b0101;

/** Kernel PC (nothing registered there: control returns to the test). */
function kernelPc(fx: BootFixture): number {
  return fx.fw.layout.kernel.base + 0x20_0000;
}

/** A view like the OS-GPT: Root region Root, mini-OS region closed, everything else open. */
function view(
  fx: BootFixture,
  tables: number,
  extra: { base: number; size: number; gpi: number }[] = [],
): number {
  const { root, minios } = fx.fw.layout;
  return buildView(fx.machine, tables, fx.fw.layout.pps, [
    { ...root, gpi: Gpi.Root },
    { ...minios, gpi: Gpi.NoAccess },
    ...extra,
  ]).l0Base;
}

/** From the mini-OS (Priv-GPT, right after boot), leave to `target` at the kernel PC. */
function leaveToKernel(fx: BootFixture, target: number): void {
  expect(smc(fx.pe, RC_LEAVE_MINIOS, target, kernelPc(fx), EL1H, 0x1234)).toBe(0x1234);
  expect([fx.pe.el, fx.pe.pc, gptBase(fx.pe)]).toEqual([1, kernelPc(fx), target]);
}

/** The kernel calls the gate; the stand-in mini-OS records and leaves; returns X0. */
function enter(pe: ProcessingElement, ...args: number[]): number {
  return smc(pe, RC_ENTER_MINIOS, ...args);
}

describe('RC_VERSION', () => {
  it('answers 1.0 from any view', () => {
    const fx = bootFixture();
    expect(smc(fx.pe, RC_VERSION)).toBe(RC_SERVICE_VERSION);
    leaveToKernel(fx, view(fx, OS_VIEW_TABLES));
    expect(smc(fx.pe, RC_VERSION)).toBe(0x0001_0000);
  });
});

describe('RC_ENTER_MINIOS', () => {
  it('lands on the mini-OS entry with the caller state in X8-X10, whatever the caller forged', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    leaveToKernel(fx, os);
    const pe = fx.pe;
    // The kernel forges what it can: X8-X10, ELR_EL1/SPSR_EL1, and a "return address" in X2.
    pe.x[8] = 0xdead_0000;
    pe.x[9] = 0x3cd;
    pe.x[10] = fx.fw.privGptBase;
    pe.regs.setNumber('ELR_EL1', 0xdead_1000);
    pe.regs.set('SPSR_EL1', 0x3cd, 0);
    expect(enter(pe, 11, 0xdead_2000, 33, 44, 55, 66, 77)).toBe(MINIOS_REPLY);
    const entry = fx.entries.at(-1)!;
    expect(entry.x).toEqual([
      RC_ENTER_MINIOS,
      11,
      0xdead_2000,
      33,
      44,
      55,
      66,
      77,
      kernelPc(fx) + 4,
      EL1H,
      os,
    ]);
    expect([entry.el, entry.irqMasked, entry.gptBase]).toEqual([1, true, fx.fw.privGptBase]);
    // Back in the kernel, after the SMC, in its own view.
    expect([pe.el, pe.pc, gptBase(pe), pe.irqMasked]).toEqual([1, kernelPc(fx) + 4, os, false]);
  });

  it('enters at EL1h with DAIF masked even when the mini-OS itself calls it', () => {
    const fx = bootFixture();
    const entries = fx.entries.length;
    fx.miniosAction = () => undefined; // stay in the mini-OS
    smc(fx.pe, RC_ENTER_MINIOS, 1);
    expect(fx.entries).toHaveLength(entries + 1);
    expect(fx.entries.at(-1)!.x[10]).toBe(fx.fw.privGptBase);
    expect(fx.pe.regs.low('SPSR_EL3')).toBe(MINIOS_ENTRY_SPSR);
    expect(fx.pe.regs.number('ELR_EL3')).toBe(fx.fw.layout.miniosEntryVa);
  });

  it('honours a mini-OS entry VA that differs from its boot entry', () => {
    const minios = { base: 0x8100_0000, size: 0x80_0000 };
    const fx = bootFixture(
      {},
      { layout: { minios, miniosEntryVa: minios.base + 0x800, miniosBootEntry: minios.base } },
    );
    expect(fx.entries).toHaveLength(1); // the boot entry ran (registered at the region base)
    fx.machine.code.register(minios.base + 0x800, 'gate', (pe) => {
      fx.entries.push({
        x: Array.from(pe.x.subarray(0, 11)),
        el: pe.el,
        irqMasked: pe.irqMasked,
        gptBase: gptBase(pe),
        pe: pe.id,
      });
      smc(pe, RC_LEAVE_MINIOS, pe.x[10]!, pe.x[8]!, pe.x[9]!, 7);
    });
    leaveToKernel(fx, view(fx, OS_VIEW_TABLES));
    expect(enter(fx.pe)).toBe(7);
    expect(fx.entries).toHaveLength(2);
  });
});

describe('refusals outside the Priv-GPT (DENIED)', () => {
  it.each([
    ['RC_LEAVE_MINIOS', RC_LEAVE_MINIOS],
    ['RC_TLBI', RC_TLBI],
    ['RC_SET_DMA_GPT', RC_SET_DMA_GPT],
  ])('%s from the kernel is DENIED and changes nothing', (_name, fid) => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    const other = view(fx, VIEW_B_TABLES);
    leaveToKernel(fx, os);
    const pe = fx.pe;
    const paallBefore = pe.counters[Ev.TlbiPaall]!;
    const rpaBefore = pe.counters[Ev.TlbiRpa]!;
    const smmuGpt = fx.machine.smmu.read64(SmmuReg.ROOT_GPT_BASE);
    expect(smc(pe, fid, fid === RC_TLBI ? 0 : other, kernelPc(fx), EL1H, 0)).toBe(SmcReturn.DENIED);
    expect([pe.el, pe.pc, gptBase(pe)]).toEqual([1, kernelPc(fx) + 4, os]);
    expect(pe.counters[Ev.TlbiPaall]! - paallBefore).toBe(0);
    expect(pe.counters[Ev.TlbiRpa]! - rpaBefore).toBe(0);
    expect(fx.machine.smmu.read64(SmmuReg.ROOT_GPT_BASE)).toBe(smmuGpt);
    // Even naming the Priv-GPT as the target gets nowhere.
    expect(
      smc(pe, RC_LEAVE_MINIOS, fx.fw.privGptBase, fx.fw.layout.miniosEntryVa, MINIOS_ENTRY_SPSR, 0),
    ).toBe(SmcReturn.DENIED);
    expect(gptBase(pe)).toBe(os);
  });
});

describe('RC_LEAVE_MINIOS argument checks (INVALID_PARAMETER)', () => {
  function refused(fx: BootFixture, viewBase: number, spsr: number): void {
    const pe = fx.pe;
    const pc = pe.pc;
    expect(smc(pe, RC_LEAVE_MINIOS, viewBase, kernelPc(fx), spsr, 0)).toBe(SmcReturn.INVALID_PARAMETER);
    expect([pe.el, pe.pc, gptBase(pe)]).toEqual([1, pc + 4, fx.fw.privGptBase]);
  }

  it('refuses view bases that are misaligned, in the Root region or not DRAM', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    const dram = fx.fw.layout.dram;
    for (const bad of [
      os + 0x800,
      os + 8,
      fx.fw.privGptBase,
      fx.fw.layout.root.base,
      0x1000_0000,
      dram.base + dram.size,
      -4096,
      2 ** 60,
      0.5,
    ]) {
      refused(fx, bad, EL1H);
    }
    // The last granule of DRAM is a valid place for an L0 table (32 bytes with PPS 4 GB).
    expect(smc(fx.pe, RC_LEAVE_MINIOS, dram.base + dram.size - 4096, kernelPc(fx), EL1H, 5)).toBe(5);
  });

  it('refuses an SPSR whose mode is not EL0t or EL1h', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    for (const bad of [0b1101, 0b1100, 0b1001, 0b0100, 0b0001, 0b10000, 0b10101, -1, 2 ** 32])
      refused(fx, os, bad);
  });

  it('accepts EL0t and EL1h with any DAIF and returns there with the given X0', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    expect(smc(fx.pe, RC_LEAVE_MINIOS, os, 0x7000_0000, 0b0000, 42)).toBe(42);
    expect([fx.pe.el, fx.pe.pc, fx.pe.irqMasked, gptBase(fx.pe)]).toEqual([0, 0x7000_0000, false, os]);
  });
});

describe('GPTBR_EL3 switches and TLB maintenance', () => {
  it('each switch issues TLBI PAALL: a TLB entry of the old view is gone after the switch', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    const closed = view(fx, VIEW_B_TABLES, [{ base: G, size: 4096, gpi: Gpi.NoAccess }]);
    leaveToKernel(fx, os);
    const pe = fx.pe;
    expect(canRead(pe, G)).toBe(true); // cached under the OS view
    fx.miniosAction = (p) => smc(p, RC_LEAVE_MINIOS, closed, p.x[8]!, p.x[9]!, MINIOS_REPLY);
    const paallBefore = pe.counters[Ev.TlbiPaall]!;
    expect(enter(pe)).toBe(MINIOS_REPLY);
    expect(pe.counters[Ev.TlbiPaall]! - paallBefore).toBe(2); // into Priv, out to the other view
    expect(gptBase(pe)).toBe(closed);
    expect(canRead(pe, G)).toBe(false);
    expect(fx.el1Faults.at(-1)! & 0x3f).toBe(0x28);
  });

  it('without the TLBI (the published prototype) the stale entry would still grant access', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    const closed = view(fx, VIEW_B_TABLES, [{ base: G, size: 4096, gpi: Gpi.NoAccess }]);
    fx.fw.smc.register(0xc200_01ff, 'prototype-switch', (pe) => pe.msrNumber('GPTBR_EL3', pe.x[1]! / 4096));
    leaveToKernel(fx, os);
    expect(canRead(fx.pe, G)).toBe(true);
    smc(fx.pe, 0xc200_01ff, closed);
    expect(gptBase(fx.pe)).toBe(closed);
    expect(canRead(fx.pe, G)).toBe(true); // stale: the granule is closed in the current view
  });

  it('with gptTaggedTlb: no TLBI PAALL, no stale access, and the old view’s entries are reused on return', () => {
    const fx = bootFixture({ gptTaggedTlb: true });
    const os = view(fx, OS_VIEW_TABLES);
    const closed = view(fx, VIEW_B_TABLES, [{ base: G, size: 4096, gpi: Gpi.NoAccess }]);
    leaveToKernel(fx, os);
    const pe = fx.pe;
    expect(canRead(pe, G)).toBe(true);
    const paallBefore = pe.counters[Ev.TlbiPaall]!;
    fx.miniosAction = (p) => smc(p, RC_LEAVE_MINIOS, closed, p.x[8]!, p.x[9]!, MINIOS_REPLY);
    expect(enter(pe)).toBe(MINIOS_REPLY);
    expect(canRead(pe, G)).toBe(false);
    fx.miniosAction = (p) => smc(p, RC_LEAVE_MINIOS, os, p.x[8]!, p.x[9]!, MINIOS_REPLY);
    expect(enter(pe)).toBe(MINIOS_REPLY);
    const gptReads = pe.counters[Ev.GptRead]!;
    const hits = pe.counters[Ev.TlbHit]!;
    expect(canRead(pe, G)).toBe(true);
    expect(pe.counters[Ev.GptRead]! - gptReads).toBe(0); // served by the entry tagged with the OS view
    expect(pe.counters[Ev.TlbHit]! - hits).toBe(1);
    expect(pe.counters[Ev.TlbiPaall]! - paallBefore).toBe(0);
  });
});

describe('RC_TLBI', () => {
  /** The mini-OS closes G in the OS view's tables (as its own stores would) and maybe invalidates. */
  function closeInOsView(fx: BootFixture, invalidate: boolean): boolean {
    const osView = buildView(fx.machine, OS_VIEW_TABLES, fx.fw.layout.pps, [
      { ...fx.fw.layout.root, gpi: Gpi.Root },
      { ...fx.fw.layout.minios, gpi: Gpi.NoAccess },
    ]);
    leaveToKernel(fx, osView.l0Base);
    expect(canRead(fx.pe, G)).toBe(true);
    fx.miniosAction = (p) => {
      osView.setGranule(G, Gpi.NoAccess);
      if (invalidate) expect(smc(p, RC_TLBI, 1, G, 4096)).toBe(SmcReturn.SUCCESS);
      smc(p, RC_LEAVE_MINIOS, p.x[10]!, p.x[8]!, p.x[9]!, MINIOS_REPLY);
    };
    expect(enter(fx.pe)).toBe(MINIOS_REPLY);
    return canRead(fx.pe, G);
  }

  it('a GPT edit needs RC_TLBI when switches do not flush (gptTaggedTlb)', () => {
    expect(closeInOsView(bootFixture({ gptTaggedTlb: true }), false)).toBe(true); // stale
    expect(closeInOsView(bootFixture({ gptTaggedTlb: true }), true)).toBe(false);
  });

  it('covers a range with the largest aligned RPA* sizes', () => {
    const fx = bootFixture();
    const seen = recordTlbis(fx.pe, () =>
      expect(smc(fx.pe, RC_TLBI, 1, 0x801f_f000, 0x20_2000)).toBe(SmcReturn.SUCCESS),
    );
    expect(seen).toEqual([
      ['RPALOS', 0x801ff],
      ['RPALOS', 0x80200 + 3 * 2 ** 44],
      ['RPALOS', 0x80400],
    ]);
    const gib = recordTlbis(fx.pe, () => smc(fx.pe, RC_TLBI, 1, 0x8000_0000, GIB));
    expect(gib).toEqual([['RPALOS', 0x80000 + 6 * 2 ** 44]]);
    const mixed = recordTlbis(fx.pe, () => smc(fx.pe, RC_TLBI, 1, 0x8001_0000, 0x3_0000));
    expect(mixed).toEqual([
      ['RPALOS', 0x80010 + 2 * 2 ** 44],
      ['RPALOS', 0x80020 + 2 * 2 ** 44],
      ['RPALOS', 0x80030 + 2 * 2 ** 44],
    ]);
    const all = recordTlbis(fx.pe, () => expect(smc(fx.pe, RC_TLBI, 0)).toBe(SmcReturn.SUCCESS));
    expect(all).toEqual([['PAALLOS', 0]]);
  });

  it('refuses misaligned, empty, overflowing ranges and unknown kinds with INVALID_PARAMETER', () => {
    const fx = bootFixture();
    const bad: [number, number, number][] = [
      [2, 0x8000_0000, 4096],
      [1, 0x8000_0800, 4096],
      [1, 0x8000_0000, 0x800],
      [1, 0x8000_0000, 0],
      [1, 2 ** 52 - 4096, 8192],
      [1, -4096, 8192],
      [1, 0x8000_0000, Number.NaN],
    ];
    for (const [kind, base, size] of bad) {
      const seen = recordTlbis(fx.pe, () =>
        expect(smc(fx.pe, RC_TLBI, kind, base, size)).toBe(SmcReturn.INVALID_PARAMETER),
      );
      expect(seen).toEqual([]);
    }
    expect(gptBase(fx.pe)).toBe(fx.fw.privGptBase);
  });
});

describe('RC_SET_DMA_GPT', () => {
  it('points SMMU_ROOT_GPT_BASE at a view from the Priv-GPT and refuses bad bases', () => {
    const fx = bootFixture();
    const os = view(fx, OS_VIEW_TABLES);
    expect(fx.machine.smmu.read64(SmmuReg.ROOT_GPT_BASE)).toBe(fx.fw.privGptBase);
    expect(smc(fx.pe, RC_SET_DMA_GPT, os + 0x800)).toBe(SmcReturn.INVALID_PARAMETER);
    expect(smc(fx.pe, RC_SET_DMA_GPT, fx.fw.privGptBase)).toBe(SmcReturn.INVALID_PARAMETER);
    expect(smc(fx.pe, RC_SET_DMA_GPT, os)).toBe(SmcReturn.SUCCESS);
    expect(fx.machine.smmu.read64(SmmuReg.ROOT_GPT_BASE)).toBe(os);
  });
});
