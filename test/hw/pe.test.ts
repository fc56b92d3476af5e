/**
 * The processing element (src/hw/pe.ts) with src/hw/exceptions.ts: exception entry on faults
 * (syndrome, FAR, ELR, SPSR, MFAR, routing to EL1 or to EL3 as a GPC exception), SVC, SMC, ERET to
 * registered code, undefined instructions, IRQs, and cycle and counter accounting.
 */
import { describe, expect, it } from 'vitest';
import { vaFromU64 } from '../../src/hw/bits.js';
import { Ev, EVENT_INFO } from '../../src/hw/cost.js';
import { Ec, VectorOffset } from '../../src/hw/exceptions.js';
import { Machine } from '../../src/hw/machine.js';
import { MMIO_FRAME, type MmioHandler } from '../../src/hw/memory.js';
import { Gpi } from '../../src/hw/pas.js';
import type { ProcessingElement } from '../../src/hw/pe.js';
import {
  FX,
  atEl3,
  dataVa,
  dropToEl0,
  esrFields,
  l0Table,
  makePeFixture,
  type ExceptionRecord,
  type PeFixture,
} from './helpers.js';

const EL1H = 0b0101;
const EL0T = 0b0000;

function lastRecord(fx: PeFixture): ExceptionRecord {
  const record = fx.records.at(-1);
  if (record === undefined) throw new Error('no exception was taken');
  return record;
}

/** Fixture with the EL0 context entered at the EL0 code page. */
function atEl0(options: Parameters<typeof makePeFixture>[0] = {}): PeFixture {
  const fx = makePeFixture(options);
  dropToEl0(fx.pe, FX.el0Code);
  expect(fx.pe.el).toBe(0);
  return fx;
}

describe('data aborts taken to EL1', () => {
  it('a GPF on the final access at EL1: EC 0x25, DFSC 0x28, FAR, ELR, SPSR, current-EL vector', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    fx.memory.write32(dataVa(3), 0x1111);
    fx.gpt.setGpi(dataVa(3), Gpi.Root);
    const pc = pe.pc;
    expect(pe.load32(dataVa(3) + 0x24)).toBe(0);
    const r = lastRecord(fx);
    expect(r.targetEl).toBe(1);
    expect(r.vectorOffset).toBe(VectorOffset.CurrentSync);
    expect(r.ec).toBe(Ec.DataAbortSame);
    const esr = esrFields(r.esr);
    expect(esr).toMatchObject({ il: 1, fsc: 0x28, wnr: false, s1ptw: false });
    expect(r.far).toBe(dataVa(3) + 0x24);
    expect(r.elr).toBe(pc);
    expect(r.spsr & 0xf).toBe(EL1H);
    expect(pe.lastFault).toBe(r.esr);
    expect(pe.regs.low('ESR_EL1')).toBe(r.esr);
    expect(pe.el).toBe(1);
    // A store is refused the same way, with WnR, and writes nothing.
    expect(pe.store32(dataVa(3), 0x2222)).toBe(false);
    expect(esrFields(lastRecord(fx).esr)).toMatchObject({ fsc: 0x28, wnr: true });
    expect(fx.memory.read32(dataVa(3))).toBe(0x1111);
    // A later successful access clears lastFault.
    expect(pe.load32(dataVa(4))).toBe(0);
    expect(pe.lastFault).toBe(0);
  });

  it('from EL0: EC 0x24 at the lower-EL vector, SPSR EL0t, and the PE returns to EL0', () => {
    const fx = atEl0();
    const pe = fx.pe;
    fx.gpt.setGpi(dataVa(2), Gpi.Realm);
    expect(pe.load32(dataVa(2))).toBe(0);
    const r = lastRecord(fx);
    expect(r.vectorOffset).toBe(VectorOffset.LowerSync);
    expect(r.ec).toBe(Ec.DataAbortLower);
    expect(esrFields(r.esr).fsc).toBe(0x28);
    expect(r.spsr & 0xf).toBe(EL0T);
    expect(r.elr).toBe(FX.el0Code);
    expect(pe.el).toBe(0);
    expect(pe.pc).toBe(FX.el0Code + 4); // the handler skipped the instruction
  });

  it('translation and permission faults carry their FSC and level', () => {
    const fx = atEl0();
    const pe = fx.pe;
    expect(pe.load32(FX.kernelData)).toBe(0); // EL1-only page
    expect(esrFields(lastRecord(fx).esr)).toMatchObject({ fsc: 0b001111, wnr: false });
    expect(pe.store32(FX.el0Code, 1)).toBe(false); // read-only code page
    expect(esrFields(lastRecord(fx).esr)).toMatchObject({ fsc: 0b001111, wnr: true });
    expect(pe.load32(0x7f00_0000_0000)).toBe(0); // nothing mapped at L0 index 0xFE
    expect(esrFields(lastRecord(fx).esr).fsc).toBe(0b000100);
    expect(pe.load32(dataVa(FX.dataPages))).toBe(0); // L3 entry after the last data page
    expect(esrFields(lastRecord(fx).esr).fsc).toBe(0b000111);
    expect(lastRecord(fx).far).toBe(dataVa(FX.dataPages));
    expect(fx.records.every((r) => r.ec === Ec.DataAbortLower && r.targetEl === 1)).toBe(true);
  });

  it('a GPF on a translation-table fetch: DFSC 0b1001LL with S1PTW', () => {
    const fx = makePeFixture();
    const va = 0x6800_0000; // its own level-3 table
    fx.pt.map(fx.root0, va, dataVa(8), 3, { ap: 1, pxn: true, uxn: true });
    const l3Table = Math.floor(fx.pt.entryPa(fx.root0, va, 3) / 4096) * 4096;
    fx.gpt.setGpi(l3Table, Gpi.Root);
    expect(fx.pe.load32(va + 12)).toBe(0);
    const r = lastRecord(fx);
    expect(r.ec).toBe(Ec.DataAbortSame);
    expect(esrFields(r.esr)).toMatchObject({ fsc: 0b100111, s1ptw: true });
    expect(r.far).toBe(va + 12);
  });
});

describe('GPC exceptions taken to EL3', () => {
  it('SCR_EL3.GPF = 1 routes a lower-EL GPF to EL3: EC 0x1E, GPCSC, MFAR_EL3, FAR_EL3', () => {
    const fx = makePeFixture({ scrGpf: true });
    const pe = fx.pe;
    fx.gpt.setGpi(dataVa(5), Gpi.Secure);
    const pc = pe.pc;
    expect(pe.store32(dataVa(5) + 0x44, 1)).toBe(false);
    expect(fx.records).toHaveLength(1);
    const r = lastRecord(fx);
    expect(r.targetEl).toBe(3);
    expect(r.vectorOffset).toBe(VectorOffset.LowerSync);
    expect(r.ec).toBe(Ec.GranuleProtection);
    expect(esrFields(r.esr)).toMatchObject({
      gpcsc: 0b001101,
      fsc: 0x28,
      wnr: true,
      s1ptw: false,
      ind: false,
      il: 1,
    });
    expect(r.mfar).toBe((1n << 63n) | BigInt(dataVa(5))); // FPA and NS = 1 (Non-secure PAS)
    expect(r.far).toBe(dataVa(5) + 0x44);
    expect(r.elr).toBe(pc);
    expect(r.spsr & 0xf).toBe(EL1H);
    expect(pe.el).toBe(1);
    expect(pe.lastFault).toBe(r.esr);
  });

  it('from EL0 as well', () => {
    const fx = atEl0({ scrGpf: true });
    fx.gpt.setGpi(dataVa(1), Gpi.NoAccess);
    expect(fx.pe.load32(dataVa(1))).toBe(0);
    const r = lastRecord(fx);
    expect([r.targetEl, r.ec, r.spsr & 0xf]).toEqual([3, Ec.GranuleProtection, EL0T]);
    expect(fx.pe.el).toBe(0);
  });

  it('GPT walk faults go to EL3 even with SCR_EL3.GPF = 0', () => {
    const fx = makePeFixture();
    fx.gpt.setGpi(dataVa(6), 0xe); // reserved GPI
    expect(fx.pe.load32(dataVa(6))).toBe(0);
    const r = lastRecord(fx);
    expect([r.targetEl, r.ec]).toEqual([3, Ec.GranuleProtection]);
    expect(esrFields(r.esr)).toMatchObject({ gpcsc: 0b000101, fsc: 0x28, s1ptw: false });
    expect(r.mfar).toBe((1n << 63n) | BigInt(dataVa(6)));
  });

  it('a GPT walk fault on a table fetch sets S1PTW; a GPT external abort has GPCSC 0b0101LL', () => {
    const fx = makePeFixture();
    const va = 0x6800_0000;
    fx.pt.map(fx.root0, va, dataVa(8), 3, { ap: 1, pxn: true, uxn: true });
    fx.gpt.setGpi(fx.pt.entryPa(fx.root0, va, 3), 0xc);
    expect(fx.pe.load32(va)).toBe(0);
    expect(esrFields(lastRecord(fx).esr)).toMatchObject({ gpcsc: 0b000101, fsc: 0b100111, s1ptw: true });

    // [2 GiB, 3 GiB) described by an L1 table outside DRAM.
    fx.gpt.setL0(2, l0Table(0x1_0000_0000));
    fx.pt.map(fx.root0, 0x6900_0000, 0x8000_0000, 3, { ap: 1, pxn: true, uxn: true });
    expect(fx.pe.load32(0x6900_0000)).toBe(0);
    const r = lastRecord(fx);
    expect([r.targetEl, r.ec]).toEqual([3, Ec.GranuleProtection]);
    expect(esrFields(r.esr).gpcsc).toBe(0b010101);
  });

  it('a GPF at EL3 is an ordinary data abort at EL3, whatever SCR_EL3.GPF says', () => {
    const fx = makePeFixture({ scrGpf: true });
    let value = -1;
    let fault = 0;
    atEl3(fx, (p) => {
      // Nested exception: save and restore the return state of the SMC, as EL3 software must.
      const elr = p.regs.pair('ELR_EL3');
      const spsr = p.regs.pair('SPSR_EL3');
      value = p.load32(dataVa(0)); // MMU off: Root PAS on a Non-secure granule
      fault = p.lastFault;
      p.regs.set('ELR_EL3', ...elr);
      p.regs.set('SPSR_EL3', ...spsr);
    });
    expect(value).toBe(0);
    const nested = fx.records[1]!;
    expect([nested.targetEl, nested.vectorOffset, nested.ec]).toEqual([
      3,
      VectorOffset.CurrentSync,
      Ec.DataAbortSame,
    ]);
    expect(esrFields(nested.esr).fsc).toBe(0x28);
    expect(fault).toBe(nested.esr);
    expect(fx.pe.el).toBe(1);
  });
});

describe('instruction aborts', () => {
  it('fetching from an execute-never page at EL1: EC 0x21; from EL0: EC 0x20', () => {
    const fx = makePeFixture();
    expect(fx.pe.call(dataVa(0))).toBe(false);
    let r = lastRecord(fx);
    expect([r.ec, esrFields(r.esr).fsc, r.far]).toEqual([Ec.InstructionAbortSame, 0b001111, dataVa(0)]);
    dropToEl0(fx.pe, FX.el0Code);
    expect(fx.pe.call(FX.el1Code)).toBe(false); // EL1-only page
    r = lastRecord(fx);
    expect([r.ec, esrFields(r.esr).fsc, r.vectorOffset]).toEqual([
      Ec.InstructionAbortLower,
      0b001111,
      VectorOffset.LowerSync,
    ]);
  });

  it('a GPF on a fetch routed to EL3 sets InD', () => {
    const fx = makePeFixture({ scrGpf: true });
    let ran = false;
    fx.machine.code.register(FX.el1Code, 'entry', () => {
      ran = true;
    });
    fx.gpt.setGpi(FX.el1Code, Gpi.Root);
    expect(fx.pe.call(FX.el1Code)).toBe(false);
    expect(ran).toBe(false);
    const r = lastRecord(fx);
    expect([r.targetEl, r.ec]).toEqual([3, Ec.GranuleProtection]);
    expect(esrFields(r.esr)).toMatchObject({ ind: true, gpcsc: 0b001101, fsc: 0x28, wnr: false });
  });

  it('call() runs registered code at the current EL after fetching it', () => {
    const fx = makePeFixture();
    const seen: number[] = [];
    fx.machine.code.register(FX.el1Code + 8, 'routine', (p) => {
      seen.push(p.el, p.pc);
      p.branch(FX.mainPc);
    });
    expect(fx.pe.call(FX.el1Code + 8)).toBe(true);
    expect(seen).toEqual([1, FX.el1Code + 8]);
    expect(fx.records).toEqual([]);
  });
});

describe('SVC and SMC', () => {
  it('SVC from EL0 runs the EL1 vector code and returns to EL0 after ERET', () => {
    const fx = atEl0();
    const pe = fx.pe;
    const pc = pe.pc;
    const inside: number[] = [];
    fx.el1Action = (p, record) => {
      inside.push(p.el, record.esr);
      p.x[0] = 42;
      p.eret();
    };
    pe.svc(0x1234);
    const r = lastRecord(fx);
    expect(r.vectorOffset).toBe(VectorOffset.LowerSync);
    expect(r.ec).toBe(Ec.Svc64);
    expect(r.esr & 0xffff).toBe(0x1234);
    expect(r.elr).toBe(pc + 4);
    expect(r.spsr & 0xf).toBe(EL0T);
    expect(inside).toEqual([1, r.esr]);
    expect(pe.el).toBe(0);
    expect(pe.pc).toBe(pc + 4);
    expect(pe.x[0]).toBe(42);
  });

  it('SMC from EL1 reaches the EL3 vector and returns to EL1', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    const pc = pe.pc;
    let state = -1;
    fx.smcAction = (p) => {
      state = p.securityState;
    };
    pe.smc(0x77);
    const r = lastRecord(fx);
    expect([r.targetEl, r.vectorOffset, r.ec, r.esr & 0xffff]).toEqual([
      3,
      VectorOffset.LowerSync,
      Ec.Smc64,
      0x77,
    ]);
    expect(r.elr).toBe(pc + 4);
    expect(r.spsr & 0xf).toBe(EL1H);
    expect(state).toBe(2); // Root
    expect(pe.el).toBe(1);
    expect(pe.pc).toBe(pc + 4);
  });

  it('SMC at EL3 uses the current-EL vector', () => {
    const fx = makePeFixture();
    fx.pe.reset(3, FX.el3Vectors + 0x800);
    fx.el3Action = (p) => p.eret();
    fx.pe.smc(1);
    expect(lastRecord(fx).vectorOffset).toBe(VectorOffset.CurrentSync);
    expect(fx.pe.el).toBe(3);
  });

  it('an SMC handler that ERETs to a different registered entry point runs that code', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    const returnPc = pe.pc + 4;
    const order: string[] = [];
    fx.machine.code.register(FX.el1Code, 'entry', (p) => {
      order.push(`entry EL${p.el} x1=${p.x[1]}`);
      p.branch(returnPc); // back to the caller of the SMC
    });
    fx.el3Action = (p) => {
      order.push('el3');
      p.x[1] = 7;
      p.regs.setNumber('ELR_EL3', FX.el1Code);
      p.regs.set('SPSR_EL3', EL1H, 0);
      p.eret();
    };
    pe.smc(0);
    expect(order).toEqual(['el3', 'entry EL1 x1=7']);
    expect(pe.el).toBe(1);
    expect(pe.pc).toBe(returnPc);
    expect(pe.halted).toBeUndefined();
  });

  it('ERET to an address with no code leaves dispatch to the caller', () => {
    const fx = makePeFixture();
    fx.el3Action = (p) => {
      p.regs.setNumber('ELR_EL3', 0x7777_0000);
      p.eret();
    };
    fx.pe.smc(0);
    expect(fx.pe.el).toBe(1);
    expect(fx.pe.pc).toBe(0x7777_0000);
    expect(fx.pe.halted).toBeUndefined();
  });
});

describe('undefined instructions', () => {
  it('SMC at EL0 is undefined: EC 0 at EL1, ELR at the SMC, nothing reaches EL3', () => {
    const fx = atEl0();
    const pc = fx.pe.pc;
    fx.pe.smc(0);
    expect(fx.records).toHaveLength(1);
    const r = lastRecord(fx);
    expect([r.targetEl, r.vectorOffset, r.ec, r.elr]).toEqual([1, VectorOffset.LowerSync, Ec.Unknown, pc]);
    expect(esrFields(r.esr).il).toBe(1);
  });

  it('TLBI PAALL/RPALOS below EL3 and TLBI VAE1 at EL0 are undefined and invalidate nothing', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    fx.memory.write32(dataVa(0), 5);
    expect(pe.load32(dataVa(0))).toBe(5);
    fx.gpt.setGpi(dataVa(0), Gpi.Root);
    expect(pe.tlbi('PAALL')).toBe(false);
    expect([lastRecord(fx).ec, lastRecord(fx).vectorOffset]).toEqual([Ec.Unknown, VectorOffset.CurrentSync]);
    expect(pe.tlbi('RPALOS', dataVa(0) / 4096)).toBe(false);
    expect(pe.tlbi('PAALLOS')).toBe(false);
    expect(pe.load32(dataVa(0))).toBe(5); // the stale entry survived
    dropToEl0(pe, FX.el0Code);
    expect(pe.tlbi('VAE1', dataVa(0))).toBe(false);
    expect([lastRecord(fx).ec, lastRecord(fx).vectorOffset]).toEqual([Ec.Unknown, VectorOffset.LowerSync]);
    expect(pe.load32(dataVa(0))).toBe(5);
    expect(fx.records).toHaveLength(4);
  });

  it('MSR/MRS of a register above the current EL are undefined and change nothing', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    const gptbr = pe.regs.pair('GPTBR_EL3');
    expect(pe.msr('GPTBR_EL3', 0x1234, 0)).toBe(false);
    expect(pe.regs.pair('GPTBR_EL3')).toEqual(gptbr);
    expect(lastRecord(fx).ec).toBe(Ec.Unknown);
    expect(pe.mrs('SCR_EL3')).toBeUndefined();
    expect(fx.records).toHaveLength(2);
    expect(pe.msr('VBAR_EL1', FX.el1Vectors, 0)).toBe(true);
    expect(pe.mrs('VBAR_EL1')).toEqual([FX.el1Vectors, 0]);
    dropToEl0(pe, FX.el0Code);
    expect(pe.msr('VBAR_EL1', 0, 0)).toBe(false);
    expect(pe.regs.low('VBAR_EL1')).toBe(FX.el1Vectors);
    expect(pe.mrs('CNTP_CTL_EL0')).toEqual([0, 0]);
    expect(fx.records).toHaveLength(3);
  });
});

describe('ERET and IRQs', () => {
  it('ERET to a higher EL (or to EL2) is an illegal return that stays at the current EL', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    for (const m of [0b1101, 0b1001]) {
      pe.regs.set('SPSR_EL1', m, 0);
      pe.regs.setNumber('ELR_EL1', 0x7000);
      pe.eret();
      expect(pe.el).toBe(1);
      expect(pe.pc).toBe(0x7000);
    }
  });

  it('a pending IRQ is taken at EL0 when unmasked, to the IRQ vector, and returns', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    pe.regs.set('SPSR_EL1', 0, 0); // EL0t, I = 0
    pe.regs.setNumber('ELR_EL1', FX.el0Code);
    pe.eret();
    expect(pe.irqMasked).toBe(false);
    expect(pe.pollInterrupts()).toBe(false); // nothing pending
    pe.setIrq(true);
    fx.el1Action = (p) => {
      p.setIrq(false);
      p.eret();
    };
    const esrBefore = pe.regs.low('ESR_EL1');
    expect(pe.pollInterrupts()).toBe(true);
    const r = lastRecord(fx);
    expect(r.vectorOffset).toBe(VectorOffset.LowerIrq);
    expect(r.elr).toBe(FX.el0Code);
    expect(pe.regs.low('ESR_EL1')).toBe(esrBefore); // an IRQ writes no syndrome
    expect([pe.el, pe.pc]).toEqual([0, FX.el0Code]);
    expect(pe.counters[Ev.Interrupt]).toBe(1);
  });

  it('a masked IRQ, or any IRQ at EL3, is not taken', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    pe.setIrq(true);
    pe.reset(1, FX.mainPc, true);
    expect(pe.pollInterrupts()).toBe(false);
    pe.reset(3, 0, false);
    expect(pe.pollInterrupts()).toBe(false);
    expect(fx.records).toEqual([]);
  });
});

describe('MMIO and block transfers through the PE', () => {
  it('word accesses to a device page reach the device', () => {
    const log: string[] = [];
    const device: MmioHandler = {
      read32: (offset) => (log.push(`r${offset}`), 0xfeed_0000 + offset),
      write32: (offset, value) => (log.push(`w${offset}=${value}`), true),
    };
    const fx = makePeFixture({ mmio: [{ name: 'dev', base: 0x0900_0000, size: 0x1000, handler: device }] });
    fx.pt.map(fx.root0, 0x6a00_0000, 0x0900_0000, 3, { ap: 0, pxn: true, uxn: true });
    expect(fx.pe.load32(0x6a00_0008)).toBe(0xfeed_0008);
    expect(fx.pe.store32(0x6a00_000c, 3)).toBe(true);
    expect(fx.pe.load32(0x6a00_0008)).toBe(0xfeed_0008); // hits in the TLB, still goes to the device
    expect(log).toEqual(['r8', 'w12=3', 'r8']);
    expect(fx.pe.tlb.frame[fx.pe.tlb.indexOf(0x6a000)]).toBe(MMIO_FRAME);
  });

  it('readBytes/writeBytes cross pages, and stop at the first page that faults', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    const data = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    expect(pe.writeBytes(dataVa(3) + 100, data)).toBe(true);
    expect(fx.memory.readBytes(dataVa(3) + 100, 5000)).toEqual(data);
    expect(pe.readBytes(dataVa(3) + 100, 5000)).toEqual(data);
    expect(pe.fillBytes(dataVa(5) - 10, 20, 0xee)).toBe(true);
    expect(fx.memory.read32(dataVa(5) - 4)).toBe(0xeeee_eeee);
    // The last data page is followed by an unmapped page.
    expect(pe.writeBytes(dataVa(FX.dataPages) - 8, new Uint8Array(16).fill(1))).toBe(false);
    expect(lastRecord(fx).far).toBe(dataVa(FX.dataPages));
    expect(pe.readBytes(dataVa(FX.dataPages) - 8, 16)).toBeUndefined();
    expect(pe.lastFault).not.toBe(0);
  });

  it('load64/store64 and unaligned words', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    expect(pe.store64(dataVa(1), 0x89ab_cdef, 0x0012_3456)).toBe(true);
    expect(pe.load64(dataVa(1))).toBe(0x0012_3456_89ab_cdef);
    expect(pe.load32(dataVa(1) + 2)).toBe(0x3456_89ab);
    expect(pe.store32(dataVa(2) - 2, 0x1122_3344)).toBe(true);
    expect(fx.memory.read8(dataVa(2) - 2)).toBe(0x44);
    expect(fx.memory.read8(dataVa(2) + 1)).toBe(0x11);
    expect(pe.load8(dataVa(2))).toBe(0x22);
    expect(pe.store8(dataVa(2), 0x99)).toBe(true);
    expect(pe.load32(dataVa(2) - 2)).toBe(0x1199_3344);
  });
});

describe('cycle and counter accounting', () => {
  function expectCyclesMatchCounters(pe: ProcessingElement, fx: PeFixture): void {
    let expected = 0;
    for (let ev = 0; ev < EVENT_INFO.length; ev++)
      expected += pe.counters[ev]! * fx.machine.profile.cost[ev as Ev];
    expect(pe.cycles).toBeCloseTo(expected, 6);
  }

  it('counts misses, walk and GPT reads, hits, exceptions, SMCs and TLBIs, and prices them', () => {
    const fx = makePeFixture();
    const pe = fx.pe;
    const cost = fx.machine.profile.cost;
    const snapshot = (): Record<string, number> => pe.stats();
    let before = snapshot();
    pe.load32(dataVa(0));
    let after = snapshot();
    expect(after.tlbMisses! - before.tlbMisses!).toBe(1);
    expect(after.walkReads! - before.walkReads!).toBe(4);
    expect(after.gptReads!).toBeGreaterThan(before.gptReads!);
    expect(after.cycles! - before.cycles!).toBeGreaterThanOrEqual(cost[Ev.TlbMiss] + 4 * cost[Ev.WalkRead]);

    before = after;
    pe.load32(dataVa(0) + 4);
    after = snapshot();
    expect(after.tlbHits! - before.tlbHits!).toBe(1);
    expect(after.cycles! - before.cycles!).toBe(cost[Ev.TlbHit]);

    fx.gpt.setGpi(dataVa(9), Gpi.Root);
    before = after;
    pe.load32(dataVa(9));
    after = snapshot();
    expect(after.accessFaults! - before.accessFaults!).toBe(1);
    expect(after.gpcFaults! - before.gpcFaults!).toBe(1);
    expect(after.exceptionsToEl1! - before.exceptionsToEl1!).toBe(1);
    expect(after.returnsFromEl1! - before.returnsFromEl1!).toBe(1);
    expect(after.cycles! - before.cycles!).toBeGreaterThanOrEqual(
      cost[Ev.ExceptionToEl1] + cost[Ev.ReturnFromEl1],
    );

    before = after;
    atEl3(fx, (p) => p.tlbi('PAALL'));
    after = snapshot();
    expect(after.smcs! - before.smcs!).toBe(1);
    expect(after.exceptionsToEl3! - before.exceptionsToEl3!).toBe(1);
    expect(after.returnsFromEl3! - before.returnsFromEl3!).toBe(1);
    expect(after.tlbiPaall! - before.tlbiPaall!).toBe(1);
    expect(after.tlbOccupancy).toBe(0);

    before = after;
    pe.msr('VBAR_EL1', FX.el1Vectors, 0);
    pe.compute(1000);
    pe.tlbi('VAE1', dataVa(0));
    after = snapshot();
    expect(after.sysRegWrites! - before.sysRegWrites!).toBe(1);
    expect(after.computeCycles! - before.computeCycles!).toBe(1000);
    expect(after.tlbiVa! - before.tlbiVa!).toBe(1);
    expect(after.cycles! - before.cycles!).toBe(cost[Ev.SysRegWrite] + 1000 + cost[Ev.TlbiVa]);
    expectCyclesMatchCounters(pe, fx);
  });

  it('stats() names every counter', () => {
    const stats = makePeFixture().pe.stats();
    for (const info of EVENT_INFO) expect(stats).toHaveProperty(info.name);
    expect(stats).toHaveProperty('cycles');
    expect(stats).toHaveProperty('tlbOccupancy');
  });
});

describe('machine parameters, code registry and system registers', () => {
  it('rejects bad machine parameters with a clear message', () => {
    expect(() => new Machine({ paRangeBits: 60 })).toThrow(/paRangeBits/);
    expect(() => new Machine({ pes: 0 })).toThrow(/pes/);
    expect(() => new Machine({ tlbEntries: 3 })).toThrow(/power of two/);
    expect(() => new Machine({ cpu: 'pentium' })).toThrow(/unknown CPU profile/);
    expect(() => new Machine({ dram: [{ name: 'd', base: 0x100, size: 0x1000 }] })).toThrow(/aligned/);
    const machine = new Machine({});
    expect(machine.pes).toHaveLength(1);
    expect(machine.pes[0]!.el).toBe(3); // reset state
    expect(machine.memory.dramRegions()).toEqual([{ name: 'dram0', base: 0x8000_0000, size: 0x4000_0000 }]);
  });

  it('registers code at 4-byte-aligned addresses, once', () => {
    const machine = new Machine({});
    const run = (): void => undefined;
    machine.code.register(0x8000_0000, 'a', run);
    expect(machine.code.at(0x8000_0000)?.name).toBe('a');
    expect(() => machine.code.register(0x8000_0000, 'b', run)).toThrow(/already holds code/);
    expect(() => machine.code.register(0x8000_0002, 'c', run)).toThrow(/bad address/);
    expect(() => machine.code.register(-4, 'd', run)).toThrow(/bad address/);
    machine.code.unregister(0x8000_0000);
    expect(machine.code.at(0x8000_0000)).toBeUndefined();
  });

  it('setSysRegRaw refuses names the model does not have; values keep both halves', () => {
    const pe = new Machine({}).pes[0]!;
    expect(pe.setSysRegRaw('HCR_EL2', 1, 0)).toBe(false);
    expect(pe.setSysRegRaw('FAR_EL1', 0xffff_f000, 0xffff_ffff)).toBe(true);
    expect(pe.regs.number('FAR_EL1')).toBe(-4096); // a TTBR1 VA number
    pe.regs.setNumber('ELR_EL1', vaFromU64(0xffff_8000_0000_1000n));
    expect(pe.regs.pair('ELR_EL1')).toEqual([0x1000, 0xffff_8000]);
  });
});
