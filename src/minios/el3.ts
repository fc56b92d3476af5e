/**
 * The mini-OS's side of the firmware's RContainer service (SMC function ids and argument
 * registers as src/firmware/rc-service.ts implements them).
 */
import {
  RC_ENTER_MINIOS,
  RC_LEAVE_MINIOS,
  RC_SET_DMA_GPT,
  RC_TLBI,
  RC_VERSION,
} from '../firmware/rc-service.js';
import type { ProcessingElement } from '../hw/pe.js';

/** SiP SMC64 fast-call ids of the RC service. */
export const RcSmc = {
  Version: RC_VERSION,
  EnterMiniOs: RC_ENTER_MINIOS,
  LeaveMiniOs: RC_LEAVE_MINIOS,
  Tlbi: RC_TLBI,
  SetDmaGpt: RC_SET_DMA_GPT,
} as const;

/** SPSR for a return to EL0 (EL0t, interrupts enabled) and to EL1 (EL1h, DAIF masked). */
export const SPSR_EL0 = 0b0000;
export const SPSR_EL1H_MASKED = 0x3c5;

/** Issue an SMC with x0 = `fid` and x1.. = `args`; returns x0. */
export function smc(pe: ProcessingElement, fid: number, ...args: number[]): number {
  pe.x[0] = fid;
  args.forEach((value, i) => (pe.x[i + 1] = value));
  pe.smc(0);
  return pe.x[0]!;
}

/** Ask EL3 to invalidate cached GPT information for [base, base + size) (TLBI RPALOS). */
export function tlbiRange(pe: ProcessingElement, base: number, size: number): number {
  return smc(pe, RcSmc.Tlbi, 1, base, size);
}

/** Point the SMMU's granule protection checks at the view `l0` (the OS-GPT: devices see what the OS sees). */
export function setDmaGpt(pe: ProcessingElement, l0: number): number {
  return smc(pe, RcSmc.SetDmaGpt, l0);
}

/** Ask EL3 for TLBI PAALLOS. */
export function tlbiAll(pe: ProcessingElement): number {
  return smc(pe, RcSmc.Tlbi, 0, 0, 0);
}

/**
 * Leave the mini-OS: EL3 switches GPTBR_EL3 to `view`, and returns to `pc` with `spsr`, the target
 * receiving `result` in x0. Control does not come back here unless EL3 refuses (then x0 says why).
 */
export function leave(pe: ProcessingElement, view: number, pc: number, spsr: number, result: number): number {
  return smc(pe, RcSmc.LeaveMiniOs, view, pc, spsr, result);
}
