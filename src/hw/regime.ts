/**
 * Stage-1 translation regimes decoded from system registers: EL1&0 (two VA ranges, TTBR0/1_EL1,
 * TCR_EL1) and EL3 (one range, TTBR0_EL3, TCR_EL3). Decoding happens once per register write so
 * that the walker's hot path reads plain numbers (spec/cca-hardware.md §7.1).
 *
 * SIMPLIFICATION: only the 4 KB translation granule is modelled (TG0 = 0b00, TG1 = 0b10); a regime
 * programmed with another granule size translates nothing (Translation fault, level 0), and TBI is
 * treated as 0 (virtual addresses are two's-complement numbers, see bits.ts `vaFromU64`).
 */
import { field32 } from './bits.js';

/** IPS/PS encodings → output address size in bits. */
const OUTPUT_BITS = [32, 36, 40, 42, 44, 48, 52, 52] as const;

/** One VA range of a regime. */
export interface VaRange {
  /** TxSZ is in 16..39 and the granule is 4 KB: translation can proceed. */
  readonly valid: boolean;
  /** 64 - TxSZ. */
  readonly inputBits: number;
  /** First lookup level (0..3). */
  readonly startLevel: number;
  /** PA of the first-level table (TTBR BADDR, aligned to the table size). */
  readonly tableBase: number;
  /** TTBR base as programmed is beyond the output size: Address size fault at level 0. */
  readonly baseTooWide: boolean;
  /** TCR.EPDn: walks from this range fault. */
  readonly walkDisabled: boolean;
  /** TCR.HPDn: hierarchical permissions (APTable/XNTable/PXNTable) are ignored. */
  readonly hierarchicalDisabled: boolean;
}

/** A decoded stage-1 regime. */
export interface Regime {
  /** True for EL1&0 (two ranges, EL0 permissions), false for EL3 (one range). */
  readonly twoRanges: boolean;
  /** SCTLR_ELx.M. */
  readonly mmuEnabled: boolean;
  /** SCTLR_ELx.WXN. */
  readonly wxn: boolean;
  /** Effective output address size in bits: min(TCR IPS/PS, PARange). */
  readonly outputBits: number;
  /** The implemented PA size (ID_AA64MMFR0_EL1.PARange), which bounds a flat (MMU off) output. */
  readonly paRangeBits: number;
  /** TTBR0 range (and the only range of EL3). */
  readonly lower: VaRange;
  /** TTBR1 range (EL1&0 only). */
  readonly upper: VaRange;
  /** The current ASID (from TTBR0 or TTBR1 per TCR_EL1.A1; 8 or 16 bits per TCR_EL1.AS). */
  readonly asid: number;
  /** TCR.HA: hardware sets the access flag. */
  readonly hardwareAccessFlag: boolean;
}

function decodeRange(
  tsz: number,
  granuleOk: boolean,
  ttbrLow: number,
  ttbrHigh: number,
  epd: boolean,
  hpd: boolean,
  outputBits: number,
): VaRange {
  const valid = granuleOk && tsz >= 16 && tsz <= 39;
  const inputBits = 64 - tsz;
  const startLevel = valid ? 4 - Math.floor((inputBits - 4) / 9) : 0;
  // Table at the start level holds 2^(inputBits - 12 - 9 * (3 - startLevel)) entries of 8 bytes.
  const entries = valid ? 2 ** (inputBits - 12 - 9 * (3 - startLevel)) : 512;
  const tableBytes = Math.max(entries * 8, 8);
  // TTBR BADDR is bits [47:1]; bits below the table size are treated as zero.
  const baddr = (ttbrHigh & 0xffff) * 2 ** 32 + ((ttbrLow & ~1) >>> 0);
  const tableBase = Math.floor(baddr / tableBytes) * tableBytes;
  return {
    valid,
    inputBits,
    startLevel,
    tableBase,
    baseTooWide: tableBase >= 2 ** outputBits,
    walkDisabled: epd,
    hierarchicalDisabled: hpd,
  };
}

/** Registers of the EL1&0 regime, as 64-bit halves. */
export interface El10Registers {
  readonly tcr: readonly [number, number];
  readonly ttbr0: readonly [number, number];
  readonly ttbr1: readonly [number, number];
  readonly sctlr: readonly [number, number];
}

/** Decode the EL1&0 regime (TCR_EL1 fields per spec/cca-hardware.md §7.1). */
export function decodeEl10(regs: El10Registers, paRangeBits: number): Regime {
  const [tcrLow, tcrHigh] = regs.tcr;
  const ips = field32(tcrHigh, 2, 0);
  const outputBits = Math.min(OUTPUT_BITS[ips]!, paRangeBits);
  const asidFrom = (tcrLow >>> 22) & 1 ? regs.ttbr1 : regs.ttbr0; // TCR_EL1.A1
  const asid16 = ((tcrHigh >>> 4) & 1) === 1; // TCR_EL1.AS
  const asid = asid16 ? asidFrom[1] >>> 16 : (asidFrom[1] >>> 16) & 0xff;
  return {
    twoRanges: true,
    paRangeBits,
    mmuEnabled: (regs.sctlr[0] & 1) === 1,
    wxn: ((regs.sctlr[0] >>> 19) & 1) === 1,
    outputBits,
    lower: decodeRange(
      field32(tcrLow, 5, 0),
      field32(tcrLow, 15, 14) === 0b00,
      regs.ttbr0[0],
      regs.ttbr0[1],
      ((tcrLow >>> 7) & 1) === 1,
      ((tcrHigh >>> 9) & 1) === 1,
      outputBits,
    ),
    upper: decodeRange(
      field32(tcrLow, 21, 16),
      field32(tcrLow, 31, 30) === 0b10,
      regs.ttbr1[0],
      regs.ttbr1[1],
      ((tcrLow >>> 23) & 1) === 1,
      ((tcrHigh >>> 10) & 1) === 1,
      outputBits,
    ),
    asid,
    hardwareAccessFlag: ((tcrHigh >>> 7) & 1) === 1,
  };
}

/** Registers of the EL3 regime, as 64-bit halves. */
export interface El3Registers {
  readonly tcr: readonly [number, number];
  readonly ttbr0: readonly [number, number];
  readonly sctlr: readonly [number, number];
}

/** Decode the EL3 regime (TCR_EL3: T0SZ [5:0], TG0 [15:14], PS [18:16], HA 21, HPD 24). */
export function decodeEl3(regs: El3Registers, paRangeBits: number): Regime {
  const [tcrLow] = regs.tcr;
  const outputBits = Math.min(OUTPUT_BITS[field32(tcrLow, 18, 16)]!, paRangeBits);
  const lower = decodeRange(
    field32(tcrLow, 5, 0),
    field32(tcrLow, 15, 14) === 0b00,
    regs.ttbr0[0],
    regs.ttbr0[1],
    false,
    ((tcrLow >>> 24) & 1) === 1,
    outputBits,
  );
  return {
    twoRanges: false,
    paRangeBits,
    mmuEnabled: (regs.sctlr[0] & 1) === 1,
    wxn: ((regs.sctlr[0] >>> 19) & 1) === 1,
    outputBits,
    lower,
    upper: { ...lower, valid: false },
    asid: 0,
    hardwareAccessFlag: ((tcrLow >>> 21) & 1) === 1,
  };
}
