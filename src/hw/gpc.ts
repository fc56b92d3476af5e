/**
 * The granule protection check (GPC) of Arm RME: GPCCR_EL3/GPTBR_EL3 decoding and the two-level
 * GPT walk, written as the architecture's priority list (spec/cca-hardware.md §3.5, after QEMU
 * `arm_granule_protection_check`). GPT descriptors are read from simulated physical memory; GPT
 * fetches are not themselves GPC-checked (GPCCR_EL3.GPC text: "except for fetches of GPT
 * information").
 *
 * Results are small integers so the walk stays allocation-free: 0 means allowed, anything else is
 * a fault code that {@link gpcFaultKind} / {@link gpcFaultLevel} decode.
 */
import { field32 } from './bits.js';
import type { PhysicalMemory } from './memory.js';
import { Gpi, Pas } from './pas.js';

/** Kinds of GPC fault (spec/cca-hardware.md §3.6, QEMU `GPCF_*`). */
export const GpcFault = { GPF: 1, GPTWalk: 2, GPTAddressSize: 3, GPTEABT: 4 } as const;
/** A GPC fault kind number. */
export type GpcFault = (typeof GpcFault)[keyof typeof GpcFault];
/** Names of GPC fault kinds as the conformance vectors spell them, indexed by kind number. */
export const GPC_FAULT_NAMES = ['', 'GPF', 'GPTWalk', 'GPTAddressSize', 'GPTEABT'] as const;

/** A GPC outcome: 0 = allowed, otherwise (kind << 1) | gptLevel. */
export type GpcResult = number;
/** The allowed outcome. */
export const GPC_OK: GpcResult = 0;

/** Encode a fault outcome. */
export function gpcFault(kind: GpcFault, level: 0 | 1): GpcResult {
  return (kind << 1) | level;
}
/** Kind of a fault outcome (0 for allowed). */
export function gpcFaultKind(result: GpcResult): number {
  return result >>> 1;
}
/** GPT level of a fault outcome. */
export function gpcFaultLevel(result: GpcResult): 0 | 1 {
  return (result & 1) as 0 | 1;
}

/** PPS encodings → protected size in bits (§2.2). */
const PPS_BITS = [32, 36, 40, 42, 44, 48, 52] as const;
/** PGS encodings → granule size in bits; note 0b01 = 64 KB, 0b10 = 16 KB (§2.2). */
const PGS_BITS = [12, 16, 14] as const;
/** L0GPTSZ encodings that are defined (§2.2): 0 → 30, 4 → 34, 6 → 36, 9 → 39. */
const L0GPTSZ_DEFINED = new Set([0, 4, 6, 9]);

const GPCCR_GPC = 1 << 16;
const GPCCR_NSO = 1 << 19;
const GPCCR_APPSAA = 1 << 24;
const GPCCR_SA = 1 << 25;
const GPCCR_NSP = 1 << 26;
const GPCCR_NA6 = 1 << 27;
const GPCCR_NA7 = 1 << 28;
const GPCCR_RLPAD = 1 << 5;
const GPCCR_NSPAD = 1 << 6;
const GPCCR_SPAD = 1 << 7;

/** GPCCR_EL3 fields decoded (all of them live in the low 32 bits). */
export interface GpccrFields {
  pps: number;
  rlpad: boolean;
  nspad: boolean;
  spad: boolean;
  irgn: number;
  orgn: number;
  sh: number;
  pgs: number;
  gpc: boolean;
  gpcp: boolean;
  tbgpcd: boolean;
  nso: boolean;
  l0gptsz: number;
  appsaa: boolean;
  sa: boolean;
  nsp: boolean;
  na6: boolean;
  na7: boolean;
  gpcbw: boolean;
}

/** Decode the low word of GPCCR_EL3 (bit positions from spec/cca-hardware.md §2.1). */
export function decodeGpccr(low: number): GpccrFields {
  return {
    pps: field32(low, 2, 0),
    rlpad: (low & GPCCR_RLPAD) !== 0,
    nspad: (low & GPCCR_NSPAD) !== 0,
    spad: (low & GPCCR_SPAD) !== 0,
    irgn: field32(low, 9, 8),
    orgn: field32(low, 11, 10),
    sh: field32(low, 13, 12),
    pgs: field32(low, 15, 14),
    gpc: (low & GPCCR_GPC) !== 0,
    gpcp: ((low >>> 17) & 1) !== 0,
    tbgpcd: ((low >>> 18) & 1) !== 0,
    nso: (low & GPCCR_NSO) !== 0,
    l0gptsz: field32(low, 23, 20),
    appsaa: (low & GPCCR_APPSAA) !== 0,
    sa: (low & GPCCR_SA) !== 0,
    nsp: (low & GPCCR_NSP) !== 0,
    na6: (low & GPCCR_NA6) !== 0,
    na7: (low & GPCCR_NA7) !== 0,
    gpcbw: ((low >>> 29) & 1) !== 0,
  };
}

/** Where a GPI came from, for inspection tools. */
export interface GptLookup {
  /** GPC outcome of the walk itself (a walk, address-size or abort fault), or GPC_OK. */
  readonly walk: GpcResult;
  /** GPI found (valid only when `walk` is GPC_OK and the walk reached a descriptor). */
  readonly gpi: number;
  /** GPT level the GPI came from. */
  readonly level: 0 | 1;
  /** PA of the descriptor that held the GPI. */
  readonly descriptorPa: number;
}

/**
 * One GPC unit: the configuration a PE (or an SMMU) holds in GPCCR_EL3/GPTBR_EL3 plus the walker.
 * Reconfigure with {@link configure} whenever either register changes.
 */
export class GranuleProtectionCheck {
  private enabled = false;
  /** Priority-1 configuration fault present (R_GMGRR/R_JWCSM). */
  private configFault = false;
  private protectedBytes = 2 ** 32; // 2^t
  private granuleShift = 12; // p
  private l0Shift = 30; // s
  private l0Span = 2 ** 30; // 2^s
  private l1Span = 2 ** 16; // 2^(p+4)
  private l1Mask = 0x3fff; // 2^(s-p-4) - 1
  private l1TableAlign = 0x20000; // max(L1 table size, 4 KiB)
  // Reciprocals of the powers of two above: multiplying by 2^-n is exact and much cheaper than a
  // division on the walk's hot path.
  private l0SpanInverse = 2 ** -30;
  private l1SpanInverse = 2 ** -16;
  private l1AlignInverse = 2 ** -17;
  private granuleInverse = 2 ** -12;
  private l0Base = 0;
  private l0BaseAboveProtected = false;
  private disabledPasMask = 0; // bit n set: PAS n is disabled
  private appsaa = false;
  private nso = false;
  /** Bit g set: GPI g is a defined encoding under the current GPCCR_EL3 (others are walk faults). */
  private validGpiMask = 0;
  private gpccrLow = 0;
  /** GPT descriptor fetches made by checks so far (a statistic the PE charges as GptRead). */
  tableReads = 0;

  private readonly memory: PhysicalMemory;
  /** ID_AA64MMFR0_EL1.PARange of the machine, in bits. */
  private readonly paRangeBits: number;

  // GPT-information cache: granules whose GPI a walk found, tagged with the GPT base when the
  // gptTaggedTlb extension is on. Architecturally GPT information may be cached in TLBs and is
  // removed only by TLBI PAALL/PAALLOS/RPALOS/RPAOS (spec/cca-hardware.md §4.1), so entries here
  // survive GPT edits and GPTBR_EL3 writes until software issues one of those.
  private readonly cacheGranule: Float64Array;
  private readonly cacheTag: Float64Array;
  private readonly cacheValue: Int8Array;
  /** Generation an entry was filled in; invalidateAll starts a new one (O(1) flush). */
  private readonly cacheEpoch: Int32Array;
  private epoch = 1;
  private readonly cacheSize: number;
  private readonly cacheInverse: number;
  private readonly tagged: boolean;
  private currentTag = 0;
  /** Lookups answered by the GPT-information cache. */
  cacheHits = 0;

  /**
   * `gptInfoEntries` sizes the GPT-information cache (a power of two); `taggedByGpt` tags its
   * entries with the GPT base (the gptTaggedTlb extension).
   */
  constructor(memory: PhysicalMemory, paRangeBits: number, gptInfoEntries = 1024, taggedByGpt = false) {
    this.memory = memory;
    this.paRangeBits = paRangeBits;
    this.cacheSize = gptInfoEntries;
    this.cacheInverse = 1 / gptInfoEntries;
    this.cacheGranule = new Float64Array(gptInfoEntries).fill(Number.NaN);
    this.cacheTag = new Float64Array(gptInfoEntries);
    this.cacheValue = new Int8Array(gptInfoEntries);
    this.cacheEpoch = new Int32Array(gptInfoEntries);
    this.tagged = taggedByGpt;
  }

  /** TLBI PAALL/PAALLOS: forget all cached GPT information. */
  invalidateAll(): void {
    this.epoch++;
    if (this.epoch === 0x7fff_ffff) {
      this.epoch = 1;
      this.cacheEpoch.fill(0);
    }
  }

  /** TLBI RPALOS/RPAOS: forget cached GPT information for granules in [base, base + size). */
  invalidateRange(base: number, size: number): void {
    const first = Math.floor(base * this.granuleInverse);
    const last = Math.floor((base + size - 1) * this.granuleInverse);
    const granules = this.cacheGranule;
    for (let i = 0; i < this.cacheSize; i++) {
      const g = granules[i]!;
      if (g >= first && g <= last) granules[i] = Number.NaN;
    }
  }

  /** Load GPCCR_EL3 (low word) and GPTBR_EL3 (as halves) into the unit. */
  configure(gpccrLow: number, gptbrLow: number, gptbrHigh: number): void {
    const f = decodeGpccr(gpccrLow);
    // A new granule size or protected size changes what a cached granule number means: such a
    // reconfiguration needs TLBI PAALL anyway, and dropping the cache here is one of the behaviours
    // the architecture allows.
    if (((this.gpccrLow ^ gpccrLow) & 0x00f0_c007) !== 0) this.invalidateAll();
    this.gpccrLow = gpccrLow >>> 0;
    this.enabled = f.gpc;
    const t = PPS_BITS[f.pps];
    const p = PGS_BITS[f.pgs];
    // GPC priority 1 (R_GMGRR, R_JWCSM): configuration errors → GPT walk fault at level 0.
    this.configFault =
      t === undefined ||
      t > this.paRangeBits ||
      p === undefined ||
      f.sh === 0b01 ||
      (f.irgn === 0 && f.orgn === 0 && f.sh !== 0b10) ||
      !L0GPTSZ_DEFINED.has(f.l0gptsz);
    if (t === undefined || p === undefined) return;
    const s = 30 + f.l0gptsz;
    this.protectedBytes = 2 ** t;
    this.granuleShift = p;
    this.l0Shift = s;
    this.l0Span = 2 ** s;
    this.l1Span = 2 ** (p + 4);
    this.l1Mask = 2 ** Math.max(s - p - 4, 0) - 1;
    this.l1TableAlign = Math.max(2 ** Math.max(s - p - 1, 0), 4096);
    this.l0SpanInverse = 1 / this.l0Span;
    this.l1SpanInverse = 1 / this.l1Span;
    this.l1AlignInverse = 1 / this.l1TableAlign;
    this.granuleInverse = 2 ** -p;
    // GPTBR_EL3.BADDR [39:0] = PA[51:12]; bits [x:0] of the base are ignored with
    // x = max(t - s + 3, 12) - 1 (ArmSR GPTBR_EL3; QEMU ptw.c L519-525).
    const baddr = (gptbrHigh & 0xff) * 2 ** 32 + (gptbrLow >>> 0);
    const rawBase = baddr * 4096;
    const l0Align = 2 ** Math.max(t - s + 3, 12);
    this.l0Base = Math.floor(rawBase / l0Align) * l0Align;
    this.l0BaseAboveProtected = rawBase >= this.protectedBytes;
    this.currentTag = this.tagged ? baddr : 0;
    this.disabledPasMask =
      (f.spad ? 1 << Pas.Secure : 0) | (f.nspad ? 1 << Pas.NonSecure : 0) | (f.rlpad ? 1 << Pas.Realm : 0);
    this.appsaa = f.appsaa;
    this.nso = f.nso;
    this.validGpiMask =
      (1 << Gpi.NoAccess) |
      (1 << Gpi.Secure) |
      (1 << Gpi.NonSecure) |
      (1 << Gpi.Root) |
      (1 << Gpi.Realm) |
      (1 << Gpi.Any) |
      (f.sa ? 1 << Gpi.SystemAgent : 0) |
      (f.nsp ? 1 << Gpi.NonSecureProtected : 0) |
      (f.na6 ? 1 << Gpi.NoAccess6 : 0) |
      (f.na7 ? 1 << Gpi.NoAccess7 : 0) |
      (f.nso ? 1 << Gpi.NonSecureOnly : 0);
  }

  /** GPCCR_EL3.GPC. */
  get isEnabled(): boolean {
    return this.enabled;
  }

  /** The physical granule size (PGS) in bytes. */
  get granuleBytes(): number {
    return 2 ** this.granuleShift;
  }

  /** The protected physical size (PPS) in bytes. */
  get protectedSize(): number {
    return this.protectedBytes;
  }

  /** The GPCCR_EL3 low word last configured. */
  get gpccr(): number {
    return this.gpccrLow;
  }

  /**
   * Check an access to `pa` in PAS `pas` made by a PE in security state `state`.
   * Implements spec/cca-hardware.md §3.5 in its priority order.
   */
  check(pa: number, pas: Pas, state: Pas): GpcResult {
    // GPCCR_EL3.GPC == 0: no check.
    if (!this.enabled) return GPC_OK;
    // GPC priority 1 (R_GMGRR, R_JWCSM): configuration error → GPT walk fault, level 0.
    if (this.configFault) return gpcFault(GpcFault.GPTWalk, 0);
    // GPC priority 2 (R_TCWMD): the access PAS is disabled → GPF, level 0. Root is never disabled.
    if ((this.disabledPasMask >>> pas) & 1) return gpcFault(GpcFault.GPF, 0);
    // GPC priority 3: PA at or above PPS. Non-secure PAS is allowed without lookup (R_CPDSB);
    // APPSAA = 1 allows every PAS (R_PBPSH); otherwise GPF at level 0 (R_JFFHB).
    if (pa >= this.protectedBytes) {
      return pas === Pas.NonSecure || this.appsaa ? GPC_OK : gpcFault(GpcFault.GPF, 0);
    }
    // GPC priority 4: GPTBR_EL3 base at or above PPS → GPT address size fault, level 0.
    if (this.l0BaseAboveProtected) return gpcFault(GpcFault.GPTAddressSize, 0);
    const granule = Math.floor(pa * this.granuleInverse);
    const slot = (granule - Math.floor(granule * this.cacheInverse) * this.cacheSize) | 0;
    let lookup: number;
    if (
      this.cacheGranule[slot] === granule &&
      this.cacheEpoch[slot] === this.epoch &&
      this.cacheTag[slot] === this.currentTag
    ) {
      this.cacheHits++;
      lookup = this.cacheValue[slot]!;
    } else {
      lookup = this.walk(pa);
      if (lookup < 0) return -lookup;
      this.cacheGranule[slot] = granule;
      this.cacheEpoch[slot] = this.epoch;
      this.cacheTag[slot] = this.currentTag;
      this.cacheValue[slot] = lookup;
    }
    return this.evaluate(lookup & 0xf, lookup >>> 4 === 1 ? 1 : 0, pas, state);
  }

  /**
   * Walk the GPT for `pa` (already known to be below PPS with a sane configuration).
   * Returns -(fault code) on a walk fault, else gpi | (level << 4).
   */
  private walk(pa: number): number {
    const memory = this.memory;
    const l0Index = Math.floor(pa * this.l0SpanInverse);
    const l0Pa = this.l0Base + 8 * l0Index;
    this.tableReads++;
    // A bus error on the L0 fetch → GPT external abort, level 0.
    if (!memory.readDescriptor(l0Pa)) return -gpcFault(GpcFault.GPTEABT, 0);
    const l0Low = memory.descriptorLow;
    const l0High = memory.descriptorHigh;
    switch (l0Low & 0xf) {
      case 0b0001: {
        // L0 Block descriptor: GPI [7:4], [63:8] RES0 (QEMU ptw.c L534-539).
        if (l0High !== 0 || l0Low >>> 8 !== 0) return -gpcFault(GpcFault.GPTWalk, 0);
        return (l0Low >>> 4) & 0xf;
      }
      case 0b0011: {
        // L0 Table descriptor: the L1 address must lie below PPS and be aligned to
        // max(L1 table size, 4 KiB), which also rejects non-zero [11:4] (QEMU ptw.c L540-548).
        const base = (l0High >>> 0) * 2 ** 32 + (((l0Low >>> 4) << 4) >>> 0);
        const aligned = base * this.l1AlignInverse;
        if (base >= this.protectedBytes || aligned !== Math.floor(aligned)) {
          return -gpcFault(GpcFault.GPTWalk, 0);
        }
        const l1Index = Math.floor(pa * this.l1SpanInverse) & this.l1Mask;
        const l1Pa = base + 8 * l1Index;
        this.tableReads++;
        if (!memory.readDescriptor(l1Pa)) return -gpcFault(GpcFault.GPTEABT, 1);
        const low = memory.descriptorLow;
        const high = memory.descriptorHigh;
        if ((low & 0xf) === 0b0001) {
          // L1 Contiguous descriptor: GPI [7:4], Contig [9:8] ≠ 0, [63:10] RES0 (QEMU ptw.c L561-575).
          if ((low >>> 8) & 3) {
            if (high === 0 && low >>> 10 === 0) return ((low >>> 4) & 0xf) | 0x10;
          }
          return -gpcFault(GpcFault.GPTWalk, 1);
        }
        // L1 Granules descriptor: granule i = PA[p+3:p] is GPI bits [4i+3:4i].
        // PA[p+3:p], computed in doubles: a ToInt32 of a PA beyond 2^31 takes V8's slow path.
        const granule = Math.floor(pa * this.granuleInverse);
        const nibble = granule - Math.floor(granule * 0.0625) * 16;
        const gpi = nibble < 8 ? (low >>> (4 * nibble)) & 0xf : (high >>> (4 * (nibble - 8))) & 0xf;
        return gpi | 0x10;
      }
      default:
        // Any other L0 type is invalid → GPT walk fault, level 0 (QEMU ptw.c L549-551).
        return -gpcFault(GpcFault.GPTWalk, 0);
    }
  }

  /** Apply the access rule of spec/cca-hardware.md §1.5 to a GPI found at `level`. */
  private evaluate(gpi: number, level: 0 | 1, pas: Pas, state: Pas): GpcResult {
    // A GPI that is reserved (or gated off in GPCCR_EL3) → GPT walk fault at that level.
    if (((this.validGpiMask >>> gpi) & 1) === 0) return gpcFault(GpcFault.GPTWalk, level);
    switch (gpi) {
      case Gpi.Any:
        return GPC_OK;
      case Gpi.Secure:
      case Gpi.NonSecure:
      case Gpi.Root:
      case Gpi.Realm:
        return pas === (gpi & 3) ? GPC_OK : gpcFault(GpcFault.GPF, level);
      case Gpi.NonSecureOnly:
        // NSO: Non-secure PAS from a Non-secure or Root PE only.
        return this.nso && pas === Pas.NonSecure && (state === Pas.NonSecure || state === Pas.Root)
          ? GPC_OK
          : gpcFault(GpcFault.GPF, level);
      default:
        // NO_ACCESS and the enabled SA/NSP/NA6/NA7 never allow a PE access.
        return gpcFault(GpcFault.GPF, level);
    }
  }

  /** Inspect the GPT entry for `pa` without checking an access (for tools and tests). */
  lookup(pa: number): GptLookup {
    if (this.configFault) return { walk: gpcFault(GpcFault.GPTWalk, 0), gpi: 0, level: 0, descriptorPa: 0 };
    if (pa >= this.protectedBytes)
      return { walk: gpcFault(GpcFault.GPF, 0), gpi: 0, level: 0, descriptorPa: 0 };
    if (this.l0BaseAboveProtected) {
      return { walk: gpcFault(GpcFault.GPTAddressSize, 0), gpi: 0, level: 0, descriptorPa: 0 };
    }
    const found = this.walk(pa);
    const l0Pa = this.l0Base + 8 * Math.floor(pa / this.l0Span);
    if (found < 0) return { walk: -found, gpi: 0, level: gpcFaultLevel(-found), descriptorPa: l0Pa };
    const level = found >>> 4 === 1 ? 1 : 0;
    let descriptorPa = l0Pa;
    if (level === 1) {
      const low = this.memory.read32(l0Pa);
      const high = this.memory.read32(l0Pa + 4);
      descriptorPa =
        (high >>> 0) * 2 ** 32 +
        (((low >>> 4) << 4) >>> 0) +
        8 * (Math.floor(pa / this.l1Span) & this.l1Mask);
    }
    return { walk: GPC_OK, gpi: found & 0xf, level, descriptorPa };
  }

  /** Size in bytes of the L0 table for the current configuration (2^(t-s) entries × 8). */
  get l0TableBytes(): number {
    return 8 * Math.max(this.protectedBytes / this.l0Span, 1);
  }

  /** Bytes covered by one L0 entry (2^s). */
  get l0EntrySpan(): number {
    return this.l0Span;
  }

  /** L0 table base after alignment. */
  get l0TableBase(): number {
    return this.l0Base;
  }

  /** L0GPTSZ shift s. */
  get l0SizeBits(): number {
    return this.l0Shift;
  }
}
