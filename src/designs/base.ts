/**
 * What every design shares: the kernel's trap entries (system call, fault, IRQ) written once over
 * a few design-specific primitives (how the interrupted registers are reached, saved and restored),
 * and the idle state a PE returns to when its task blocks, exits or is preempted.
 */
import { Ec, esrClass } from '../hw/exceptions.js';
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import { SmmuBits, SmmuReg } from '../hw/smmu.js';
import {
  EXEC_DONE,
  FaultOutcome,
  IrqOutcome,
  KERNEL_IDLE_VA,
  RESTART_CALL,
  SIGNAL_ENTRY,
  TASK_GONE,
  type HwTask,
  type KernelHandlers,
  type UserStart,
} from '../kernel/hooks.js';
import { ERESTARTSYS } from '../kernel/uapi/errno.js';
import { KERNEL_TEXT_VA, KernelCode, SPSR_EL0T } from './layout.js';

/** A task whose registers the kernel saves in its own memory (every native task, host processes). */
export interface KernelSavedTask {
  readonly regs: Float64Array;
  pc: number;
  spsr: number;
  tpidr: number;
}

/** The interrupted user context of the trap a PE is handling. */
export interface Trap<T extends HwTask> {
  readonly hw: T;
  /** ELR_EL1 and SPSR_EL1 at entry (nested kernel faults overwrite the registers). */
  readonly elr: number;
  readonly spsr: number;
  /** x30 to return with (a signal handler's entry: sa_restorer); otherwise as trapped. */
  readonly lr?: number;
}

/** Trap entries over design primitives. */
export abstract class DesignBase<T extends HwTask> {
  readonly machine: Machine;
  protected handlers: KernelHandlers | undefined;
  /** The task each PE runs at EL0 (or is handling a trap for). */
  protected readonly running: (T | undefined)[];

  constructor(machine: Machine) {
    this.machine = machine;
    this.running = new Array<T | undefined>(machine.pes.length).fill(undefined);
  }

  /** Capture the interrupted context at a trap from EL0 (x0..x5 and x8 must be readable after). */
  protected abstract captureTrap(pe: ProcessingElement, hw: T): Trap<T>;
  /** The system call number and arguments of a captured trap. */
  protected abstract syscallArgs(pe: ProcessingElement, trap: Trap<T>): { nr: number; args: number[] };
  /** Return to the trapped context (x0 = `result` for a system call), restoring what was clobbered. */
  protected abstract returnToUser(pe: ProcessingElement, trap: Trap<T>, result: number | undefined): void;
  /** Save the trapped context (PC rewound to the SVC with `rewind`; x0 = `result` if given). */
  protected abstract saveTrap(pe: ProcessingElement, trap: Trap<T>, rewind: boolean, result?: number): void;

  /** Leave `pe` idle in the kernel (control returns to the scheduler loop). */
  protected goIdle(pe: ProcessingElement): void {
    this.running[pe.id] = undefined;
    pe.branch(KERNEL_IDLE_VA);
  }

  /** Inside a trap: leave `pe` idle without saving (the task is gone). */
  dropUser(pe: ProcessingElement): void {
    this.goIdle(pe);
  }

  /** The system-call entry. */
  protected syscallEntry(pe: ProcessingElement): void {
    const hw = this.running[pe.id];
    const handlers = this.handlers;
    if (hw === undefined || handlers === undefined) {
      pe.halted = 'system call with no current task';
      return;
    }
    const trap = this.captureTrap(pe, hw);
    const { nr, args } = this.syscallArgs(pe, trap);
    const result = handlers.syscall(pe, nr, args);
    if (result === TASK_GONE) return this.goIdle(pe);
    if (result === -ERESTARTSYS) {
      this.saveTrap(pe, trap, true);
      return this.goIdle(pe);
    }
    if (result === EXEC_DONE) {
      const start = handlers.takeExecStart(pe);
      if (start !== undefined) return this.startImage(pe, trap, start);
    }
    // Where the task goes back to: the call's return, its signal handler, or its SVC again.
    let target = trap;
    let value: number | undefined = result;
    if (result === SIGNAL_ENTRY) {
      const entry = handlers.takeSignalEntry(pe);
      if (entry === undefined) throw new Error('design: SIGNAL_ENTRY without a handler entry');
      target = { ...trap, elr: entry.pc, lr: entry.lr };
      value = entry.sig;
    } else if (result === RESTART_CALL) {
      target = { ...trap, elr: trap.elr - 4 };
      value = undefined;
    }
    if (handlers.shouldYield(pe)) {
      this.saveTrap(pe, target, false, value);
      return this.goIdle(pe);
    }
    this.returnToUser(pe, target, value);
  }

  /** The synchronous-exception entry for everything but system calls (aborts, undefined). */
  protected faultEntry(pe: ProcessingElement): void {
    const handlers = this.handlers;
    const esr = pe.regs.low('ESR_EL1');
    const far = pe.regs.number('FAR_EL1');
    const fromUser = (pe.regs.low('SPSR_EL1') & 0xf) === 0;
    if (handlers === undefined) {
      pe.halted = 'fault before the kernel started';
      return;
    }
    if (!fromUser) {
      // A kernel access to user memory (copy_from_user): fix it, or resume at the fixup (EFAULT).
      const outcome = handlers.fault(pe, far, esr, false);
      if (outcome !== FaultOutcome.Retry) pe.msrNumber('ELR_EL1', KERNEL_TEXT_VA + KernelCode.fixup);
      pe.eret();
      return;
    }
    const hw = this.running[pe.id];
    if (hw === undefined) {
      pe.halted = 'user fault with no current task';
      return;
    }
    const trap = this.captureTrap(pe, hw);
    const abort = [Ec.DataAbortLower, Ec.InstructionAbortLower].includes(esrClass(esr) as 0x24 | 0x20);
    const outcome = handlers.fault(pe, abort ? far : -1, esr, true);
    if (outcome === FaultOutcome.Retry) return this.returnToUser(pe, trap, undefined);
    this.goIdle(pe);
  }

  /** The IRQ entry (IRQs are taken from EL0 only: the kernel runs with them masked). */
  protected irqEntry(pe: ProcessingElement): void {
    const hw = this.running[pe.id];
    const handlers = this.handlers;
    if (hw === undefined || handlers === undefined) {
      pe.halted = 'IRQ with no current task';
      return;
    }
    const trap = this.captureTrap(pe, hw);
    const outcome = handlers.irq(pe);
    if (outcome === IrqOutcome.Resume) return this.returnToUser(pe, trap, undefined);
    if (outcome === IrqOutcome.Preempt) this.saveTrap(pe, trap, false);
    this.goIdle(pe);
  }

  /** Register the three entries as code at `pa` + offsets of KernelCode (in the kernel image). */
  protected registerEntries(imagePa: number, offsets: { syscall: number; fault: number; irq: number }): void {
    const code = this.machine.code;
    code.register(imagePa + offsets.syscall, 'kernel-syscall', (pe) => this.syscallEntry(pe));
    code.register(imagePa + offsets.fault, 'kernel-fault', (pe) => this.faultEntry(pe));
    code.register(imagePa + offsets.irq, 'kernel-irq', (pe) => this.irqEntry(pe));
  }

  /**
   * The kernel's device set-up through its mapping of the SMMU's Non-secure page: the SMMU stays
   * disabled (SMMU_CR0.SMMUEN = 0) and its global bypass attribute is set to let transactions
   * through (SMMU_GBPA.ABORT = 0, written with UPDATE), so the block device's DMA reaches PAs, each
   * still checked by the GPC against the view the SMMU was given (the OS-GPT under rcontainer).
   */
  protected enableDmaBypass(pe: ProcessingElement, smmuVa: number): void {
    pe.store32(smmuVa + SmmuReg.GBPA, SmmuBits.GBPA_UPDATE);
  }

  // ------------------------------------------------ primitives for kernel-saved registers

  /** Trap entry: the kernel saves x0..x30 (Linux's pt_regs) before anything can clobber them. */
  protected saveRegisters(pe: ProcessingElement, task: KernelSavedTask): void {
    task.regs.set(pe.x);
  }

  /** x8 and x0..x5 of the saved registers. */
  protected savedSyscall(task: KernelSavedTask): { nr: number; args: number[] } {
    const r = task.regs;
    return { nr: r[8]!, args: [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!] };
  }

  /** Back to the trapped context from the saved registers (x0 = `result` if given). */
  protected resumeSaved(pe: ProcessingElement, trap: Trap<T>, task: KernelSavedTask, result?: number): void {
    pe.x.set(task.regs);
    if (result !== undefined) pe.x[0] = result;
    if (trap.lr !== undefined) pe.x[30] = trap.lr;
    this.eretToUser(pe, trap.elr, trap.spsr);
  }

  /** Keep the trapped context for a later entry (the PC rewound to the SVC with `rewind`). */
  protected keepSaved(
    pe: ProcessingElement,
    trap: Trap<T>,
    task: KernelSavedTask,
    rewind: boolean,
    result?: number,
  ): void {
    if (result !== undefined) task.regs[0] = result;
    if (trap.lr !== undefined) task.regs[30] = trap.lr;
    task.pc = rewind ? trap.elr - 4 : trap.elr;
    task.spsr = trap.spsr;
    task.tpidr = pe.regs.number('TPIDR_EL0');
  }

  /** Enter a kernel-saved task at EL0: its saved registers, or a new image's zeroed ones. */
  protected enterSaved(pe: ProcessingElement, task: KernelSavedTask, start: UserStart | undefined): void {
    if (start !== undefined) {
      task.regs.fill(0);
      task.pc = start.pc;
      task.spsr = SPSR_EL0T;
    }
    pe.msrNumber('TPIDR_EL0', task.tpidr);
    pe.x.set(task.regs);
    this.eretToUser(pe, task.pc, task.spsr);
  }

  /** A new image's first registers: all zero, PC at its entry. */
  protected startImage(pe: ProcessingElement, _trap: Trap<T>, start: UserStart): void {
    pe.x.fill(0);
    pe.msrNumber('TPIDR_EL0', 0);
    this.eretToUser(pe, start.pc);
  }

  /** Set ELR_EL1/SPSR_EL1 for a return to EL0 and ERET. */
  protected eretToUser(pe: ProcessingElement, pc: number, spsr = SPSR_EL0T): void {
    pe.msrNumber('ELR_EL1', pc);
    pe.msr('SPSR_EL1', spsr, 0);
    pe.eret();
  }
}
