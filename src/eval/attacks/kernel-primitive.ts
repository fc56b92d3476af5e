/**
 * The compromised kernel's primitives (spec/attacks.md T-K, K1 K4 K6): arbitrary reads and new
 * mappings from EL1 in the OS context, and writes of the sensitive system registers. Every
 * primitive is an access the machine performs on a PE that is idle in the kernel: a load through
 * the MMU and the GPC, an MSR, or an rc_* call through the gate. A fault is taken like any fault
 * of the kernel (its fault entry resumes at the fixup), and the PE is put back where it was found.
 *
 * What the kernel legitimately knows is used freely: its own layout (linear map, TTBR1 root), which
 * frames back a process (Mm.frameOf), which data pages it gave a container (ledger.ts).
 */
import type { SimSystem } from '../../designs/system.js';
import { KERNEL_LINEAR_VA, KERNEL_TEXT_VA } from '../../designs/layout.js';
import { KernelTables } from '../../designs/native-tables.js';
import { leafDescriptor } from '../../hw/layout.js';
import type { ProcessingElement } from '../../hw/pe.js';
import type { SysRegName } from '../../hw/sysregs.js';
import { KERNEL_IDLE_VA, type HwTask } from '../../kernel/hooks.js';
import { PROT } from '../../kernel/uapi/flags.js';
import { containerWindowVa, PteSpace, RcCall, rcCall, rcResultName } from '../../minios/abi.js';
import { describeFault } from './faults.js';

const PAGE = 4096;
const MIB2 = 2 ** 21;
/** A kernel VA nothing maps (level-0 entry 3 of the TTBR1 range): where the attacker maps pages. */
export const ATTACK_KVA = KERNEL_TEXT_VA + 3 * 2 ** 39;

/** Outcome of a read: the bytes, or the fault that stopped it. */
export type ReadOutcome =
  { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly fault: string };

/** Outcome of a new kernel mapping and a read through it. */
export interface MapOutcome {
  readonly read: ReadOutcome | undefined;
  /** Why no mapping was made (a refusal), when `read` is undefined. */
  readonly refused: string | undefined;
  /** How the mapping was made or refused, step by step. */
  readonly steps: readonly string[];
}

/** Outcome of an MSR by the kernel. */
export interface SysregOutcome {
  /** The register holds the attacker's value after the MSR. */
  readonly taken: boolean;
  readonly fault: string | undefined;
}

/** The kernel's EL1 primitives on one idle PE. */
export class KernelPrimitive {
  readonly system: SimSystem;

  constructor(system: SimSystem) {
    this.system = system;
  }

  /** Run `body` on a PE idle in the kernel, then leave that PE idle as it was. */
  onIdlePe<T>(body: (pe: ProcessingElement) => T): T {
    const pe = this.system.machine.pes.find(
      (each) => each.el === 1 && each.halted === undefined && each.pc === KERNEL_IDLE_VA,
    );
    if (pe === undefined) throw new Error('attack: no PE is idle in the kernel (run until the tasks sleep)');
    const x = pe.x.slice();
    const elr = pe.regs.pair('ELR_EL1');
    const spsr = pe.regs.pair('SPSR_EL1');
    try {
      return body(pe);
    } finally {
      if (pe.halted !== undefined) throw new Error(`attack: the PE halted (${pe.halted})`);
      if (pe.el !== 1) throw new Error(`attack: the PE ended at EL${pe.el}`);
      pe.x.set(x);
      pe.msr('ELR_EL1', ...elr);
      pe.msr('SPSR_EL1', ...spsr);
      pe.branch(KERNEL_IDLE_VA);
    }
  }

  /** K1: read `length` bytes at kernel VA `va` (a load at EL1 through the MMU and GPC). */
  readVirtual(va: number, length: number): ReadOutcome {
    return this.onIdlePe((pe) => readOn(pe, va, length));
  }

  /** K1: read physical memory through the kernel's linear map. */
  readPhysical(pa: number, length: number): ReadOutcome {
    return this.readVirtual(KERNEL_LINEAR_VA + pa, length);
  }

  /**
   * K1 against a con-shim: read page `slot` of container `cid`'s con-shim window (slots 0..15 are
   * the con-shim's own pages, SHIM_WINDOW_KERNEL_SLOT and up the kernel's data for the container).
   */
  readWindow(cid: number, slot: number, length = PAGE): ReadOutcome {
    return this.readVirtual(containerWindowVa(cid) + slot * PAGE, length);
  }

  /**
   * K4 for the kernel itself: map the page at `pa` at a new kernel VA and read it. The kernel first
   * writes its own translation tables (found from TTBR1_EL1, through its linear map); when it
   * cannot, it asks the mini-OS (rc_set_pte): writable first, then read-only.
   */
  mapAndRead(pa: number, length: number): MapOutcome {
    return this.onIdlePe((pe) => {
      const steps: string[] = [];
      const own = this.mapWithOwnTables(pe, pa, length, steps);
      if (own !== undefined) return { read: own, refused: undefined, steps };
      if (this.system.platform.design !== 'rcontainer')
        return { read: undefined, refused: steps.at(-1), steps };
      return this.mapThroughGate(pe, pa, length, steps);
    });
  }

  /**
   * K4: point `va` of a task's address space at the page `pa`, read-only, the way the kernel maps
   * any user page (the platform's PTE path: its own tables natively, rc_set_pte under rcontainer).
   * 0 or -errno.
   */
  mapIntoTask(task: HwTask, va: number, pa: number): number {
    const page = Math.floor(pa / PAGE) * PAGE;
    return this.onIdlePe((pe) => this.system.platform.mapPage(pe, task, va, page, PROT.READ));
  }

  /** K6: write a sensitive system register (the old value is put back if the write took effect). */
  writeSysreg(name: SysRegName, low: number, high: number): SysregOutcome {
    return this.onIdlePe((pe) => writeSysregOn(pe, name, low, high, () => undefined));
  }

  /**
   * K6 + K1: load a victim's translation table root into TTBR0_EL1 and read its user pages at EL1
   * (`vas`, one page each), then put the kernel's TTBR0 back.
   */
  readWithTtbr0(
    root: number,
    asid: number,
    vas: readonly number[],
  ): SysregOutcome & { reads: ReadOutcome[] } {
    const reads: ReadOutcome[] = [];
    const low = (root % 2 ** 32) >>> 0;
    const high = (Math.floor(root / 2 ** 32) | (asid << 16)) >>> 0;
    const outcome = this.onIdlePe((pe) =>
      writeSysregOn(pe, 'TTBR0_EL1', low, high, () => {
        for (const va of vas) reads.push(readOn(pe, va, PAGE));
      }),
    );
    return { ...outcome, reads };
  }

  /** The kernel writes a level-3 descriptor for ATTACK_KVA into its own tables (native kernels). */
  private mapWithOwnTables(
    pe: ProcessingElement,
    pa: number,
    length: number,
    steps: string[],
  ): ReadOutcome | undefined {
    const [rootLow, rootHigh] = pe.regs.pair('TTBR1_EL1');
    const root = (rootHigh & 0xffff) * 2 ** 32 + ((rootLow & 0xffff_f000) >>> 0);
    const l0Entry = KERNEL_LINEAR_VA + root + 8 * 3;
    const probe = readOn(pe, l0Entry, 8);
    if (!probe.ok) {
      steps.push(`its own tables (TTBR1_EL1 root) via the linear map: ${probe.fault}`);
      return undefined;
    }
    if (probe.bytes.some((b) => b !== 0)) throw new Error('attack: ATTACK_KVA is already mapped');
    if (!pe.store64(l0Entry, 0, 0)) {
      steps.push(`writing its own tables: ${describeFault(pe.lastFault)}`);
      return undefined;
    }
    const pages = this.system.platform.pages;
    const tables = new KernelTables(
      (tablePa) => KERNEL_LINEAR_VA + tablePa,
      () => {
        const va = pages.alloc(pe, 0);
        return va === undefined ? undefined : va - KERNEL_LINEAR_VA;
      },
      (tablePa) => pages.free(0, KERNEL_LINEAR_VA + tablePa),
    );
    const page = Math.floor(pa / PAGE) * PAGE;
    const [low, high] = leafDescriptor(page, { ap: 0, pxn: true, uxn: true }, 3);
    if (!tables.set(pe, root, ATTACK_KVA, low, high, 3)) {
      steps.push('no page for its tables');
      return undefined;
    }
    pe.tlbi('VAAE1IS', ATTACK_KVA);
    steps.push('wrote a level-3 descriptor into its own tables');
    const read = readOn(pe, ATTACK_KVA + (pa - page), length);
    // Unlink the tables again (the level-0 entry was empty) and forget the translation.
    const l1 = pe.load64(l0Entry);
    pe.store64(l0Entry, 0, 0);
    pe.tlbi('VMALLE1IS');
    tables.freeTree(pe, Math.floor(l1 / PAGE) * PAGE, 1);
    return read;
  }

  /** Ask the mini-OS for a 2 MiB block of the linear map over `pa` (the level-2 table exists). */
  private mapThroughGate(pe: ProcessingElement, pa: number, length: number, steps: string[]): MapOutcome {
    const block = Math.floor(pa / MIB2) * MIB2;
    const va = KERNEL_LINEAR_VA + block;
    const writable = leafDescriptor(block, { ap: 0, pxn: true, uxn: true }, 2);
    const rw = rcCall(pe, RcCall.SetPte, PteSpace.Kernel, 0, va, writable[0], writable[1], 2);
    steps.push(`rc_set_pte writable alias: ${rcResultName(rw)}`);
    if (rw === 0) return this.readAndUnmap(pe, va, pa - block, length, steps);
    const readOnly = leafDescriptor(block, { ap: 2, pxn: true, uxn: true }, 2);
    const ro = rcCall(pe, RcCall.SetPte, PteSpace.Kernel, 0, va, readOnly[0], readOnly[1], 2);
    steps.push(`rc_set_pte read-only alias: ${ro === 0 ? 'accepted' : rcResultName(ro)}`);
    if (ro !== 0) return { read: undefined, refused: `rc_set_pte refused: ${rcResultName(ro)}`, steps };
    return this.readAndUnmap(pe, va, pa - block, length, steps);
  }

  private readAndUnmap(
    pe: ProcessingElement,
    va: number,
    offset: number,
    length: number,
    steps: string[],
  ): MapOutcome {
    const read = readOn(pe, va + offset, length);
    const removed = rcCall(pe, RcCall.SetPte, PteSpace.Kernel, 0, va, 0, 0, 2);
    steps.push(`read through it: ${read.ok ? 'ok' : read.fault}`);
    if (removed !== 0) steps.push(`removing it: ${rcResultName(removed)}`);
    return { read, refused: undefined, steps };
  }
}

/** A read on `pe` (already chosen): bytes or the fault the PE took. */
function readOn(pe: ProcessingElement, va: number, length: number): ReadOutcome {
  const bytes = pe.readBytes(va, length);
  if (bytes !== undefined) return { ok: true, bytes };
  return { ok: false, fault: describeFault(pe.lastFault) };
}

/** MSR `name` on `pe`; if it took effect, run `use` and put the old value back. */
function writeSysregOn(
  pe: ProcessingElement,
  name: SysRegName,
  low: number,
  high: number,
  use: () => void,
): SysregOutcome {
  const before = pe.mrs(name);
  if (before === undefined) return { taken: false, fault: describeFault(pe.lastFault) };
  if (!pe.msr(name, low, high)) {
    // The trap went through the vectors to the kernel's fault entry, which read ESR_EL1.
    return { taken: false, fault: describeFault(pe.regs.low('ESR_EL1')) };
  }
  const [nowLow, nowHigh] = pe.regs.pair(name);
  const taken = nowLow === low >>> 0 && nowHigh === high >>> 0;
  if (taken) use();
  pe.msr(name, ...before);
  return { taken, fault: undefined };
}
