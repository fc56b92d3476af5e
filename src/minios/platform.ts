/**
 * Boot of the trusted platform: the EL3 monitor (measured boot, Priv-GPT, RC service), then the
 * mini-OS on every PE, which builds the OS-GPT and leaves each PE in the OS context (EL1, OS-GPT)
 * at the kernel's entry. What runs there afterwards is the kernel's business (issue 4); tests drive
 * the PEs directly as a stand-in kernel.
 */
import type { BootImage } from '../firmware/attestation.js';
import { platformLayout } from '../firmware/layout.js';
import { bootMonitor, type Firmware } from '../firmware/monitor.js';
import type { Machine } from '../hw/machine.js';
import { Gpi } from '../hw/pas.js';
import { SMMU_WINDOW_BYTES, SmmuReg } from '../hw/smmu.js';
import type { ProcessingElement } from '../hw/pe.js';
import type { MiniOsParamsInput } from './config.js';
import { MiniOs } from './minios.js';

/** Options of {@link bootPlatform}. */
export interface PlatformOptions {
  /** Machine seed: keys and the sealing root derive from it. */
  readonly seed: string | number | Uint8Array;
  /** Size of the mini-OS region (MINI memory: code, heap for GPT views and shims). */
  readonly miniosBytes?: number;
  readonly minios?: MiniOsParamsInput;
}

/** A booted platform. */
export interface Platform {
  readonly machine: Machine;
  readonly firmware: Firmware;
  readonly minios: MiniOs;
  /** Where every PE waits in the OS context (EL1, OS-GPT). */
  readonly kernelEntry: number;
}

/** Offset of the boot entry in the mini-OS code region (the gate is at +0). */
const BOOT_ENTRY_OFFSET = 0x100;
/** EL1 registers only the mini-OS may write (DESIGN.md §1 "Deprivileged kernel"). */
export const SENSITIVE_EL1_REGISTERS = [
  'VBAR_EL1',
  'TTBR0_EL1',
  'TTBR1_EL1',
  'TCR_EL1',
  'SCTLR_EL1',
  'MAIR_EL1',
] as const;
/** GPCCR_EL3.PPS → protected size in bits. */
const PPS_BITS = [32, 36, 40, 42, 44, 48, 52];

/** Deterministic image bytes for a component (stand-ins for the binaries a board would load). */
export function componentImage(name: string, description: string): Uint8Array {
  return new TextEncoder().encode(`rcontainer ${name} image v1\n${description}\n`);
}

/**
 * The boot images of the rcontainer platform, in measurement order: what this build loads, and so
 * the reference values a verifier compares a report's boot measurements with.
 */
export function rcontainerBootImages(): {
  readonly firmware: BootImage;
  readonly minios: BootImage;
  readonly kernel: BootImage;
} {
  return {
    firmware: {
      name: 'firmware',
      bytes: componentImage('firmware', 'EL3 monitor and RC GPT-switch service'),
    },
    minios: { name: 'minios', bytes: componentImage('minios', 'trusted mini-OS') },
    kernel: { name: 'kernel', bytes: componentImage('kernel', 'deprivileged kernel') },
  };
}

/** Boot firmware and mini-OS on `machine`. Throws only on a simulator or configuration bug. */
export function bootPlatform(machine: Machine, options: PlatformOptions): Platform {
  const miniosBytes = options.miniosBytes ?? 8 * 2 ** 20;
  const linearBase = options.minios?.linearBase ?? -(2 ** 47);
  const images = rcontainerBootImages();
  // The mini-OS region starts where the firmware's default layout puts it (after the Root region).
  const sizes = {
    firmware: images.firmware.bytes.length,
    minios: images.minios.bytes.length,
    kernel: images.kernel.bytes.length,
  };
  const miniosBase = platformLayout(machine, sizes).minios.base;
  let minios: MiniOs | undefined;
  const booted: { firmware?: Firmware } = {};
  const bootEntry = miniosBase + BOOT_ENTRY_OFFSET;
  // The mini-OS's boot code: the first PE to arrive boots it, the others join its page tables.
  machine.code.register(bootEntry, 'minios-boot', (pe) => {
    if (minios === undefined) minios = bootMiniOs(machine, pe, booted.firmware!, options);
    else minios.initSecondary(pe);
  });
  const firmware = bootMonitor(machine, {
    images,
    seed: options.seed,
    layout: {
      minios: { base: miniosBase, size: miniosBytes },
      miniosEntryVa: linearBase + miniosBase,
      miniosBootEntry: bootEntry,
    },
    run: false,
  });
  booted.firmware = firmware;
  for (const pe of machine.pes) pe.deprivilegeEl1(SENSITIVE_EL1_REGISTERS, firmware.privGptBase);
  for (const pe of machine.pes) pe.call(pe.pc);
  const ready = minios!;
  const kernelEntry = firmware.layout.kernel.base;
  for (const pe of machine.pes) ready.enterKernel(pe, kernelEntry, pe.id);
  return { machine, firmware, minios: ready, kernelEntry };
}

function bootMiniOs(
  machine: Machine,
  pe: ProcessingElement,
  firmware: Firmware,
  options: PlatformOptions,
): MiniOs {
  const info = firmware.bootInfo;
  const layout = firmware.layout;
  const gpccr = info.privGptGpccr;
  const smmu = info.smmuBase;
  return MiniOs.bootOn(
    machine,
    pe,
    {
      dram: layout.dramBanks,
      fixedRanges: [
        { base: info.rootBase, size: info.rootSize, gpi: Gpi.Root },
        // The SMMU register pages the Priv-GPT protects, located as the firmware locates them.
        { base: smmu + SmmuReg.ROOT_IDR0, size: SMMU_WINDOW_BYTES - SmmuReg.ROOT_IDR0, gpi: Gpi.Root },
        { base: smmu + (SmmuReg.S_INIT & ~0xfff), size: 4096, gpi: Gpi.Secure },
      ],
      miniRegion: { base: info.miniosBase, size: info.miniosSize },
      kernelImage: { base: info.kernelBase, size: info.kernelSize },
      geometry: { t: PPS_BITS[gpccr & 7]!, s: 30 + ((gpccr >>> 20) & 0xf) },
      privGptBase: info.privGptBase,
      sealingRoot: info.sealingRoot,
    },
    options.minios ?? {},
  );
}
