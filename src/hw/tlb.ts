/**
 * A translation lookaside buffer in flat typed arrays (direct-mapped, one 4 KiB page per entry).
 *
 * Architecture model: an entry caches a completed stage-1 translation *and* the granule protection
 * outcome of its output address, so both stay in effect until the matching TLBI: a PTE edit until
 * `TLBI VAE1`/`VAAE1`/`ASIDE1`/`VMALLE1`, a GPT edit until `TLBI RPALOS`/`RPAOS`/`PAALL`/`PAALLOS`
 * (spec/cca-hardware.md §4.1). Entries are tagged by regime, ASID (non-global leaves) and, when the
 * optional `gptTaggedTlb` extension is on, by the GPT base they were filled under.
 * Speed device: the entry also holds the backing frame number of its page; frames never move, so
 * this cache is invisible to the architecture.
 * SIMPLIFICATION: no separate walk cache; GPT information is cached only in these leaf entries.
 * Block leaves are split into page entries; TLBI by VA removes every page entry of a block that
 * contains the address, so no entry outlives its architectural lifetime.
 */
import { FRAME_BYTES } from './memory.js';

/** Multiplier of the high page-number bits in the TLB index (an odd constant). */
export const TLB_INDEX_HASH = 97;

/** ASID value of an entry made from a global (nG = 0) leaf. */
export const GLOBAL_ASID = -1;

/** Counters a TLB owns. */
export interface TlbStats {
  hits: number;
  misses: number;
  fills: number;
  /** TLBI operations that reached this TLB. */
  invalidations: number;
}

/** Parameters of a TLB. */
export interface TlbParams {
  /** Number of entries; a power of two. */
  readonly entries: number;
}

/** A direct-mapped TLB. Public arrays are read by the PE's hit path; only this class writes them. */
export class Tlb {
  readonly mask: number;
  /** Number of entries, and its reciprocal (exact: a power of two). */
  readonly size: number;
  readonly inverseSize: number;
  /** VA page number (Math.floor(va / 4096)); NaN marks an empty entry (NaN matches nothing). */
  readonly vpn: Float64Array;
  /** Regime tag: security state * 2 + (1 for the EL3 regime). */
  readonly regime: Int32Array;
  /** ASID, or GLOBAL_ASID. */
  readonly asid: Int32Array;
  /** GPT tag (GPTBR_EL3.BADDR with the extension on, else 0). */
  readonly gptTag: Float64Array;
  /** Backing frame of the page (speed device) or MMIO_FRAME. */
  readonly frame: Int32Array;
  /** Output PA of the page. */
  readonly pagePa: Float64Array;
  /** Output PAS. */
  readonly pas: Uint8Array;
  /** Perm bits (mmu.ts Perm). */
  readonly perms: Uint8Array;
  /** log2 size of the leaf the entry came from (12, 21 or 30). */
  readonly sizeShift: Uint8Array;
  readonly stats: TlbStats = { hits: 0, misses: 0, fills: 0, invalidations: 0 };
  private blockEntries = 0;

  constructor(params: TlbParams) {
    const n = params.entries;
    if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) {
      throw new RangeError(`tlb: entries must be a power of two, got ${n}`);
    }
    this.mask = n - 1;
    this.size = n;
    this.inverseSize = 1 / n;
    this.vpn = new Float64Array(n).fill(Number.NaN);
    this.regime = new Int32Array(n);
    this.asid = new Int32Array(n);
    this.gptTag = new Float64Array(n);
    this.frame = new Int32Array(n);
    this.pagePa = new Float64Array(n);
    this.pas = new Uint8Array(n);
    this.perms = new Uint8Array(n);
    this.sizeShift = new Uint8Array(n);
  }

  /**
   * Index of a page number in the arrays: (vpn mod size) plus a multiple of vpn div size, so that
   * pages a multiple of `size` apart (the text, heap and kernel pages of aligned layouts) do not
   * all fall on one entry of this direct-mapped array. Computed in doubles because page numbers of
   * high or negative (TTBR1) VAs are outside int32, where `vpn & mask` takes V8's slow path.
   * SIMPLIFICATION: real TLBs are set-associative; this speed device is direct-mapped with a hashed
   * index (pe.ts inlines the same formula on its hot paths).
   */
  indexOf(vpn: number): number {
    const q = Math.floor(vpn * this.inverseSize);
    return (vpn - q * this.size + q * TLB_INDEX_HASH) & this.mask;
  }

  /** Insert a translation of page `vpn`. */
  fill(
    vpn: number,
    regime: number,
    asid: number,
    gptTag: number,
    frame: number,
    pagePa: number,
    pas: number,
    perms: number,
    sizeShift: number,
  ): void {
    const i = this.indexOf(vpn);
    if (this.sizeShift[i]! > 12 && this.vpn[i] === this.vpn[i]) this.blockEntries--;
    this.vpn[i] = vpn;
    this.regime[i] = regime;
    this.asid[i] = asid;
    this.gptTag[i] = gptTag;
    this.frame[i] = frame;
    this.pagePa[i] = pagePa;
    this.pas[i] = pas;
    this.perms[i] = perms;
    this.sizeShift[i] = sizeShift;
    if (sizeShift > 12) this.blockEntries++;
    this.stats.fills++;
  }

  private drop(i: number): void {
    if (this.vpn[i] !== this.vpn[i]) return;
    if (this.sizeShift[i]! > 12) this.blockEntries--;
    this.vpn[i] = Number.NaN;
  }

  /** Remove every entry (TLBI PAALL, PAALLOS; VMALLE1/ALLE3 with a regime filter). */
  invalidateAll(regime?: number): void {
    if (regime === undefined) {
      this.vpn.fill(Number.NaN);
      this.blockEntries = 0;
      this.stats.invalidations++;
      return;
    }
    this.stats.invalidations++;
    for (let i = 0; i <= this.mask; i++) if (this.regime[i] === regime) this.drop(i);
  }

  /**
   * Remove entries translating `va` in `regime` (TLBI VAE1 when `asid` is given: entries of that
   * ASID and global ones; TLBI VAAE1 when it is undefined: any ASID).
   */
  invalidateVa(va: number, regime: number, asid: number | undefined): void {
    this.stats.invalidations++;
    const vpn = Math.floor(va / FRAME_BYTES);
    const matches = (i: number): boolean =>
      this.regime[i] === regime &&
      (asid === undefined || this.asid[i] === asid || this.asid[i] === GLOBAL_ASID);
    const i = this.indexOf(vpn);
    if (this.vpn[i] === vpn && matches(i)) this.drop(i);
    if (this.blockEntries === 0) return;
    for (let j = 0; j <= this.mask; j++) {
      const shift = this.sizeShift[j]!;
      if (shift > 12 && matches(j)) {
        const span = 2 ** (shift - 12);
        if (Math.floor(this.vpn[j]! / span) === Math.floor(vpn / span)) this.drop(j);
      }
    }
  }

  /** Remove non-global entries of `asid` in `regime` (TLBI ASIDE1). */
  invalidateAsid(asid: number, regime: number): void {
    this.stats.invalidations++;
    for (let i = 0; i <= this.mask; i++) if (this.asid[i] === asid && this.regime[i] === regime) this.drop(i);
  }

  /**
   * Remove entries whose output page lies in [base, base + size) (TLBI RPALOS / RPAOS): the GPT
   * information they cache may be stale.
   */
  invalidatePaRange(base: number, size: number): void {
    this.stats.invalidations++;
    const end = base + size;
    for (let i = 0; i <= this.mask; i++) {
      const pa = this.pagePa[i]!;
      if (this.vpn[i] === this.vpn[i] && pa + FRAME_BYTES > base && pa < end) this.drop(i);
    }
  }

  /** Number of valid entries (for tests and inspection). */
  occupancy(): number {
    let n = 0;
    for (let i = 0; i <= this.mask; i++) if (this.vpn[i] === this.vpn[i]) n++;
    return n;
  }
}
