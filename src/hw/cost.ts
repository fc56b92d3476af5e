/**
 * Cycle-cost accounting: the events the machine counts, and CPU profiles that price them.
 *
 * Every architectural event advances the PE's cycle counter by the profile's cost and bumps a named
 * counter (DESIGN.md §6). Sources are in shared/spec/costs.md (cited by section); values marked
 * "free parameter" have no public measurement and are meant to be calibrated.
 */

/** Counted events. Values index the PE's counter array. */
export const Ev = {
  /** Memory access that hit in the TLB (load, store or fetch). */
  TlbHit: 0,
  /** Memory access that missed the TLB and walked. */
  TlbMiss: 1,
  /** Stage-1 descriptor fetch during a walk. */
  WalkRead: 2,
  /** GPT descriptor fetch during a granule protection check on a TLB miss. */
  GptRead: 3,
  /** Synchronous exception or interrupt taken to EL1. */
  ExceptionToEl1: 4,
  /** Synchronous exception taken to EL3 (SMC, GPC exception, EL3 abort). */
  ExceptionToEl3: 5,
  /** ERET from EL1. */
  ReturnFromEl1: 6,
  /** ERET from EL3. */
  ReturnFromEl3: 7,
  /** SVC instructions. */
  Svc: 8,
  /** SMC instructions. */
  Smc: 9,
  /** TLBI PAALL / PAALLOS. */
  TlbiPaall: 10,
  /** TLBI RPALOS / RPAOS. */
  TlbiRpa: 11,
  /** TLBI VAE1 / VAAE1. */
  TlbiVa: 12,
  /** TLBI ASIDE1. */
  TlbiAsid: 13,
  /** TLBI VMALLE1 / ALLE3. */
  TlbiAll: 14,
  /** System-register writes. */
  SysRegWrite: 15,
  /** Bytes copied by block copies the software declares. */
  BytesCopied: 16,
  /** Bytes processed by AES-GCM that the software declares. */
  CryptoBytes: 17,
  /** Translation faults of any kind (MMU or GPC) raised by PE accesses. */
  AccessFault: 18,
  /** Granule protection faults among them. */
  GpcFault: 19,
  /** IRQs taken. */
  Interrupt: 20,
  /** Cycles of computation declared by software (the count is in cycles). */
  ComputeCycles: 21,
  /**
   * DC CIPAPA operations (clean+invalidate by PA to the PoPA). The model has no data caches: each is
   * priced at 1 cycle in every profile (free parameter).
   */
  DcCipapa: 22,
} as const;
/** A counted event. */
export type Ev = (typeof Ev)[keyof typeof Ev];

/** Name, unit and description of each counter, indexed by Ev value. */
export const EVENT_INFO: readonly { name: string; unit: string; description: string }[] = [
  { name: 'tlbHits', unit: 'accesses', description: 'memory accesses that hit in the TLB' },
  { name: 'tlbMisses', unit: 'accesses', description: 'memory accesses that walked the page tables' },
  { name: 'walkReads', unit: 'reads', description: 'stage-1 descriptor fetches' },
  { name: 'gptReads', unit: 'reads', description: 'GPT descriptor fetches by the GPC on TLB misses' },
  { name: 'exceptionsToEl1', unit: 'exceptions', description: 'exceptions and interrupts taken to EL1' },
  { name: 'exceptionsToEl3', unit: 'exceptions', description: 'exceptions taken to EL3' },
  { name: 'returnsFromEl1', unit: 'erets', description: 'exception returns from EL1' },
  { name: 'returnsFromEl3', unit: 'erets', description: 'exception returns from EL3' },
  { name: 'svcs', unit: 'instructions', description: 'SVC instructions executed' },
  { name: 'smcs', unit: 'instructions', description: 'SMC instructions executed' },
  { name: 'tlbiPaall', unit: 'operations', description: 'TLBI PAALL/PAALLOS' },
  { name: 'tlbiRpa', unit: 'operations', description: 'TLBI RPALOS/RPAOS' },
  { name: 'tlbiVa', unit: 'operations', description: 'TLBI VAE1/VAAE1' },
  { name: 'tlbiAsid', unit: 'operations', description: 'TLBI ASIDE1' },
  { name: 'tlbiAll', unit: 'operations', description: 'TLBI VMALLE1/ALLE3' },
  { name: 'sysRegWrites', unit: 'writes', description: 'system-register writes' },
  { name: 'bytesCopied', unit: 'bytes', description: 'bytes moved by declared block copies' },
  { name: 'cryptoBytes', unit: 'bytes', description: 'bytes through declared AES-GCM' },
  { name: 'accessFaults', unit: 'faults', description: 'MMU or GPC faults raised by PE accesses' },
  { name: 'gpcFaults', unit: 'faults', description: 'granule protection faults raised by PE accesses' },
  { name: 'interrupts', unit: 'interrupts', description: 'IRQs taken' },
  { name: 'computeCycles', unit: 'cycles', description: 'computation declared by software' },
  { name: 'dcCipapa', unit: 'operations', description: 'DC CIPAPA (clean+invalidate by PA to the PoPA)' },
];

/** Number of counters. */
export const EVENT_COUNT = EVENT_INFO.length;

/** A CPU profile: clock and the cycle cost of each event. */
export interface CpuProfile {
  readonly name: string;
  readonly description: string;
  /** Core clock, Hz: converts cycles to simulated seconds. */
  readonly hz: number;
  /** Cycles charged per event (per byte for BytesCopied/CryptoBytes; 1 for ComputeCycles). */
  readonly cost: Readonly<Record<Ev, number>>;
}

function costs(values: Omit<Record<Ev, number>, typeof Ev.ComputeCycles>): Record<Ev, number> {
  return { ...values, [Ev.ComputeCycles]: 1 } as Record<Ev, number>;
}

/**
 * Cortex-A72 @ 1.8 GHz (the RK3399 board of the paper).
 * - SMC round trip ≈ 468–648 cycles, scaled from TF-A's 0.52 µs fast SMC on Cortex-A57 (costs.md
 *   A1.1): entry 270 + return 250 = 520.
 * - EL0↔EL1 exception entry/return: the null-syscall path of 0.28 µs (costs.md A1.1, N1-class VM)
 *   minus kernel work; 120 + 80 cycles (calibration value).
 * - 4 KiB copy 1.1–1.7 µs DRAM-bound (costs.md A1.1) → 0.6 cycles/byte.
 * - AES: 1,141 MB/s CBC with crypto extensions at 2 GHz → ≈1.8 cycles/byte (costs.md A1.1).
 * - TLB hit ≈ L1 hit (1.3 ns at 3 GHz, costs.md A1.1) → 4 cycles; walk/GPT descriptor reads 30
 *   cycles each (free parameter: A72 walk cost not found, bounded by DRAM latency ≈ 175 ns).
 * - TLBI costs: free parameters (no published latency, costs.md §0 item 3).
 */
const CORTEX_A72: CpuProfile = {
  name: 'cortex-a72',
  description: 'Cortex-A72 @ 1.8 GHz (Rockchip RK3399, the paper’s board)',
  hz: 1.8e9,
  cost: costs({
    [Ev.TlbHit]: 4,
    [Ev.TlbMiss]: 10,
    [Ev.WalkRead]: 30,
    [Ev.GptRead]: 30,
    [Ev.ExceptionToEl1]: 120,
    [Ev.ExceptionToEl3]: 270,
    [Ev.ReturnFromEl1]: 80,
    [Ev.ReturnFromEl3]: 250,
    [Ev.Svc]: 1,
    [Ev.Smc]: 1,
    [Ev.TlbiPaall]: 400,
    [Ev.TlbiRpa]: 150,
    [Ev.TlbiVa]: 40,
    [Ev.TlbiAsid]: 100,
    [Ev.TlbiAll]: 300,
    [Ev.SysRegWrite]: 10,
    [Ev.BytesCopied]: 0.6,
    [Ev.CryptoBytes]: 1.8,
    [Ev.AccessFault]: 0,
    [Ev.GpcFault]: 0,
    [Ev.Interrupt]: 0,
    [Ev.DcCipapa]: 1,
  }),
};

/**
 * Neoverse N1 @ 3.0 GHz.
 * - SMC round trip 0.08–0.26 µs on N1SDP (TF-A psci-performance-n1sdp, costs.md A1.1) → 480 cycles.
 * - null syscall 0.28 µs (costs.md A1.1) → 840 cycles including kernel work; entry/return 150/100.
 * - bcopy 11.8–12.5 GB/s → 0.25 cycles/byte; L1 1.3 ns → 4 cycles; DRAM 131 ns.
 */
const NEOVERSE_N1: CpuProfile = {
  name: 'neoverse-n1',
  description: 'Neoverse N1 @ 3.0 GHz (server-class Armv8.2 core)',
  hz: 3.0e9,
  cost: costs({
    [Ev.TlbHit]: 4,
    [Ev.TlbMiss]: 10,
    [Ev.WalkRead]: 20,
    [Ev.GptRead]: 20,
    [Ev.ExceptionToEl1]: 150,
    [Ev.ExceptionToEl3]: 250,
    [Ev.ReturnFromEl1]: 100,
    [Ev.ReturnFromEl3]: 230,
    [Ev.Svc]: 1,
    [Ev.Smc]: 1,
    [Ev.TlbiPaall]: 500,
    [Ev.TlbiRpa]: 200,
    [Ev.TlbiVa]: 50,
    [Ev.TlbiAsid]: 120,
    [Ev.TlbiAll]: 400,
    [Ev.SysRegWrite]: 10,
    [Ev.BytesCopied]: 0.25,
    [Ev.CryptoBytes]: 1.0,
    [Ev.AccessFault]: 0,
    [Ev.GpcFault]: 0,
    [Ev.Interrupt]: 0,
    [Ev.DcCipapa]: 1,
  }),
};

/**
 * Arm FVP (Fixed Virtual Platform) @ 100 MHz: Fast Models retire about one instruction per tick and
 * model no timing (costs.md A3), so each event costs roughly the instructions it takes.
 */
const FVP: CpuProfile = {
  name: 'fvp',
  description: 'Arm FVP, 100 MHz, one instruction per tick (no microarchitectural timing)',
  hz: 1.0e8,
  cost: costs({
    [Ev.TlbHit]: 1,
    [Ev.TlbMiss]: 0,
    [Ev.WalkRead]: 0,
    [Ev.GptRead]: 0,
    [Ev.ExceptionToEl1]: 1,
    [Ev.ExceptionToEl3]: 1,
    [Ev.ReturnFromEl1]: 1,
    [Ev.ReturnFromEl3]: 1,
    [Ev.Svc]: 0,
    [Ev.Smc]: 0,
    [Ev.TlbiPaall]: 1,
    [Ev.TlbiRpa]: 1,
    [Ev.TlbiVa]: 1,
    [Ev.TlbiAsid]: 1,
    [Ev.TlbiAll]: 1,
    [Ev.SysRegWrite]: 1,
    [Ev.BytesCopied]: 0.125,
    [Ev.CryptoBytes]: 1,
    [Ev.AccessFault]: 0,
    [Ev.GpcFault]: 0,
    [Ev.Interrupt]: 0,
    [Ev.DcCipapa]: 1,
  }),
};

/** The built-in profiles by name. */
export const CPU_PROFILES: Readonly<Record<string, CpuProfile>> = {
  'cortex-a72': CORTEX_A72,
  'neoverse-n1': NEOVERSE_N1,
  fvp: FVP,
};

/** Look up a profile by name; throws a clear error for an unknown one. */
export function cpuProfile(name: string): CpuProfile {
  const profile = CPU_PROFILES[name];
  if (profile === undefined) {
    throw new RangeError(`unknown CPU profile '${name}' (known: ${Object.keys(CPU_PROFILES).join(', ')})`);
  }
  return profile;
}
