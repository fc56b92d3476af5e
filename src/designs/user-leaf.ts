/**
 * The level-3 descriptor of a user page (VMSAv8-64, Arm ARM D8.3): EL0-accessible (AP[1] = 1),
 * read-only unless writable (AP[2]), non-global (nG: tagged with the space's ASID), never
 * executable at EL1 (PXN), executable at EL0 only when asked (UXN). Write and execute together are
 * never granted.
 */
import { leafDescriptor } from '../hw/layout.js';
import { PROT } from '../kernel/uapi/flags.js';

export function userLeaf(pa: number, prot: number): [number, number] {
  if ((prot & (PROT.READ | PROT.WRITE | PROT.EXEC)) === 0) return [0, 0];
  const writable = (prot & PROT.WRITE) !== 0;
  const exec = (prot & PROT.EXEC) !== 0 && !writable;
  return leafDescriptor(pa, { ap: writable ? 1 : 3, pxn: true, uxn: !exec, notGlobal: true }, 3);
}
