/**
 * The ownership table: who owns every DRAM granule. It is the single source of truth from which the
 * GPT views are derived (issue: "every granule has exactly one owner").
 *
 * SIMPLIFICATION: the table is mini-OS bookkeeping in host typed arrays rather than bytes in MINI
 * granules. Nothing outside the mini-OS can reach it either way (the kernel has no handle on
 * mini-OS objects), and every byte the hardware consults — GPTs, page tables, shim records — does
 * live in simulated memory.
 */
import { OWNER_NAMES, Owner } from './abi.js';

/** One contiguous DRAM bank the table covers. */
export interface DramBank {
  readonly base: number;
  readonly size: number;
}

/** Ownership of every 4 KiB granule of the machine's DRAM. */
export class OwnershipTable {
  readonly granuleBytes = 4096;
  private readonly banks: readonly DramBank[];
  private readonly bankFirstIndex: number[] = [];
  private readonly kinds: Uint8Array;
  private readonly owners: Uint32Array;
  /** Granule count per (kind, container id) key: kind * 2^16 + id. */
  private readonly counts = new Map<number, number>();
  readonly granules: number;

  constructor(banks: readonly DramBank[]) {
    this.banks = banks;
    let total = 0;
    for (const bank of banks) {
      this.bankFirstIndex.push(total);
      total += bank.size / this.granuleBytes;
    }
    this.granules = total;
    this.kinds = new Uint8Array(total); // Owner.Os = 0
    this.owners = new Uint32Array(total);
    this.counts.set(Owner.Os * 65536, total);
  }

  /** Index of the granule containing `pa`, or -1 outside DRAM. */
  indexOf(pa: number): number {
    for (let b = 0; b < this.banks.length; b++) {
      const bank = this.banks[b]!;
      if (pa >= bank.base && pa < bank.base + bank.size) {
        return this.bankFirstIndex[b]! + Math.floor((pa - bank.base) / this.granuleBytes);
      }
    }
    return -1;
  }

  /** PA of granule `index`. */
  paOf(index: number): number {
    for (let b = this.banks.length - 1; b >= 0; b--) {
      const first = this.bankFirstIndex[b]!;
      if (index >= first) return this.banks[b]!.base + (index - first) * this.granuleBytes;
    }
    throw new RangeError(`ownership: granule index ${index} out of range`);
  }

  /** Owner kind of the granule at `pa` (undefined outside DRAM). */
  kindAt(pa: number): Owner | undefined {
    const index = this.indexOf(pa);
    return index < 0 ? undefined : (this.kinds[index] as Owner);
  }

  /** Container id of the granule at `pa` (0 for granules not owned by a container). */
  containerAt(pa: number): number {
    const index = this.indexOf(pa);
    return index < 0 ? 0 : this.owners[index]!;
  }

  /** Owner kind of granule `index`. */
  kindOf(index: number): Owner {
    return this.kinds[index] as Owner;
  }

  /** Container of granule `index`. */
  containerOf(index: number): number {
    return this.owners[index]!;
  }

  /** Give granule `index` to (kind, container). */
  set(index: number, kind: Owner, container: number): void {
    const oldKey = this.kinds[index]! * 65536 + this.owners[index]!;
    this.counts.set(oldKey, this.counts.get(oldKey)! - 1);
    this.kinds[index] = kind;
    this.owners[index] = container;
    const key = kind * 65536 + container;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Number of granules of (kind, container). */
  count(kind: Owner, container = 0): number {
    return this.counts.get(kind * 65536 + container) ?? 0;
  }

  /** Indices of every granule of (kind, container), in address order. */
  granulesOf(kind: Owner, container = 0): number[] {
    const out: number[] = [];
    if (this.count(kind, container) === 0) return out;
    for (let i = 0; i < this.granules; i++)
      if (this.kinds[i] === kind && this.owners[i] === container) out.push(i);
    return out;
  }

  /** Readable owner of granule `index`, e.g. "CTR(3)". */
  describe(index: number): string {
    const kind = this.kinds[index]!;
    const name = OWNER_NAMES[kind]!;
    return kind === Owner.Ctr || kind === Owner.Shim || kind === Owner.Pt
      ? `${name}(${this.owners[index]})`
      : name;
  }
}
