/**
 * VMSAv8-64 stage-1 translation, 4 KB granule (spec/cca-hardware.md §7), with the granule
 * protection check applied to every descriptor fetch and to the output address (RME).
 *
 * Descriptors are read from simulated physical memory as two 32-bit halves. The walker writes its
 * outcome into a caller-owned {@link TranslationResult} so that a TLB miss allocates nothing.
 * Faults are reported in the priority order of QEMU `get_phys_addr_lpae` (§7.5).
 */
import { GPC_OK, type GranuleProtectionCheck } from './gpc.js';
import type { PhysicalMemory } from './memory.js';
import { Pas } from './pas.js';
import type { Regime } from './regime.js';
import type { WalkCache } from './walk-cache.js';

/** Kind of memory access. */
export const Access = { Read: 0, Write: 1, Fetch: 2 } as const;
/** A memory access kind. */
export type Access = (typeof Access)[keyof typeof Access];

/** Translation fault kinds (long-descriptor FSC groups, §7.5). */
export const MmuFault = {
  None: 0,
  Translation: 1,
  AddressSize: 2,
  AccessFlag: 3,
  Permission: 4,
  ExternalAbortOnWalk: 5,
  /** A granule protection check failed: on a descriptor fetch (s1ptw) or on the output address. */
  Gpc: 6,
  /** Synchronous External abort on the access itself (no memory, or a device refused it). */
  ExternalAbort: 7,
} as const;
/** A translation fault kind. */
export type MmuFault = (typeof MmuFault)[keyof typeof MmuFault];
/** Fault names as the conformance vectors spell them, indexed by kind. */
export const MMU_FAULT_NAMES = [
  'None',
  'Translation',
  'AddressSize',
  'AccessFlag',
  'Permission',
  'ExternalAbortOnWalk',
  'Gpc',
  'ExternalAbort',
] as const;

/** Permission bits cached per translation: read/write/execute at EL0 and at the privileged EL. */
export const Perm = { R0: 1, W0: 2, X0: 4, R1: 8, W1: 16, X1: 32 } as const;

/** The permission bit an access needs at an exception level. */
export function neededPerm(access: Access, el: number): number {
  const base = access === Access.Read ? Perm.R0 : access === Access.Write ? Perm.W0 : Perm.X0;
  return el === 0 ? base : base << 3;
}

/** Outcome of a translation; reused across calls by its owner. */
export class TranslationResult {
  /** MmuFault kind, None on success. */
  fault: MmuFault = MmuFault.None;
  /** Translation level of the fault or of the leaf. */
  level = 0;
  /** For MmuFault.Gpc: the GPC outcome code (see gpc.ts). */
  gpc = GPC_OK;
  /** For MmuFault.Gpc: the check failed on a descriptor fetch (true) or on the output (false). */
  s1ptw = false;
  /** For MmuFault.Gpc: the physical address and PAS the failed check was made for (MFAR_EL3). */
  faultPa = 0;
  faultPas: Pas = Pas.NonSecure;
  /** Output physical address. */
  pa = 0;
  /** Output physical address space. */
  pas: Pas = Pas.NonSecure;
  /** Perm bits the mapping grants (including the GPC: set only when the output check passed). */
  perms = 0;
  /** The leaf is global (nG = 0): not tagged with an ASID. */
  global = true;
  /** log2 of the leaf's size: 12 page, 21 2 MB block, 30 1 GB block. */
  sizeShift = 12;
  /** Descriptor fetches performed. */
  walkReads = 0;
}

const TWO48 = 2 ** 48;
/** 2^n for the shifts the walker uses (avoids Math.pow on the hot path). */
const POW2 = new Float64Array(64).map((_, n) => 2 ** n);
/** 2^-n: multiplying by it is exact and cheaper than dividing by 2^n. */
const INV_POW2 = new Float64Array(64).map((_, n) => 2 ** -n);

/** Translates virtual addresses under a decoded regime. Stateless apart from counters. */
export class Stage1Walker {
  private readonly memory: PhysicalMemory;

  constructor(memory: PhysicalMemory) {
    this.memory = memory;
  }

  /**
   * Translate `va` for `access` at `el` under `regime` for a PE in security state `state`,
   * GPC-checking every fetch with `gpc`. The result goes to `out`. With a walk cache (and the tags
   * its entries must match), a walk of a 2 MiB region seen before starts at level 3.
   */
  translate(
    regime: Regime,
    gpc: GranuleProtectionCheck,
    state: Pas,
    va: number,
    el: number,
    access: Access,
    out: TranslationResult,
    cache?: WalkCache,
    cacheRegime = 0,
    cacheGptTag = 0,
  ): void {
    out.fault = MmuFault.None;
    out.gpc = GPC_OK;
    out.s1ptw = false;
    out.walkReads = 0;
    out.global = true;
    out.sizeShift = 12;
    if (!regime.mmuEnabled) {
      this.flat(regime, gpc, state, va, out);
      return;
    }
    const upper = va < 0;
    const range = upper ? regime.upper : regime.lower;
    // Inputs outside both ranges, an unsupported TxSZ/granule, or EPDn = 1 → Translation fault, L0
    // (QEMU ptw.c L1995-1997, L2036-2052, L2071-2077).
    const inputLimit = POW2[range.inputBits]!;
    if (!range.valid || (upper ? va < -inputLimit : va >= inputLimit) || range.walkDisabled) {
      return fail(out, MmuFault.Translation, 0);
    }
    // TTBR base beyond the output size → Address size fault, level 0 (L2109-2122).
    if (range.baseTooWide) return fail(out, MmuFault.AddressSize, 0);

    const vaBits = upper ? va + TWO48 : va; // bits [47:0] of the VA
    // The walk is made in the regime's own PAS (Root for EL3); in Secure state a table descriptor
    // with NSTable = 1 moves the rest of the walk to the Non-secure PAS (spec §1.3, QEMU
    // get_phys_addr_lpae "Process the NSTable bit from the previous level").
    let walkPas = state;
    const memory = this.memory;
    const outputLimit = POW2[regime.outputBits]!;
    let table = range.tableBase;
    let tableAttrs = 0; // accumulated bits [63:59] of table descriptors, in high-word positions
    let level = range.startLevel;
    if (cache !== undefined) {
      const cached = cache.lookup(va, range.tableBase, cacheRegime, cacheGptTag);
      if (cached >= 0) {
        table = cached;
        tableAttrs = cache.hitAttrs;
        walkPas = cache.hitWalkPas as Pas;
        level = 3;
      }
    }
    for (; level <= 3; level++) {
      const shift = 39 - 9 * level;
      const span = POW2[shift]!;
      const inverseSpan = INV_POW2[shift]!;
      // The start-level table holds only the entries the input size needs.
      const indexMask = level === range.startLevel ? POW2[range.inputBits - shift]! - 1 : 0x1ff;
      const index = Math.floor(vaBits * inverseSpan) & indexMask;
      const descriptorPa = table + 8 * index;
      // Every descriptor fetch is itself subject to the GPC (§3.5, QEMU S1_ptw_translate).
      const walkCheck = gpc.check(descriptorPa, walkPas, state);
      if (walkCheck !== GPC_OK) {
        out.gpc = walkCheck;
        out.s1ptw = true;
        out.faultPa = descriptorPa;
        out.faultPas = walkPas;
        return fail(out, MmuFault.Gpc, level);
      }
      out.walkReads++;
      if (!memory.readDescriptor(descriptorPa)) return fail(out, MmuFault.ExternalAbortOnWalk, level);
      const low = memory.descriptorLow;
      const high = memory.descriptorHigh;
      // bits [1:0] = x0: invalid → Translation fault at this level.
      if ((low & 1) === 0) return fail(out, MmuFault.Translation, level);
      const address = (high & 0xfffff) * 2 ** 32 + ((low & 0xfffff000) >>> 0); // bits [51:12]
      if (level < 3 && (low & 2) !== 0) {
        // Table descriptor: the next-level address must fit the output size (L2196-2205).
        if (address >= outputLimit) return fail(out, MmuFault.AddressSize, level);
        // TCR.HPD disables APTable, UXNTable and PXNTable but never NSTable (bit 63).
        tableAttrs |= high & (range.hierarchicalDisabled ? 0x8000_0000 : 0xf800_0000);
        if (state === Pas.Secure && (high & 0x8000_0000) !== 0) walkPas = Pas.NonSecure;
        table = address;
        if (level === 2 && cache !== undefined) {
          cache.fill(va, range.tableBase, cacheRegime, cacheGptTag, table, tableAttrs, walkPas);
        }
        continue;
      }
      // Block at level 0 (4 KB, DS = 0) and a level-3 entry with bits 01 → Translation fault.
      if (level === 0 || (level === 3 && (low & 2) === 0)) return fail(out, MmuFault.Translation, level);
      const outputBase = Math.floor(address * inverseSpan) * span;
      if (outputBase >= outputLimit) return fail(out, MmuFault.AddressSize, level);
      if ((low & 0x400) === 0) {
        // AF = 0: Access flag fault unless TCR.HA lets the hardware set it (L2234-2240).
        if (!regime.hardwareAccessFlag) return fail(out, MmuFault.AccessFlag, level);
        memory.write32(descriptorPa, (low | 0x400) >>> 0);
      }
      out.level = level;
      out.sizeShift = shift;
      out.pa = outputBase + (vaBits - Math.floor(vaBits * inverseSpan) * span);
      out.pas = outputPas(regime, state, low, tableAttrs);
      out.global = !regime.twoRanges || (low & 0x800) === 0;
      out.perms = permissions(regime, low, high, tableAttrs, out.pas);
      if ((out.perms & neededPerm(access, el)) === 0) return fail(out, MmuFault.Permission, level);
      this.checkOutput(gpc, state, out);
      return;
    }
  }

  /** MMU off: VA = PA in the state's own PAS, every permission (SCTLR_ELx.M = 0). */
  private flat(
    regime: Regime,
    gpc: GranuleProtectionCheck,
    state: Pas,
    va: number,
    out: TranslationResult,
  ): void {
    // With stage 1 disabled the VA is checked against the implemented PA size, not TCR_ELx.{IPS,PS}
    // (AArch64.S1DisabledOutput; QEMU get_phys_addr_disabled).
    if (va < 0 || va >= POW2[regime.paRangeBits]!) return fail(out, MmuFault.AddressSize, 0);
    out.level = 0;
    out.pa = va;
    out.pas = state;
    out.perms = 0x3f;
    this.checkOutput(gpc, state, out);
  }

  private checkOutput(gpc: GranuleProtectionCheck, state: Pas, out: TranslationResult): void {
    // The output address is GPC-checked last (QEMU get_phys_addr_gpc L3966-4000).
    const result = gpc.check(out.pa, out.pas, state);
    if (result !== GPC_OK) {
      out.gpc = result;
      out.s1ptw = false;
      out.faultPa = out.pa;
      out.faultPas = out.pas;
      out.fault = MmuFault.Gpc;
      out.perms = 0;
    }
  }
}

function fail(out: TranslationResult, kind: MmuFault, level: number): void {
  out.fault = kind;
  out.level = level;
  out.perms = 0;
}

/** Output PAS of a stage-1 leaf (spec/cca-hardware.md §1.3). */
function outputPas(regime: Regime, state: Pas, low: number, tableAttrs: number): Pas {
  switch (state) {
    case Pas.NonSecure:
      return Pas.NonSecure; // descriptor NS (bit 5) is RES0 in Non-secure state
    case Pas.Realm:
      return Pas.Realm; // SIMPLIFICATION: no stage 2, so a Realm EL1&0 IPA is used as a Realm PA
    case Pas.Secure:
      // NS (bit 5) or any NSTable (bit 63) on the path selects the Non-secure PAS.
      return (low & 0x20) !== 0 || (tableAttrs & 0x8000_0000) !== 0 ? Pas.NonSecure : Pas.Secure;
    case Pas.Root: {
      if (regime.twoRanges) return Pas.Root;
      // EL3 regime: {NSE (bit 11), NS (bit 5)} = 00 Secure, 01 NS, 10 Root, 11 Realm.
      const nse = (low >>> 11) & 1;
      const ns = (low >>> 5) & 1;
      return ((nse << 1) | ns) === 0b10 ? Pas.Root : nse ? Pas.Realm : ns ? Pas.NonSecure : Pas.Secure;
    }
  }
}

/** Direct AP permission model with hierarchical table controls (§7.3, §7.4). */
function permissions(regime: Regime, low: number, high: number, tableAttrs: number, pas: Pas): number {
  let ap2 = (low >>> 7) & 1; // read-only
  let ap1 = (low >>> 6) & 1; // EL0 accessible
  let pxn = (high >>> 21) & 1; // bit 53
  let uxn = (high >>> 22) & 1; // bit 54
  if ((tableAttrs >>> 30) & 1) ap2 = 1; // APTable[1]: no write at any EL
  if ((tableAttrs >>> 28) & 1) uxn = 1; // UXNTable / XNTable
  if (regime.twoRanges) {
    if ((tableAttrs >>> 29) & 1) ap1 = 0; // APTable[0]: no EL0 access
    if ((tableAttrs >>> 27) & 1) pxn = 1; // PXNTable
    const r0 = ap1;
    const w0 = ap1 & (ap2 ^ 1);
    const w1 = ap2 ^ 1;
    // EL0 execute depends on UXN alone: AP[2:1] = 00 with UXN = 0 is execute-only memory for EL0
    // (Arm ARM table "stage 1 access permissions for instruction execution", two-range regimes).
    let x0 = uxn ^ 1;
    let x1 = (pxn ^ 1) & (w0 ^ 1); // EL0-writable memory is never privileged-executable
    if (regime.wxn) {
      x0 &= w0 ^ 1;
      x1 &= w1 ^ 1;
    }
    return r0 * Perm.R0 + w0 * Perm.W0 + x0 * Perm.X0 + Perm.R1 + w1 * Perm.W1 + x1 * Perm.X1;
  }
  // Single-range regime (EL3): AP[1] is RES1, XN is bit 54; an EL3 fetch from a non-Root PAS has
  // no execute permission (R_ZWRVD).
  const w = ap2 ^ 1;
  let x = (uxn ^ 1) & (pas === Pas.Root ? 1 : 0);
  if (regime.wxn) x &= w ^ 1;
  return Perm.R1 + w * Perm.W1 + x * Perm.X1;
}
