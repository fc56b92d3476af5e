/**
 * The trampoline and the con-shim windows (DESIGN.md §1 "Gates", §4 "Container syscall").
 *
 * One L0 entry of the kernel's TTBR1 root, reserved by the mini-OS, holds:
 * - the trampoline page (owner Trampoline: open in every GPT view, mapped read-only and
 *   executable): the OS-context exception vectors, which forward to the kernel's registered
 *   entries, and the restore stub that reloads a task's registers after rc_switch_to_depriv;
 * - one 2 MiB window per container mapping its first ShimPage.mapped SHIM pages: the con-shim
 *   vectors (executable), the syscall stacks (writable), the records and contexts (read-only);
 *   then the extra context pages (read-only, abi.ts SHIM_WINDOW_CONTEXT_SLOT ..) and the kernel's
 *   data pages (writable, SHIM_WINDOW_KERNEL_SLOT ..). The window's level-3 table is itself a
 *   SHIM page, so outside shim-GPT(c) even the walk to it faults.
 * Every table of the region is written only by the mini-OS (rc_set_pte refuses the L0 entry).
 */
import { leafDescriptor } from '../hw/layout.js';
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import { Ec, esrClass } from '../hw/exceptions.js';
import {
  containerWindowVa,
  SHIM_WINDOW_CONTEXT_SLOT,
  SHIM_WINDOW_KERNEL_SLOT,
  SHIM_WINDOW_SLOTS,
} from './abi.js';
import { ShimPage } from './containers.js';
import type { PhysPort } from './port.js';

/** VA of the region (TTBR1; 512 GiB aligned). */
export const WINDOW_BASE = -(2 ** 46);
/** VA of the trampoline page. */
export const TRAMPOLINE_VA = WINDOW_BASE;
const MIB2 = 2 ** 21;
const GIB = 2 ** 30;
/** Offsets in the trampoline page. */
export const TrampolineCode = { vectors: 0x0, restore: 0x800 } as const;
/** Bytes of a saved EL0 context: x0..x30, PC, SPSR. */
const FRAME_BYTES = 33 * 8;

/** Entry points the kernel registers (VAs of its own code). */
export interface KernelEntries {
  /** Synchronous exceptions from EL0 that are system calls (SVC). */
  readonly syscall: number;
  /** Other synchronous exceptions (aborts, undefined instructions, from EL0 or EL1). */
  readonly fault: number;
  /** IRQs. */
  readonly irq: number;
}

function tableDescriptor(pa: number): [number, number] {
  return [((pa % 2 ** 32) | 0b11) >>> 0, Math.floor(pa / 2 ** 32)];
}

/** VA of container `cid`'s window (abi.ts containerWindowVa). */
export const containerWindow = containerWindowVa;

/** The trampoline and window region of one machine. */
export class Trampoline {
  /** PA of the trampoline page. */
  readonly pa: number;
  private readonly l1: number;
  /** L2 tables by GiB index inside the region (PT(os) pages from the mini-OS's pool). */
  private readonly l2 = new Map<number, number>();
  private readonly tablePool: number[];
  private entries: KernelEntries | undefined;

  private constructor(pa: number, l1: number, tablePool: number[]) {
    this.pa = pa;
    this.l1 = l1;
    this.tablePool = tablePool;
  }

  /**
   * Build the region under `kernelRoot`: `pa` is the trampoline page, `tablePool` the PT(os) pages
   * for its tables (one L1 and one L2 per 512 containers). Returns undefined if a write faults.
   */
  static build(
    machine: Machine,
    port: PhysPort,
    kernelRoot: number,
    pa: number,
    tablePool: number[],
  ): Trampoline | undefined {
    const zero = (page: number): boolean => port.fill(page, 4096, 0);
    const l1 = tablePool.shift();
    if (l1 === undefined || !zero(l1)) return undefined;
    const l0Index = Math.floor((WINDOW_BASE + 2 ** 48) / 2 ** 39) % 512;
    if (!port.write64(kernelRoot + 8 * l0Index, ...tableDescriptor(l1))) return undefined;
    const trampoline = new Trampoline(pa, l1, tablePool);
    if (!zero(pa)) return undefined;
    const l3 = tablePool.shift();
    const l2 = trampoline.l2Table(port, 0);
    if (l3 === undefined || l2 === undefined || !zero(l3)) return undefined;
    if (!port.write64(l2, ...tableDescriptor(l3))) return undefined;
    if (!port.write64(l3, ...leafDescriptor(pa, { ap: 2, pxn: false, uxn: true }, 3))) return undefined;
    trampoline.registerCode(machine);
    return trampoline;
  }

  /** The L2 table of GiB `gib` of the region, created on first use. */
  private l2Table(port: PhysPort, gib: number): number | undefined {
    const existing = this.l2.get(gib);
    if (existing !== undefined) return existing;
    const table = this.tablePool.shift();
    if (table === undefined || !port.fill(table, 4096, 0)) return undefined;
    if (!port.write64(this.l1 + 8 * gib, ...tableDescriptor(table))) return undefined;
    this.l2.set(gib, table);
    return table;
  }

  /** The kernel's entries (set once). */
  get kernelEntries(): KernelEntries | undefined {
    return this.entries;
  }

  /** Record the kernel's entries; false if they were set already. */
  setKernelEntries(entries: KernelEntries): boolean {
    if (this.entries !== undefined) return false;
    this.entries = entries;
    return true;
  }

  /**
   * Map container `cid`'s window: `shimPas` are the PAs of its SHIM pages (ShimPage layout); the
   * level-3 table is the ShimPage.windowTable page itself. Returns false if a write faults or the
   * L2 pool is empty.
   */
  mapContainer(port: PhysPort, cid: number, shimPas: readonly number[]): boolean {
    const va = containerWindow(cid);
    const l2 = this.l2Table(port, Math.floor((va - WINDOW_BASE) / GIB));
    const l3 = shimPas[ShimPage.windowTable]!;
    if (l2 === undefined || !port.fill(l3, 4096, 0)) return false;
    for (let i = 0; i < ShimPage.mapped; i++) {
      const attrs =
        i === ShimPage.vectors
          ? ({ ap: 2, pxn: false, uxn: true } as const)
          : i >= ShimPage.firstStack
            ? ({ ap: 0, pxn: true, uxn: true } as const)
            : ({ ap: 2, pxn: true, uxn: true } as const);
      if (!port.write64(l3 + 8 * i, ...leafDescriptor(shimPas[i]!, attrs, 3))) return false;
    }
    const l2Index = Math.floor((va - WINDOW_BASE) / MIB2) % 512;
    return port.write64(l2 + 8 * l2Index, ...tableDescriptor(l3));
  }

  /**
   * Map the SHIM page `pa` at window slot `slot` (≥ SHIM_WINDOW_KERNEL_SLOT): kernel data, writable
   * at EL1, never executable. `table` is the level-3 table of the slot's 2 MiB (slot / 512).
   */
  mapKernelData(port: PhysPort, table: number, slot: number, pa: number): boolean {
    if (slot < SHIM_WINDOW_KERNEL_SLOT || slot >= SHIM_WINDOW_SLOTS) return false;
    return port.write64(table + 8 * (slot % 512), ...leafDescriptor(pa, { ap: 0, pxn: true, uxn: true }, 3));
  }

  /**
   * Link `table` (a zeroed SHIM(cid) page) as the level-3 table of 2 MiB chunk `chunk` (1 ..
   * SHIM_WINDOW_SLOTS / 512 - 1) of container `cid`'s window.
   */
  linkWindowTable(port: PhysPort, cid: number, chunk: number, table: number): boolean {
    const va = containerWindow(cid) + chunk * MIB2;
    const l2 = this.l2.get(Math.floor((va - WINDOW_BASE) / GIB));
    if (l2 === undefined || chunk < 1 || chunk >= SHIM_WINDOW_SLOTS / 512) return false;
    return port.write64(l2 + 8 * (Math.floor((va - WINDOW_BASE) / MIB2) % 512), ...tableDescriptor(table));
  }

  /**
   * Map the SHIM page `pa` of task contexts at window slot `slot` (SHIM_WINDOW_CONTEXT_SLOT ..
   * SHIM_WINDOW_KERNEL_SLOT - 1): read-only at EL1 (AP = 0b10), never executable, like the
   * con-shim's own context pages. The slot was unmapped, so no TLB entry can hold it.
   */
  mapContextPage(port: PhysPort, windowTable: number, slot: number, pa: number): boolean {
    if (slot < SHIM_WINDOW_CONTEXT_SLOT || slot >= SHIM_WINDOW_KERNEL_SLOT) return false;
    return port.write64(windowTable + 8 * slot, ...leafDescriptor(pa, { ap: 2, pxn: true, uxn: true }, 3));
  }

  /** Unmap container `cid`'s window (its SHIM pages are about to be scrubbed and released). */
  unmapContainer(port: PhysPort, cid: number): boolean {
    const va = containerWindow(cid);
    const l2 = this.l2.get(Math.floor((va - WINDOW_BASE) / GIB));
    if (l2 === undefined) return true;
    const first = Math.floor((va - WINDOW_BASE) / MIB2) % 512;
    for (let chunk = 0; chunk < SHIM_WINDOW_SLOTS / 512; chunk++) {
      if (!port.write64(l2 + 8 * (first + chunk), 0, 0)) return false;
    }
    return true;
  }

  /** VA of container `cid`'s con-shim vectors. */
  vectorsVa(cid: number): number {
    return containerWindow(cid) + ShimPage.vectors * 4096;
  }

  /** Register the con-shim vector code of container `cid` at its vectors page. */
  registerConShim(machine: Machine, cid: number, vectorsPa: number): void {
    const window = containerWindow(cid);
    const stackTop = window + ShimPage.mapped * 4096; // the last stack page's end
    // The store buffer of the frame push (reused: the words are written to SHIM(c) at once).
    const words = new Uint32Array(FRAME_BYTES / 4);
    const bytes = new Uint8Array(words.buffer);
    for (const offset of [0x400, 0x480, 0x200, 0x280]) {
      machine.code.register(vectorsPa + offset, `con-shim(${cid})+0x${offset.toString(16)}`, (pe) => {
        // Push the interrupted context on c's syscall stack (in SHIM(c), writable only here and
        // only under shim-GPT(c)), then run the shared kernel handler on it: no SMC on this path.
        const frame = stackTop - FRAME_BYTES - 8;
        if (offset === 0x400 || offset === 0x480) {
          // One block store of the 33 words (x0..x30, ELR_EL1, SPSR_EL1), as STP pairs would do.
          const x = pe.x;
          for (let r = 0; r <= 30; r++) putWord(words, r, x[r]!);
          putWord(words, 31, pe.regs.number('ELR_EL1'));
          putWord(words, 32, pe.regs.low('SPSR_EL1'));
          const stored = pe.writeBytes(frame, bytes);
          words.fill(0);
          if (!stored) return;
        }
        pe.x[0] = frame;
        this.forward(pe, offset);
      });
    }
  }

  /** Unregister container `cid`'s con-shim code. */
  unregisterConShim(machine: Machine, vectorsPa: number): void {
    for (const offset of [0x400, 0x480, 0x200, 0x280]) machine.code.unregister(vectorsPa + offset);
  }

  private forward(pe: ProcessingElement, offset: number): void {
    const entries = this.entries;
    if (entries === undefined) {
      pe.halted = 'exception before the kernel registered its entries';
      return;
    }
    const irq = offset === 0x280 || offset === 0x480;
    const svc = offset === 0x400 && esrClass(pe.regs.low('ESR_EL1')) === Ec.Svc64;
    pe.branch(irq ? entries.irq : svc ? entries.syscall : entries.fault);
  }

  private registerCode(machine: Machine): void {
    for (const offset of [0x200, 0x280, 0x400, 0x480]) {
      machine.code.register(
        this.pa + TrampolineCode.vectors + offset,
        `trampoline+0x${offset.toString(16)}`,
        (pe) => this.forward(pe, offset),
      );
    }
    // The restore stub: x0 = VA of a task context in its container's window (read-only there).
    machine.code.register(this.pa + TrampolineCode.restore, 'trampoline-restore', (pe) => {
      const context = pe.x[0]!;
      // Registers are held as signed values (two's complement in memory, as putWord stores them).
      for (let r = 1; r <= 30; r++) pe.x[r] = loadSigned(pe, context + 8 * r);
      pe.msrNumber('ELR_EL1', pe.load64(context + 31 * 8));
      pe.msr('SPSR_EL1', pe.load32(context + 32 * 8), 0);
      pe.x[0] = loadSigned(pe, context);
      pe.eret();
    });
  }
}

/** A 64-bit register image at `va` as a signed number (exact within ±2^53). */
function loadSigned(pe: ProcessingElement, va: number): number {
  const low = pe.load32(va);
  const high = pe.load32(va + 4);
  return (high >= 2 ** 31 ? high - 2 ** 32 : high) * 2 ** 32 + low;
}

/** Store `value` (a register: an integer below 2^53, two's complement if negative) as word `index`. */
function putWord(words: Uint32Array, index: number, value: number): void {
  if (value >= 0 && value < 2 ** 32) {
    words[2 * index] = value;
    words[2 * index + 1] = 0;
    return;
  }
  const high = Math.floor(value / 2 ** 32);
  words[2 * index] = value - high * 2 ** 32;
  words[2 * index + 1] = high;
}
