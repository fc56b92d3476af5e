/**
 * The GPT library of the EL3 firmware, with the semantics of TF-A `lib/gpt_rme`
 * (spec/cca-hardware.md §4.2, §4.4, §5): boot-time construction of the L0 and L1 tables with every
 * validation rule of `gpt_init_l0_tables` / `gpt_init_pas_l1_tables`, `gpt_enable`, and the runtime
 * granule transition `gpt_transition_pas` with its policy table, the delegate / undelegate / NS↔NSO
 * sequences (DC CIPAPA, TLBI RPALOS), shattering and fusing of contiguous descriptors.
 *
 * The library is EL3 software: every table access is a load or store of the PE it runs on, at EL3
 * with the EL3 MMU off (VA = PA in the Root PAS). Once the GPC is on, the tables must therefore lie
 * in granules whose GPI is Root or ANY (TF-A design doc: "GPT memory should be in Root PAS").
 *
 * Results follow TF-A: 0 or a negative Linux errno (-EINVAL, -EPERM, -EFAULT, -ENOMEM, -EOVERFLOW).
 * Errors are values; `throw` is reserved for simulator bugs (a library call made below EL3, a table
 * access that faults) and for bad library parameters.
 *
 * SIMPLIFICATION: no bitlock or spinlock around read-check-modify (`RME_GPT_BITLOCK_BLOCK`): the
 * model is single-threaded, so no other PE can run between the read and the write of a descriptor.
 * SIMPLIFICATION: cache maintenance to the PoC after table construction (`flush_dcache_range`) and
 * the DSB/ISB barriers are no-ops: the model has no data caches and performs accesses in order.
 */
import { assert } from '../hw/bits.js';
import type { ProcessingElement } from '../hw/pe.js';
import { Gpi, Pas } from '../hw/pas.js';

/** Linux errno values TF-A returns (negated). */
export const Errno = { EPERM: 1, ENOMEM: 12, EFAULT: 14, EINVAL: 22, EOVERFLOW: 75 } as const;

/** Mapping type of a PAS region (TF-A `GPT_PAS_ATTR_MAP_TYPE_*`, attribute bit 4). */
export const GptMap = { Block: 0, Granule: 1 } as const;
/** A mapping type. */
export type GptMap = (typeof GptMap)[keyof typeof GptMap];

/** A PAS region given to {@link GptLibrary.gptInitPasL1Tables} (TF-A `pas_region_t`). */
export interface PasRegion {
  readonly base: number;
  readonly size: number;
  readonly gpi: number;
  /** {@link GptMap}; any other value is refused with -EINVAL. */
  readonly map: number;
}

/** TF-A `GPT_MAP_REGION_BLOCK`: L0 Block descriptors; base and size aligned to 2^s. */
export function gptMapRegionBlock(base: number, size: number, gpi: number): PasRegion {
  return { base, size, gpi, map: GptMap.Block };
}

/** TF-A `GPT_MAP_REGION_GRANULE`: L1 tables; base and size aligned to the granule (2^p). */
export function gptMapRegionGranule(base: number, size: number, gpi: number): PasRegion {
  return { base, size, gpi, map: GptMap.Granule };
}

/** Build options of the library (TF-A build flags and CPU features). */
export interface GptLibParams {
  /** GPCCR_EL3.L0GPTSZ as the hardware reports it: 0 (1 GB), 4 (16 GB), 6 (64 GB), 9 (512 GB). */
  readonly l0gptsz: number;
  /** `RME_GPT_MAX_BLOCK` in MB: 0 (no Contiguous descriptors), 2, 32 or 512 (TF-A default 512). */
  readonly maxBlockMb: number;
  /** `ENABLE_RMM`: GPI REALM is valid. */
  readonly realm: boolean;
  /** FEAT_RME_GPC2: GPI NSO is valid and GPCCR_EL3.NSO is set by gptEnable. */
  readonly gpc2: boolean;
  /** FEAT_RME_GDI: GPIs SA and NSP are valid and GPCCR_EL3.{SA,NSP} are set by gptEnable. */
  readonly gdi: boolean;
  /** Translation granule sizes the PE supports (`xlat_arch_is_granule_size_supported`), bytes. */
  readonly translationGranules: readonly number[];
}

/** Defaults: 1 GB L0 regions, 512 MB blocks, RMM enabled, no GPC2/GDI, 4K/16K/64K granules. */
export const DEFAULT_GPT_PARAMS: GptLibParams = {
  l0gptsz: 0,
  maxBlockMb: 512,
  realm: true,
  gpc2: false,
  gdi: false,
  translationGranules: [4096, 16384, 65536],
};

/** Outcome of {@link GptLibrary.gptTransitionPas}: TF-A's return value and `*granule_count`. */
export interface GptTransitionResult {
  /** 0, -EINVAL or -EPERM. */
  readonly rc: number;
  /** Granules transitioned (1 on success, 0 otherwise). */
  readonly granuleCount: number;
}

/** PPS encodings → t; PGS encodings → p (note 0b01 = 64 KB, 0b10 = 16 KB) (spec §2.2). */
const PPS_BITS = [32, 36, 40, 42, 44, 48, 52] as const;
const PGS_BITS = [12, 16, 14] as const;
/** RPA* SIZE codes (TLBI operand [47:44], spec §4.1) by log2 size. */
const RPA_SIZE_CODE: Readonly<Record<number, number>> = {
  12: 0,
  14: 1,
  16: 2,
  21: 3,
  25: 4,
  29: 5,
  30: 6,
  34: 7,
  36: 8,
  39: 9,
};
/** log2 of the sizes the RPA* SIZE field encodes, code by code. */
export const RPA_SIZE_SHIFTS: readonly number[] = [12, 14, 16, 21, 25, 29, 30, 34, 36, 39];
/** Cache line size DC CIPAPA is issued per (TF-A loops a granule one line at a time). */
const CACHE_LINE = 64;
const MB = 2 ** 20;
const TWO32 = 2 ** 32;
/** SIMPLIFICATION: addresses are doubles, exact below 2^53, so that is the "ULONG_MAX" of the model. */
const ADDRESS_LIMIT = 2 ** 53;

/**
 * The Xt operand of TLBI RPALOS/RPAOS: SIZE in [47:44] and the base PA >> 12 in [39:0], as TF-A
 * forms it for every PGS (`arch_helpers.h`; the ignored low bits are zero for an aligned base).
 */
export function rpaOperand(pa: number, sizeShift: number): number {
  const code = RPA_SIZE_CODE[sizeShift];
  assert(code !== undefined, `no RPA* SIZE encoding for 2^${sizeShift} bytes`);
  return Math.floor(pa / 4096) + code * 2 ** 44;
}

/** The PAS the DC CIPAPA of a granule with `gpi` targets. */
function pasOfGpi(gpi: number): Pas {
  switch (gpi) {
    case Gpi.Secure:
      return Pas.Secure;
    case Gpi.Realm:
      return Pas.Realm;
    case Gpi.Root:
      return Pas.Root;
    // NS and NSO granules are accessed in the Non-secure PAS. SIMPLIFICATION: the model has no
    // System-Agent or NS-Protected PAS (FEAT_RME_GDI, NSE2 = 1), so SA/NSP maintenance uses NS.
    default:
      return Pas.NonSecure;
  }
}

/** An L1 Granules descriptor with all sixteen GPIs equal to `gpi`, as [low, high] (TF-A `build_l1_desc`). */
function granulesDescriptor(gpi: number): [number, number] {
  const word = ((gpi & 0xf) * 0x1111_1111) >>> 0;
  return [word, word];
}

/** An L1 Contiguous descriptor: type 0b0001, GPI [7:4], Contig [9:8] (1 = 2 MB, 2 = 32 MB, 3 = 512 MB). */
function contiguousDescriptor(gpi: number, contig: number): [number, number] {
  return [(0b0001 | ((gpi & 0xf) << 4) | (contig << 8)) >>> 0, 0];
}

/**
 * The TF-A GPT library bound to the PE that runs it (`pe`, which must be at EL3 when a method is
 * called). One instance holds the state of one GPT, as TF-A's `gpt_config` does.
 */
export class GptLibrary {
  readonly params: GptLibParams;
  /** The PE the library runs on by default. */
  readonly pe: ProcessingElement;
  private l0Base = 0;
  private pps = 0;
  private t = 32;
  private pgs = 0;
  private p = 12;
  private readonly s: number;
  /** Next free L1 table of the current pool (TF-A `gpt_l1_tbl`). */
  private l1Next = 0;

  constructor(pe: ProcessingElement, params: Partial<GptLibParams> = {}) {
    this.pe = pe;
    this.params = { ...DEFAULT_GPT_PARAMS, ...params };
    const { l0gptsz, maxBlockMb } = this.params;
    if (![0, 4, 6, 9].includes(l0gptsz)) throw new RangeError(`GPT library: L0GPTSZ ${l0gptsz} is reserved`);
    if (![0, 2, 32, 512].includes(maxBlockMb)) {
      throw new RangeError(`GPT library: RME_GPT_MAX_BLOCK must be 0, 2, 32 or 512 (got ${maxBlockMb})`);
    }
    this.s = 30 + l0gptsz;
  }

  // ---------------------------------------------------------------- geometry

  /** L0 table base (0 until gptInitL0Tables succeeds). */
  get l0TableBase(): number {
    return this.l0Base;
  }

  /** PPS, t, PGS, p and s of the tables. */
  get geometry(): {
    readonly pps: number;
    readonly t: number;
    readonly pgs: number;
    readonly p: number;
    readonly s: number;
  } {
    return { pps: this.pps, t: this.t, pgs: this.pgs, p: this.p, s: this.s };
  }

  /** Bytes of the L0 table for PPS `pps` (one entry per 2^s, at least one: TF-A `GPT_L0_TABLE_SIZE`). */
  l0TableBytes(pps = this.pps): number {
    const t = PPS_BITS[pps] ?? 32;
    return 8 * (t > this.s ? 2 ** (t - this.s) : 1);
  }

  /** Bytes of one L1 table for PGS `pgs` (2^(s-p-4) words: TF-A `GPT_L1_TABLE_SIZE`). */
  l1TableBytes(pgs = this.pgs): number {
    const p = PGS_BITS[pgs] ?? 12;
    return 8 * 2 ** (this.s - p - 4);
  }

  private get granule(): number {
    return 2 ** this.p;
  }

  private l0Index(pa: number): number {
    return Math.floor(pa / 2 ** this.s);
  }

  private l1Index(pa: number): number {
    return Math.floor(pa / 2 ** (this.p + 4)) % 2 ** (this.s - this.p - 4);
  }

  private gpiIndex(pa: number): number {
    return Math.floor(pa / this.granule) % 16;
  }

  /** L1 words that describe 2 MB (32 / 8 / 2 for 4K / 16K / 64K granules). */
  private get wordsPer2Mb(): number {
    return (2 * MB) / (16 * this.granule);
  }

  /** TF-A `is_gpi_valid`: REALM only with ENABLE_RMM, NSO only with GPC2, SA/NSP only with GDI. */
  isGpiValid(gpi: number): boolean {
    switch (gpi) {
      case Gpi.NoAccess:
      case Gpi.Secure:
      case Gpi.NonSecure:
      case Gpi.Root:
      case Gpi.Any:
        return true;
      case Gpi.Realm:
        return this.params.realm;
      case Gpi.NonSecureOnly:
        return this.params.gpc2;
      case Gpi.SystemAgent:
      case Gpi.NonSecureProtected:
        return this.params.gdi;
      default:
        return false;
    }
  }

  /** The GPCCR_EL3 value gptEnable programs, without GPC/NSO (§4.2: SH Inner, WB-RA-WA walks). */
  gpccrWithoutGpc(): number {
    const sa = 1 << 25;
    const nsp = 1 << 26;
    return (
      (this.pps |
        (0b01 << 8) | // IRGN: Normal WB RA WA
        (0b01 << 10) | // ORGN: Normal WB RA WA
        (0b11 << 12) | // SH: Inner Shareable
        (this.pgs << 14) |
        // L0GPTSZ is read-only in hardware; the model's register holds what the hardware reports.
        (this.params.l0gptsz << 20) |
        (this.params.gdi ? sa | nsp : 0)) >>>
      0
    );
  }

  // ---------------------------------------------------------------- table access (EL3 loads/stores)

  private read64(pe: ProcessingElement, pa: number): [number, number] {
    const low = pe.load32(pa);
    const lowFault = pe.lastFault;
    const high = pe.load32(pa + 4);
    assert(
      lowFault === 0 && pe.lastFault === 0,
      `EL3 read of GPT memory at 0x${pa.toString(16)} faulted (GPT memory must be Root or ANY DRAM)`,
    );
    return [low >>> 0, high >>> 0];
  }

  private write64(pe: ProcessingElement, pa: number, low: number, high: number): void {
    assert(
      pe.store64(pa, low >>> 0, high >>> 0),
      `EL3 write of GPT memory at 0x${pa.toString(16)} faulted (GPT memory must be Root or ANY DRAM)`,
    );
  }

  private fillWords(pe: ProcessingElement, pa: number, count: number, [low, high]: [number, number]): void {
    for (let i = 0; i < count; i++) this.write64(pe, pa + 8 * i, low, high);
  }

  private atEl3(pe: ProcessingElement): void {
    assert(pe.el === 3, `the GPT library runs at EL3 (${pe.name} is at EL${pe.el})`);
  }

  // ---------------------------------------------------------------- boot-time construction

  /**
   * TF-A `gpt_init_l0_tables`: check PPS (≤ 6, else -EINVAL), the base (non-zero and aligned to
   * max(4 KB, L0 size), else -EFAULT) and the size (≥ L0 size, else -ENOMEM); fill every L0 entry
   * with a Block descriptor GPI ANY (0xF1) and record the base.
   */
  gptInitL0Tables(pps: number, l0Base: number, l0Size: number, pe = this.pe): number {
    this.atEl3(pe);
    if (!Number.isInteger(pps) || pps < 0 || pps > 6) return -Errno.EINVAL;
    this.pps = pps;
    this.t = PPS_BITS[pps]!;
    const bytes = this.l0TableBytes();
    const alignment = Math.max(4096, bytes);
    if (!Number.isSafeInteger(l0Base) || l0Base <= 0 || l0Base % alignment !== 0) return -Errno.EFAULT;
    if (!(l0Size >= bytes)) return -Errno.ENOMEM;
    this.fillWords(pe, l0Base, bytes / 8, [0xf1, 0]);
    this.l0Base = l0Base;
    return 0;
  }

  /**
   * TF-A `gpt_init_pas_l1_tables`: PGS ≤ 2 (-EINVAL); L0 tables initialised (-EPERM); the regions
   * validated (see {@link validatePasMappings}); when L1 tables are needed, the granule size
   * supported (-EPERM), the pool aligned to the L1 table size (-EFAULT) and large enough (-ENOMEM).
   * Then L0 Block descriptors for BLOCK regions and L1 tables (taken from the pool, filled with
   * ANY) for GRANULE regions, with Contiguous descriptors for 2 MB-aligned sub-ranges up to
   * RME_GPT_MAX_BLOCK; finally TLBI PAALLOS. Can be called again with another pool for L0 entries
   * that are still Block ANY.
   */
  gptInitPasL1Tables(
    pgs: number,
    l1Base: number,
    l1Size: number,
    regions: readonly PasRegion[],
    pe = this.pe,
  ): number {
    this.atEl3(pe);
    if (!Number.isInteger(pgs) || pgs < 0 || pgs > 2) return -Errno.EINVAL;
    this.pgs = pgs;
    this.p = PGS_BITS[pgs]!;
    if (this.l0Base === 0) return -Errno.EPERM;
    // TF-A asserts a non-empty array; at this API boundary an empty one is refused instead.
    if (regions.length === 0) return -Errno.EINVAL;
    const l1Count = this.validatePasMappings(regions, pe);
    if (l1Count < 0) return l1Count;
    if (l1Count > 0) {
      if (!this.params.translationGranules.includes(this.granule)) return -Errno.EPERM;
      const tableBytes = this.l1TableBytes();
      if (!Number.isSafeInteger(l1Base) || l1Base < 0 || l1Base % tableBytes !== 0) return -Errno.EFAULT;
      if (!(l1Size >= l1Count * tableBytes)) return -Errno.ENOMEM;
      this.l1Next = l1Base;
    }
    for (const region of regions) {
      if (region.map === GptMap.Block) this.generateL0BlockDescriptors(pe, region);
      else this.generateL0TableDescriptors(pe, region);
    }
    // Tables are cleaned to the PoC (no caches in the model), then DSB ISHST; TLBI PAALLOS; DSB; ISB.
    pe.tlbi('PAALLOS');
    return 0;
  }

  /**
   * TF-A `validate_pas_mappings`, region by region in order: no address overflow (-EOVERFLOW);
   * end ≤ 2^t and a GPI valid for the enabled features (-EFAULT); no overlap with a later region
   * (-EFAULT); every L0 entry it touches still Block ANY (-EFAULT); BLOCK regions aligned to 2^s
   * and GRANULE regions to 2^p in base and size (-EFAULT); any other mapping type -EINVAL.
   * Returns the number of L1 tables needed (an L0 entry shared by several GRANULE regions is
   * counted once) or a negative errno.
   */
  private validatePasMappings(regions: readonly PasRegion[], pe: ProcessingElement): number {
    let l1Count = 0;
    const l0Span = 2 ** this.s;
    for (let idx = 0; idx < regions.length; idx++) {
      const region = regions[idx]!;
      const { base, size } = region;
      // Addresses are non-negative integers; an empty region has no L0 entry to map (TF-A leaves
      // both undefined; the model refuses them as malformed).
      if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size <= 0)
        return -Errno.EINVAL;
      if (base + size > ADDRESS_LIMIT) return -Errno.EOVERFLOW;
      if (base + size > 2 ** this.t || !this.isGpiValid(region.gpi)) return -Errno.EFAULT;
      for (let i = idx + 1; i < regions.length; i++) {
        const other = regions[i]!;
        if (base + size > other.base && other.base + other.size > base) return -Errno.EFAULT;
      }
      const first = this.l0Index(base);
      const last = this.l0Index(base + size - 1);
      for (let i = first; i <= last; i++) {
        const [low, high] = this.read64(pe, this.l0Base + 8 * i);
        if (!(low === 0xf1 && high === 0)) return -Errno.EFAULT;
      }
      if (region.map === GptMap.Block) {
        if (base % l0Span !== 0 || size % l0Span !== 0) return -Errno.EFAULT;
        continue;
      }
      if (region.map !== GptMap.Granule) return -Errno.EINVAL;
      if (base % this.granule !== 0 || size % this.granule !== 0) return -Errno.EFAULT;
      let tables = last - first + 1;
      const usedBefore = (l0: number): boolean =>
        regions.slice(0, idx).some((r) => l0 * l0Span + l0Span > r.base && r.base + r.size > l0 * l0Span);
      if (tables > 1 && usedBefore(last)) tables--;
      if (usedBefore(first)) tables--;
      l1Count += tables;
    }
    return l1Count;
  }

  /** TF-A `generate_l0_blk_desc`: Block descriptors with the region's GPI. */
  private generateL0BlockDescriptors(pe: ProcessingElement, region: PasRegion): void {
    const end = this.l0Index(region.base + region.size);
    for (let i = this.l0Index(region.base); i < end; i++) {
      this.write64(pe, this.l0Base + 8 * i, (0b0001 | ((region.gpi & 0xf) << 4)) >>> 0, 0);
    }
  }

  /** TF-A `generate_l0_tbl_desc`: reuse or create the L1 table of each L0 entry, then fill it. */
  private generateL0TableDescriptors(pe: ProcessingElement, region: PasRegion): void {
    const end = region.base + region.size;
    const l0Span = 2 ** this.s;
    let current = region.base;
    for (let i = this.l0Index(region.base); i <= this.l0Index(end - 1); i++) {
      const entryPa = this.l0Base + 8 * i;
      const [low, high] = this.read64(pe, entryPa);
      let l1: number;
      if ((low & 0xf) === 0b0011) {
        l1 = (high & 0xfffff) * TWO32 + ((low & 0xffff_f000) >>> 0);
      } else {
        // TF-A `get_new_l1_tbl`: the next table of the pool, every GPI ANY.
        l1 = this.l1Next;
        this.l1Next += this.l1TableBytes();
        assert(
          pe.fillBytes(l1, this.l1TableBytes(), 0xff),
          `EL3 fill of an L1 table at 0x${l1.toString(16)} faulted`,
        );
        this.write64(pe, entryPa, ((l1 % TWO32) | 0b0011) >>> 0, Math.floor(l1 / TWO32));
      }
      const regionEnd = Math.min(end, (i + 1) * l0Span);
      this.fillL1Table(pe, l1, current, regionEnd - this.granule, region.gpi);
      current = regionEnd;
    }
  }

  /**
   * TF-A `fill_l1_tbl`: granules [first, last] (inclusive) of one L1 table get `gpi`; with
   * RME_GPT_MAX_BLOCK ≠ 0, 2 MB-aligned sub-ranges of at least 2 MB become Contiguous descriptors
   * of the largest fitting size, replicated into every word of the block as TF-A's `fill_desc` does.
   */
  private fillL1Table(pe: ProcessingElement, l1: number, first: number, last: number, gpi: number): void {
    const block2 = 2 * MB;
    while (first <= last) {
      const length = last - first + this.granule;
      if (this.params.maxBlockMb === 0 || length < block2) {
        first = this.fillGranules(pe, l1, first, last, gpi);
      } else if (first % block2 === 0) {
        first = this.fillContiguous(pe, l1, first, length, gpi);
      } else {
        const nextBoundary = Math.floor((first + block2) / block2) * block2;
        first = this.fillGranules(pe, l1, first, nextBoundary - this.granule, gpi);
      }
    }
  }

  /** TF-A `fill_l1_cont_desc`: one Contiguous block of the largest size that fits at `first`. */
  private fillContiguous(
    pe: ProcessingElement,
    l1: number,
    first: number,
    length: number,
    gpi: number,
  ): number {
    for (const [sizeMb, contig] of [
      [512, 3],
      [32, 2],
      [2, 1],
    ] as const) {
      const size = sizeMb * MB;
      if (sizeMb > this.params.maxBlockMb || length < size || first % size !== 0) continue;
      const words = size / (16 * this.granule);
      this.fillWords(pe, l1 + 8 * this.l1Index(first), words, contiguousDescriptor(gpi, contig));
      return first + size;
    }
    assert(false, 'a 2 MB-aligned range of at least 2 MB always fits a 2 MB block');
  }

  /** TF-A `fill_l1_gran_desc`: write `gpi` into the nibbles of granules [first, last]. */
  private fillGranules(pe: ProcessingElement, l1: number, first: number, last: number, gpi: number): number {
    for (let word = this.l1Index(first); word <= this.l1Index(last); word++) {
      const from = word === this.l1Index(first) ? this.gpiIndex(first) : 0;
      const to = word === this.l1Index(last) ? this.gpiIndex(last) : 15;
      const wordPa = l1 + 8 * word;
      let [low, high] = this.read64(pe, wordPa);
      for (let n = from; n <= to; n++) {
        assert(nibble(low, high, n) === Gpi.Any, 'GPT construction only writes granules that are still ANY');
        [low, high] = withNibble(low, high, n, gpi);
      }
      this.write64(pe, wordPa, low, high);
    }
    return last + this.granule;
  }

  // ---------------------------------------------------------------- enable

  /**
   * TF-A `gpt_enable` on `pe` (run on every PE, §4.2): -EPERM if the tables are not initialised;
   * write GPTBR_EL3; write GPCCR_EL3 without GPC (PPS, PGS, SH Inner, IRGN/ORGN WB-RA-WA, SA/NSP
   * with GDI); ISB; TLBI PAALLOS; DSB; ISB; set GPC (and NSO with GPC2); ISB; TLBI PAALLOS; DSB; ISB.
   */
  gptEnable(pe = this.pe): number {
    this.atEl3(pe);
    if (this.l0Base === 0) return -Errno.EPERM;
    // GPTBR_EL3.BADDR [39:0] = PA[51:12] of the L0 table (TF-A gpt_rme.c; spec §2.3).
    pe.msrNumber('GPTBR_EL3', Math.floor(this.l0Base / 4096) % 2 ** 40);
    const gpccr = this.gpccrWithoutGpc();
    pe.msr('GPCCR_EL3', gpccr);
    pe.tlbi('PAALLOS');
    pe.msr('GPCCR_EL3', (gpccr | (1 << 16) | (this.params.gpc2 ? 1 << 19 : 0)) >>> 0);
    pe.tlbi('PAALLOS');
    return 0;
  }

  // ---------------------------------------------------------------- runtime transitions

  /**
   * The GPI of the granule holding `pa` as the tables say (read through the PE), or undefined when
   * `pa` is at or above PPS or the tables are not initialised.
   */
  readGpi(pa: number, pe = this.pe): number | undefined {
    this.atEl3(pe);
    if (this.l0Base === 0 || !Number.isSafeInteger(pa) || pa < 0 || pa >= 2 ** this.t) return undefined;
    const [l0Low, l0High] = this.read64(pe, this.l0Base + 8 * this.l0Index(pa));
    if ((l0Low & 0xf) === 0b0001) return (l0Low >>> 4) & 0xf;
    const l1 = (l0High & 0xfffff) * TWO32 + ((l0Low & 0xffff_f000) >>> 0);
    const [low, high] = this.read64(pe, l1 + 8 * this.l1Index(pa));
    return (low & 0xf) === 0b0001 ? (low >>> 4) & 0xf : nibble(low, high, this.gpiIndex(pa));
  }

  /**
   * TF-A `gpt_transition_pas(base, *granule_count, target_gpi, src_sec_state)` (spec §5.2):
   * 1. the count must be 1 (-EINVAL); 2. the target GPI must be valid (-EPERM); 3. base granule-
   * aligned with base + granule < 2^t (-EINVAL; the last granule below PPS is refused, as in TF-A);
   * 4. the L0 entry must be a Table descriptor (-EINVAL); 5. the transition must be allowed for the
   * caller (-EPERM); then shatter a Contiguous block, run the delegate, undelegate or NS↔NSO
   * sequence (§4.4) and try to fuse the block back.
   * `callerState` is the security state of the SMC caller: Secure, NonSecure or Realm.
   */
  gptTransitionPas(
    base: number,
    granuleCount: number,
    targetGpi: number,
    callerState: Pas,
    pe = this.pe,
  ): GptTransitionResult {
    this.atEl3(pe);
    const refused = (rc: number): GptTransitionResult => ({ rc, granuleCount: 0 });
    if (granuleCount !== 1) return refused(-Errno.EINVAL);
    if (this.l0Base === 0) return refused(-Errno.EPERM);
    if (!this.isGpiValid(targetGpi)) return refused(-Errno.EPERM);
    const granule = this.granule;
    if (!Number.isSafeInteger(base) || base < 0 || base % granule !== 0 || base + granule >= 2 ** this.t) {
      return refused(-Errno.EINVAL);
    }
    const [l0Low, l0High] = this.read64(pe, this.l0Base + 8 * this.l0Index(base));
    if ((l0Low & 0xf) !== 0b0011) return refused(-Errno.EINVAL);
    const l1 = (l0High & 0xfffff) * TWO32 + ((l0Low & 0xffff_f000) >>> 0);
    const wordPa = l1 + 8 * this.l1Index(base);
    const index = this.gpiIndex(base);
    let [low, high] = this.read64(pe, wordPa);
    const contiguous = (low & 0xf) === 0b0001;
    const current = contiguous ? (low >>> 4) & 0xf : nibble(low, high, index);
    if (!this.transitionAllowed(callerState, current, targetGpi)) return refused(-Errno.EPERM);
    if (contiguous) {
      this.shatter(pe, base, l1, (low >>> 8) & 3, current);
      [low, high] = granulesDescriptor(current);
    }
    const write = (gpi: number): void => {
      [low, high] = withNibble(low, high, index, gpi);
      this.write64(pe, wordPa, low, high); // then DSB OSHST
      pe.tlbi('RPALOS', rpaOperand(base, this.p)); // then DSB OSH
    };
    const toNs = targetGpi === Gpi.NonSecure || targetGpi === Gpi.NonSecureOnly;
    const fromNs = current === Gpi.NonSecure || current === Gpi.NonSecureOnly;
    if (toNs && fromNs) {
      // NS ↔ NSO: a plain write and TLBI.
      write(targetGpi);
    } else if (!toNs) {
      // Delegate: remove lines speculatively fetched into the target PAS, switch the GPI, then
      // push the data written in the source PAS past the PoPA.
      this.flushGranule(pe, base, pasOfGpi(targetGpi));
      write(targetGpi);
      this.flushGranule(pe, base, pasOfGpi(current));
    } else {
      // Undelegate: NO_ACCESS first so that writes in the old PAS can no longer become observable,
      // clean both PAS, then the target GPI.
      write(Gpi.NoAccess);
      this.flushGranule(pe, base, pasOfGpi(current));
      this.flushGranule(pe, base, pasOfGpi(targetGpi));
      write(targetGpi);
    }
    const uniform = granulesDescriptor(targetGpi);
    if (low === uniform[0] && high === uniform[1]) this.fuse(pe, base, l1, targetGpi);
    return { rc: 0, granuleCount: 1 };
  }

  /**
   * The policy table of spec §5.2 (TF-A `gpi_config` / `is_gpi_transition_permitted`, widened in
   * `gpt_enable` for GPC2 and GDI): which target GPIs a caller may request from a current GPI.
   */
  transitionAllowed(caller: Pas, current: number, target: number): boolean {
    const { gpc2, gdi } = this.params;
    const nsp = Gpi.NonSecureProtected;
    const sa = Gpi.SystemAgent;
    switch (caller) {
      case Pas.Secure:
        return (
          (current === Gpi.NonSecure && target === Gpi.Secure) ||
          (current === Gpi.Secure && target === Gpi.NonSecure)
        );
      case Pas.Realm:
        return (
          (current === Gpi.NonSecure && target === Gpi.Realm) ||
          (current === Gpi.Realm && target === Gpi.NonSecure)
        );
      case Pas.NonSecure:
        switch (current) {
          case Gpi.NonSecure:
            return (gpc2 && target === Gpi.NonSecureOnly) || (gdi && (target === nsp || target === sa));
          case Gpi.NonSecureOnly:
            return (gpc2 && target === Gpi.NonSecure) || (gdi && (target === nsp || target === sa));
          case nsp:
          case sa:
            return gdi && (target === Gpi.NonSecure || target === Gpi.NonSecureOnly);
          default:
            return false;
        }
      default:
        return false;
    }
  }

  /** DC CIPAPA over one granule in `pas`, one cache line at a time, then DSB OSH. */
  private flushGranule(pe: ProcessingElement, base: number, pas: Pas): void {
    for (let offset = 0; offset < this.granule; offset += CACHE_LINE) pe.dcCipapa(base + offset, pas);
  }

  /**
   * TF-A `shatter_block`: turn the Contiguous block (`contig` 1/2/3 = 2/32/512 MB) holding `base`
   * into Granules descriptors for the 2 MB around `base` and smaller Contiguous blocks elsewhere,
   * then TLBI RPALOS with the block size (§4.2).
   */
  private shatter(pe: ProcessingElement, base: number, l1: number, contig: number, gpi: number): void {
    const words2 = this.wordsPer2Mb;
    const block2 = 2 * MB;
    const block32 = 32 * MB;
    const wordAt = (pa: number): number => l1 + 8 * this.l1Index(pa);
    const align = (pa: number, size: number): number => Math.floor(pa / size) * size;
    const shatter2 = (): void =>
      this.fillWords(pe, wordAt(align(base, block2)), words2, granulesDescriptor(gpi));
    const shatter32 = (): void => {
      for (let k = 0; k < 16; k++) {
        const at = align(base, block32) + k * block2;
        if (at === align(base, block2)) shatter2();
        else this.fillWords(pe, wordAt(at), words2, contiguousDescriptor(gpi, 1));
      }
    };
    assert(contig >= 1 && contig <= 3, 'a Contiguous descriptor has Contig 1, 2 or 3');
    let blockShift = 21;
    if (contig === 1) shatter2();
    else if (contig === 2) {
      shatter32();
      blockShift = 25;
    } else {
      for (let k = 0; k < 16; k++) {
        const at = align(base, 512 * MB) + k * block32;
        if (at === align(base, block32)) shatter32();
        else this.fillWords(pe, wordAt(at), 16 * words2, contiguousDescriptor(gpi, 2));
      }
      blockShift = 29;
    }
    pe.tlbi('RPALOS', rpaOperand(align(base, 2 ** blockShift), blockShift)); // then DSB OSH
  }

  /**
   * TF-A `fuse_block`: when the 2 MB around `base` holds `gpi` everywhere, replace it by a 2 MB
   * Contiguous descriptor, and climb to 32 MB and 512 MB while the neighbours agree, up to
   * RME_GPT_MAX_BLOCK. No TLBI: no granule changes its GPI.
   */
  private fuse(pe: ProcessingElement, base: number, l1: number, gpi: number): void {
    const maxBlock = this.params.maxBlockMb;
    if (maxBlock === 0) return;
    const words2 = this.wordsPer2Mb;
    const wordAt = (pa: number): number => l1 + 8 * this.l1Index(pa);
    const align = (pa: number, size: number): number => Math.floor(pa / size) * size;
    const equals = (pa: number, [low, high]: [number, number]): boolean => {
      const [l, h] = this.read64(pe, pa);
      return l === low && h === high;
    };
    const base2 = align(base, 2 * MB);
    const uniform = granulesDescriptor(gpi);
    for (let i = 0; i < words2; i++) if (!equals(wordAt(base2) + 8 * i, uniform)) return;
    const cont2 = contiguousDescriptor(gpi, 1);
    const fuse2 = (): void => this.fillWords(pe, wordAt(base2), words2, cont2);
    if (maxBlock === 2) return fuse2();
    this.write64(pe, wordAt(base2), ...cont2);
    const base32 = align(base, 32 * MB);
    for (let k = 0; k < 16; k++) if (!equals(wordAt(base32 + k * 2 * MB), cont2)) return fuse2();
    const cont32 = contiguousDescriptor(gpi, 2);
    const fuse32 = (): void => this.fillWords(pe, wordAt(base32), 16 * words2, cont32);
    if (maxBlock === 32) return fuse32();
    this.write64(pe, wordAt(base32), ...cont32);
    const base512 = align(base, 512 * MB);
    for (let k = 0; k < 16; k++) if (!equals(wordAt(base512 + k * 32 * MB), cont32)) return fuse32();
    this.fillWords(pe, wordAt(base512), 256 * words2, contiguousDescriptor(gpi, 3));
  }
}

/** GPI nibble `n` (0..15) of a Granules descriptor held as halves. */
function nibble(low: number, high: number, n: number): number {
  return n < 8 ? (low >>> (4 * n)) & 0xf : (high >>> (4 * (n - 8))) & 0xf;
}

/** The descriptor with nibble `n` set to `gpi`. */
function withNibble(low: number, high: number, n: number, gpi: number): [number, number] {
  if (n < 8) {
    const shift = 4 * n;
    return [((low & ~(0xf << shift)) | ((gpi & 0xf) << shift)) >>> 0, high >>> 0];
  }
  const shift = 4 * (n - 8);
  return [low >>> 0, ((high & ~(0xf << shift)) | ((gpi & 0xf) << shift)) >>> 0];
}
