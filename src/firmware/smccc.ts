/**
 * SMC Calling Convention (Arm DEN0028) at EL3: function identifiers, return codes and the
 * dispatcher the EL3 synchronous vector hands every SMC to.
 *
 * A function identifier lives in W0: bit 31 = fast call, bit 30 = SMC64 (1) or SMC32 (0), bits
 * [29:24] = owning entity number, bits [23:16] must be zero for fast calls, bits [15:0] = function
 * number. Arguments are in X1..X7 and results in X0..X3; X4..X17 are preserved (SMCCC v1.1).
 * Registers of the model are doubles, so the u64 return value 0xFFFF_FFFF_FFFF_FFFF (SMC_UNK) is
 * written as the number -1, INVALID_PARAMETER as -2 and DENIED as -3.
 *
 * Called from: the EL3 vector code of monitor.ts (synchronous exception from a lower EL, ESR_EL3.EC
 * = 0x17). Handlers set result registers (and may set ELR_EL3/SPSR_EL3); the vector code ERETs.
 */
import type { ProcessingElement } from '../hw/pe.js';

/** SMCCC return codes (DEN0028 §5.2), as the signed numbers the model puts in X0. */
export const SmcReturn = {
  SUCCESS: 0,
  /** Unknown function identifier (NOT_SUPPORTED has the same value). */
  SMC_UNK: -1,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETER: -2,
  DENIED: -3,
} as const;

/** Owning entity numbers, function id bits [29:24] (DEN0028 §2.5). */
export const Oen = {
  Arm: 0,
  Cpu: 1,
  SiP: 2,
  OeM: 3,
  StandardSecure: 4,
  StandardHypervisor: 5,
  VendorHypervisor: 6,
} as const;

/** Architecture calls (owning entity Arm, fast SMC32). */
export const SMCCC_VERSION = 0x8000_0000;
export const SMCCC_ARCH_FEATURES = 0x8000_0001;
/** SMCCC_VERSION result: v1.1 (major 1 in [30:16], minor 1 in [15:0]). */
export const SMCCC_VERSION_1_1 = 0x0001_0001;

/** Fields of a function identifier. */
export interface FunctionId {
  /** The 32-bit identifier. */
  readonly value: number;
  /** Bit 31: fast call. */
  readonly fast: boolean;
  /** Bit 30: SMC64 calling convention. */
  readonly smc64: boolean;
  /** Bits [29:24]. */
  readonly owningEntity: number;
  /** Bits [15:0]. */
  readonly functionNumber: number;
}

/** Decode the function identifier in W0 (the upper half of X0 is ignored, DEN0028 §2.5). */
export function decodeFunctionId(x0: number): FunctionId {
  const value = x0 >>> 0;
  return {
    value,
    fast: value >>> 31 === 1,
    smc64: ((value >>> 30) & 1) === 1,
    owningEntity: (value >>> 24) & 0x3f,
    functionNumber: value & 0xffff,
  };
}

/**
 * Build a fast-call function identifier.
 * @param smc64 SMC64 convention (bit 30)
 * @param owningEntity owning entity number (bits [29:24])
 * @param functionNumber function number (bits [15:0])
 */
export function fastCallId(smc64: boolean, owningEntity: number, functionNumber: number): number {
  return (
    ((1 << 31) | (smc64 ? 1 << 30 : 0) | ((owningEntity & 0x3f) << 24) | (functionNumber & 0xffff)) >>> 0
  );
}

/**
 * Argument register `n` (X1..X7) as an unsigned 64-bit value the model can hold exactly, or
 * undefined when the double is not a non-negative safe integer (a value a trust boundary refuses).
 */
export function argU64(pe: ProcessingElement, n: number): number | undefined {
  const value = pe.x[n]!;
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** An SMC handler: reads X1..X7, writes results; does not ERET (the vector code does). */
export type SmcHandler = (pe: ProcessingElement) => void;

/** Counters of the dispatcher. */
export interface SmcStats {
  /** SMCs dispatched to a handler. */
  handled: number;
  /** SMCs answered SMC_UNK. */
  unknown: number;
  /** Handled SMCs by handler name. */
  readonly byName: Record<string, number>;
}

/** Routes SMCs by function identifier to registered handlers. */
export class SmcDispatcher {
  private readonly handlers = new Map<number, { readonly name: string; readonly run: SmcHandler }>();
  readonly stats: SmcStats = { handled: 0, unknown: 0, byName: {} };

  constructor() {
    this.register(SMCCC_VERSION, 'SMCCC_VERSION', (pe) => {
      pe.x[0] = SMCCC_VERSION_1_1;
    });
    this.register(SMCCC_ARCH_FEATURES, 'SMCCC_ARCH_FEATURES', (pe) => {
      // X1 = the queried function id: 0 if implemented, NOT_SUPPORTED otherwise.
      const queried = argU64(pe, 1);
      pe.x[0] =
        queried !== undefined && queried < 2 ** 32 && this.handlers.has(queried)
          ? SmcReturn.SUCCESS
          : SmcReturn.NOT_SUPPORTED;
    });
  }

  /** Register `run` for the fast-call identifier `fid`. Registering an id twice is an error. */
  register(fid: number, name: string, run: SmcHandler): void {
    const id = decodeFunctionId(fid);
    if (id.value !== fid || !id.fast || ((fid >>> 16) & 0xff) !== 0) {
      throw new RangeError(`SMC '${name}': 0x${fid.toString(16)} is not a fast-call function identifier`);
    }
    if (this.handlers.has(fid))
      throw new RangeError(`SMC '${name}': 0x${fid.toString(16)} is already registered`);
    this.handlers.set(fid, { name, run });
  }

  /** Name of the handler of `fid`, if any (for traces and tests). */
  nameOf(fid: number): string | undefined {
    return this.handlers.get(fid >>> 0)?.name;
  }

  /**
   * Handle the SMC whose function identifier is in X0 on `pe` (at EL3). Yielding calls (bit 31 = 0),
   * fast calls with non-zero bits [23:16] and unregistered identifiers get SMC_UNK in X0 and
   * leave every other register unchanged.
   */
  dispatch(pe: ProcessingElement): void {
    const fid = decodeFunctionId(pe.x[0]!);
    const handler = fid.fast && ((fid.value >>> 16) & 0xff) === 0 ? this.handlers.get(fid.value) : undefined;
    if (handler === undefined) {
      this.stats.unknown++;
      pe.x[0] = SmcReturn.SMC_UNK;
      return;
    }
    this.stats.handled++;
    this.stats.byName[handler.name] = (this.stats.byName[handler.name] ?? 0) + 1;
    handler.run(pe);
  }
}
