/**
 * A processing element (PE): exception levels 0, 1 and 3, its security state, the system registers
 * of sysregs.ts, a TLB, a GPC unit and the load/store/fetch API that every software layer uses.
 *
 * Software is TypeScript (code.ts). A memory access goes TLB → (miss) stage-1 walk with the GPC on
 * every fetch → access; a fault is routed (exceptions.ts) and taken: ESR/ELR/SPSR/FAR (and MFAR for
 * GPC exceptions) are written, the PE moves to the target EL and runs the code registered at the
 * vector address, fetched through the MMU and GPC like any instruction. When that code returns
 * (normally by ERET), the PE resumes the interrupted context: an access whose handler returned to
 * the faulting instruction is retried; otherwise it is abandoned with `lastFault` set.
 *
 * Control transfer: each synchronous exception records where the interrupted code resumes
 * (EL and PC). When handler code ERETs to a PC that belongs to an outer interrupted context, the PE
 * unwinds to it; to a PC that holds registered code, the PE runs that code (so an SMC may return to
 * a different entry point than its caller, as the RContainer gates require); to anything else
 * (e.g. EL0 code the scheduler drives), the PE stops dispatching and the caller sees `lastFault`.
 */
import { assert } from './bits.js';
import type { CodeRegistry } from './code.js';
import { Ev, EVENT_COUNT, EVENT_INFO, type CpuProfile } from './cost.js';
import { Ec, esr, routeAccessFault, VectorOffset, type RoutedFault } from './exceptions.js';
import { GranuleProtectionCheck, GpcFault, gpcFaultKind } from './gpc.js';
import { FRAME_BYTES, type PhysicalMemory } from './memory.js';
import { Access, MmuFault, neededPerm, Perm, Stage1Walker, TranslationResult } from './mmu.js';
import { Pas } from './pas.js';
import { decodeEl10, decodeEl3, type Regime } from './regime.js';
import { isSysRegName, SCR, SYSREG_MIN_EL, SysRegFile, type SysRegName } from './sysregs.js';
import { GLOBAL_ASID, Tlb, TLB_INDEX_HASH } from './tlb.js';
import { WalkCache } from './walk-cache.js';

/** Parameters of a PE. */
export interface PeParams {
  readonly id: number;
  readonly paRangeBits: number;
  readonly tlbEntries: number;
  /** Entries of the GPT-information cache of the PE's GPC unit (power of two). */
  readonly gptInfoEntries: number;
  /** Optional hardware extension: TLB entries tagged with the GPT they were filled under. */
  readonly gptTaggedTlb: boolean;
  readonly profile: CpuProfile;
}

/** Hooks the machine provides to a PE for broadcast maintenance. */
export interface PeBus {
  /** Broadcast TLBI PAALLOS to every PE and the SMMU. */
  tlbiPaallOs(): void;
  /** Broadcast TLBI RPALOS/RPAOS over [base, base + size) to every PE and the SMMU. */
  tlbiRpaOs(base: number, size: number): void;
  /** Broadcast TLBI VMALLE1IS (all EL1&0 entries of `regime`) to every PE. */
  tlbiVmallIs(regime: number): void;
  /** Broadcast TLBI VAE1IS (`asid` given) or VAAE1IS (undefined) to every PE. */
  tlbiVaIs(va: number, regime: number, asid: number | undefined): void;
  /** Broadcast TLBI ASIDE1IS to every PE. */
  tlbiAsidIs(asid: number, regime: number): void;
}

/** TLBI operations the PE implements (operand meaning in {@link ProcessingElement.tlbi}). */
export type TlbiOp =
  | 'PAALL'
  | 'PAALLOS'
  | 'RPALOS'
  | 'RPAOS'
  | 'VAE1'
  | 'VAAE1'
  | 'ASIDE1'
  | 'VAE1IS'
  | 'VAAE1IS'
  | 'ASIDE1IS'
  | 'VMALLE1'
  | 'VMALLE1IS'
  | 'ALLE3';

/** Resume marker thrown to unwind host frames to an interrupted context (never escapes the PE). */
class Resume {
  readonly depth: number;
  constructor(depth: number) {
    this.depth = depth;
  }
}

interface ResumePoint {
  readonly el: number;
  readonly pc: number;
}

const MAX_DISPATCH_HOPS = 64;
const MAX_EXCEPTION_NESTING = 16;
const MAX_ACCESS_RETRIES = 8;
/** Added to the regime tag of TLB entries made with the MMU off. */
const FLAT_TAG = 16;
/** RPA* SIZE field [47:44] → bytes (4K, 16K, 64K, 2M, 32M, 512M, 1G, 16G, 64G, 512G). */
const RPA_SIZES = [12, 14, 16, 21, 25, 29, 30, 34, 36, 39].map((b) => 2 ** b);

/** A processing element. */
export class ProcessingElement {
  readonly id: number;
  readonly name: string;
  readonly regs = new SysRegFile();
  /** General-purpose registers X0..X30. SIMPLIFICATION: values are doubles, exact up to 2^53. */
  readonly x = new Float64Array(31);
  readonly gpc: GranuleProtectionCheck;
  readonly tlb: Tlb;
  /** Cached level-2 table descriptors of recent walks (walk-cache.ts). */
  readonly walkCache = new WalkCache(256);
  /** Simulated cycles on this PE. */
  cycles = 0;
  /** Event counters, indexed by cost.ts `Ev`. */
  readonly counters = new Float64Array(EVENT_COUNT);
  private currentEl = 3;
  /** Address of the code being executed (model PC). */
  pc = 0;
  /** PSTATE.I: IRQs masked. */
  irqMasked = true;
  /** An IRQ is asserted by a device. */
  irqPending = false;
  /** ESR of the exception raised by the last abandoned access or instruction, 0 if none. */
  lastFault = 0;
  /** Set when the PE cannot continue (an exception loop, or no code where it must run). */
  halted: string | undefined;
  /** ESR of the most recent exception an access raised (kept for an access abandoned after retries). */
  private lastTakenEsr = 0;
  /** Sensitive EL1 registers and the GPT under which EL1 may write them (deprivilegeEl1). */
  private el1Guard: { registers: ReadonlySet<SysRegName>; privilegedGptBase: number } | undefined;

  private readonly memory: PhysicalMemory;
  private readonly walker: Stage1Walker;
  private readonly code: CodeRegistry;
  private readonly bus: PeBus;
  private readonly profile: CpuProfile;
  private readonly paRangeBits: number;
  private readonly gptTagged: boolean;
  private readonly result = new TranslationResult();
  private readonly routed: RoutedFault = {
    targetEl: 1,
    esr: 0,
    gpcException: false,
    mfarLow: 0,
    mfarHigh: 0,
  };
  private el10!: Regime;
  private el3!: Regime;
  /** Security state below EL3, from SCR_EL3.{NSE,NS}. */
  private lowerState: Pas = Pas.Secure;
  // Context tags compared by the TLB-hit path; refreshed by refreshContext().
  private regimeTag = 0;
  private asidTag = 0;
  private gptTag = 0;
  private readPerm: number = Perm.R1;
  private writePerm: number = Perm.W1;
  private readonly resumeStack: ResumePoint[] = [];
  private exceptionNesting = 0;
  private readonly hitCost: number;

  constructor(params: PeParams, memory: PhysicalMemory, code: CodeRegistry, bus: PeBus) {
    this.id = params.id;
    this.name = `pe${params.id}`;
    this.memory = memory;
    this.code = code;
    this.bus = bus;
    this.profile = params.profile;
    this.paRangeBits = params.paRangeBits;
    this.gptTagged = params.gptTaggedTlb;
    this.hitCost = params.profile.cost[Ev.TlbHit];
    this.walker = new Stage1Walker(memory);
    this.gpc = new GranuleProtectionCheck(
      memory,
      params.paRangeBits,
      params.gptInfoEntries,
      params.gptTaggedTlb,
    );
    this.tlb = new Tlb({ entries: params.tlbEntries });
    this.decodeRegimes();
  }

  // ---------------------------------------------------------------- state and registers

  /** Current exception level (0, 1 or 3). */
  get el(): number {
    return this.currentEl;
  }

  /**
   * Put the PE at `el` with `pc` and IRQs masked or not, as a reset or a test harness does
   * (software changes EL only through exceptions and ERET).
   */
  reset(el: 0 | 1 | 3, pc = 0, irqMasked = true): void {
    this.currentEl = el;
    this.pc = pc;
    this.irqMasked = irqMasked;
    this.halted = undefined;
    this.lastFault = 0;
    this.refreshContext();
  }

  /** The PE's current security state (Root at EL3). */
  get securityState(): Pas {
    return this.el === 3 ? Pas.Root : this.lowerState;
  }

  /** Security state of EL0/EL1 as SCR_EL3 selects it. */
  get lowerSecurityState(): Pas {
    return this.lowerState;
  }

  /** Charge `n` occurrences of event `ev`. */
  charge(ev: Ev, n = 1): void {
    this.counters[ev]! += n;
    this.cycles += n * this.profile.cost[ev];
  }

  /** Declare `cycles` of computation by the running software. */
  compute(cycles: number): void {
    this.charge(Ev.ComputeCycles, cycles);
  }

  /** Named counters with their values (for reports). */
  stats(): Record<string, number> {
    const out: Record<string, number> = { cycles: this.cycles };
    EVENT_INFO.forEach((info, i) => (out[info.name] = this.counters[i]!));
    out.tlbOccupancy = this.tlb.occupancy();
    return out;
  }

  /**
   * MSR: write a system register from software at the current EL. Returns false (and takes an
   * Undefined Instruction exception) when the EL may not access it.
   */
  msr(name: SysRegName, low: number, high = 0): boolean {
    if (this.el < SYSREG_MIN_EL[name]) {
      this.undefinedInstruction();
      return false;
    }
    if (
      this.el === 1 &&
      this.el1Guard !== undefined &&
      this.el1Guard.registers.has(name) &&
      !this.el1GuardOpen()
    ) {
      // A deprivileged EL1 write: not performed, reported as a trapped MSR (EC 0x18) at EL1, whose
      // vectors belong to the mini-OS (DESIGN.md §1 "Deprivileged kernel").
      this.lastFault = esr(Ec.SysRegTrap, 0);
      this.exception(1, this.lastFault, this.pc);
      return false;
    }
    this.charge(Ev.SysRegWrite);
    this.writeSysReg(name, low, high);
    return true;
  }

  /**
   * Deprivilege EL1 for `registers`: from now on an EL1 write to one of them is honoured only while
   * GPTBR_EL3 holds `privilegedGptBase` (the Priv-GPT, under which only the mini-OS runs); any
   * other attempt traps. SIMPLIFICATION (DESIGN.md §1): a real system gets this by verifying at boot
   * that kernel text holds no such MSR and enforcing W^X; the model checks the write itself.
   * Configured once by platform boot code; there is no way to turn it off.
   */
  deprivilegeEl1(registers: readonly SysRegName[], privilegedGptBase: number): void {
    if (this.el1Guard !== undefined) return;
    this.el1Guard = { registers: new Set(registers), privilegedGptBase };
  }

  private el1GuardOpen(): boolean {
    return this.regs.number('GPTBR_EL3') * 4096 === this.el1Guard!.privilegedGptBase;
  }

  /** MSR with a number value (addresses: VBAR, ELR, TTBR without ASID...). */
  msrNumber(name: SysRegName, value: number): boolean {
    const high = Math.floor(value / 2 ** 32);
    return this.msr(name, value - high * 2 ** 32, high >>> 0);
  }

  /** MRS: read a system register; undefined (and an Undefined Instruction exception) if not allowed. */
  mrs(name: SysRegName): [number, number] | undefined {
    if (this.el < SYSREG_MIN_EL[name]) {
      this.undefinedInstruction();
      return undefined;
    }
    return this.regs.pair(name);
  }

  /**
   * Set a register by name without an access check, as a reset value or a test harness would.
   * Returns false for a name the model does not have.
   */
  setSysRegRaw(name: string, low: number, high: number): boolean {
    if (!isSysRegName(name)) return false;
    this.writeSysReg(name, low, high);
    return true;
  }

  private writeSysReg(name: SysRegName, low: number, high: number): void {
    this.regs.set(name, low, high);
    switch (name) {
      case 'GPCCR_EL3':
      case 'GPTBR_EL3':
        // No TLB maintenance happens here: software must issue TLBI PA* (QEMU helper.c L5051-5062).
        this.gpc.configure(
          this.regs.low('GPCCR_EL3'),
          this.regs.low('GPTBR_EL3'),
          this.regs.high('GPTBR_EL3'),
        );
        this.refreshContext();
        break;
      case 'SCR_EL3':
      case 'TCR_EL1':
      case 'TTBR0_EL1':
      case 'TTBR1_EL1':
      case 'SCTLR_EL1':
      case 'TCR_EL3':
      case 'TTBR0_EL3':
      case 'SCTLR_EL3':
        this.decodeRegimes();
        break;
      default:
        break;
    }
  }

  private decodeRegimes(): void {
    const r = this.regs;
    this.el10 = decodeEl10(
      {
        tcr: r.pair('TCR_EL1'),
        ttbr0: r.pair('TTBR0_EL1'),
        ttbr1: r.pair('TTBR1_EL1'),
        sctlr: r.pair('SCTLR_EL1'),
      },
      this.paRangeBits,
    );
    this.el3 = decodeEl3(
      { tcr: r.pair('TCR_EL3'), ttbr0: r.pair('TTBR0_EL3'), sctlr: r.pair('SCTLR_EL3') },
      this.paRangeBits,
    );
    // SCR_EL3.{NSE,NS}: 00 Secure, 01 Non-secure, 11 Realm; 10 is reserved, treated as Secure (QEMU).
    const ns = r.low('SCR_EL3') & SCR.NS;
    const nse = r.high('SCR_EL3') & SCR.NSE_HIGH;
    this.lowerState = ns ? (nse ? Pas.Realm : Pas.NonSecure) : Pas.Secure;
    this.refreshContext();
  }

  /** Recompute the tags the TLB-hit path compares against. */
  private refreshContext(): void {
    const state = this.securityState;
    const regime = this.el === 3 ? this.el3 : this.el10;
    // MMU-off (flat) translations get a tag of their own: they must never be used once the MMU is
    // on. They are not architectural TLB entries; they only cache the GPC outcome of the page, which
    // the PA-based TLBIs remove like any other.
    this.regimeTag = this.regimeTagFor(this.el) + (regime.mmuEnabled ? 0 : FLAT_TAG);
    this.asidTag = this.el === 3 ? 0 : this.el10.asid;
    this.gptTag = this.gptTagged ? this.regs.number('GPTBR_EL3') : 0;
    this.readPerm = neededPerm(Access.Read, this.el);
    this.writePerm = neededPerm(Access.Write, this.el);
    void state;
  }

  private regimeTagFor(el: number): number {
    return el === 3 ? Pas.Root * 2 + 1 : this.lowerState * 2;
  }

  // ---------------------------------------------------------------- translation

  /**
   * Translate without using or filling the TLB and without taking an exception: the outcome of a
   * fresh walk at `el` (EL1&0 regime for 0/1, EL3 regime for 3) in the PE's security state.
   */
  probe(va: number, el: number, access: Access, out: TranslationResult): void {
    const regime = el === 3 ? this.el3 : this.el10;
    const state = el === 3 ? Pas.Root : this.lowerState;
    this.walker.translate(regime, this.gpc, state, va, el, access, out);
  }

  /**
   * Translate for an access at the current EL, through the TLB. On success returns the backing
   * frame (> 0) or MMIO_FRAME, with the PA in `this.result.pa`; on a fault returns 0 with the
   * fault in `this.result`.
   */
  private translateCurrent(va: number, access: Access): number {
    const tlb = this.tlb;
    const vpn = Math.floor(va / FRAME_BYTES);
    const q = Math.floor(vpn * tlb.inverseSize);
    const i = (vpn - q * tlb.size + q * TLB_INDEX_HASH) & tlb.mask; // Tlb.indexOf, inlined
    const out = this.result;
    if (
      tlb.vpn[i] === vpn &&
      tlb.regime[i] === this.regimeTag &&
      (tlb.asid[i] === this.asidTag || tlb.asid[i] === GLOBAL_ASID) &&
      tlb.gptTag[i] === this.gptTag &&
      (tlb.perms[i]! & neededPerm(access, this.el)) !== 0
    ) {
      this.charge(Ev.TlbHit);
      tlb.stats.hits++;
      out.fault = MmuFault.None;
      out.pa = tlb.pagePa[i]! + (va - vpn * FRAME_BYTES);
      out.pas = tlb.pas[i] as Pas;
      return tlb.frame[i]!;
    }
    tlb.stats.misses++;
    this.charge(Ev.TlbMiss);
    const regime = this.el === 3 ? this.el3 : this.el10;
    const gptReadsBefore = this.gpc.tableReads;
    this.walker.translate(
      regime,
      this.gpc,
      this.securityState,
      va,
      this.el,
      access,
      out,
      this.walkCache,
      this.regimeTag,
      this.gptTag,
    );
    this.charge(Ev.WalkRead, out.walkReads);
    this.charge(Ev.GptRead, this.gpc.tableReads - gptReadsBefore);
    if (out.fault !== MmuFault.None) return 0;
    const pagePa = Math.floor(out.pa / FRAME_BYTES) * FRAME_BYTES;
    const frame = this.memory.frameOf(pagePa, true);
    if (frame === -1) {
      // The output PA is outside every region: a synchronous External abort on the access itself.
      out.fault = MmuFault.ExternalAbort;
      out.level = 0;
      return 0;
    }
    tlb.fill(
      vpn,
      this.regimeTag,
      out.global ? GLOBAL_ASID : this.asidTag,
      this.gptTag,
      frame,
      pagePa,
      out.pas,
      out.perms,
      out.sizeShift,
    );
    return frame;
  }

  // ---------------------------------------------------------------- loads and stores

  /** Load a 32-bit word. On an abandoned fault returns 0 with `lastFault` set. */
  load32(va: number): number {
    // Hit path inlined: the common case costs a few typed-array reads.
    const tlb = this.tlb;
    const vpn = Math.floor(va / FRAME_BYTES);
    const q = Math.floor(vpn * tlb.inverseSize);
    const i = (vpn - q * tlb.size + q * TLB_INDEX_HASH) & tlb.mask; // Tlb.indexOf, inlined
    const offset = va - vpn * FRAME_BYTES;
    if (
      tlb.vpn[i] === vpn &&
      tlb.regime[i] === this.regimeTag &&
      tlb.gptTag[i] === this.gptTag &&
      (tlb.asid[i] === this.asidTag || tlb.asid[i] === GLOBAL_ASID) &&
      (tlb.perms[i]! & this.readPerm) !== 0 &&
      (offset & 3) === 0
    ) {
      const frame = tlb.frame[i]!;
      if (frame > 0) {
        this.counters[Ev.TlbHit]!++;
        tlb.stats.hits++;
        this.cycles += this.hitCost;
        this.lastFault = 0;
        return this.memory.segments[frame >>> 8]![((frame & 0xff) << 10) | (offset >>> 2)]!;
      }
    }
    return this.slowLoad(va, 4);
  }

  /** Store a 32-bit word. Returns false when the access was abandoned (`lastFault` set). */
  store32(va: number, value: number): boolean {
    const tlb = this.tlb;
    const vpn = Math.floor(va / FRAME_BYTES);
    const q = Math.floor(vpn * tlb.inverseSize);
    const i = (vpn - q * tlb.size + q * TLB_INDEX_HASH) & tlb.mask; // Tlb.indexOf, inlined
    const offset = va - vpn * FRAME_BYTES;
    if (
      tlb.vpn[i] === vpn &&
      tlb.regime[i] === this.regimeTag &&
      tlb.gptTag[i] === this.gptTag &&
      (tlb.asid[i] === this.asidTag || tlb.asid[i] === GLOBAL_ASID) &&
      (tlb.perms[i]! & this.writePerm) !== 0 &&
      (offset & 3) === 0
    ) {
      const frame = tlb.frame[i]!;
      if (frame > 0) {
        this.counters[Ev.TlbHit]!++;
        tlb.stats.hits++;
        this.cycles += this.hitCost;
        this.lastFault = 0;
        this.memory.segments[frame >>> 8]![((frame & 0xff) << 10) | (offset >>> 2)] = value >>> 0;
        return true;
      }
    }
    return this.slowStore(va, 4, value);
  }

  /** Load one byte (0..255); 0 with `lastFault` set on an abandoned fault. */
  load8(va: number): number {
    return this.slowLoad(va, 1);
  }

  /** Store one byte. */
  store8(va: number, value: number): boolean {
    return this.slowStore(va, 1, value);
  }

  /** Load a 64-bit value as a number (exact below 2^53; higher bits are lost by design). */
  load64(va: number): number {
    const low = this.load32(va);
    if (this.lastFault !== 0) return 0;
    const high = this.load32(va + 4);
    return high * 2 ** 32 + low;
  }

  /** Store a 64-bit value given as halves (descriptors, register images). */
  store64(va: number, low: number, high: number): boolean {
    return this.store32(va, low) && this.store32(va + 4, high);
  }

  /**
   * Read `length` bytes at `va` through the PE path, page by page (charged as a block copy).
   * Returns undefined if an access was abandoned.
   */
  readBytes(va: number, length: number): Uint8Array | undefined {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = va + done;
      const chunk = Math.min(length - done, FRAME_BYTES - (at - Math.floor(at / FRAME_BYTES) * FRAME_BYTES));
      const pa = this.accessPage(at, Access.Read);
      if (pa < 0) return undefined;
      out.set(this.memory.readBytes(pa, chunk)!, done);
      done += chunk;
    }
    this.charge(Ev.BytesCopied, length);
    return out;
  }

  /** Write `data` at `va` through the PE path. Returns false if an access was abandoned. */
  writeBytes(va: number, data: Uint8Array): boolean {
    let done = 0;
    while (done < data.length) {
      const at = va + done;
      const chunk = Math.min(
        data.length - done,
        FRAME_BYTES - (at - Math.floor(at / FRAME_BYTES) * FRAME_BYTES),
      );
      const pa = this.accessPage(at, Access.Write);
      if (pa < 0) return false;
      this.memory.writeBytes(pa, data.subarray(done, done + chunk));
      done += chunk;
    }
    this.charge(Ev.BytesCopied, data.length);
    return true;
  }

  /** Fill `length` bytes at `va` with `value` through the PE path (e.g. scrubbing a page). */
  fillBytes(va: number, length: number, value: number): boolean {
    let done = 0;
    while (done < length) {
      const at = va + done;
      const chunk = Math.min(length - done, FRAME_BYTES - (at - Math.floor(at / FRAME_BYTES) * FRAME_BYTES));
      const pa = this.accessPage(at, Access.Write);
      if (pa < 0) return false;
      this.memory.fill(pa, chunk, value);
      done += chunk;
    }
    this.charge(Ev.BytesCopied, length);
    return true;
  }

  /**
   * Translate an access at the current EL, taking the exception of each fault and retrying while
   * the handler returns to the faulting instruction. Returns the frame (> 0, or MMIO_FRAME) with the
   * PA in `this.result.pa`, or 0 when the access is abandoned (`lastFault` holds its ESR).
   */
  private translateOrFault(va: number, access: Access): number {
    for (let attempt = 0; attempt < MAX_ACCESS_RETRIES; attempt++) {
      const frame = this.translateCurrent(va, access);
      if (frame !== 0) {
        this.lastFault = 0;
        return frame;
      }
      if (!this.takeAccessFault(va, access)) return 0;
    }
    // The handler keeps returning to an access that keeps faulting: abandon it, reporting the fault.
    this.lastFault = this.lastTakenEsr;
    return 0;
  }

  /**
   * The access itself aborted (no memory behind the PA, or a device refused it): take a
   * synchronous External abort. Returns true when the handler asks for the access to be retried.
   */
  private externalAbort(va: number, access: Access): boolean {
    this.result.fault = MmuFault.ExternalAbort;
    this.result.level = 0;
    return this.takeAccessFault(va, access);
  }

  /** Translate one page of a block transfer; the PA, or -1 if abandoned (`lastFault` set). */
  private accessPage(va: number, access: Access): number {
    for (let attempt = 0; attempt < MAX_ACCESS_RETRIES; attempt++) {
      const frame = this.translateOrFault(va, access);
      if (frame === 0) return -1;
      if (frame > 0) return this.result.pa;
      // SIMPLIFICATION: block transfers to device windows are not modelled: an External abort.
      if (!this.externalAbort(va, access)) return -1;
    }
    this.lastFault = this.lastTakenEsr;
    return -1;
  }

  private slowLoad(va: number, size: 1 | 4): number {
    for (let attempt = 0; attempt < MAX_ACCESS_RETRIES; attempt++) {
      const frame = this.translateOrFault(va, Access.Read);
      if (frame === 0) return 0;
      const pa = this.result.pa;
      const aligned = pa - Math.floor(pa * 0.25) * 4 === 0;
      if (size === 1 && frame > 0) return this.memory.read8(pa);
      if (size === 4 && aligned) {
        const value = this.memory.read32(pa);
        if (value >= 0) return value;
      } else if (size === 4 && frame > 0) {
        // SIMPLIFICATION: an unaligned word is assembled from bytes (Normal memory allows it).
        let value = 0;
        for (let b = 3; b >= 0; b--) {
          value = value * 256 + this.load8(va + b);
          if (this.lastFault !== 0) return 0;
        }
        return value;
      }
      // A byte or unaligned access to a device, or a device read error: External abort.
      if (!this.externalAbort(va, Access.Read)) return 0;
    }
    this.lastFault = this.lastTakenEsr;
    return 0;
  }

  private slowStore(va: number, size: 1 | 4, value: number): boolean {
    for (let attempt = 0; attempt < MAX_ACCESS_RETRIES; attempt++) {
      const frame = this.translateOrFault(va, Access.Write);
      if (frame === 0) return false;
      const pa = this.result.pa;
      const aligned = pa - Math.floor(pa * 0.25) * 4 === 0;
      if (size === 1 && frame > 0) return this.memory.write8(pa, value);
      if (size === 4 && aligned) {
        if (this.memory.write32(pa, value)) return true;
      } else if (size === 4 && frame > 0) {
        for (let b = 0; b < 4; b++) if (!this.store8(va + b, (value >>> (8 * b)) & 0xff)) return false;
        return true;
      }
      if (!this.externalAbort(va, Access.Write)) return false;
    }
    this.lastFault = this.lastTakenEsr;
    return false;
  }

  /**
   * Take the exception for the fault in `this.result`. Returns true when the handler returned to
   * the faulting instruction (retry), false when the access is abandoned.
   */
  private takeAccessFault(va: number, access: Access): boolean {
    const r = this.result;
    this.charge(Ev.AccessFault);
    if (r.fault === MmuFault.Gpc && gpcFaultKind(r.gpc) === GpcFault.GPF) this.charge(Ev.GpcFault);
    const scrGpf = (this.regs.high('SCR_EL3') & SCR.GPF_HIGH) !== 0;
    routeAccessFault(
      this.el,
      access,
      r.fault,
      r.level,
      r.gpc,
      r.s1ptw,
      r.faultPa,
      r.faultPas,
      scrGpf,
      this.routed,
    );
    const faultEsr = this.routed.esr;
    const retryPc = this.pc;
    const retryEl = this.el;
    const target = this.routed.targetEl;
    if (this.routed.gpcException) this.regs.set('MFAR_EL3', this.routed.mfarLow, this.routed.mfarHigh);
    this.regs.setNumber(target === 3 ? 'FAR_EL3' : 'FAR_EL1', va);
    this.lastTakenEsr = faultEsr;
    this.exception(target, faultEsr, retryPc);
    const retried = this.el === retryEl && this.pc === retryPc && this.halted === undefined;
    this.lastFault = retried ? 0 : faultEsr;
    return retried;
  }

  // ---------------------------------------------------------------- instructions

  /** SVC #imm from EL0: a synchronous exception to EL1. Returns when control comes back. */
  svc(imm: number): void {
    this.charge(Ev.Svc);
    if (this.el !== 0) {
      // SIMPLIFICATION: SVC is only modelled from EL0 (system calls); elsewhere it is undefined here.
      this.undefinedInstruction();
      return;
    }
    this.lastFault = 0;
    this.exception(1, esr(Ec.Svc64, imm & 0xffff), this.pc + 4);
  }

  /** SMC #imm from EL1 or EL3: a synchronous exception to EL3. UNDEFINED at EL0. */
  smc(imm: number): void {
    this.charge(Ev.Smc);
    if (this.el === 0) {
      this.undefinedInstruction();
      return;
    }
    this.lastFault = 0;
    this.exception(3, esr(Ec.Smc64, imm & 0xffff), this.pc + 4);
  }

  /**
   * ERET: return from the current EL using SPSR_ELx/ELR_ELx. From EL3 the target security state
   * comes from SCR_EL3. Code must do nothing after ERET: control has left it.
   */
  eret(): void {
    assert(this.el > 0, 'ERET at EL0 is undefined and never issued by model code');
    const fromEl3 = this.el === 3;
    const spsr = this.regs.low(fromEl3 ? 'SPSR_EL3' : 'SPSR_EL1');
    const elr = this.regs.number(fromEl3 ? 'ELR_EL3' : 'ELR_EL1');
    this.charge(fromEl3 ? Ev.ReturnFromEl3 : Ev.ReturnFromEl1);
    const targetEl = (spsr >>> 2) & 3;
    // An illegal return (to a higher EL, or to EL2, which this model does not have) stays at this EL.
    this.currentEl = targetEl > this.currentEl || targetEl === 2 ? this.currentEl : targetEl;
    this.irqMasked = ((spsr >>> 7) & 1) === 1;
    this.pc = elr;
    this.refreshContext();
  }

  /** Transfer control to `va` at the current EL (a branch): the code there runs when dispatched. */
  branch(va: number): void {
    this.pc = va;
  }

  /**
   * Run the code at `va` at the current EL: fetch it through the MMU and GPC, then call it.
   * Returns false (with `lastFault` set, after taking the instruction abort) if it cannot be fetched
   * or if no code is registered there.
   */
  call(va: number): boolean {
    this.pc = va;
    return this.runAtPc();
  }

  /** Assert or clear the IRQ line (devices). */
  setIrq(level: boolean): void {
    this.irqPending = level;
  }

  /**
   * Take a pending, unmasked IRQ at an instruction boundary (the scheduler calls this). The
   * interrupted context resumes at the current PC. Returns true if an IRQ was taken.
   */
  pollInterrupts(): boolean {
    if (!this.irqPending || this.irqMasked || this.el === 3) return false;
    this.charge(Ev.Interrupt);
    const offset = this.el === 0 ? VectorOffset.LowerIrq : VectorOffset.CurrentIrq;
    this.exception(1, 0, this.pc, offset);
    return true;
  }

  // ---------------------------------------------------------------- TLB maintenance

  /**
   * TLBI. Operands: RPALOS/RPAOS take the Arm Xt value as a number (SIZE [47:44], base address by
   * PGS in [39:0]); VAE1/VAAE1 a VA (VAE1 for `asid`, by default the current one: Arm packs it in
   * Xt[63:48]); ASIDE1 an ASID; the *ALL forms ignore it. PA forms are EL3-only and VA forms need
   * EL1 (else UNDEFINED). Returns false if the instruction was undefined.
   */
  tlbi(op: TlbiOp, operand = 0, asid?: number): boolean {
    const isPaOp = op === 'PAALL' || op === 'PAALLOS' || op === 'RPALOS' || op === 'RPAOS' || op === 'ALLE3';
    if ((isPaOp && this.el !== 3) || this.el === 0) {
      this.undefinedInstruction();
      return false;
    }
    switch (op) {
      case 'PAALL':
        this.invalidateGptInfoAll();
        break;
      case 'PAALLOS':
        this.bus.tlbiPaallOs();
        break;
      case 'RPALOS':
      case 'RPAOS': {
        const range = this.decodeRpaOperand(operand);
        if (range !== undefined) this.bus.tlbiRpaOs(range[0], range[1]);
        else this.charge(Ev.TlbiRpa);
        break;
      }
      case 'VAE1':
        this.invalidateVa(operand, this.regimeTagFor(1), asid ?? this.el10.asid);
        break;
      case 'VAAE1':
        this.invalidateVa(operand, this.regimeTagFor(1), undefined);
        break;
      case 'ASIDE1':
        this.invalidateAsid(operand, this.regimeTagFor(1));
        break;
      case 'VAE1IS':
        this.bus.tlbiVaIs(operand, this.regimeTagFor(1), asid ?? this.el10.asid);
        break;
      case 'VAAE1IS':
        this.bus.tlbiVaIs(operand, this.regimeTagFor(1), undefined);
        break;
      case 'ASIDE1IS':
        this.bus.tlbiAsidIs(operand, this.regimeTagFor(1));
        break;
      case 'VMALLE1':
        this.invalidateRegime(this.regimeTagFor(1));
        break;
      case 'VMALLE1IS':
        this.bus.tlbiVmallIs(this.regimeTagFor(1));
        break;
      case 'ALLE3':
        this.invalidateRegime(this.regimeTagFor(3));
        break;
    }
    return true;
  }

  /**
   * DC CIPAPA: clean and invalidate data caches by PA to the Point of Physical Aliasing
   * (op1=6, CRn=7, CRm=14, op2=1; spec/cca-hardware.md §4.3). `operand` is the PA (no alignment
   * requirement) and `pas` the PAS its Xt selects (NS [63], NSE [62]). EL3-only: UNDEFINED below
   * EL3, like the TLBI PA* operations. Returns false if the instruction was undefined.
   * SIMPLIFICATION: the model has no data caches, so the operation only counts an event.
   */
  dcCipapa(operand: number, pas: Pas): boolean {
    if (this.el !== 3) {
      this.undefinedInstruction();
      return false;
    }
    void operand;
    void pas;
    this.charge(Ev.DcCipapa);
    return true;
  }

  /** Local effect of TLBI PAALL (also the per-PE part of PAALLOS). */
  invalidateGptInfoAll(): void {
    this.charge(Ev.TlbiPaall);
    this.tlb.invalidateAll();
    this.gpc.invalidateAll();
    this.walkCache.invalidateAll();
  }

  /** Local effect of TLBI RPALOS/RPAOS over [base, base + size). */
  invalidateGptInfoRange(base: number, size: number): void {
    this.charge(Ev.TlbiRpa);
    this.tlb.invalidatePaRange(base, size);
    this.gpc.invalidateRange(base, size);
    // The skipped descriptor fetches' GPC outcomes are cached in walk entries too.
    this.walkCache.invalidateAll();
  }

  /** Local effect of TLBI VAE1(IS) (`asid` given) or VAAE1(IS): the VA's entries and cached walk. */
  invalidateVa(va: number, regime: number, asid: number | undefined): void {
    this.charge(Ev.TlbiVa);
    this.tlb.invalidateVa(va, regime, asid);
    this.walkCache.invalidateVa(va, regime);
  }

  /** Local effect of TLBI ASIDE1(IS). */
  invalidateAsid(asid: number, regime: number): void {
    this.charge(Ev.TlbiAsid);
    this.tlb.invalidateAsid(asid, regime);
    // Walk-cache entries are tagged by root table, not ASID: drop the regime's entries.
    this.walkCache.invalidateRegime(regime);
  }

  /** Local effect of TLBI VMALLE1(IS)/ALLE3 for one regime. */
  invalidateRegime(regime: number): void {
    this.charge(Ev.TlbiAll);
    this.tlb.invalidateAll(regime);
    this.walkCache.invalidateRegime(regime);
  }

  /**
   * Decode an RPA* operand: SIZE [47:44]; BaseADDR by PGS (4K: Xt[39:0] = PA[51:12]; 16K:
   * Xt[39:2] = PA[51:14]; 64K: Xt[39:4] = PA[51:16]). A reserved size or a base not aligned to it
   * invalidates nothing; a size below the granule is treated as the granule (ArmSR TLBI RPALOS).
   */
  private decodeRpaOperand(xt: number): [number, number] | undefined {
    const sizeCode = Math.floor(xt / 2 ** 44) & 0xf;
    let size = RPA_SIZES[sizeCode];
    if (size === undefined) return undefined;
    const granule = this.gpc.granuleBytes;
    const field = xt % 2 ** 40;
    const base = Math.floor((field * 4096) / granule) * granule;
    size = Math.max(size, granule);
    if (base % size !== 0) return undefined;
    return [base, size];
  }

  // ---------------------------------------------------------------- exceptions

  private undefinedInstruction(): void {
    const target = this.el === 3 ? 3 : 1;
    this.lastFault = esr(Ec.Unknown, 0);
    this.exception(target, this.lastFault, this.pc);
  }

  /**
   * Take a synchronous exception (or, with `offset`, an IRQ) to `targetEl`, run its handler and
   * return when control reaches the context that resumes at `returnPc` (or leaves dispatch).
   */
  private exception(targetEl: 1 | 3, syndrome: number, returnPc: number, offset?: number): void {
    if (this.halted !== undefined) return;
    if (this.exceptionNesting >= MAX_EXCEPTION_NESTING) {
      this.halted = `exception nesting exceeded ${MAX_EXCEPTION_NESTING} (a handler keeps faulting)`;
      return;
    }
    const depth = this.resumeStack.length;
    this.resumeStack.push({ el: this.el, pc: returnPc });
    this.exceptionNesting++;
    try {
      this.enter(targetEl, syndrome, returnPc, offset);
      this.dispatch(depth);
    } catch (signal) {
      if (!(signal instanceof Resume) || signal.depth !== depth) throw signal;
    } finally {
      this.resumeStack.length = depth;
      this.exceptionNesting--;
    }
  }

  /** Exception entry: save PSTATE and the return address, write the syndrome, jump to the vector. */
  private enter(targetEl: 1 | 3, syndrome: number, returnPc: number, offset?: number): void {
    const fromLower = this.el < targetEl;
    const spsr = (this.el << 2) | (this.el === 0 ? 0 : 1) | (this.irqMasked ? 1 << 7 : 0);
    const suffix = targetEl === 3 ? 'EL3' : 'EL1';
    this.regs.set(`SPSR_${suffix}`, spsr, 0);
    this.regs.setNumber(`ELR_${suffix}`, returnPc);
    if (offset === undefined) this.regs.set(`ESR_${suffix}`, syndrome, 0);
    this.charge(targetEl === 3 ? Ev.ExceptionToEl3 : Ev.ExceptionToEl1);
    this.currentEl = targetEl;
    this.irqMasked = true;
    this.refreshContext();
    const vectorOffset = offset ?? (fromLower ? VectorOffset.LowerSync : VectorOffset.CurrentSync);
    this.pc = this.regs.number(`VBAR_${suffix}`) + vectorOffset;
  }

  /** Run code from the current PC until control returns to the context at `depth` or leaves. */
  private dispatch(depth: number): void {
    let first = true;
    for (let hop = 0; hop < MAX_DISPATCH_HOPS; hop++) {
      const beforePc = this.pc;
      const beforeEl = this.el;
      if (first) {
        // The vector must hold code: fetch it, taking an instruction abort if it cannot be fetched.
        if (!this.runAtPc()) return;
        first = false;
      } else {
        // Later hops run only code that is there: anything else (e.g. EL0 code the scheduler
        // drives) means control has left, and the caller sees that it did not come back.
        if (this.translateCurrent(this.pc, Access.Fetch) === 0) return;
        const block = this.code.at(this.result.pa);
        if (block === undefined) return;
        block.run(this);
      }
      if (this.halted !== undefined) return;
      const target = this.findResumePoint();
      if (target === depth) return;
      if (target >= 0) throw new Resume(target);
      if (this.pc === beforePc && this.el === beforeEl) {
        this.halted = `code at 0x${beforePc.toString(16)} returned without transferring control`;
        return;
      }
    }
    this.halted = `more than ${MAX_DISPATCH_HOPS} control transfers without returning`;
  }

  private findResumePoint(): number {
    for (let i = this.resumeStack.length - 1; i >= 0; i--) {
      const point = this.resumeStack[i]!;
      if (point.el === this.el && point.pc === this.pc) return i;
    }
    return -1;
  }

  /** Fetch the instruction at PC (taking an instruction abort on failure) and run its code. */
  private runAtPc(): boolean {
    const va = this.pc;
    if (this.translateOrFault(va, Access.Fetch) === 0) return false;
    const block = this.code.at(this.result.pa);
    if (block === undefined) {
      this.halted = `no code at PA 0x${this.result.pa.toString(16)} (VA 0x${va.toString(16)}, EL${this.el})`;
      return false;
    }
    block.run(this);
    return true;
  }
}

/** Names of the TLBI operations, for CLIs and tests. */
export const TLBI_OPS: readonly TlbiOp[] = [
  'PAALL',
  'PAALLOS',
  'RPALOS',
  'RPAOS',
  'VAE1',
  'VAAE1',
  'ASIDE1',
  'VAE1IS',
  'VAAE1IS',
  'ASIDE1IS',
  'VMALLE1',
  'VMALLE1IS',
  'ALLE3',
];
