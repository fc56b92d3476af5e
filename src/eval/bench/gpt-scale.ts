/**
 * `rcontainer bench gpt-scale`: how much GPT memory RContainer needs as containers multiply.
 * Boots the platform on a machine with `dramGib` GiB of DRAM, creates `containers` con-shims
 * through the real gate (rc_create_shim from the OS context), and reports the bytes of every GPT:
 * the firmware's Priv-GPT plus the mini-OS's OS-GPT and shim-GPTs.
 */
import { Machine } from '../../hw/machine.js';
import { rcCall, RcCall, rcResultName } from '../../minios/abi.js';
import { bootPlatform } from '../../minios/platform.js';

/** Result of the benchmark (simulated quantities only; the CLI adds host time). */
export interface GptScaleResult {
  containers: number;
  dramBytes: number;
  /** GPT bytes of all views after creating the containers. */
  gptBytes: number;
  /** GPT bytes right after boot (Priv-GPT and OS-GPT). */
  gptBytesAtBoot: number;
  /** (gptBytes - gptBytesAtBoot) / containers. */
  gptBytesPerContainer: number;
  /** gptBytes / dramBytes. */
  gptFractionOfDram: number;
}

/** Options. */
export interface GptScaleOptions {
  readonly containers: number;
  readonly dramGib: number;
}

const DRAM_BASE = 0x8000_0000;
const MIB = 2 ** 20;

/** Run the benchmark; throws with a clear message if a container cannot be created. */
export function runGptScale(options: GptScaleOptions): GptScaleResult {
  const dramBytes = options.dramGib * 2 ** 30;
  const machine = new Machine({ dram: [{ name: 'dram0', base: DRAM_BASE, size: dramBytes }], pes: 1 });
  // MINI memory: the OS-GPT plus, per container, its L0 table, one L1 table and its shim.
  const perContainer = 256 * 1024;
  const miniosBytes = Math.ceil((32 * MIB + options.containers * perContainer) / (2 * MIB)) * 2 * MIB;
  const platform = bootPlatform(machine, {
    seed: 'gpt-scale',
    miniosBytes,
    minios: { maxContainers: Math.max(options.containers, 1) },
  });
  const privGptBytes = platform.firmware.layout.gptL0.size + platform.firmware.layout.gptL1.size;
  const gptBytesAtBoot = privGptBytes + platform.minios.views.bytes;
  const pe = machine.pes[0]!;
  for (let cid = 1; cid <= options.containers; cid++) {
    const result = rcCall(pe, RcCall.CreateShim, cid);
    if (result !== 0) throw new Error(`gpt-scale: rc_create_shim(${cid}) failed: ${rcResultName(result)}`);
  }
  const gptBytes = privGptBytes + platform.minios.views.bytes;
  return {
    containers: options.containers,
    dramBytes,
    gptBytes,
    gptBytesAtBoot,
    gptBytesPerContainer: options.containers === 0 ? 0 : (gptBytes - gptBytesAtBoot) / options.containers,
    gptFractionOfDram: gptBytes / dramBytes,
  };
}
