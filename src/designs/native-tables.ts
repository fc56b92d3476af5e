/**
 * Translation tables written by a kernel that owns them (the native design): VMSAv8-64 stage 1,
 * 4 KB granule, 48-bit VAs, four levels (Arm ARM D8.2). Tables are pages of simulated memory that
 * the kernel reads and writes through a PE at EL1 via its linear map (or, before the MMU is on, by
 * physical address).
 */
import type { ProcessingElement } from '../hw/pe.js';

const PAGE = 4096;
/** Bits [47:12] of a descriptor: the output address or next-level table. */
function outputAddress(low: number, high: number): number {
  return (high & 0xffff) * 2 ** 32 + ((low & 0xffff_f000) >>> 0);
}

/** Index of `va` (two's complement for TTBR1) at `level`. */
export function tableIndex(va: number, level: number): number {
  const shift = 39 - 9 * level;
  return Math.floor((((va % 2 ** 48) + 2 ** 48) % 2 ** 48) / 2 ** shift) % 512;
}

/** Tables of one kernel. */
export class KernelTables {
  /** PA → VA of the kernel's access to a table page. */
  toVa: (pa: number) => number;
  private readonly allocate: () => number | undefined;
  private readonly release: (pa: number) => void;

  constructor(
    toVa: (pa: number) => number,
    allocate: () => number | undefined,
    release: (pa: number) => void,
  ) {
    this.toVa = toVa;
    this.allocate = allocate;
    this.release = release;
  }

  /** A zeroed table page, or undefined. */
  newTable(pe: ProcessingElement): number | undefined {
    const pa = this.allocate();
    if (pa === undefined) return undefined;
    if (!pe.fillBytes(this.toVa(pa), PAGE, 0)) throw new Error('native kernel: cannot zero a table page');
    return pa;
  }

  /**
   * Write descriptor [low, high] for `va` at `level` under `root`, creating missing tables.
   * Returns false when no table page is left.
   */
  set(pe: ProcessingElement, root: number, va: number, low: number, high: number, level: number): boolean {
    let table = root;
    for (let l = 0; l < level; l++) {
      const entry = this.toVa(table) + 8 * tableIndex(va, l);
      const dlow = pe.load32(entry);
      const dhigh = pe.load32(entry + 4);
      if ((dlow & 0b11) === 0b11) {
        table = outputAddress(dlow, dhigh);
        continue;
      }
      const next = this.newTable(pe);
      if (next === undefined) return false;
      pe.store64(entry, ((next % 2 ** 32) | 0b11) >>> 0, Math.floor(next / 2 ** 32));
      table = next;
    }
    pe.store64(this.toVa(table) + 8 * tableIndex(va, level), low >>> 0, high >>> 0);
    return true;
  }

  /** The level-3 descriptor of `va` (0 when no table reaches it). */
  leaf(pe: ProcessingElement, root: number, va: number): number {
    let table = root;
    for (let l = 0; l < 3; l++) {
      const entry = this.toVa(table) + 8 * tableIndex(va, l);
      const dlow = pe.load32(entry);
      if ((dlow & 0b11) !== 0b11) return 0;
      table = outputAddress(dlow, pe.load32(entry + 4));
    }
    return pe.load32(this.toVa(table) + 8 * tableIndex(va, 3));
  }

  /** Free every table page of the tree at `root` (the root included). */
  freeTree(pe: ProcessingElement, root: number, level = 0): void {
    if (level < 3) {
      const base = this.toVa(root);
      for (let i = 0; i < 512; i++) {
        const low = pe.load32(base + 8 * i);
        if ((low & 0b11) === 0b11)
          this.freeTree(pe, outputAddress(low, pe.load32(base + 8 * i + 4)), level + 1);
      }
    }
    this.release(root);
  }
}
