/**
 * Exception syndromes and routing: how a fault found by the MMU or the GPC becomes an exception,
 * to which EL, with which ESR/FAR/MFAR values (spec/cca-hardware.md §3.6, §7.5; QEMU
 * `tlb_helper.c` L124-239, `syndrome.h`).
 */
import { GpcFault, gpcFaultKind, gpcFaultLevel, type GpcResult } from './gpc.js';
import { Access, MmuFault } from './mmu.js';
import { Pas } from './pas.js';

/** Exception classes (ESR_ELx.EC) the model raises. */
export const Ec = {
  Unknown: 0x00,
  Svc64: 0x15,
  Smc64: 0x17,
  SysRegTrap: 0x18,
  GranuleProtection: 0x1e,
  InstructionAbortLower: 0x20,
  InstructionAbortSame: 0x21,
  DataAbortLower: 0x24,
  DataAbortSame: 0x25,
} as const;
/** An exception class. */
export type Ec = (typeof Ec)[keyof typeof Ec];

/** ESR_ELx.IL (32-bit instruction). */
const IL = 1 << 25;

/** Build an ESR value (fits in 32 bits for every class the model raises). */
export function esr(ec: Ec, iss: number): number {
  return ((ec << 26) | IL | (iss & 0x1ff_ffff)) >>> 0;
}

/** Exception class of an ESR. */
export function esrClass(value: number): number {
  return value >>> 26;
}

/** Long-descriptor fault status code of a translation outcome (QEMU internals.h L901-1008). */
export function faultStatusCode(fault: MmuFault, level: number, gpc: GpcResult, s1ptw: boolean): number {
  const ll = level & 3;
  switch (fault) {
    case MmuFault.AddressSize:
      return 0b000000 | ll;
    case MmuFault.Translation:
      return 0b000100 | ll;
    case MmuFault.AccessFlag:
      return 0b001000 | ll;
    case MmuFault.Permission:
      return 0b001100 | ll;
    case MmuFault.ExternalAbortOnWalk:
      return 0b010100 | ll;
    case MmuFault.ExternalAbort:
      return 0b010000; // synchronous External abort, not on a walk
    case MmuFault.Gpc:
      void gpc;
      // GPF on a translation-table walk = 0b1001LL; GPF on the final access = 0b101000.
      return s1ptw ? 0b100100 | ll : 0b101000;
    case MmuFault.None:
      return 0;
  }
}

/** GPCSC of a GPC exception: 0b0000LL address size, 0b0001LL walk, 0b0011LL GPF, 0b0101LL abort. */
export function gpcStatusCode(gpc: GpcResult): number {
  const level = gpcFaultLevel(gpc);
  switch (gpcFaultKind(gpc)) {
    case GpcFault.GPTAddressSize:
      return 0b000000 | level;
    case GpcFault.GPTWalk:
      return 0b000100 | level;
    case GpcFault.GPF:
      return 0b001100 | level;
    default:
      return 0b010100 | level;
  }
}

/** Where a faulting access is taken and what the syndrome registers receive. */
export interface RoutedFault {
  /** Target exception level (1 or 3). */
  targetEl: 1 | 3;
  /** ESR_ELx value. */
  esr: number;
  /** A GPC exception: MFAR_EL3 receives `mfarLow`/`mfarHigh`. */
  gpcException: boolean;
  mfarLow: number;
  mfarHigh: number;
}

/**
 * Route a faulting access made at `el` (spec/cca-hardware.md §3.6):
 * GPT address-size, walk and external-abort faults always become a GPC exception at EL3 (R_PYTGX);
 * a GPF at EL3 is an ordinary abort at EL3 (R_BLYPM); a GPF at EL0-EL2 goes to EL3 as a GPC
 * exception when SCR_EL3.GPF = 1, else it is an ordinary abort at the normal target EL (R_VBZMW).
 * SIMPLIFICATION: no EL2, so HCR_EL2.GPF never applies.
 */
export function routeAccessFault(
  el: number,
  access: Access,
  fault: MmuFault,
  level: number,
  gpc: GpcResult,
  s1ptw: boolean,
  faultPa: number,
  faultPas: Pas,
  scrGpf: boolean,
  out: RoutedFault,
): void {
  const fsc = faultStatusCode(fault, level, gpc, s1ptw);
  const wnr = access === Access.Write && !s1ptw ? 1 << 6 : 0;
  const s1ptwBit = s1ptw ? 1 << 7 : 0;
  const isGpc = fault === MmuFault.Gpc;
  const toEl3AsGpc = isGpc && (gpcFaultKind(gpc) !== GpcFault.GPF || (el < 3 && scrGpf));
  if (toEl3AsGpc) {
    const ind = access === Access.Fetch ? 1 << 20 : 0;
    out.targetEl = 3;
    out.esr = esr(Ec.GranuleProtection, ind | (gpcStatusCode(gpc) << 14) | s1ptwBit | wnr | fsc);
    out.gpcException = true;
    // MFAR_EL3: FPA [51:12], NSE [62], NS [63] (QEMU tlb_helper.c L213-228).
    const page = Math.floor(faultPa / 4096) * 4096;
    const nsBits =
      faultPas === Pas.NonSecure ? 0b10 : faultPas === Pas.Root ? 0b01 : faultPas === Pas.Realm ? 0b11 : 0;
    out.mfarLow = (page % 2 ** 32) >>> 0;
    out.mfarHigh = (Math.floor(page / 2 ** 32) | (nsBits << 30)) >>> 0;
    return;
  }
  const targetEl = el === 3 ? 3 : 1;
  const sameEl = el === targetEl;
  const ec =
    access === Access.Fetch
      ? sameEl
        ? Ec.InstructionAbortSame
        : Ec.InstructionAbortLower
      : sameEl
        ? Ec.DataAbortSame
        : Ec.DataAbortLower;
  out.targetEl = targetEl;
  out.esr = esr(ec, s1ptwBit | wnr | fsc);
  out.gpcException = false;
  out.mfarLow = 0;
  out.mfarHigh = 0;
}

/** Vector offsets from VBAR_ELx (current EL with SP_ELx / lower EL using AArch64). */
export const VectorOffset = {
  CurrentSync: 0x200,
  CurrentIrq: 0x280,
  LowerSync: 0x400,
  LowerIrq: 0x480,
} as const;
