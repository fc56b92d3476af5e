/**
 * Test helpers for the firmware layer: a bare machine with a PE at EL3 for the GPT library, EL3
 * and EL1 vector code that records what it saw, GPT views built as bytes in memory (as the mini-OS
 * would build them), and a booted monitor with a tiny stand-in mini-OS at its entry.
 */
import { Ec, esrClass, VectorOffset } from '../../src/hw/exceptions.js';
import { GptLayout, PageAllocator } from '../../src/hw/layout.js';
import { Machine, type MachineParamsInput } from '../../src/hw/machine.js';
import { Gpi } from '../../src/hw/pas.js';
import type { ProcessingElement, TlbiOp } from '../../src/hw/pe.js';
import { bootMonitor, type BootMonitorOptions, type Firmware } from '../../src/firmware/monitor.js';
import { RC_LEAVE_MINIOS } from '../../src/firmware/rc-service.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

// ------------------------------------------------------------------------------------ bare PE

/** Code registered at VBAR_EL3 + 0x400 runs `smcAction` for an SMC and returns (see {@link atEl3}). */
export interface BareFixture {
  readonly machine: Machine;
  readonly pe: ProcessingElement;
  smcAction: ((pe: ProcessingElement) => void) | undefined;
  /** ESRs of exceptions taken to EL1. */
  readonly el1Faults: number[];
}

/**
 * A machine whose PE 0 is at EL3 (GPC off). EL3 vectors live at `el3Vectors` and EL1 vectors at
 * `el1Vectors`; EL1 faults are recorded and skip the faulting instruction.
 */
export function bareFixture(
  params: Partial<MachineParamsInput>,
  el3Vectors: number,
  el1Vectors: number,
): BareFixture {
  const machine = new Machine({ paRangeBits: 48, ...params });
  const pe = machine.pes[0]!;
  const fx: BareFixture = { machine, pe, smcAction: undefined, el1Faults: [] };
  machine.code.register(el3Vectors + VectorOffset.LowerSync, 'test-el3-sync', (p) => {
    if (esrClass(p.regs.low('ESR_EL3')) === Ec.Smc64) fx.smcAction?.(p);
    p.eret();
  });
  for (const offset of [VectorOffset.CurrentSync, VectorOffset.LowerSync]) {
    machine.code.register(el1Vectors + offset, 'test-el1-sync', (p) => {
      fx.el1Faults.push(p.regs.low('ESR_EL1'));
      p.regs.setNumber('ELR_EL1', p.regs.number('ELR_EL1') + 4);
      p.eret();
    });
  }
  for (const each of machine.pes) {
    each.setSysRegRaw('VBAR_EL3', el3Vectors, 0);
    each.setSysRegRaw('VBAR_EL1', el1Vectors, 0);
    each.setSysRegRaw('SCR_EL3', 1, 0);
  }
  return fx;
}

/** From EL3, drop `pe` to EL1h (Non-secure, MMU off) at `pc`. */
export function dropToEl1(pe: ProcessingElement, pc = 0x10_0000): void {
  pe.regs.set('SPSR_EL3', 0b0101, 0);
  pe.regs.setNumber('ELR_EL3', pc);
  pe.eret();
}

/** Run `action` at EL3 through an SMC from EL1 and come back to EL1. */
export function atEl3(fx: BareFixture, action: (pe: ProcessingElement) => void): void {
  if (fx.pe.el !== 1) throw new Error(`atEl3 needs EL1, PE is at EL${fx.pe.el}`);
  fx.smcAction = action;
  try {
    fx.pe.smc(0);
  } finally {
    fx.smcAction = undefined;
  }
}

/** A load at EL1 that reports whether it succeeded (false: a fault was taken). */
export function canRead(pe: ProcessingElement, pa: number): boolean {
  pe.load32(pa);
  return pe.lastFault === 0;
}

/** Record the TLBI operations `pe` issues (operation, operand) while `body` runs. */
export function recordTlbis(pe: ProcessingElement, body: () => void): [TlbiOp, number][] {
  const seen: [TlbiOp, number][] = [];
  const original = pe.tlbi.bind(pe);
  pe.tlbi = (op: TlbiOp, operand = 0, asid?: number): boolean => {
    seen.push([op, operand]);
    return original(op, operand, asid);
  };
  try {
    body();
  } finally {
    // Drop the instance override: the prototype method is visible again.
    delete (pe as unknown as { tlbi?: unknown }).tlbi;
  }
  return seen;
}

/** The 64-bit little-endian word at `pa` (host read), as a BigInt for comparisons. */
export function word(machine: Machine, pa: number): bigint {
  return machine.memory.read64(pa)!;
}

// ------------------------------------------------------------------------------------ views

/**
 * A GPT view written as bytes in DRAM (host writes, standing in for the mini-OS): L0 Block ANY,
 * with L1 tables for every L0 entry touched by `ranges` (filled Non-secure), then the ranges'
 * GPIs. Its tables are taken from [tables, tables + 4 MiB).
 */
export function buildView(
  machine: Machine,
  tables: number,
  pps: number,
  ranges: readonly { base: number; size: number; gpi: number }[],
): GptLayout {
  const view = new GptLayout(machine.memory, new PageAllocator(tables, 4 * MIB), { pps, pgs: 0, l0gptsz: 0 });
  for (const range of ranges) view.setRange(range.base, range.size, range.gpi, Gpi.NonSecure);
  return view;
}

// ------------------------------------------------------------------------------------ monitor

/** What the stand-in mini-OS saw at one entry. */
export interface MiniOsEntry {
  /** X0..X10 at entry. */
  readonly x: readonly number[];
  readonly el: number;
  readonly irqMasked: boolean;
  /** GPTBR_EL3 as an L0 base PA at entry. */
  readonly gptBase: number;
  readonly pe: number;
}

/** A booted monitor with a stand-in mini-OS. */
export interface BootFixture {
  readonly machine: Machine;
  readonly fw: Firmware;
  readonly pe: ProcessingElement;
  /** Every entry into the mini-OS, boot included. */
  readonly entries: MiniOsEntry[];
  /**
   * What the mini-OS does after recording an entry (not at boot). Default: leave to the caller's
   * view (X10), at the caller's return address (X8) with its SPSR (X9), X0 = 0x600d.
   */
  miniosAction: (pe: ProcessingElement) => void;
  /** ESRs of exceptions taken to the EL1 vectors (the "kernel" vectors of the tests). */
  readonly el1Faults: number[];
  /** EL1 vector table of the test "kernel" (in the kernel region). */
  readonly el1Vectors: number;
}

/** Test images. */
export const IMAGES = {
  firmware: { name: 'bl31', bytes: new TextEncoder().encode('EL3 monitor image') },
  minios: { name: 'minios', bytes: new TextEncoder().encode('mini-OS image') },
  kernel: { name: 'kernel', bytes: new TextEncoder().encode('kernel image') },
} as const;

/** The stand-in's reply to a gate entry. */
export const MINIOS_REPLY = 0x600d;

/**
 * Boot a machine (default DRAM 1 GiB at 0x8000_0000) with the monitor; the stand-in mini-OS at the
 * entry records X0-X10 and, after boot, leaves through RC_LEAVE_MINIOS. Each PE ends in the
 * mini-OS at EL1 (Priv-GPT), having run the stand-in's boot entry.
 */
export function bootFixture(
  params: Partial<MachineParamsInput> = {},
  options: Partial<BootMonitorOptions> = {},
): BootFixture {
  const machine = new Machine({ paRangeBits: 48, ...params });
  const entries: MiniOsEntry[] = [];
  const el1Faults: number[] = [];
  let booted = 0;
  const fx = {
    machine,
    entries,
    el1Faults,
    miniosAction: (pe: ProcessingElement) => {
      const [x8, x9, x10] = [pe.x[8]!, pe.x[9]!, pe.x[10]!];
      pe.x[0] = RC_LEAVE_MINIOS;
      pe.x[1] = x10;
      pe.x[2] = x8;
      pe.x[3] = x9;
      pe.x[4] = MINIOS_REPLY;
      pe.smc(0);
    },
  } as Partial<BootFixture> & { miniosAction: (pe: ProcessingElement) => void };
  // The entry address is only known once the layout is resolved: default layout puts the mini-OS
  // region right after the 2 MiB Root region at the start of DRAM.
  const dram = machine.memory.dramRegions()[0]!;
  const layout = options.layout;
  const entry =
    layout?.miniosBootEntry ?? layout?.miniosEntryVa ?? layout?.minios?.base ?? dram.base + 2 * MIB;
  machine.code.register(entry, 'stand-in-minios', (pe) => {
    entries.push({
      x: Array.from(pe.x.subarray(0, 11)),
      el: pe.el,
      irqMasked: pe.irqMasked,
      gptBase: (pe.regs.number('GPTBR_EL3') % 2 ** 40) * 4096,
      pe: pe.id,
    });
    if (booted < machine.pes.length) {
      booted++;
      return;
    }
    fx.miniosAction(pe);
  });
  const fw = bootMonitor(machine, { images: IMAGES, seed: 'test machine', ...options });
  const el1Vectors = fw.layout.kernel.base + 0x10_0000;
  for (const offset of [VectorOffset.CurrentSync, VectorOffset.LowerSync]) {
    machine.code.register(el1Vectors + offset, 'test-kernel-sync', (p) => {
      el1Faults.push(p.regs.low('ESR_EL1'));
      p.regs.setNumber('ELR_EL1', p.regs.number('ELR_EL1') + 4);
      p.eret();
    });
  }
  for (const pe of machine.pes) pe.regs.setNumber('VBAR_EL1', el1Vectors);
  return Object.assign(fx, { fw, pe: machine.pes[0]!, el1Vectors }) as BootFixture;
}

/** Issue an SMC from the PE's current EL with X0 = `fid` and X1.. = `args`; returns X0. */
export function smc(pe: ProcessingElement, fid: number, ...args: number[]): number {
  pe.x[0] = fid;
  args.forEach((value, i) => (pe.x[i + 1] = value));
  pe.smc(0);
  return pe.x[0]!;
}

/** GPTBR_EL3 of `pe` as an L0 base PA. */
export function gptBase(pe: ProcessingElement): number {
  return (pe.regs.number('GPTBR_EL3') % 2 ** 40) * 4096;
}
