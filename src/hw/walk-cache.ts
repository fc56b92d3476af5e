/**
 * A table-walk cache: level-2 table descriptors of recent stage-1 walks, so that a TLB miss in a
 * 2 MiB region walked before reads one descriptor instead of four (Cortex-A cores keep such walk
 * caches; Arm allows caching of table entries until the matching TLBI).
 *
 * Architecture model: an entry caches the walk down to the level-3 table, *including* the outcome
 * of the granule protection checks of the three descriptor fetches it skips, so it is removed by
 * every TLBI that removes translations for its VA (VAE1, VAAE1, ASIDE1, VMALLE1, ALLE3) and by
 * every TLBI PA* (its GPT information may be stale). Entries are tagged with the root table they
 * came from, so a TTBR change can never reuse a walk of another tree (stricter than required).
 */

/** A direct-mapped walk cache in typed arrays. */
export class WalkCache {
  private readonly size: number;
  private readonly inverseSize: number;
  /** VA >> 21 (Math.floor, so TTBR1 regions are negative); NaN = empty. */
  private readonly region: Float64Array;
  private readonly root: Float64Array;
  private readonly regime: Int32Array;
  private readonly gptTag: Float64Array;
  private readonly table: Float64Array;
  private readonly attrs: Int32Array;
  private readonly walkPas: Uint8Array;
  /** Walks that started at level 3 thanks to the cache. */
  hits = 0;

  constructor(entries: number) {
    this.size = entries;
    this.inverseSize = 1 / entries;
    this.region = new Float64Array(entries).fill(Number.NaN);
    this.root = new Float64Array(entries);
    this.regime = new Int32Array(entries);
    this.gptTag = new Float64Array(entries);
    this.table = new Float64Array(entries);
    this.attrs = new Int32Array(entries);
    this.walkPas = new Uint8Array(entries);
  }

  private slot(region: number): number {
    return (region - Math.floor(region * this.inverseSize) * this.size) | 0;
  }

  /**
   * Look up the level-3 table for `va`; returns its PA (with attributes and walk PAS readable
   * through {@link hitAttrs} / {@link hitWalkPas}) or -1.
   */
  lookup(va: number, root: number, regime: number, gptTag: number): number {
    const region = Math.floor(va * 2 ** -21);
    const i = this.slot(region);
    if (
      this.region[i] === region &&
      this.root[i] === root &&
      this.regime[i] === regime &&
      this.gptTag[i] === gptTag
    ) {
      this.hits++;
      this.hitAttrs = this.attrs[i]!;
      this.hitWalkPas = this.walkPas[i]!;
      return this.table[i]!;
    }
    return -1;
  }

  /** Accumulated table attributes of the last hit. */
  hitAttrs = 0;
  /** Walk PAS of the last hit. */
  hitWalkPas = 0;

  /** Remember the walk of `va` down to the level-3 table `table`. */
  fill(
    va: number,
    root: number,
    regime: number,
    gptTag: number,
    table: number,
    attrs: number,
    walkPas: number,
  ): void {
    const region = Math.floor(va * 2 ** -21);
    const i = this.slot(region);
    this.region[i] = region;
    this.root[i] = root;
    this.regime[i] = regime;
    this.gptTag[i] = gptTag;
    this.table[i] = table;
    this.attrs[i] = attrs;
    this.walkPas[i] = walkPas;
  }

  /** Remove every entry. */
  invalidateAll(): void {
    this.region.fill(Number.NaN);
  }

  /** Remove entries of `regime` (all regimes when undefined). */
  invalidateRegime(regime: number | undefined): void {
    if (regime === undefined) {
      this.invalidateAll();
      return;
    }
    for (let i = 0; i < this.size; i++) if (this.regime[i] === regime) this.region[i] = Number.NaN;
  }

  /** Remove the entry that covers `va` in `regime`. */
  invalidateVa(va: number, regime: number): void {
    const region = Math.floor(va * 2 ** -21);
    const i = this.slot(region);
    if (this.region[i] === region && this.regime[i] === regime) this.region[i] = Number.NaN;
  }
}
