/**
 * The machine: physical memory, PEs, the code registry and the broadcast paths between them,
 * built from validated {@link MachineParams}. Nothing here knows about containers.
 */
import { z } from 'zod';
import { CodeRegistry } from './code.js';
import { cpuProfile, type CpuProfile } from './cost.js';
import { PhysicalMemory, type MmioRegionSpec } from './memory.js';
import { ProcessingElement, type PeBus } from './pe.js';

const bank = z.object({
  name: z.string().min(1),
  base: z.number().int().nonnegative(),
  size: z.number().int().positive(),
});

/** Schema of the machine parameters, with documented defaults. */
export const machineParamsSchema = z.object({
  /** ID_AA64MMFR0_EL1.PARange in bits (32..52). */
  paRangeBits: z.number().int().min(32).max(52).default(48),
  /** DRAM banks (4 KiB aligned, below 2^52). */
  dram: z.array(bank).min(1).default([{ name: 'dram0', base: 0x8000_0000, size: 0x4000_0000 }]),
  /** Number of PEs. */
  pes: z.number().int().min(1).max(64).default(1),
  /** TLB entries per PE (power of two). */
  tlbEntries: z.number().int().min(1).max(1 << 16).default(1024),
  /** Entries of each PE's GPT-information cache (power of two). */
  gptInfoEntries: z.number().int().min(1).max(1 << 20).default(4096).refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
  /** Optional extension: TLB entries tagged with the GPT they were filled under. */
  gptTaggedTlb: z.boolean().default(false),
  /** CPU profile name (cost.ts). */
  cpu: z.string().default('cortex-a72'),
});

/** Machine parameters as given by a caller (defaults filled in by the schema). */
export type MachineParamsInput = z.input<typeof machineParamsSchema>;
/** Machine parameters after validation. */
export type MachineParams = z.output<typeof machineParamsSchema>;

/** Parse machine parameters; throws one clear message on bad input. */
export function parseMachineParams(input: MachineParamsInput): MachineParams {
  const result = machineParamsSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new RangeError(`machine parameters: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return result.data;
}

/** A whole machine. */
export class Machine {
  readonly params: MachineParams;
  readonly profile: CpuProfile;
  readonly memory: PhysicalMemory;
  readonly code = new CodeRegistry();
  readonly pes: ProcessingElement[] = [];

  constructor(input: MachineParamsInput, mmio: readonly MmioRegionSpec[] = []) {
    this.params = parseMachineParams(input);
    this.profile = cpuProfile(this.params.cpu);
    this.memory = new PhysicalMemory(this.params.dram, mmio);
    const bus: PeBus = {
      tlbiPaallOs: () => {
        for (const pe of this.pes) pe.invalidateGptInfoAll();
      },
      tlbiRpaOs: (base, size) => {
        for (const pe of this.pes) pe.invalidateGptInfoRange(base, size);
      },
      tlbiVmallIs: (regime) => {
        for (const pe of this.pes) pe.invalidateRegime(regime);
      },
    };
    for (let id = 0; id < this.params.pes; id++) {
      this.pes.push(
        new ProcessingElement(
          {
            id,
            paRangeBits: this.params.paRangeBits,
            tlbEntries: this.params.tlbEntries,
            gptInfoEntries: this.params.gptInfoEntries,
            gptTaggedTlb: this.params.gptTaggedTlb,
            profile: this.profile,
          },
          this.memory,
          this.code,
          bus,
        ),
      );
    }
  }
}
