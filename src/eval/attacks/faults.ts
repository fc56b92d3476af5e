/**
 * What stopped an attacker's access, read back from the syndrome the machine produced (ESR_ELx,
 * Arm ARM D17.2.40): the exception class and, for aborts, the fault status code that the MMU or the
 * granule protection check reported (hw/exceptions.ts faultStatusCode). Nothing here decides
 * whether an access is allowed: it only names the fault the PE took.
 */
import { Ec, esrClass } from '../../hw/exceptions.js';

/** ESR_ELx.ISS.S1PTW: the fault happened on a stage-1 translation-table walk. */
const S1PTW = 1 << 7;

/** A short name for the fault an ESR value reports, as the demo prints it. */
export function describeFault(esrValue: number): string {
  const ec = esrClass(esrValue);
  if (ec === Ec.SysRegTrap) return 'trapped MSR (EC 0x18): EL1 is deprivileged';
  if (ec === Ec.GranuleProtection) return 'granule protection check exception at EL3';
  if (ec === Ec.Unknown) return 'undefined instruction';
  const isAbort =
    ec === Ec.DataAbortSame ||
    ec === Ec.DataAbortLower ||
    ec === Ec.InstructionAbortSame ||
    ec === Ec.InstructionAbortLower;
  if (!isAbort) return `exception class 0x${ec.toString(16)}`;
  const fsc = esrValue & 0x3f;
  const level = fsc & 3;
  // DFSC encodings (long-descriptor format): 0b0001LL translation, 0b0011LL permission,
  // 0b1001LL GPF on a walk, 0b101000 GPF on the access itself, 0b010000 synchronous External abort.
  if (fsc === 0b101000) return 'granule protection fault (GPF) on the output address';
  if ((fsc & 0b111100) === 0b100100) return `granule protection fault (GPF) on a table walk (level ${level})`;
  if ((fsc & 0b111100) === 0b000100) {
    const walk = (esrValue & S1PTW) !== 0 ? ' on a table walk' : '';
    return `translation fault (level ${level})${walk}: not mapped`;
  }
  if ((fsc & 0b111100) === 0b001100) return `permission fault (level ${level})`;
  if ((fsc & 0b111100) === 0b001000) return `access flag fault (level ${level})`;
  if ((fsc & 0b111100) === 0b000000) return `address size fault (level ${level})`;
  if (fsc === 0b010000) return 'synchronous external abort';
  return `abort (DFSC 0b${fsc.toString(2).padStart(6, '0')})`;
}
