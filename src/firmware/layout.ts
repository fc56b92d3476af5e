/**
 * The platform memory layout the monitor boots with (defaults for a machine, validated overrides).
 *
 * Default layout, from the start of the boot DRAM bank (4 KiB granules, PGS = 4 KB, L0GPTSZ = 1 GB):
 *
 *   Root region (GPI Root in every GPT), rounded up to 2 MiB:
 *     +0x0000   EL3 vector table (VBAR_EL3; code at +0x200 current-EL sync, +0x400 lower-EL sync)
 *     +0x1000   Priv-GPT L0 table (aligned to max(4 KiB, L0 size))
 *     next      Priv-GPT L1 pool (aligned to the L1 table size; one table per L0 entry that covers
 *               DRAM or a device window)
 *     next      copy of the firmware image (4 KiB aligned)
 *   mini-OS region (8 MiB after the Root region): the mini-OS image at its base, the boot-info
 *               granule in its last 4 KiB; entry VA = boot entry = its base (EL1 MMU off at boot)
 *   kernel region (32 MiB after the mini-OS region): the kernel image
 *   the rest of DRAM, and every other DRAM bank: GPI Non-secure in the Priv-GPT
 *
 * PPS is the smallest protected size that covers every DRAM bank and device window.
 */
import { BLOCK_WINDOW_BYTES } from '../hw/devices/block.js';
import type { Machine } from '../hw/machine.js';
import { SMMU_WINDOW_BYTES } from '../hw/smmu.js';

/** A range of physical addresses. */
export interface AddressRange {
  readonly base: number;
  readonly size: number;
}

/** Overrides of the default layout; every field is optional. */
export interface PlatformLayoutInput {
  /** The DRAM bank the platform boots from (default: the machine's lowest DRAM bank). */
  readonly dram?: AddressRange;
  /** Size of the Root region at the start of `dram` (default: what the monitor needs, 2 MiB-rounded). */
  readonly rootSize?: number;
  /** The mini-OS image region (default: 8 MiB right after the Root region). */
  readonly minios?: AddressRange;
  /** The fixed entry of RC_ENTER_MINIOS (default: the mini-OS region base). */
  readonly miniosEntryVa?: number;
  /** Where the first ERET of each PE goes, with the EL1 MMU off (default: the entry VA). */
  readonly miniosBootEntry?: number;
  /** The kernel image region (default: 32 MiB right after the mini-OS region). */
  readonly kernel?: AddressRange;
  /** GPCCR_EL3.PPS (default: the smallest that covers DRAM and the device windows). */
  readonly pps?: number;
  /** GPCCR_EL3.PGS: 0 (4 KB), 1 (64 KB) or 2 (16 KB); default 0. */
  readonly pgs?: number;
  /** GPCCR_EL3.L0GPTSZ as the hardware reports it: 0, 4, 6 or 9; default 0 (1 GB). */
  readonly l0gptsz?: number;
}

/** The resolved layout. */
export interface PlatformLayout {
  readonly dram: AddressRange;
  /** Every DRAM bank of the machine. */
  readonly dramBanks: readonly AddressRange[];
  readonly root: AddressRange;
  /** VBAR_EL3: the EL3 vector table in the Root region. */
  readonly vectors: number;
  readonly gptL0: AddressRange;
  readonly gptL1: AddressRange;
  readonly firmwareImage: AddressRange;
  readonly minios: AddressRange;
  readonly miniosEntryVa: number;
  readonly miniosBootEntry: number;
  /** The boot-information granule (last 4 KiB of the mini-OS region). */
  readonly bootInfoPa: number;
  readonly kernel: AddressRange;
  /** The SMMU register window and the block device window. */
  readonly smmu: AddressRange;
  readonly block: AddressRange;
  readonly pps: number;
  readonly pgs: number;
  readonly l0gptsz: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const PPS_BITS = [32, 36, 40, 42, 44, 48, 52];
const PGS_BITS = [12, 16, 14];

function roundUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

function inside(inner: AddressRange, outer: AddressRange): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

function checkRange(what: string, range: AddressRange, granule: number): void {
  const ok =
    Number.isSafeInteger(range.base) && Number.isSafeInteger(range.size) && range.base >= 0 && range.size > 0;
  if (!ok || range.base % granule !== 0 || range.size % granule !== 0) {
    throw new RangeError(
      `platform layout: ${what} must be a non-empty range aligned to the ${granule / KIB} KiB granule`,
    );
  }
}

/**
 * Resolve the layout for `machine` (bad overrides throw a RangeError with a clear message).
 * `imageBytes` are the sizes of the images the monitor loads.
 */
export function platformLayout(
  machine: Machine,
  imageBytes: { readonly firmware: number; readonly minios: number; readonly kernel: number },
  input: PlatformLayoutInput = {},
): PlatformLayout {
  const pgs = input.pgs ?? 0;
  const l0gptsz = input.l0gptsz ?? 0;
  const p = PGS_BITS[pgs];
  if (p === undefined) throw new RangeError(`platform layout: PGS ${pgs} is reserved`);
  if (![0, 4, 6, 9].includes(l0gptsz))
    throw new RangeError(`platform layout: L0GPTSZ ${l0gptsz} is reserved`);
  const s = 30 + l0gptsz;
  const granule = 2 ** p;
  const dramBanks = machine.memory.dramRegions().map(({ base, size }) => ({ base, size }));
  const dram = input.dram ?? dramBanks[0]!;
  if (!dramBanks.some((bank) => inside(dram, bank)))
    throw new RangeError('platform layout: the boot DRAM range must lie in one DRAM bank');
  const smmu = { base: machine.params.smmu.base, size: SMMU_WINDOW_BYTES };
  const block = { base: machine.params.block.base, size: BLOCK_WINDOW_BYTES };
  const covered = [...dramBanks, smmu, block];
  for (const range of covered) checkRange('every DRAM bank and device window', range, granule);

  // PPS: the smallest protected size covering every DRAM bank and device window.
  const top = Math.max(...covered.map((r) => r.base + r.size));
  const pps = input.pps ?? PPS_BITS.findIndex((t) => 2 ** t >= top);
  const t = PPS_BITS[pps];
  if (t === undefined || 2 ** t < top)
    throw new RangeError(`platform layout: no PPS covers 0x${top.toString(16)}`);
  if (t > machine.params.paRangeBits)
    throw new RangeError(`platform layout: PPS 2^${t} exceeds PARange 2^${machine.params.paRangeBits}`);

  // Priv-GPT table sizes: one L1 table per L0 entry that a GRANULE region touches.
  const l0Bytes = 8 * (t > s ? 2 ** (t - s) : 1);
  const l1Bytes = 8 * 2 ** (s - p - 4);
  const l0Entries = new Set<number>();
  for (const range of covered) {
    for (
      let i = Math.floor(range.base / 2 ** s);
      i <= Math.floor((range.base + range.size - 1) / 2 ** s);
      i++
    )
      l0Entries.add(i);
  }
  const rootBase = dram.base;
  const vectors = rootBase;
  const gptL0 = {
    base: roundUp(rootBase + 4 * KIB, Math.max(4 * KIB, l0Bytes)),
    size: roundUp(l0Bytes, 4 * KIB),
  };
  const gptL1 = { base: roundUp(gptL0.base + gptL0.size, l1Bytes), size: l0Entries.size * l1Bytes };
  const firmwareImage = {
    base: roundUp(gptL1.base + gptL1.size, 4 * KIB),
    size: roundUp(Math.max(imageBytes.firmware, 1), 4 * KIB),
  };
  const needed = firmwareImage.base + firmwareImage.size - rootBase;
  const root = { base: rootBase, size: input.rootSize ?? roundUp(needed, 2 * MIB) };
  checkRange('the Root region', root, granule);
  if (root.size < needed)
    throw new RangeError(`platform layout: the Root region needs 0x${needed.toString(16)} bytes`);

  const minios = input.minios ?? { base: root.base + root.size, size: 8 * MIB };
  const kernel = input.kernel ?? { base: minios.base + minios.size, size: 32 * MIB };
  checkRange('the mini-OS region', minios, granule);
  checkRange('the kernel region', kernel, granule);
  for (const [what, range] of [
    ['mini-OS', minios],
    ['kernel', kernel],
  ] as const) {
    if (!dramBanks.some((bank) => inside(range, bank)))
      throw new RangeError(`platform layout: the ${what} region must lie in DRAM`);
    if (overlaps(range, root))
      throw new RangeError(`platform layout: the ${what} region overlaps the Root region`);
  }
  if (overlaps(minios, kernel))
    throw new RangeError('platform layout: the mini-OS and kernel regions overlap');
  if (!inside(root, dram))
    throw new RangeError('platform layout: the Root region must lie in the boot DRAM range');
  const bootInfoPa = minios.base + minios.size - granule;
  if (imageBytes.minios > bootInfoPa - minios.base)
    throw new RangeError('platform layout: the mini-OS image does not fit its region');
  if (imageBytes.kernel > kernel.size)
    throw new RangeError('platform layout: the kernel image does not fit its region');
  const miniosEntryVa = input.miniosEntryVa ?? minios.base;
  const miniosBootEntry = input.miniosBootEntry ?? miniosEntryVa;
  if (
    !Number.isSafeInteger(miniosEntryVa) ||
    miniosEntryVa % 4 !== 0 ||
    !Number.isSafeInteger(miniosBootEntry) ||
    miniosBootEntry % 4 !== 0
  ) {
    throw new RangeError('platform layout: mini-OS entry addresses must be 4-byte aligned integers');
  }
  return {
    dram,
    dramBanks,
    root,
    vectors,
    gptL0,
    gptL1,
    firmwareImage,
    minios,
    miniosEntryVa,
    miniosBootEntry,
    bootInfoPa,
    kernel,
    smmu,
    block,
    pps,
    pgs,
    l0gptsz,
  };
}
