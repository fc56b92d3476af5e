/**
 * The trusted mini-OS (EL1, Priv-GPT). It boots once per machine on the boot PE, builds the
 * OS-GPT and its part of the mixed page table, and then runs only when a PE enters it through the
 * gate (firmware RC_ENTER_MINIOS): it validates and performs one rc_* call and leaves through EL3
 * to the caller's GPT view. Everything the hardware consults lives in simulated memory.
 */
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import { TCR_EL1_48BIT } from '../hw/layout.js';
import { Owner, RC_CALL_NAMES, WINDOW_TABLE_POOL } from './abi.js';
import { dispatchCall, type CallContext } from './calls.js';
import { miniOsParamsSchema, type MiniOsParams, type MiniOsParamsInput } from './config.js';
import type { ContainerRecord } from './containers.js';
import { leave, setDmaGpt, SPSR_EL1H_MASKED, tlbiRange } from './el3.js';
import { MiniHeap } from './heap.js';
import { buildLinearMap } from './linear-map.js';
import { OwnershipTable, type DramBank } from './ownership.js';
import { LinearMapPort } from './port.js';
import { GptViews, type FixedRange, type GptGeometry } from './views.js';
import { Trampoline, TRAMPOLINE_VA, TrampolineCode, WINDOW_BASE } from './trampoline.js';

/** What the firmware tells the mini-OS at boot. */
export interface MiniOsBootInfo {
  readonly dram: readonly DramBank[];
  /** Ranges whose GPI is fixed in every view (Root memory and device pages). */
  readonly fixedRanges: readonly FixedRange[];
  /** MINI memory handed to the mini-OS: its code at the start, then its heap. */
  readonly miniRegion: { readonly base: number; readonly size: number };
  /** The kernel image (text and rodata): never writable by the kernel. */
  readonly kernelImage: { readonly base: number; readonly size: number };
  /** GPT geometry the firmware programmed in GPCCR_EL3 (PGS must be 4 KiB). */
  readonly geometry: GptGeometry;
  /** L0 base of the Priv-GPT. */
  readonly privGptBase: number;
  /** 32-byte sealing root (DICE-like CDI from the firmware). */
  readonly sealingRoot: Uint8Array;
}

/** PT(os) pages reserved at boot for the tables of the trampoline and window region. */

/** Bytes of the mini-OS code region at the start of its MINI region. */
export const MINI_CODE_BYTES = 0x1_0000;
/** Offsets of code blocks in the code region. */
export const MiniCode = { gate: 0x0, vectors: 0x800 } as const;

/** Counters of the mini-OS. */
export interface MiniOsStats {
  /** Calls by name (rc_create_shim, ...; 'unknown' for call numbers that do not exist). */
  calls: Record<string, number>;
  refusals: number;
  granulesScrubbed: number;
  tlbiRanges: number;
}

/** The mini-OS of one machine. */
export class MiniOs {
  readonly params: MiniOsParams;
  readonly boot: MiniOsBootInfo;
  readonly ownership: OwnershipTable;
  readonly heap = new MiniHeap();
  readonly containers = new Map<number, ContainerRecord>();
  readonly stats: MiniOsStats = { calls: {}, refusals: 0, granulesScrubbed: 0, tlbiRanges: 0 };
  /** PA of the kernel's TTBR1 root table (PT(os)). */
  readonly kernelRoot: number;
  private viewsOrUndefined: GptViews | undefined;
  private trampolineOrUndefined: Trampoline | undefined;
  private readonly machine: Machine;
  /**
   * The one port every mini-OS structure writes through; the gate points it at the PE that entered
   * (the model runs one PE at a time, so the mini-OS is never on two PEs at once).
   */
  private portOrUndefined: LinearMapPort | undefined;

  private constructor(machine: Machine, boot: MiniOsBootInfo, params: MiniOsParams, kernelRoot: number) {
    this.machine = machine;
    this.boot = boot;
    this.params = params;
    this.ownership = new OwnershipTable(boot.dram);
    this.kernelRoot = kernelRoot;
  }

  /** The trampoline and con-shim windows (available after boot). */
  get trampoline(): Trampoline {
    return this.trampolineOrUndefined!;
  }

  /** L0 index (in the kernel's TTBR1 root) of the trampoline and window region. */
  get windowL0Index(): number {
    return Math.floor((WINDOW_BASE + 2 ** 48) / 2 ** 39) % 512;
  }

  /** The views (available after boot). */
  get views(): GptViews {
    return this.viewsOrUndefined!;
  }

  /** VA of the gate entry (the firmware's fixed mini-OS entry). */
  get entryVa(): number {
    return this.params.linearBase + this.boot.miniRegion.base + MiniCode.gate;
  }

  /** VA of the mini-OS's vector table (installed only while it runs). */
  get vectorsVa(): number {
    return this.params.linearBase + this.boot.miniRegion.base + MiniCode.vectors;
  }

  /** PA of the gate entry. */
  get entryPa(): number {
    return this.boot.miniRegion.base + MiniCode.gate;
  }

  /**
   * Boot on `pe`, which the firmware left at EL1 under the Priv-GPT with the MMU off. Builds the
   * ownership table, the heap, the linear map and the OS-GPT; turns the MMU on with the kernel's
   * TTBR1 root; registers the gate entry. Throws only on a configuration error (a simulator bug).
   */
  static bootOn(
    machine: Machine,
    pe: ProcessingElement,
    boot: MiniOsBootInfo,
    input: MiniOsParamsInput = {},
  ): MiniOs {
    const params = miniOsParamsSchema.parse(input);
    const region = boot.miniRegion;
    // The kernel's TTBR1 root is the first OS granule after the kernel image.
    const kernelRoot = boot.kernelImage.base + boot.kernelImage.size;
    const minios = new MiniOs(machine, boot, params, kernelRoot);
    const own = minios.ownership;
    for (const range of boot.fixedRanges) {
      for (let pa = range.base; pa < range.base + range.size; pa += 4096) {
        const index = own.indexOf(pa);
        if (index >= 0) own.set(index, Owner.Root, 0);
      }
    }
    for (let pa = region.base; pa < region.base + region.size; pa += 4096)
      own.set(own.indexOf(pa), Owner.Mini, 0);
    own.set(own.indexOf(kernelRoot), Owner.PtOs, 0);
    // After the root: the trampoline page, then the pool of tables for the window region.
    const trampolinePa = kernelRoot + 4096;
    own.set(own.indexOf(trampolinePa), Owner.Trampoline, 0);
    const windowTables: number[] = [];
    for (let i = 0; i < WINDOW_TABLE_POOL; i++) {
      const pa = trampolinePa + 4096 * (1 + i);
      own.set(own.indexOf(pa), Owner.PtOs, 0);
      windowTables.push(pa);
    }
    // The heap: the MINI region after the code, less its last granule (the firmware's boot info).
    minios.heap.addRegion(region.base + MINI_CODE_BYTES, region.size - MINI_CODE_BYTES - 4096);

    // With the MMU off, VA = PA: build the tables through a flat port.
    const flat = new LinearMapPort(pe, 0);
    if (!flat.fill(kernelRoot, 4096, 0)) throw new Error('mini-OS boot: cannot clear the kernel root table');
    const mapped = buildLinearMap(flat, minios.heap, {
      linearBase: params.linearBase,
      dram: boot.dram,
      code: { base: region.base, size: MINI_CODE_BYTES },
      kernelRoot,
    });
    if (!mapped) throw new Error('mini-OS boot: cannot build the linear map');
    const trampoline = Trampoline.build(machine, flat, kernelRoot, trampolinePa, windowTables);
    if (trampoline === undefined) throw new Error('mini-OS boot: cannot build the trampoline');
    minios.trampolineOrUndefined = trampoline;
    pe.msr('TCR_EL1', TCR_EL1_48BIT[0], TCR_EL1_48BIT[1]);
    pe.msr('MAIR_EL1', 0xff, 0);
    pe.msrNumber('TTBR1_EL1', kernelRoot);
    pe.msr('SCTLR_EL1', 1, 0);
    pe.msrNumber('VBAR_EL1', TRAMPOLINE_VA + TrampolineCode.vectors);
    const port = minios.portFor(pe);
    const views = GptViews.build(port, own, minios.heap, boot.geometry, boot.fixedRanges);
    if (views === undefined) throw new Error('mini-OS boot: not enough MINI memory for the OS-GPT');
    minios.viewsOrUndefined = views;
    // Devices see what the OS sees: DMA is checked against the OS-GPT from now on.
    if (setDmaGpt(pe, views.osL0) !== 0) throw new Error('mini-OS boot: EL3 refused RC_SET_DMA_GPT');
    machine.code.register(minios.entryPa, 'minios-gate', (p) => minios.gate(p));
    // A synchronous exception inside the mini-OS is a mini-OS bug: stop the PE rather than
    // continue in an unknown state (fail-stop; no kernel code ever handles it).
    for (const offset of [0x200, 0x280, 0x400, 0x480]) {
      machine.code.register(
        region.base + MiniCode.vectors + offset,
        `minios-vector+0x${offset.toString(16)}`,
        (p) => {
          p.halted = `mini-OS exception: ESR_EL1 0x${p.regs.low('ESR_EL1').toString(16)}, FAR_EL1 0x${p.regs.number('FAR_EL1').toString(16)}`;
        },
      );
    }
    return minios;
  }

  /** Bring a secondary PE (left by the firmware at EL1, MMU off, Priv-GPT) onto the mixed page table. */
  initSecondary(pe: ProcessingElement): void {
    pe.msr('TCR_EL1', TCR_EL1_48BIT[0], TCR_EL1_48BIT[1]);
    pe.msr('MAIR_EL1', 0xff, 0);
    pe.msrNumber('TTBR1_EL1', this.kernelRoot);
    pe.msr('SCTLR_EL1', 1, 0);
    pe.msrNumber('VBAR_EL1', TRAMPOLINE_VA + TrampolineCode.vectors);
  }

  /** The linear-map port, now driving `pe`. */
  portFor(pe: ProcessingElement): LinearMapPort {
    this.portOrUndefined ??= new LinearMapPort(pe, this.params.linearBase);
    this.portOrUndefined.pe = pe;
    return this.portOrUndefined;
  }

  /**
   * Leave the mini-OS into the OS context at `pc` (EL1, OS-GPT) as the last step of boot; the
   * kernel starts there with x0 = `arg`.
   */
  enterKernel(pe: ProcessingElement, pc: number, arg = 0): number {
    return leave(pe, this.views.osL0, pc, SPSR_EL1H_MASKED, arg);
  }

  /**
   * The gate entry: EL3 put the caller's return PC in x8, its SPSR in x9 and its GPT view in x10;
   * x1 is the call number and x2..x7 its arguments. Arguments are copied out of the registers
   * before anything is checked.
   */
  private gate(pe: ProcessingElement): void {
    // Run with the mini-OS's own vectors: no kernel code may run while the Priv-GPT is active.
    const osVectors = pe.regs.number('VBAR_EL1');
    pe.msrNumber('VBAR_EL1', this.vectorsVa);
    const callerPc = pe.x[8]!;
    const callerSpsr = pe.x[9]!;
    const callerView = pe.x[10]!;
    const call = pe.x[1]!;
    const args = [pe.x[2]!, pe.x[3]!, pe.x[4]!, pe.x[5]!, pe.x[6]!, pe.x[7]!];
    const context: CallContext = { minios: this, pe, port: this.portFor(pe), callerView };
    const outcome = dispatchCall(context, call, args);
    const name = RC_CALL_NAMES[call] ?? 'unknown';
    this.stats.calls[name] = (this.stats.calls[name] ?? 0) + 1;
    if (outcome.result < 0) this.stats.refusals++;
    // Back to the vectors of the context being entered: the caller's, or a container's con-shim.
    pe.msrNumber('VBAR_EL1', outcome.leaveTo?.vectors ?? osVectors);
    if (outcome.leaveTo !== undefined) {
      leave(pe, outcome.leaveTo.view, outcome.leaveTo.pc, outcome.leaveTo.spsr, outcome.result);
      return;
    }
    if (outcome.toOsContext === true) {
      pe.msrNumber('VBAR_EL1', TRAMPOLINE_VA + TrampolineCode.vectors);
      leave(pe, this.views.osL0, callerPc, callerSpsr, outcome.result);
      return;
    }
    // Return to the caller's view if it is one the mini-OS made; anything else goes to the OS-GPT.
    const view = this.isKnownView(callerView) ? callerView : this.views.osL0;
    leave(pe, view, callerPc, callerSpsr, outcome.result);
  }

  /** True for the OS-GPT and every live shim-GPT. */
  isKnownView(l0: number): boolean {
    if (l0 === this.views.osL0) return true;
    for (const record of this.containers.values()) if (record.view === l0) return true;
    return false;
  }

  /**
   * Change the owner of the granules `indices` and re-derive every view, then invalidate cached
   * GPT information for them (TLBI RPALOS through EL3). All or nothing: if a table cannot be
   * allocated, every change is undone and false returned.
   */
  transfer(pe: ProcessingElement, indices: readonly number[], kind: Owner, container: number): boolean {
    const own = this.ownership;
    const done: [number, Owner, number][] = [];
    for (const index of indices) {
      const oldKind = own.kindOf(index);
      const oldContainer = own.containerOf(index);
      own.set(index, kind, container);
      if (!this.views.update(index, oldKind, oldContainer)) {
        own.set(index, oldKind, oldContainer);
        for (const [i, k, c] of done.reverse()) {
          const nowKind = own.kindOf(i);
          const nowContainer = own.containerOf(i);
          own.set(i, k, c);
          this.views.update(i, nowKind, nowContainer);
        }
        this.invalidate(
          pe,
          done.map(([i]) => i),
        );
        return false;
      }
      done.push([index, oldKind, oldContainer]);
    }
    this.invalidate(pe, indices);
    return true;
  }

  /** TLBI RPALOS for each run of consecutive granules (skipped only by the flaw-demonstration knob). */
  private invalidate(pe: ProcessingElement, indices: readonly number[]): void {
    if (this.params.skipTlbMaintenance || indices.length === 0) return;
    const sorted = [...indices].sort((a, b) => a - b);
    let start = sorted[0]!;
    let previous = start;
    for (const index of [...sorted.slice(1), Number.NaN]) {
      if (index === previous + 1) {
        previous = index;
        continue;
      }
      tlbiRange(pe, this.ownership.paOf(start), (previous - start + 1) * 4096);
      this.stats.tlbiRanges++;
      start = index;
      previous = index;
    }
  }

  /** Zero granule `index` through the linear map (before it changes owner). */
  scrub(port: LinearMapPort, index: number): boolean {
    this.stats.granulesScrubbed++;
    return port.fill(this.ownership.paOf(index), 4096, 0);
  }

  /** The machine the mini-OS runs on. */
  get host(): Machine {
    return this.machine;
  }
}
