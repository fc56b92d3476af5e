/**
 * The EL1 physical timer of one PE (Arm generic timer, CNTP_* registers), driven by the PE's cycle
 * counter.
 *
 * The system counter (CNTPCT_EL0) runs at `counterHz`; the model derives it from simulated cycles:
 *   count = floor(pe.cycles / cyclesPerTick),  cyclesPerTick = profile.hz / counterHz
 * (default 50 MHz, the Juno generic counter of spec/costs.md A1.1: 36 cycles per tick on the
 * 1.8 GHz cortex-a72 profile, 60 on neoverse-n1, 2 on fvp).
 *
 * Software programs the timer through the PE's CNTP_CTL_EL0 and CNTP_CVAL_EL0 (pe.regs):
 * CTL.ENABLE (bit 0), CTL.IMASK (bit 1), CTL.ISTATUS (bit 2, written by the timer). The timer
 * condition is met when ENABLE = 1 and count >= CVAL (unsigned 64-bit compare); ISTATUS then reads
 * 1, and the interrupt is asserted while ISTATUS = 1 and IMASK = 0. The interrupt is level-sensitive:
 * software clears it by moving CVAL forward, setting IMASK, or clearing ENABLE.
 *
 * The timer has no thread of its own: the scheduler calls {@link GenericTimer.update} at instruction
 * boundaries (and may use {@link GenericTimer.nextFireCycle} to know when an idle PE wakes).
 * SIMPLIFICATION: CNTP_TVAL_EL0, the virtual timer and CNTKCTL_EL1 EL0-access controls are not
 * modelled; ISTATUS reads 0 while ENABLE = 0 (architecturally UNKNOWN).
 */
import { z } from 'zod';
import type { ProcessingElement } from '../pe.js';

/** CNTP_CTL_EL0 bits. */
export const CntpCtl = { ENABLE: 1 << 0, IMASK: 1 << 1, ISTATUS: 1 << 2 } as const;

/** Schema of the timer parameters, with documented defaults. */
export const timerParamsSchema = z.object({
  /** System counter frequency (CNTFRQ_EL0), Hz. Default: the Juno generic counter, 50 MHz. */
  counterHz: z.number().positive().default(50e6),
});
/** Timer parameters as a caller gives them. */
export type TimerParamsInput = z.input<typeof timerParamsSchema>;
/** Timer parameters after validation. */
export type TimerParams = z.output<typeof timerParamsSchema>;

/** Connections of a timer. */
export interface TimerOptions {
  /** Core clock of the PE's CPU profile, Hz (profile.hz). */
  readonly cpuHz: number;
  /** Level-sensitive interrupt output; default: the PE's IRQ input directly (pe.setIrq). */
  readonly irq?: (level: boolean) => void;
}

/** Statistics counters of a timer. */
export interface TimerStats {
  /** Times the interrupt output went from low to high. */
  fires: number;
  /** Calls to update(). */
  updates: number;
}

/** The EL1 physical timer of one PE. */
export class GenericTimer {
  readonly params: TimerParams;
  readonly name: string;
  /** PE cycles per counter tick (profile.hz / counterHz). */
  readonly cyclesPerTick: number;
  readonly stats: TimerStats = { fires: 0, updates: 0 };

  private readonly pe: ProcessingElement;
  private readonly irq: (level: boolean) => void;
  private irqLevel = false;

  constructor(input: TimerParamsInput, pe: ProcessingElement, options: TimerOptions) {
    const parsed = timerParamsSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RangeError(`timer parameters: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    }
    if (!(options.cpuHz > 0)) throw new RangeError(`timer: cpuHz must be positive, got ${options.cpuHz}`);
    this.params = parsed.data;
    this.pe = pe;
    this.name = `${pe.name}.timer`;
    this.cyclesPerTick = options.cpuHz / this.params.counterHz;
    this.irq = options.irq ?? ((level) => pe.setIrq(level));
  }

  /** CNTPCT_EL0: the system counter now, from the PE's cycle count. */
  counter(): number {
    return Math.floor(this.pe.cycles / this.cyclesPerTick);
  }

  /** CNTP_CVAL_EL0 as a number (values beyond 2^53 compare as "never"). */
  private compareValue(): number {
    const regs = this.pe.regs;
    return regs.high('CNTP_CVAL_EL0') * 2 ** 32 + regs.low('CNTP_CVAL_EL0');
  }

  /**
   * Re-evaluate the timer condition: write CNTP_CTL_EL0.ISTATUS and drive the interrupt output.
   * Returns the interrupt level.
   */
  update(): boolean {
    this.stats.updates++;
    const regs = this.pe.regs;
    const ctl = regs.low('CNTP_CTL_EL0');
    const enabled = (ctl & CntpCtl.ENABLE) !== 0;
    const met = enabled && this.counter() >= this.compareValue();
    const newCtl = met ? ctl | CntpCtl.ISTATUS : ctl & ~CntpCtl.ISTATUS;
    if (newCtl !== ctl) regs.set('CNTP_CTL_EL0', newCtl, regs.high('CNTP_CTL_EL0'));
    const level = met && (ctl & CntpCtl.IMASK) === 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      if (level) this.stats.fires++;
      this.irq(level);
    }
    return level;
  }

  /** The interrupt output level as last computed by update(). */
  get asserted(): boolean {
    return this.irqLevel;
  }

  /**
   * The first PE cycle count at which the timer condition is met (now or earlier if it already is),
   * or undefined while the timer is disabled. IMASK does not matter: ISTATUS still changes.
   */
  nextFireCycle(): number | undefined {
    if ((this.pe.regs.low('CNTP_CTL_EL0') & CntpCtl.ENABLE) === 0) return undefined;
    // count(c) >= CVAL  ⇔  c >= CVAL × cyclesPerTick, so the first such cycle is the ceiling.
    return Math.ceil(this.compareValue() * this.cyclesPerTick);
  }
}
