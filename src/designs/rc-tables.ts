/**
 * Translation tables the kernel cannot write: under `rcontainer` every descriptor goes through
 * rc_set_pte, and the kernel links missing table levels first (the mini-OS refuses a leaf whose
 * tables are not linked). The kernel cannot read those tables either, so it remembers which table
 * descriptors it linked.
 */
import { RcCall } from '../minios/abi.js';

/** Spans of one entry at levels 0..3. */
const SPAN = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];

/** The kernel's record of one translation tree it builds through rc_set_pte. */
export class GatedTree {
  /** rc_set_pte's `space` and `tid` arguments for this tree. */
  readonly space: number;
  readonly tid: number;
  /** Table pages linked into the tree. */
  readonly tables: number[] = [];
  private readonly linked = new Set<number>();

  constructor(space: number, tid: number) {
    this.space = space;
    this.tid = tid;
  }

  /**
   * Write descriptor [low, high] for `va` at `level`, linking missing tables with pages from
   * `newTable`. Returns rc_set_pte's result (0 or a negative RcError), or -12 without a table page.
   */
  set(
    gate: (call: number, ...args: number[]) => number,
    va: number,
    low: number,
    high: number,
    level: number,
    newTable: () => number | undefined,
  ): number {
    for (let l = 1; l <= level; l++) {
      const key = this.key(va, l);
      if (this.linked.has(key)) continue;
      const table = newTable();
      if (table === undefined) return -12;
      const base = Math.floor(va / SPAN[l - 1]!) * SPAN[l - 1]!;
      const result = gate(
        RcCall.SetPte,
        this.space,
        this.tid,
        base,
        ((table % 2 ** 32) | 0b11) >>> 0,
        Math.floor(table / 2 ** 32),
        l - 1,
      );
      if (result < 0) return result;
      this.tables.push(table);
      this.linked.add(key);
    }
    return gate(
      RcCall.SetPte,
      this.space,
      this.tid,
      Math.floor(va / SPAN[level]!) * SPAN[level]!,
      low,
      high,
      level,
    );
  }

  /** True if the level-`level` table covering `va` was linked (leaves under it may exist). */
  hasTable(va: number, level: number): boolean {
    return this.linked.has(this.key(va, level));
  }

  /** Key of the table at `level` (1..3) that covers `va`: the level and the VA span it covers. */
  private key(va: number, level: number): number {
    const span = SPAN[level - 1]!;
    return level * 2 ** 49 + Math.floor((va + 2 ** 48) / span) * span;
  }
}
