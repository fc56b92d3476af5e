/**
 * The mini-OS's part of the mixed page table (DESIGN.md §1): the kernel's TTBR1 root table (a
 * PT(os) granule) holds one L0 entry that leads to the mini-OS's linear map of DRAM. Every table
 * below that entry is a MINI granule, so a walk of the mini-OS's VAs under the OS-GPT or a
 * shim-GPT takes a GPF on the walk. DRAM is mapped EL1 read-write and never executable, except the
 * mini-OS's code pages, which are EL1 read-only and executable.
 */
import { leafDescriptor } from '../hw/layout.js';
import type { MiniHeap } from './heap.js';
import type { PhysPort } from './port.js';

/** What the linear map covers. */
export interface LinearMapSpec {
  /** VA of PA 0 (TTBR1 range, 512 GiB aligned). */
  readonly linearBase: number;
  /** DRAM banks to map (1 GiB granular). */
  readonly dram: readonly { base: number; size: number }[];
  /** The mini-OS code pages [base, base + size), mapped read-only executable. */
  readonly code: { base: number; size: number };
  /** PA of the kernel's TTBR1 root table (zeroed, a PT(os) granule). */
  readonly kernelRoot: number;
}

const GIB = 2 ** 30;
const MIB2 = 2 ** 21;

function tableDescriptor(pa: number): [number, number] {
  return [((pa % 2 ** 32) | 0b11) >>> 0, Math.floor(pa / 2 ** 32)];
}

/** Build the linear map; returns false if the heap ran out or a write faulted. */
export function buildLinearMap(port: PhysPort, heap: MiniHeap, spec: LinearMapSpec): boolean {
  const newTable = (): number | undefined => {
    const pa = heap.allocate(4096);
    return pa !== undefined && port.fill(pa, 4096, 0) ? pa : undefined;
  };
  const l1 = newTable();
  if (l1 === undefined) return false;
  const l0Index = Math.floor((spec.linearBase + 2 ** 48) / 2 ** 39) % 512;
  if (!port.write64(spec.kernelRoot + 8 * l0Index, ...tableDescriptor(l1))) return false;
  const data = { ap: 0, pxn: true, uxn: true } as const;
  for (const bank of spec.dram) {
    for (let gib = Math.floor(bank.base / GIB) * GIB; gib < bank.base + bank.size; gib += GIB) {
      const l1Pa = l1 + 8 * ((gib / GIB) % 512);
      const codeInside = spec.code.base < gib + GIB && spec.code.base + spec.code.size > gib;
      if (!codeInside) {
        if (!port.write64(l1Pa, ...leafDescriptor(gib, data, 1))) return false;
        continue;
      }
      // The GiB with the code: 2 MiB blocks, and 4 KiB pages around the code.
      const l2 = newTable();
      if (l2 === undefined || !port.write64(l1Pa, ...tableDescriptor(l2))) return false;
      for (let block = gib; block < gib + GIB; block += MIB2) {
        const l2Pa = l2 + 8 * ((block - gib) / MIB2);
        const blockHasCode = spec.code.base < block + MIB2 && spec.code.base + spec.code.size > block;
        if (!blockHasCode) {
          if (!port.write64(l2Pa, ...leafDescriptor(block, data, 2))) return false;
          continue;
        }
        const l3 = newTable();
        if (l3 === undefined || !port.write64(l2Pa, ...tableDescriptor(l3))) return false;
        for (let page = block; page < block + MIB2; page += 4096) {
          const isCode = page >= spec.code.base && page < spec.code.base + spec.code.size;
          const attrs = isCode ? ({ ap: 2, pxn: false, uxn: true } as const) : data;
          if (!port.write64(l3 + 8 * ((page - block) / 4096), ...leafDescriptor(page, attrs, 3)))
            return false;
        }
      }
    }
  }
  return true;
}
