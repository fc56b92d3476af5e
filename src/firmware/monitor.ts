/**
 * The EL3 monitor: cold boot of the machine and the EL3 exception vectors.
 *
 * {@link bootMonitor} does, as Root-world software on the PEs (loads and stores at EL3, MMU off):
 * 1. reset every PE to EL3 with the GPC off; register the EL3 vector code in the Root region;
 * 2. measure the firmware, mini-OS and kernel images (SHA-256, measurement chain), derive the
 *    platform attestation key, the mini-OS sealing root and the platform token;
 * 3. load the images and write the boot information into the mini-OS region (still GPC off, so the
 *    Root-PAS stores of EL3 reach Non-secure granules);
 * 4. build the Priv-GPT with the GPT library: every DRAM granule Non-secure except the Root region
 *    (Root); the SMMU window Non-secure except its Secure page (+0x8000, GPI Secure) and its Root
 *    page (+0x20000, GPI Root); the block device window Non-secure; everything else ANY;
 * 5. SMMU_S_INIT.INV_ALL, then on every PE: VBAR_EL3, SCR_EL3 (NS = 1, RW = 1: EL1 is AArch64;
 *    SCR_EL3.GPF = 0 as TF-A leaves it) and gpt_enable; then the SMMU's Root page as TF-A programs
 *    it (GPT_BASE_CFG, GPT_BASE = the Priv-GPT, GPCEN, then ACCESSEN);
 * 6. install the SMC services (SMCCC architecture calls and the RContainer service);
 * 7. ERET every PE to the mini-OS boot entry at EL1h (Non-secure, DAIF masked, EL1 MMU off,
 *    Priv-GPT active) with X0 = the boot-information PA and X1 = the PE number, and run the code
 *    registered there (PE 0 first). The mini-OS must treat only its first entry as the boot: every
 *    later entry comes through RC_ENTER_MINIOS, whose X0-X7 the caller controls.
 *
 * The mini-OS must point the SMMU at the OS-GPT (RC_SET_DMA_GPT) before any device is programmed:
 * at boot the SMMU checks DMA against the Priv-GPT, as TF-A leaves it.
 *
 * Exceptions at EL3 other than an SMC from a lower EL (a GPC exception from a broken GPT, an abort
 * taken by EL3 itself) are a firmware panic, as TF-A's `report_unhandled_exception` is: the PE
 * halts and the reason is kept in {@link Firmware.panics}.
 */
import { Ec, esrClass, VectorOffset } from '../hw/exceptions.js';
import type { Machine } from '../hw/machine.js';
import { Gpi } from '../hw/pas.js';
import type { ProcessingElement } from '../hw/pe.js';
import { SCR } from '../hw/sysregs.js';
import { SmmuBits, SmmuReg } from '../hw/smmu.js';
import {
  miniosAttestationKey,
  measureImages,
  platformAttestationKey,
  platformTokenMessage,
  sealingRoot,
  type AttestationKey,
  type BootImage,
  type BootLog,
} from './attestation.js';
import { encodeBootInfo, type BootInfo } from './boot-info.js';
import { GptLibrary, gptMapRegionGranule, type GptLibParams, type PasRegion } from './gpt.js';
import {
  platformLayout,
  type AddressRange,
  type PlatformLayout,
  type PlatformLayoutInput,
} from './layout.js';
import { installRcService, MINIOS_ENTRY_SPSR, type RcServiceConfig } from './rc-service.js';
import { SmcDispatcher } from './smccc.js';

/** The images the monitor measures and loads. */
export interface MonitorImages {
  readonly firmware: BootImage;
  readonly minios: BootImage;
  readonly kernel: BootImage;
}

/** Options of {@link bootMonitor}. */
export interface BootMonitorOptions {
  readonly images: MonitorImages;
  /** The machine seed: keys and the sealing root derive from it (DESIGN.md §8). */
  readonly seed: Uint8Array | string | number;
  /** Overrides of the default platform layout (layout.ts). */
  readonly layout?: PlatformLayoutInput;
  /** GPT library build options (RME_GPT_MAX_BLOCK, features); L0GPTSZ comes from the layout. */
  readonly gpt?: Partial<Omit<GptLibParams, 'l0gptsz'>>;
  /** Run the code registered at the mini-OS boot entry on each PE after the ERET (default true). */
  readonly run?: boolean;
}

/** The booted firmware: what tests and higher layers may inspect. */
export interface Firmware {
  readonly machine: Machine;
  readonly layout: PlatformLayout;
  /** Measurements of firmware, mini-OS and kernel, in that order. */
  readonly bootLog: BootLog;
  /** The per-machine platform attestation key (sign/verify) and its raw public key. */
  readonly attestationKey: AttestationKey;
  readonly publicKey: Uint8Array;
  /** The mini-OS's per-boot sealing root (CDI) and the public key of the key derived from it. */
  readonly sealingRoot: Uint8Array;
  readonly miniosPublicKey: Uint8Array;
  /** The platform key's endorsement of the mini-OS key for this boot chain. */
  readonly platformToken: Uint8Array;
  /** The boot information handed to the mini-OS, and where it is. */
  readonly bootInfo: BootInfo;
  readonly bootInfoPa: number;
  /** L0 table PA of the Priv-GPT. */
  readonly privGptBase: number;
  /** The configuration of the RContainer service. */
  readonly rc: RcServiceConfig;
  /** The GPT library instance that built the Priv-GPT (its state is the Priv-GPT's). */
  readonly gpt: GptLibrary;
  /** The SMC dispatcher (services may be added by platform code). */
  readonly smc: SmcDispatcher;
  /** Reasons of EL3 panics, in order. */
  readonly panics: readonly string[];
}

/** SCR_EL3.RW (bit 10): the next lower EL is AArch64. */
const SCR_RW = 1 << 10;

/** The PAS regions of the Priv-GPT for `layout` (all GRANULE mappings, see the file comment). */
export function privGptRegions(layout: PlatformLayout): PasRegion[] {
  const regions: PasRegion[] = [];
  const open = (base: number, end: number): void => {
    if (end > base) regions.push(gptMapRegionGranule(base, end - base, Gpi.NonSecure));
  };
  for (const bank of layout.dramBanks) {
    const end = bank.base + bank.size;
    const { base: rootBase, size: rootSize } = layout.root;
    if (rootBase >= bank.base && rootBase < end) {
      open(bank.base, rootBase);
      open(rootBase + rootSize, end);
    } else open(bank.base, end);
  }
  regions.push(gptMapRegionGranule(layout.root.base, layout.root.size, Gpi.Root));
  const smmu = layout.smmu.base;
  const securePage = smmu + (SmmuReg.S_INIT & ~0xfff);
  const rootPage = smmu + SmmuReg.ROOT_IDR0;
  open(smmu, securePage);
  regions.push(gptMapRegionGranule(securePage, 0x1000, Gpi.Secure));
  open(securePage + 0x1000, rootPage);
  regions.push(gptMapRegionGranule(rootPage, layout.smmu.base + layout.smmu.size - rootPage, Gpi.Root));
  open(layout.block.base, layout.block.base + layout.block.size);
  return regions;
}

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** An EL3 write that must succeed during boot (a failure is a platform configuration bug). */
function storeBytes(pe: ProcessingElement, range: AddressRange, bytes: Uint8Array, what: string): void {
  if (bytes.length > range.size || !pe.writeBytes(range.base, bytes)) {
    throw new Error(`monitor boot: loading ${what} at ${hex(range.base)} failed`);
  }
}

/**
 * Cold-boot `machine` with the EL3 monitor and return its handle. Throws on bad input (images
 * that do not fit, an impossible layout); the PEs end at EL1 in the mini-OS (see the file comment).
 */
export function bootMonitor(machine: Machine, options: BootMonitorOptions): Firmware {
  const { images } = options;
  const layout = platformLayout(
    machine,
    {
      firmware: images.firmware.bytes.length,
      minios: images.minios.bytes.length,
      kernel: images.kernel.bytes.length,
    },
    options.layout,
  );
  const primary = machine.pes[0]!;
  const panics: string[] = [];
  const smc = new SmcDispatcher();
  const panic = (pe: ProcessingElement, reason: string): void => {
    panics.push(`${pe.name}: ${reason}`);
    pe.halted = `EL3 panic: ${reason}`;
  };

  // 1. Cold reset: every PE at EL3, GPC off, nothing cached.
  for (const pe of machine.pes) {
    pe.reset(3, layout.vectors);
    pe.msr('GPCCR_EL3', 0);
    pe.msr('GPTBR_EL3', 0);
    pe.tlbi('PAALL');
    pe.tlbi('ALLE3');
  }
  machine.code.register(layout.vectors + VectorOffset.LowerSync, 'el3-sync-lower', (pe) => {
    const esr = pe.regs.low('ESR_EL3');
    if (esrClass(esr) !== Ec.Smc64)
      return panic(pe, `unhandled exception from a lower EL, ESR_EL3 ${hex(esr)}`);
    smc.dispatch(pe);
    pe.eret();
  });
  machine.code.register(layout.vectors + VectorOffset.CurrentSync, 'el3-sync-current', (pe) => {
    panic(
      pe,
      `exception at EL3, ESR_EL3 ${hex(pe.regs.low('ESR_EL3'))}, FAR_EL3 ${hex(pe.regs.number('FAR_EL3'))}`,
    );
  });

  // 2. Measured boot and keys.
  const bootLog = measureImages([images.firmware, images.minios, images.kernel]);
  const attestationKey = platformAttestationKey(options.seed);
  const root = sealingRoot(options.seed, bootLog.entries[1]!.digest);
  const miniosPublicKey = miniosAttestationKey(root).publicKey;
  const platformToken = attestationKey.sign(platformTokenMessage(bootLog.chain, miniosPublicKey));

  // 3. Images and boot information, written by EL3 before the GPC is on.
  storeBytes(primary, layout.firmwareImage, images.firmware.bytes, 'the firmware image');
  storeBytes(primary, layout.minios, images.minios.bytes, 'the mini-OS image');
  storeBytes(primary, layout.kernel, images.kernel.bytes, 'the kernel image');
  const gpt = new GptLibrary(primary, { ...options.gpt, l0gptsz: layout.l0gptsz });
  const bootInfo: BootInfo = {
    dramBase: layout.dram.base,
    dramSize: layout.dram.size,
    rootBase: layout.root.base,
    rootSize: layout.root.size,
    miniosBase: layout.minios.base,
    miniosSize: layout.minios.size,
    miniosImageBytes: images.minios.bytes.length,
    miniosEntryVa: layout.miniosEntryVa,
    kernelBase: layout.kernel.base,
    kernelSize: layout.kernel.size,
    kernelImageBytes: images.kernel.bytes.length,
    privGptBase: layout.gptL0.base,
    privGptGpccr: 0,
    smmuBase: layout.smmu.base,
    blockBase: layout.block.base,
    bootInfoPa: layout.bootInfoPa,
    peCount: machine.pes.length,
    sealingRoot: root,
    platformPublicKey: attestationKey.publicKey,
    platformToken,
    bootChain: bootLog.chain,
    log: bootLog.entries,
  };

  // 4. The Priv-GPT.
  const l0 = gpt.gptInitL0Tables(layout.pps, layout.gptL0.base, layout.gptL0.size);
  if (l0 !== 0) throw new Error(`monitor boot: gpt_init_l0_tables returned ${l0}`);
  const l1 = gpt.gptInitPasL1Tables(layout.pgs, layout.gptL1.base, layout.gptL1.size, privGptRegions(layout));
  if (l1 !== 0) throw new Error(`monitor boot: gpt_init_pas_l1_tables returned ${l1}`);
  const gpccr = (gpt.gpccrWithoutGpc() | (1 << 16) | (gpt.params.gpc2 ? 1 << 19 : 0)) >>> 0;
  const info: BootInfo = { ...bootInfo, privGptGpccr: gpccr };
  storeBytes(primary, { base: layout.bootInfoPa, size: 4096 }, encodeBootInfo(info), 'the boot information');

  // 5. SMMU_S_INIT.INV_ALL (the Secure page: before the GPC is on), then every PE's EL3 state and
  // gpt_enable, then the SMMU's Root page (GPI Root: reachable by EL3 with the GPC on).
  primary.store32(layout.smmu.base + SmmuReg.S_INIT, SmmuBits.S_INIT_INV_ALL);
  for (const pe of machine.pes) {
    pe.msrNumber('VBAR_EL3', layout.vectors);
    pe.msr('SCR_EL3', SCR.NS | SCR_RW, 0);
    const enabled = gpt.gptEnable(pe);
    if (enabled !== 0) throw new Error(`monitor boot: gpt_enable returned ${enabled}`);
  }
  const smmu = layout.smmu.base;
  primary.store64(smmu + SmmuReg.ROOT_GPT_BASE_CFG, gpccr & ~(1 << 16), 0);
  primary.store64(
    smmu + SmmuReg.ROOT_GPT_BASE,
    layout.gptL0.base % 2 ** 32,
    Math.floor(layout.gptL0.base / 2 ** 32),
  );
  primary.store32(smmu + SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN);
  primary.store32(smmu + SmmuReg.ROOT_CR0, SmmuBits.ROOT_CR0_GPCEN | SmmuBits.ROOT_CR0_ACCESSEN);

  // 6. Services.
  const rc: RcServiceConfig = {
    privGptBase: layout.gptL0.base,
    miniosEntryVa: layout.miniosEntryVa,
    gptTaggedTlb: machine.params.gptTaggedTlb,
    l0TableBytes: gpt.l0TableBytes(),
    granuleBytes: 2 ** gpt.geometry.p,
    root: layout.root,
    dramBanks: layout.dramBanks,
    smmuBase: layout.smmu.base,
  };
  installRcService(smc, rc);

  // 7. Enter the mini-OS on every PE.
  for (const pe of machine.pes) {
    pe.x.fill(0);
    pe.x[0] = layout.bootInfoPa;
    pe.x[1] = pe.id;
    pe.msr('SCTLR_EL1', 0);
    pe.msrNumber('ELR_EL3', layout.miniosBootEntry);
    pe.msr('SPSR_EL3', MINIOS_ENTRY_SPSR);
    pe.eret();
  }
  if (options.run ?? true) {
    for (const pe of machine.pes) {
      if (machine.code.at(layout.miniosBootEntry) !== undefined) pe.call(pe.pc);
    }
  }

  return {
    machine,
    layout,
    bootLog,
    attestationKey,
    publicKey: attestationKey.publicKey,
    sealingRoot: root,
    miniosPublicKey,
    platformToken,
    bootInfo: info,
    bootInfoPa: layout.bootInfoPa,
    privGptBase: layout.gptL0.base,
    rc,
    gpt,
    smc,
    panics,
  };
}
