/**
 * The system registers a PE models, with the lowest exception level that may access each.
 * Values are held as two u32 halves. Field layouts are decoded where they are used (gpc.ts,
 * regime.ts, exceptions.ts); this file only names and stores them.
 */

/** Register names and the minimum EL that may read or write them (MSR/MRS). */
export const SYSREG_MIN_EL = {
  SCR_EL3: 3,
  GPCCR_EL3: 3,
  GPTBR_EL3: 3,
  MFAR_EL3: 3,
  VBAR_EL3: 3,
  TTBR0_EL3: 3,
  TCR_EL3: 3,
  MAIR_EL3: 3,
  SCTLR_EL3: 3,
  ESR_EL3: 3,
  ELR_EL3: 3,
  SPSR_EL3: 3,
  FAR_EL3: 3,
  VBAR_EL1: 1,
  TTBR0_EL1: 1,
  TTBR1_EL1: 1,
  TCR_EL1: 1,
  MAIR_EL1: 1,
  SCTLR_EL1: 1,
  ESR_EL1: 1,
  ELR_EL1: 1,
  SPSR_EL1: 1,
  FAR_EL1: 1,
  CNTP_CTL_EL0: 0,
  CNTP_CVAL_EL0: 0,
  /** Software thread ID registers: TPIDR_EL0 (EL0 read/write), TPIDRRO_EL0 (EL0 reads, EL1 writes). */
  TPIDR_EL0: 0,
  TPIDRRO_EL0: 1,
} as const;

/** A modelled system register. */
export type SysRegName = keyof typeof SYSREG_MIN_EL;

/** True if `name` is a modelled register. */
export function isSysRegName(name: string): name is SysRegName {
  return Object.hasOwn(SYSREG_MIN_EL, name);
}

/** All modelled register names. */
export const SYSREG_NAMES = Object.keys(SYSREG_MIN_EL) as SysRegName[];

/** SCR_EL3 bits used by the model (TFA arch.h L697-747; spec/cca-hardware.md §1.2, §2.5). */
export const SCR = {
  /** bit 0 NS (low word). */
  NS: 1 << 0,
  /** bit 62 NSE (high word bit 30). */
  NSE_HIGH: 1 << 30,
  /** bit 48 GPF (high word bit 16): route lower-EL GPFs to EL3 as GPC exceptions. */
  GPF_HIGH: 1 << 16,
} as const;

/** Index of each register's low word in a SysRegFile (the high word follows it). */
const SLOT: Readonly<Record<SysRegName, number>> = Object.fromEntries(
  SYSREG_NAMES.map((name, i) => [name, 2 * i]),
) as Record<SysRegName, number>;

/** Storage for a PE's system registers: a pair of u32 per register, in one typed array. */
export class SysRegFile {
  private readonly values = new Uint32Array(2 * SYSREG_NAMES.length);

  /** Low word. */
  low(name: SysRegName): number {
    return this.values[SLOT[name]]!;
  }

  /** High word. */
  high(name: SysRegName): number {
    return this.values[SLOT[name] + 1]!;
  }

  /** Both halves as a tuple. */
  pair(name: SysRegName): [number, number] {
    const i = SLOT[name];
    return [this.values[i]!, this.values[i + 1]!];
  }

  /**
   * Value as a signed number, the model's form of an address held in ELR/VBAR/FAR (two's complement,
   * exact while |value| < 2^53).
   */
  number(name: SysRegName): number {
    const i = SLOT[name];
    return (this.values[i + 1]! | 0) * 2 ** 32 + this.values[i]!;
  }

  /** Set both halves. */
  set(name: SysRegName, low: number, high: number): void {
    const i = SLOT[name];
    this.values[i] = low >>> 0;
    this.values[i + 1] = high >>> 0;
  }

  /** Set from a non-negative number below 2^53 or a VA number (two's complement when negative). */
  setNumber(name: SysRegName, value: number): void {
    const high = Math.floor(value / 2 ** 32);
    this.set(name, value - high * 2 ** 32, high >>> 0);
  }
}
