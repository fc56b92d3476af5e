/**
 * Builders that lay out GPTs and stage-1 translation tables as bytes in simulated physical memory,
 * for benchmarks, demos and tests. They write raw descriptors with the encodings of
 * spec/cca-hardware.md §3.3-3.4 and §7.3; they make no policy decisions (the EL3 firmware has its
 * own TF-A-style GPT library with validation and maintenance sequences).
 */
import { assert } from './bits.js';
import type { PhysicalMemory } from './memory.js';
import { Gpi } from './pas.js';

/** A simple bump allocator of 4 KiB-aligned physical pages for tables. */
export class PageAllocator {
  private next: number;
  private readonly end: number;

  constructor(base: number, size: number) {
    assert(base % 4096 === 0, 'page allocator base is 4 KiB aligned');
    this.next = base;
    this.end = base + size;
  }

  /** Allocate `bytes` (rounded up to 4 KiB) aligned to `align`. */
  allocate(bytes: number, align = 4096): number {
    const base = Math.ceil(this.next / align) * align;
    const size = Math.ceil(bytes / 4096) * 4096;
    if (base + size > this.end) throw new RangeError('layout: out of table memory');
    this.next = base + size;
    return base;
  }
}

/** Geometry of a GPT: PPS, PGS and L0GPTSZ as field values and bits. */
export interface GptGeometry {
  /** GPCCR_EL3.PPS field (0..6). */
  readonly pps: number;
  /** GPCCR_EL3.PGS field (0 4 KB, 1 64 KB, 2 16 KB). */
  readonly pgs: number;
  /** GPCCR_EL3.L0GPTSZ field (0, 4, 6, 9). */
  readonly l0gptsz: number;
}

const PPS_BITS = [32, 36, 40, 42, 44, 48, 52];
const PGS_BITS = [12, 16, 14];

/**
 * A GPT in memory: an L0 table whose entries start as Block ANY, with L1 tables created on demand
 * (filled with `fill` GPIs) when a granule's GPI is set.
 */
export class GptLayout {
  readonly l0Base: number;
  readonly geometry: GptGeometry;
  private readonly t: number;
  private readonly p: number;
  private readonly s: number;
  private readonly l1Tables = new Map<number, number>();
  private readonly memory: PhysicalMemory;
  private readonly tables: PageAllocator;

  /** `l0Gpi` is the GPI of every L0 entry at start (Block descriptors). */
  constructor(memory: PhysicalMemory, tables: PageAllocator, geometry: GptGeometry, l0Gpi: number = Gpi.Any) {
    this.memory = memory;
    this.tables = tables;
    this.geometry = geometry;
    this.t = PPS_BITS[geometry.pps]!;
    this.p = PGS_BITS[geometry.pgs]!;
    this.s = 30 + geometry.l0gptsz;
    const entries = 2 ** Math.max(this.t - this.s, 0);
    this.l0Base = tables.allocate(entries * 8, Math.max(entries * 8, 4096));
    for (let i = 0; i < entries; i++) memory.write64(this.l0Base + 8 * i, ((l0Gpi & 0xf) << 4) | 0b0001, 0);
  }

  /** GPCCR_EL3 low word for this geometry, GPC enabled, Inner-shareable write-back walks. */
  gpccr(extraBits = 0): number {
    const g = this.geometry;
    return (
      ((g.l0gptsz << 20) |
        (1 << 16) |
        (g.pgs << 14) |
        (0b11 << 12) |
        (0b01 << 10) |
        (0b01 << 8) |
        g.pps |
        extraBits) >>>
      0
    );
  }

  /** GPTBR_EL3 low word (BADDR = base >> 12). */
  gptbr(): number {
    return this.l0Base / 4096;
  }

  /** Granule size in bytes. */
  get granuleBytes(): number {
    return 2 ** this.p;
  }

  /** Set the L0 entry covering `pa` to a Block descriptor with `gpi`. */
  setBlock(pa: number, gpi: number): void {
    const index = Math.floor(pa / 2 ** this.s);
    this.l1Tables.delete(index);
    this.memory.write64(this.l0Base + 8 * index, ((gpi & 0xf) << 4) | 0b0001, 0);
  }

  /** Set the GPI of the granule containing `pa`, creating its L1 table (filled with `fill`). */
  setGranule(pa: number, gpi: number, fill: number = Gpi.Any): void {
    const l1 = this.l1TableFor(pa, fill);
    const wordPa = l1 + 8 * (Math.floor(pa / 2 ** (this.p + 4)) % 2 ** (this.s - this.p - 4));
    const nibble = Math.floor(pa / 2 ** this.p) % 16;
    const half = nibble < 8 ? 0 : 4;
    const shift = 4 * (nibble % 8);
    const word = this.memory.read32(wordPa + half);
    this.memory.write32(wordPa + half, ((word & ~(0xf << shift)) | ((gpi & 0xf) << shift)) >>> 0);
  }

  /** Set every granule of [base, base + size) to `gpi`. */
  setRange(base: number, size: number, gpi: number, fill: number = Gpi.Any): void {
    const step = 2 ** this.p;
    for (let pa = base; pa < base + size; pa += step) this.setGranule(pa, gpi, fill);
  }

  private l1TableFor(pa: number, fill: number): number {
    const index = Math.floor(pa / 2 ** this.s);
    const existing = this.l1Tables.get(index);
    if (existing !== undefined) return existing;
    const bytes = 2 ** (this.s - this.p - 1);
    const l1 = this.tables.allocate(bytes, Math.max(bytes, 4096));
    const nibbles = (fill & 0xf) * 0x1111_1111;
    for (let offset = 0; offset < bytes; offset += 8)
      this.memory.write64(l1 + offset, nibbles >>> 0, nibbles >>> 0);
    const [low, high] = [l1 % 2 ** 32, Math.floor(l1 / 2 ** 32)];
    this.memory.write64(this.l0Base + 8 * index, (low | 0b0011) >>> 0, high);
    this.l1Tables.set(index, l1);
    return l1;
  }
}

/** Attributes of a stage-1 leaf, as the descriptor bits they set. */
export interface LeafAttributes {
  /** AP[2:1]: 0 EL1 RW, 1 EL1+EL0 RW, 2 EL1 RO, 3 EL1+EL0 RO. */
  readonly ap: number;
  readonly uxn?: boolean;
  readonly pxn?: boolean;
  /** nG: tag with the ASID. */
  readonly notGlobal?: boolean;
  /** AF; default true. */
  readonly accessFlag?: boolean;
}

/** Stage-1 4 KB-granule, 48-bit tables built in memory (TTBR base = `root`). */
export class PageTableLayout {
  readonly root: number;
  private readonly memory: PhysicalMemory;
  private readonly tables: PageAllocator;

  constructor(memory: PhysicalMemory, tables: PageAllocator) {
    this.memory = memory;
    this.tables = tables;
    this.root = tables.allocate(4096);
    memory.fill(this.root, 4096, 0);
  }

  /**
   * Map the 4 KiB page at `va` (a VA number; negative for the TTBR1 range) to `pa`, creating
   * intermediate tables. Returns the PA of the leaf descriptor.
   */
  map(va: number, pa: number, attributes: LeafAttributes, level: 1 | 2 | 3 = 3): number {
    const bits = va < 0 ? va + 2 ** 48 : va;
    let table = this.root;
    for (let l = 0; l < level; l++) {
      const index = Math.floor(bits / 2 ** (39 - 9 * l)) % 512;
      const entryPa = table + 8 * index;
      const low = this.memory.read32(entryPa);
      const high = this.memory.read32(entryPa + 4);
      if ((low & 3) === 3) {
        table = (high & 0xffff) * 2 ** 32 + ((low & 0xfffff000) >>> 0);
        continue;
      }
      const next = this.tables.allocate(4096);
      this.memory.fill(next, 4096, 0);
      this.memory.write64(entryPa, ((next % 2 ** 32) | 3) >>> 0, Math.floor(next / 2 ** 32));
      table = next;
    }
    const index = Math.floor(bits / 2 ** (39 - 9 * level)) % 512;
    const entryPa = table + 8 * index;
    const [low, high] = leafDescriptor(pa, attributes, level);
    this.memory.write64(entryPa, low, high);
    return entryPa;
  }
}

/** Encode a stage-1 page (level 3) or block (level 1/2) descriptor as halves (§7.3). */
export function leafDescriptor(pa: number, a: LeafAttributes, level: 1 | 2 | 3 = 3): [number, number] {
  const low =
    ((pa % 2 ** 32) & 0xfffff000) |
    (level === 3 ? 0b11 : 0b01) |
    ((a.ap & 3) << 6) |
    (0b11 << 8) |
    (a.accessFlag === false ? 0 : 1 << 10) |
    (a.notGlobal ? 1 << 11 : 0);
  const high = (Math.floor(pa / 2 ** 32) & 0xffff) | (a.pxn ? 1 << 21 : 0) | (a.uxn ? 1 << 22 : 0);
  return [low >>> 0, high >>> 0];
}

/** TCR_EL1 for 48-bit VAs in both ranges, 4 KB granules, IPS 48 bits, 16-bit ASIDs. */
export const TCR_EL1_48BIT: readonly [number, number] = [
  (16 |
    (0b01 << 8) |
    (0b01 << 10) |
    (0b11 << 12) |
    (16 << 16) |
    (0b01 << 24) |
    (0b01 << 26) |
    (0b11 << 28) |
    (0b10 << 30)) >>>
    0,
  0b101 | (1 << 4),
];
