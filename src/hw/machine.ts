/**
 * The machine: physical memory, PEs, the code registry, the SMMU and devices, and the broadcast
 * and interrupt paths between them, built from validated {@link MachineParams}. Nothing here knows
 * about containers.
 *
 * Default memory map below the DRAM (FVP-like addresses, clear of the conformance vectors' DRAM at
 * 0x4000_0000 and up): the block device at 0x1c13_0000 (4 KiB), the SMMU at 0x2b40_0000
 * (SMMU_WINDOW_BYTES; its Root page at +0x20000).
 */
import { z } from 'zod';
import { CodeRegistry } from './code.js';
import { cpuProfile, type CpuProfile } from './cost.js';
import { BLOCK_WINDOW_BYTES, BlockDevice, blockDeviceParamsSchema } from './devices/block.js';
import { GenericTimer, timerParamsSchema } from './devices/timer.js';
import { PhysicalMemory, type MmioHandler, type MmioRegionSpec } from './memory.js';
import { ProcessingElement, type PeBus } from './pe.js';
import { Smmu, SMMU_WINDOW_BYTES, smmuParamsSchema } from './smmu.js';

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
  dram: z
    .array(bank)
    .min(1)
    .default([{ name: 'dram0', base: 0x8000_0000, size: 0x4000_0000 }]),
  /** Number of PEs. */
  pes: z.number().int().min(1).max(64).default(1),
  /** TLB entries per PE (power of two). */
  tlbEntries: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .default(1024),
  /** Entries of each PE's GPT-information cache (power of two). */
  gptInfoEntries: z
    .number()
    .int()
    .min(1)
    .max(1 << 20)
    .default(4096)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
  /** Optional extension: TLB entries tagged with the GPT they were filled under. */
  gptTaggedTlb: z.boolean().default(false),
  /** CPU profile name (cost.ts). */
  cpu: z.string().default('cortex-a72'),
  /** The SMMU (smmu.ts); its output size and GPT tagging follow paRangeBits and gptTaggedTlb. */
  smmu: smmuParamsSchema
    .omit({ paRangeBits: true, gptTaggedTlb: true })
    .extend({
      /** Base of the register window (4 KiB aligned). */
      base: z.number().int().nonnegative().default(0x2b40_0000),
      /** PE whose IRQ input receives the SMMU interrupt (event queue, global errors). */
      irqPe: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  /** The DMA block device (devices/block.ts). */
  block: blockDeviceParamsSchema
    .extend({
      /** Base of the register window (4 KiB aligned). */
      base: z.number().int().nonnegative().default(0x1c13_0000),
      /** PE whose IRQ input receives completions; its cycle counter is the device's clock. */
      irqPe: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  /** The per-PE generic timers (devices/timer.ts). */
  timer: timerParamsSchema.prefault({}),
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

/** Interrupt sources wired to a PE's IRQ input: bit numbers of {@link Machine.irqSources}. */
export const IrqSource = { Timer: 0, Block: 1, Smmu: 2 } as const;
/** An interrupt source number. */
export type IrqSource = (typeof IrqSource)[keyof typeof IrqSource];

/** A whole machine. */
export class Machine {
  readonly params: MachineParams;
  readonly profile: CpuProfile;
  readonly memory: PhysicalMemory;
  readonly code = new CodeRegistry();
  readonly pes: ProcessingElement[] = [];
  /** The System MMU every device DMA goes through. */
  readonly smmu: Smmu;
  /** The DMA block device. */
  readonly block: BlockDevice;
  /** One EL1 physical timer per PE, indexed by PE id. */
  readonly timers: GenericTimer[] = [];
  /** Per PE, the asserted interrupt sources (bit n = IrqSource n). */
  private readonly irqLines: Int32Array;

  constructor(input: MachineParamsInput, mmio: readonly MmioRegionSpec[] = []) {
    this.params = parseMachineParams(input);
    this.profile = cpuProfile(this.params.cpu);
    const { smmu: smmuParams, block: blockParams } = this.params;
    for (const [what, irqPe] of [
      ['smmu', smmuParams.irqPe],
      ['block', blockParams.irqPe],
    ] as const) {
      if (irqPe >= this.params.pes) {
        throw new RangeError(
          `machine parameters: ${what}.irqPe: PE ${irqPe} does not exist (${this.params.pes} PEs)`,
        );
      }
    }
    this.irqLines = new Int32Array(this.params.pes);
    // Device windows are bound late: the devices need the memory, and the memory map needs them.
    const late = (device: () => MmioHandler): MmioHandler => ({
      read32: (offset) => device().read32(offset),
      write32: (offset, value) => device().write32(offset, value),
    });
    this.memory = new PhysicalMemory(this.params.dram, [
      ...mmio,
      { name: 'smmu', base: smmuParams.base, size: SMMU_WINDOW_BYTES, handler: late(() => this.smmu) },
      { name: 'block', base: blockParams.base, size: BLOCK_WINDOW_BYTES, handler: late(() => this.block) },
    ]);
    this.smmu = new Smmu(
      {
        paRangeBits: this.params.paRangeBits,
        gptTaggedTlb: this.params.gptTaggedTlb,
        tlbEntries: smmuParams.tlbEntries,
        gptInfoEntries: smmuParams.gptInfoEntries,
        streamIdBits: smmuParams.streamIdBits,
        faultLogEntries: smmuParams.faultLogEntries,
      },
      this.memory,
      { irq: this.irqLine(smmuParams.irqPe, IrqSource.Smmu) },
    );
    this.block = new BlockDevice(
      {
        sectors: blockParams.sectors,
        maxSectorsPerCommand: blockParams.maxSectorsPerCommand,
        latencyCycles: blockParams.latencyCycles,
      },
      this.smmu,
      {
        irq: this.irqLine(blockParams.irqPe, IrqSource.Block),
        clock: () => this.pes[blockParams.irqPe]!.cycles,
      },
    );
    // TLBI PAALLOS / RPALOS / RPAOS are Outer Shareable: they reach every PE and the SMMU.
    const bus: PeBus = {
      tlbiPaallOs: () => {
        for (const pe of this.pes) pe.invalidateGptInfoAll();
        this.smmu.invalidateGptInfoAll();
      },
      tlbiRpaOs: (base, size) => {
        for (const pe of this.pes) pe.invalidateGptInfoRange(base, size);
        this.smmu.invalidateGptInfoRange(base, size);
      },
      tlbiVmallIs: (regime) => {
        for (const pe of this.pes) pe.invalidateRegime(regime);
      },
      tlbiVaIs: (va, regime, asid) => {
        for (const pe of this.pes) pe.invalidateVa(va, regime, asid);
      },
      tlbiAsidIs: (asid, regime) => {
        for (const pe of this.pes) pe.invalidateAsid(asid, regime);
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
      this.timers.push(
        new GenericTimer(this.params.timer, this.pes[id]!, {
          cpuHz: this.profile.hz,
          irq: this.irqLine(id, IrqSource.Timer),
        }),
      );
    }
  }

  /** A level-sensitive interrupt line from `source` into PE `peId`. */
  private irqLine(peId: number, source: IrqSource): (level: boolean) => void {
    // SIMPLIFICATION: no GIC. Level-sensitive lines are OR-ed into the PE's IRQ input; software finds
    // the source with irqSources() (a GIC acknowledge) or by reading the devices' status registers.
    return (level) => {
      const mask = level ? this.irqLines[peId]! | (1 << source) : this.irqLines[peId]! & ~(1 << source);
      this.irqLines[peId] = mask;
      this.pes[peId]?.setIrq(mask !== 0);
    };
  }

  /** Bit mask of the interrupt sources ({@link IrqSource}) asserted at PE `peId`. */
  irqSources(peId: number): number {
    return this.irqLines[peId] ?? 0;
  }

  /**
   * Let time-driven devices catch up with the PEs' cycle counters: every timer re-evaluates its
   * condition and the block device completes a command whose latency has elapsed. The scheduler
   * calls this between steps.
   */
  updateDevices(): void {
    for (const timer of this.timers) timer.update();
    this.block.update();
  }
}
