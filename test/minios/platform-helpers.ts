// A booted platform and a stand-in kernel for mini-OS tests: the kernel side only issues rc_* calls
// through the real gate (SMC to EL3), and checks look through the machine's own MMU and GPC.
import { GPC_OK, GranuleProtectionCheck } from '../../src/hw/gpc.js';
import { Machine, type MachineParamsInput } from '../../src/hw/machine.js';
import { Pas } from '../../src/hw/pas.js';
import type { ProcessingElement } from '../../src/hw/pe.js';
import { rcCall } from '../../src/minios/abi.js';
import type { MiniOsParamsInput } from '../../src/minios/config.js';
import { bootPlatform, type Platform } from '../../src/minios/platform.js';

export const DRAM_BASE = 0x8000_0000;
export const DRAM_SIZE = 0x8000_0000; // 2 GiB: two L0 regions of 1 GiB
/** OS memory the stand-in kernel hands to containers: 32 granules in each GiB. */
export const OS_POOL = [
  ...Array.from({ length: 32 }, (_, i) => 0x9000_0000 + i * 4096),
  ...Array.from({ length: 32 }, (_, i) => 0xd000_0000 + i * 4096),
];
/** OS memory the stand-in kernel uses for call arguments (digest lists, configs). */
export const KERNEL_SCRATCH = 0xa000_0000;

export interface TestPlatform extends Platform {
  readonly pe: ProcessingElement;
  /** Issue an rc_* call from the kernel on `pe` (default PE 0); returns x0. */
  call(call: number, ...args: number[]): number;
}

export function bootTestPlatform(
  minios: MiniOsParamsInput = {},
  machineParams: Partial<MachineParamsInput> = {},
): TestPlatform {
  const machine = new Machine({
    dram: [{ name: 'dram0', base: DRAM_BASE, size: DRAM_SIZE }],
    pes: 2,
    ...machineParams,
  });
  const platform = bootPlatform(machine, { seed: 'test-seed', minios });
  const pe = machine.pes[0]!;
  return {
    ...platform,
    pe,
    call(call: number, ...args: number[]): number {
      return kernelCall(pe, call, ...args);
    },
  };
}

/** The kernel's side of the gate (abi.ts rcCall). */
export const kernelCall = rcCall;

/** A GPC unit of the machine looking through the view whose L0 table is at `l0`. */
export function gpcThrough(platform: Platform, l0: number): GranuleProtectionCheck {
  const pe = platform.machine.pes[0]!;
  const gpc = new GranuleProtectionCheck(platform.machine.memory, platform.machine.params.paRangeBits, 16);
  gpc.configure(pe.regs.low('GPCCR_EL3'), l0 / 4096, 0);
  return gpc;
}

/** Is a Non-secure access to `pa` allowed by the GPT at `l0`? (real GPT bytes, real GPC logic) */
export function openIn(platform: Platform, l0: number, pa: number): boolean {
  return gpcThrough(platform, l0).check(pa, Pas.NonSecure, Pas.NonSecure) === GPC_OK;
}

/** Write the image binary list (u32 count + digests) and a config at KERNEL_SCRATCH; returns PAs. */
export function writeImageArguments(
  platform: Platform,
  digests: Uint8Array[],
  config: string,
): { list: number; config: number; configLength: number } {
  const memory = platform.machine.memory;
  const list = new Uint8Array(4 + 32 * digests.length);
  new DataView(list.buffer).setUint32(0, digests.length, true);
  digests.forEach((d, i) => list.set(d, 4 + 32 * i));
  memory.writeBytes(KERNEL_SCRATCH, list);
  const configBytes = new TextEncoder().encode(config);
  memory.writeBytes(KERNEL_SCRATCH + 0x1000, configBytes);
  return { list: KERNEL_SCRATCH, config: KERNEL_SCRATCH + 0x1000, configLength: configBytes.length };
}
