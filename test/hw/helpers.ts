/**
 * Test helpers for the hw layer: build GPTs and stage-1 page tables as bytes in simulated physical
 * memory (STYLE.md rule 5: the walkers read them through the memory system), encode GPCCR/TCR/TTBR
 * values, and set up a PE with exception vectors whose handlers record what they were given.
 *
 * Descriptor encodings follow spec/cca-hardware.md §3.3-3.4 (GPT) and §7.3 (stage 1); the worked
 * encodings of §8 are checked against these encoders in the unit tests.
 */
import { bigToHalves } from '../../src/hw/bits.js';
import { Ec, esrClass } from '../../src/hw/exceptions.js';
import { Machine, type MachineParamsInput } from '../../src/hw/machine.js';
import type { MmioRegionSpec, PhysicalMemory } from '../../src/hw/memory.js';
import type { ProcessingElement } from '../../src/hw/pe.js';
import { Gpi } from '../../src/hw/pas.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

// ------------------------------------------------------------------------------------ GPCCR

/** PPS encodings by protected-size bits (§2.2). */
const PPS_BY_BITS: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
/** PGS encodings by granule bits (0b01 = 64 KB, 0b10 = 16 KB). */
const PGS_BY_BITS: Record<number, number> = { 12: 0, 16: 1, 14: 2 };
/** L0GPTSZ encodings by L0 region bits. */
const L0GPTSZ_BY_BITS: Record<number, number> = { 30: 0, 34: 4, 36: 6, 39: 9 };

/** Fields of GPCCR_EL3 (all in the low word). Defaults: GPC on, Inner-shareable WB tables. */
export interface GpccrSpec {
  readonly pps: number;
  readonly pgs?: number;
  readonly l0gptsz?: number;
  readonly gpc?: boolean;
  readonly sh?: number;
  readonly irgn?: number;
  readonly orgn?: number;
  readonly nso?: boolean;
  readonly appsaa?: boolean;
  readonly sa?: boolean;
  readonly nsp?: boolean;
  readonly na6?: boolean;
  readonly na7?: boolean;
  readonly spad?: boolean;
  readonly nspad?: boolean;
  readonly rlpad?: boolean;
}

/** Encode GPCCR_EL3 (bit positions of spec §2.1). */
export function gpccr(spec: GpccrSpec): number {
  const flag = (on: boolean | undefined, bit: number): number => (on ? 2 ** bit : 0);
  return (
    (spec.pps & 7) +
    flag(spec.rlpad, 5) +
    flag(spec.spad, 7) +
    flag(spec.nspad, 6) +
    ((spec.irgn ?? 1) & 3) * 2 ** 8 +
    ((spec.orgn ?? 1) & 3) * 2 ** 10 +
    ((spec.sh ?? 3) & 3) * 2 ** 12 +
    ((spec.pgs ?? 0) & 3) * 2 ** 14 +
    flag(spec.gpc ?? true, 16) +
    flag(spec.nso, 19) +
    ((spec.l0gptsz ?? 0) & 0xf) * 2 ** 20 +
    flag(spec.appsaa, 24) +
    flag(spec.sa, 25) +
    flag(spec.nsp, 26) +
    flag(spec.na6, 27) +
    flag(spec.na7, 28)
  );
}

/** GPT geometry in bits: t = PPS, p = PGS, s = L0GPTSZ (spec §3.1). */
export interface GptGeometry {
  readonly t: number;
  readonly p: number;
  readonly s: number;
}

/** GPCCR_EL3 for a geometry, plus extra fields. */
export function gpccrFor(geometry: GptGeometry, extra: Partial<GpccrSpec> = {}): number {
  const pps = PPS_BY_BITS[geometry.t];
  const pgs = PGS_BY_BITS[geometry.p];
  const l0gptsz = L0GPTSZ_BY_BITS[geometry.s];
  if (pps === undefined || pgs === undefined || l0gptsz === undefined) {
    throw new RangeError(`no encoding for geometry t=${geometry.t} p=${geometry.p} s=${geometry.s}`);
  }
  return gpccr({ pps, pgs, l0gptsz, ...extra });
}

// ------------------------------------------------------------------------------------ GPT

/** L0 Block descriptor (type 0b0001, GPI [7:4]). */
export function l0Block(gpi: number): bigint {
  return BigInt(0x1 | (gpi << 4));
}
/** L0 Table descriptor (type 0b0011, L1 address [51:12]). */
export function l0Table(l1Base: number): bigint {
  return BigInt(l1Base) | 0x3n;
}
/** L1 Contiguous descriptor (type 0b0001, GPI [7:4], Contig [9:8]: 1 = 2 MB, 2 = 32 MB, 3 = 512 MB). */
export function l1Contig(gpi: number, contig: number): bigint {
  return BigInt(0x1 | (gpi << 4) | (contig << 8));
}
/** An L1 Granules descriptor whose sixteen GPIs all equal `gpi`. */
export function l1Uniform(gpi: number): bigint {
  let word = 0n;
  for (let i = 0; i < 16; i++) word |= BigInt(gpi) << BigInt(4 * i);
  return word;
}

/** Builds a two-level GPT in simulated memory. */
export class GptBuilder {
  readonly memory: PhysicalMemory;
  readonly geometry: GptGeometry;
  readonly l0Base: number;
  /** Number of L0 entries (2^(t-s), at least 1). */
  readonly l0Entries: number;
  /** Bytes of one L1 table (2^(s-p-4) words of 8 bytes). */
  readonly l1Bytes: number;
  private readonly l1Bases = new Map<number, number>();

  constructor(memory: PhysicalMemory, geometry: GptGeometry, l0Base: number) {
    this.memory = memory;
    this.geometry = geometry;
    this.l0Base = l0Base;
    this.l0Entries = 2 ** Math.max(geometry.t - geometry.s, 0);
    this.l1Bytes = 8 * 2 ** (geometry.s - geometry.p - 4);
  }

  /** GPCCR_EL3 for this geometry. */
  gpccr(extra: Partial<GpccrSpec> = {}): number {
    return gpccrFor(this.geometry, extra);
  }

  /** GPTBR_EL3 as [low, high] (BADDR = base >> 12). */
  gptbr(): [number, number] {
    return bigToHalves(BigInt(this.l0Base / 4096));
  }

  /** L0 index of a PA. */
  l0Index(pa: number): number {
    return Math.floor(pa / 2 ** this.geometry.s) % this.l0Entries;
  }
  /** L1 word index of a PA. */
  l1Index(pa: number): number {
    return Math.floor(pa / 2 ** (this.geometry.p + 4)) % 2 ** (this.geometry.s - this.geometry.p - 4);
  }
  /** GPI nibble index of a PA. */
  gpiIndex(pa: number): number {
    return Math.floor(pa / 2 ** this.geometry.p) % 16;
  }

  /** Write a raw L0 entry. */
  setL0(index: number, value: bigint): void {
    this.write(this.l0Base + 8 * index, value);
    this.l1Bases.delete(index);
  }

  /** Write the same block descriptor into every L0 entry. */
  fillL0Blocks(gpi: number): void {
    for (let i = 0; i < this.l0Entries; i++) this.setL0(i, l0Block(gpi));
  }

  /** Point L0 entry `index` at an L1 table at `l1Base`, optionally filling every word with one GPI. */
  setL0Table(index: number, l1Base: number, fillGpi?: number): void {
    this.write(this.l0Base + 8 * index, l0Table(l1Base));
    this.l1Bases.set(index, l1Base);
    if (fillGpi !== undefined) {
      if (!this.memory.fill(l1Base, this.l1Bytes, fillGpi * 0x11))
        throw new RangeError('L1 table outside DRAM');
    }
  }

  /** PA of the L1 word that describes `pa` (an L0 table must cover it). */
  l1WordPa(pa: number): number {
    const base = this.l1Bases.get(this.l0Index(pa));
    if (base === undefined) throw new RangeError(`no L1 table covers 0x${pa.toString(16)}`);
    return base + 8 * this.l1Index(pa);
  }

  /** Write a raw L1 word for `pa`. */
  setL1Word(pa: number, value: bigint): void {
    this.write(this.l1WordPa(pa), value);
  }

  /** Read the raw L1 word for `pa`. */
  l1Word(pa: number): bigint {
    return this.memory.read64(this.l1WordPa(pa))!;
  }

  /** Set the GPI of the granule holding `pa` in its L1 Granules descriptor (read-modify-write). */
  setGpi(pa: number, gpi: number): void {
    const shift = BigInt(4 * this.gpiIndex(pa));
    const word = this.l1Word(pa);
    this.setL1Word(pa, (word & ~(0xfn << shift)) | (BigInt(gpi) << shift));
  }

  /** Set the GPI of every granule in [base, base + size). */
  setGpiRange(base: number, size: number, gpi: number): void {
    const granule = 2 ** this.geometry.p;
    for (let pa = base; pa < base + size; pa += granule) this.setGpi(pa, gpi);
  }

  private write(pa: number, value: bigint): void {
    if (!this.memory.write64Big(pa, value))
      throw new RangeError(`GPT write at 0x${pa.toString(16)} outside DRAM`);
  }
}

// ------------------------------------------------------------------------------------ stage 1

/** Attributes of a Block/Page descriptor (spec §7.3). */
export interface LeafAttrs {
  /** AP[2:1]: 0 EL1 RW, 1 EL1+EL0 RW, 2 EL1 RO, 3 EL1+EL0 RO. */
  readonly ap?: number;
  readonly af?: boolean;
  readonly ng?: boolean;
  readonly pxn?: boolean;
  readonly uxn?: boolean;
  /** Bit 5. */
  readonly ns?: boolean;
  /** Bit 11 (NSE in the EL3 regime, nG elsewhere). */
  readonly nse?: boolean;
  readonly attrIndx?: number;
  readonly sh?: number;
}

/** Hierarchical attributes of a Table descriptor (bits [63:59]). */
export interface TableAttrs {
  readonly nsTable?: boolean;
  /** APTable[1:0]: bit 0 = no EL0 access, bit 1 = no write. */
  readonly apTable?: number;
  readonly uxnTable?: boolean;
  readonly pxnTable?: boolean;
}

/** A Block (levels 1-2) or Page (level 3) descriptor. AF defaults to 1, SH to Inner. */
export function leafDescriptor(pa: number, level: number, attrs: LeafAttrs = {}): bigint {
  let d = BigInt(pa) | (level === 3 ? 0x3n : 0x1n);
  d |= BigInt((attrs.attrIndx ?? 0) & 7) << 2n;
  if (attrs.ns) d |= 1n << 5n;
  d |= BigInt((attrs.ap ?? 0) & 3) << 6n;
  d |= BigInt((attrs.sh ?? 3) & 3) << 8n;
  if (attrs.af ?? true) d |= 1n << 10n;
  if (attrs.ng || attrs.nse) d |= 1n << 11n;
  if (attrs.pxn) d |= 1n << 53n;
  if (attrs.uxn) d |= 1n << 54n;
  return d;
}

/** A Table descriptor pointing at `pa`. */
export function tableDescriptor(pa: number, attrs: TableAttrs = {}): bigint {
  let d = BigInt(pa) | 0x3n;
  if (attrs.pxnTable) d |= 1n << 59n;
  if (attrs.uxnTable) d |= 1n << 60n;
  d |= BigInt((attrs.apTable ?? 0) & 3) << 61n;
  if (attrs.nsTable) d |= 1n << 63n;
  return d;
}

/** Bits [47:0] of a VA number (TTBR1 VAs are negative numbers, bits.ts vaFromU64). */
export function vaBits48(va: number): number {
  return va < 0 ? va + 2 ** 48 : va;
}

/** Table index of `va` at `level` (4 KB granule, 48-bit VA: 9 bits per level). */
export function vaIndex(va: number, level: number): number {
  return Math.floor(vaBits48(va) / 2 ** (39 - 9 * level)) % 512;
}

/** Allocates 4 KB translation tables from a pool and maps VAs in them (start level 0). */
export class PageTableBuilder {
  readonly memory: PhysicalMemory;
  private next: number;
  private readonly end: number;

  constructor(memory: PhysicalMemory, poolBase: number, poolBytes: number) {
    this.memory = memory;
    this.next = poolBase;
    this.end = poolBase + poolBytes;
  }

  /** A fresh zeroed (all-invalid) table. */
  newTable(): number {
    const pa = this.next;
    if (pa + 4096 > this.end) throw new RangeError('page-table pool exhausted');
    this.next += 4096;
    this.memory.fill(pa, 4096, 0);
    return pa;
  }

  /** PA of the entry for `va` at `level`, creating Table descriptors on the way (with `tableAttrs`). */
  entryPa(root: number, va: number, level: number, tableAttrs: TableAttrs = {}): number {
    let table = root;
    for (let l = 0; l < level; l++) {
      const at = table + 8 * vaIndex(va, l);
      const existing = this.memory.read64(at)!;
      if ((existing & 3n) === 3n) {
        table = Number(existing & 0x0000_ffff_ffff_f000n);
      } else {
        const next = this.newTable();
        this.write(at, tableDescriptor(next, tableAttrs));
        table = next;
      }
    }
    return table + 8 * vaIndex(va, level);
  }

  /** Write a raw descriptor at `level` for `va`. */
  setEntry(root: number, va: number, level: number, value: bigint, tableAttrs: TableAttrs = {}): number {
    const at = this.entryPa(root, va, level, tableAttrs);
    this.write(at, value);
    return at;
  }

  /** Map the page (level 3), 2 MB block (level 2) or 1 GB block (level 1) at `va` to `pa`. */
  map(
    root: number,
    va: number,
    pa: number,
    level: 1 | 2 | 3,
    attrs: LeafAttrs = {},
    tableAttrs: TableAttrs = {},
  ): number {
    return this.setEntry(root, va, level, leafDescriptor(pa, level, attrs), tableAttrs);
  }

  /** Read the descriptor at `level` for `va` (undefined if the walk to it has no table). */
  entry(root: number, va: number, level: number): bigint | undefined {
    let table = root;
    for (let l = 0; l < level; l++) {
      const d = this.memory.read64(table + 8 * vaIndex(va, l))!;
      if ((d & 3n) !== 3n) return undefined;
      table = Number(d & 0x0000_ffff_ffff_f000n);
    }
    return this.memory.read64(table + 8 * vaIndex(va, level));
  }

  private write(pa: number, value: bigint): void {
    if (!this.memory.write64Big(pa, value))
      throw new RangeError(`table write at 0x${pa.toString(16)} outside DRAM`);
  }
}

/** TCR_EL1 fields (spec §7.1). Defaults: 48-bit VA both ranges, 4 KB granules, IPS 48 bits. */
export interface TcrSpec {
  readonly t0sz?: number;
  readonly t1sz?: number;
  readonly tg0?: number;
  readonly tg1?: number;
  readonly ips?: number;
  readonly epd0?: boolean;
  readonly epd1?: boolean;
  readonly a1?: boolean;
  readonly as16?: boolean;
  readonly ha?: boolean;
  readonly hpd0?: boolean;
  readonly hpd1?: boolean;
}

/** Encode TCR_EL1 as [low, high]. */
export function tcrEl1(spec: TcrSpec = {}): [number, number] {
  let v = BigInt(spec.t0sz ?? 16);
  if (spec.epd0) v |= 1n << 7n;
  v |= BigInt(spec.tg0 ?? 0) << 14n;
  v |= BigInt(spec.t1sz ?? 16) << 16n;
  if (spec.a1) v |= 1n << 22n;
  if (spec.epd1) v |= 1n << 23n;
  v |= BigInt(spec.tg1 ?? 2) << 30n;
  v |= BigInt(spec.ips ?? 5) << 32n;
  if (spec.as16) v |= 1n << 36n;
  if (spec.ha) v |= 1n << 39n;
  if (spec.hpd0) v |= 1n << 41n;
  if (spec.hpd1) v |= 1n << 42n;
  return bigToHalves(v);
}

/** Encode TCR_EL3 (T0SZ [5:0], TG0 [15:14], PS [18:16], HA 21, HPD 24). */
export function tcrEl3(spec: { t0sz?: number; ps?: number; ha?: boolean; hpd?: boolean } = {}): number {
  return (spec.t0sz ?? 16) + (spec.ps ?? 5) * 2 ** 16 + (spec.ha ? 2 ** 21 : 0) + (spec.hpd ? 2 ** 24 : 0);
}

/** TTBRn_ELx as [low, high]: BADDR plus ASID [63:48]. */
export function ttbr(base: number, asid = 0): [number, number] {
  return bigToHalves(BigInt(base) | (BigInt(asid) << 48n));
}

// ------------------------------------------------------------------------------------ PE fixture

/** Memory map of the PE fixture (4 KB aligned; TLB indices of the pages do not collide). */
export const FX = {
  dramBase: 0x4000_0000,
  dramSize: 0xc000_0000,
  gptL0: 0x4000_0000,
  gptL1: 0x4100_0000,
  /** A second GPT's tables (for GPTBR switching). */
  gptL0B: 0x4000_4000,
  gptL1B: 0x4104_0000,
  /** EL3 vectors (Root granule): they run with the EL3 MMU off. */
  el3Vectors: 0x4220_0000,
  ptPool: 0x5000_0000,
  ptPoolBytes: 0x10_0000,
  /** Data pages: identity-mapped EL0/EL1 RW, never executable. */
  data: 0x6000_0000,
  dataPages: 16,
  /** An EL1-only RW page. */
  kernelData: 0x6104_0000,
  el1Vectors: 0x7030_0000,
  /** A second EL1 code page (another registered entry point). */
  el1Code: 0x7031_0000,
  /** EL0 code page (EL0/EL1 read-only, EL0-executable). */
  el0Code: 0x7110_0000,
  /** The PC the harness "executes" at EL1: mapped nowhere, so nothing is registered there. */
  mainPc: 0x10_0000,
} as const;

/** What a vector handler saw on entry. */
export interface ExceptionRecord {
  readonly targetEl: 1 | 3;
  readonly vectorOffset: number;
  readonly esr: number;
  readonly ec: number;
  readonly far: number;
  readonly elr: number;
  readonly spsr: number;
  /** MFAR_EL3 as BigInt (EL3 entries only). */
  readonly mfar: bigint;
}

/** A handler: must end by transferring control (normally `pe.eret()`). */
export type VectorAction = (pe: ProcessingElement, record: ExceptionRecord) => void;

/** A machine with one PE at EL1 Non-secure, MMU on, vectors at EL1 and EL3 that record entries. */
export interface PeFixture {
  readonly machine: Machine;
  readonly pe: ProcessingElement;
  readonly memory: PhysicalMemory;
  readonly gpt: GptBuilder;
  readonly pt: PageTableBuilder;
  readonly root0: number;
  readonly records: ExceptionRecord[];
  /** EL1 synchronous handler action; default: SVC → ERET, anything else → skip the instruction. */
  el1Action: VectorAction;
  /** EL3 handler action; default: SMC → run `smcAction` then ERET, anything else → skip. */
  el3Action: VectorAction;
  /** What an SMC does at EL3 before returning (see {@link atEl3}). */
  smcAction: ((pe: ProcessingElement) => void) | undefined;
}

/** Options of {@link makePeFixture}. */
export interface PeFixtureOptions {
  readonly machine?: Partial<MachineParamsInput>;
  /** Set SCR_EL3.GPF (route lower-EL GPFs to EL3). */
  readonly scrGpf?: boolean;
  /** Data pages are non-global (nG = 1). */
  readonly nonGlobalData?: boolean;
  /** MMIO windows of the machine. */
  readonly mmio?: readonly MmioRegionSpec[];
}

/** VA of data page `i` (identity-mapped). */
export function dataVa(i: number): number {
  return FX.data + i * 4096;
}

/** Build a GPT with the fixture's layout at the given table bases: everything NS except Root memory. */
export function buildFixtureGpt(memory: PhysicalMemory, l0Base: number, l1Base: number): GptBuilder {
  const gpt = new GptBuilder(memory, { t: 40, p: 12, s: 30 }, l0Base);
  gpt.fillL0Blocks(Gpi.Any);
  gpt.setL0Table(1, l1Base, Gpi.NonSecure); // [1 GiB, 2 GiB)
  gpt.setL0(2, l0Block(Gpi.NonSecure)); // [2 GiB, 3 GiB)
  gpt.setGpiRange(FX.gptL0, 0x8000, Gpi.Root);
  gpt.setGpiRange(FX.gptL1, 0x8_0000, Gpi.Root);
  gpt.setGpiRange(FX.el3Vectors, 0x1000, Gpi.Root);
  return gpt;
}

/** Build the PE fixture. The PE ends at EL1 Non-secure with PC = FX.mainPc. */
export function makePeFixture(options: PeFixtureOptions = {}): PeFixture {
  const machine = new Machine(
    {
      paRangeBits: 48,
      dram: [{ name: 'dram0', base: FX.dramBase, size: FX.dramSize }],
      ...options.machine,
    },
    options.mmio ?? [],
  );
  const memory = machine.memory;
  const pe = machine.pes[0]!;
  const gpt = buildFixtureGpt(memory, FX.gptL0, FX.gptL1);
  const pt = new PageTableBuilder(memory, FX.ptPool, FX.ptPoolBytes);
  const root0 = pt.newTable();
  mapFixtureCode(pt, root0);
  pt.map(root0, FX.kernelData, FX.kernelData, 3, { ap: 0, pxn: true, uxn: true });
  for (let i = 0; i < FX.dataPages; i++) {
    pt.map(root0, dataVa(i), dataVa(i), 3, {
      ap: 1,
      pxn: true,
      uxn: true,
      ng: options.nonGlobalData ?? false,
    });
  }

  const records: ExceptionRecord[] = [];
  const fx: PeFixture = {
    machine,
    pe,
    memory,
    gpt,
    pt,
    root0,
    records,
    el1Action: (p, record) => {
      if (record.ec !== Ec.Svc64) p.regs.setNumber('ELR_EL1', record.elr + 4);
      p.eret();
    },
    el3Action: (p, record) => {
      if (record.ec === Ec.Smc64) fx.smcAction?.(p);
      else p.regs.setNumber('ELR_EL3', record.elr + 4);
      p.eret();
    },
    smcAction: undefined,
  };
  for (const offset of [0x200, 0x280, 0x400, 0x480]) {
    machine.code.register(FX.el1Vectors + offset, `el1-vector+0x${offset.toString(16)}`, (p) => {
      const record = recordEntry(p, 1, offset);
      records.push(record);
      fx.el1Action(p, record);
    });
    machine.code.register(FX.el3Vectors + offset, `el3-vector+0x${offset.toString(16)}`, (p) => {
      const record = recordEntry(p, 3, offset);
      records.push(record);
      fx.el3Action(p, record);
    });
  }

  for (const each of machine.pes) {
    each.setSysRegRaw('GPTBR_EL3', ...gpt.gptbr());
    each.setSysRegRaw('GPCCR_EL3', gpt.gpccr(), 0);
    each.setSysRegRaw('SCR_EL3', 1, options.scrGpf ? 1 << 16 : 0); // NS = 1, GPF (bit 48) optional
    each.setSysRegRaw('VBAR_EL3', FX.el3Vectors, 0);
    each.setSysRegRaw('TCR_EL1', ...tcrEl1());
    each.setSysRegRaw('TTBR0_EL1', ...ttbr(root0));
    each.setSysRegRaw('VBAR_EL1', FX.el1Vectors, 0);
    each.setSysRegRaw('SCTLR_EL1', 1, 0);
    dropFromEl3(each, 1, FX.mainPc);
  }
  return fx;
}

/** Map the fixture's code pages (vectors, EL1 code, EL0 code) in another root table. */
export function mapFixtureCode(pt: PageTableBuilder, root: number): void {
  pt.map(root, FX.el1Vectors, FX.el1Vectors, 3, { ap: 0, uxn: true });
  pt.map(root, FX.el1Code, FX.el1Code, 3, { ap: 0, uxn: true });
  pt.map(root, FX.el0Code, FX.el0Code, 3, { ap: 3, pxn: true });
}

function recordEntry(pe: ProcessingElement, targetEl: 1 | 3, vectorOffset: number): ExceptionRecord {
  const suffix = targetEl === 3 ? 'EL3' : 'EL1';
  const esr = pe.regs.low(`ESR_${suffix}`);
  const [mfarLow, mfarHigh] = pe.regs.pair('MFAR_EL3');
  return {
    targetEl,
    vectorOffset,
    esr,
    ec: esrClass(esr),
    far: pe.regs.number(`FAR_${suffix}`),
    elr: pe.regs.number(`ELR_${suffix}`),
    spsr: pe.regs.low(`SPSR_${suffix}`),
    mfar: targetEl === 3 ? (BigInt(mfarHigh) << 32n) | BigInt(mfarLow) : 0n,
  };
}

/** From EL3, ERET to `el` (0 or 1, AArch64, SP_ELx for EL1) at `pc`. */
export function dropFromEl3(pe: ProcessingElement, el: 0 | 1, pc: number): void {
  if (pe.el !== 3) throw new Error(`dropFromEl3 needs EL3, PE is at EL${pe.el}`);
  pe.regs.set('SPSR_EL3', el === 1 ? 0b0101 : 0b0000, 0);
  pe.regs.setNumber('ELR_EL3', pc);
  pe.eret();
}

/** From EL1, ERET to EL0 at `pc`. */
export function dropToEl0(pe: ProcessingElement, pc: number): void {
  if (pe.el !== 1) throw new Error(`dropToEl0 needs EL1, PE is at EL${pe.el}`);
  pe.regs.set('SPSR_EL1', 0, 0);
  pe.regs.setNumber('ELR_EL1', pc);
  pe.eret();
}

/** Run `action` at EL3 through an SMC from EL1 (the architectural path), then return to EL1. */
export function atEl3(fx: PeFixture, action: (pe: ProcessingElement) => void): void {
  if (fx.pe.el !== 1) throw new Error(`atEl3 issues SMC from EL1, PE is at EL${fx.pe.el}`);
  fx.smcAction = action;
  try {
    fx.pe.smc(0);
  } finally {
    fx.smcAction = undefined;
  }
  if (fx.pe.el !== 1) throw new Error('SMC did not return to EL1');
}

/** ESR fields. */
export function esrFields(esr: number): {
  ec: number;
  il: number;
  iss: number;
  fsc: number;
  s1ptw: boolean;
  wnr: boolean;
  gpcsc: number;
  ind: boolean;
} {
  return {
    ec: esr >>> 26,
    il: (esr >>> 25) & 1,
    iss: esr & 0x1ff_ffff,
    fsc: esr & 0x3f,
    wnr: ((esr >>> 6) & 1) === 1,
    s1ptw: ((esr >>> 7) & 1) === 1,
    gpcsc: (esr >>> 14) & 0x3f,
    ind: ((esr >>> 20) & 1) === 1,
  };
}
