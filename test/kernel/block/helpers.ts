/**
 * Helpers of the block-layer tests: a whole SimSystem with a DiskStore backing container roots,
 * the SMMU put in GBPA bypass, byte searches in the device's backing store, and a check that file
 * contents never sit in the block layer's JS objects (DESIGN.md §3).
 */
import { SimSystem, type DesignName } from '../../../src/designs/system.js';
import { SmmuBits, SmmuReg } from '../../../src/hw/smmu.js';
import { DiskStore, type DiskStoreOptions } from '../../../src/kernel/block/disk-store.js';
import type { ProgramMain } from '../../../src/user/program.js';

/** A booted system whose container roots keep their files on the disk. */
export interface DiskSystem {
  readonly system: SimSystem;
  readonly store: DiskStore;
}

/**
 * Let the device's DMA through the SMMU: SMMU_CR0.SMMUEN = 0 with SMMU_GBPA.ABORT clear (bypass,
 * still GPC-checked against the OS view). The SMMU resets with GBPA.ABORT set and no design clears
 * it yet (nor maps the SMMU's window for the kernel), so the test does it as boot firmware would,
 * through the register window. No-op once a design does it.
 */
export function enableDmaBypass(system: SimSystem): void {
  const smmu = system.machine.smmu;
  if ((smmu.read32(SmmuReg.GBPA) & SmmuBits.GBPA_ABORT) !== 0)
    smmu.write32(SmmuReg.GBPA, SmmuBits.GBPA_UPDATE);
}

/** Boot `design` with `programs` installed and a DiskStore behind every container root. */
export function bootDiskSystem(
  design: DesignName,
  programs: Readonly<Record<string, ProgramMain>> = {},
  options: DiskStoreOptions = {},
): DiskSystem {
  const system = new SimSystem({ design, programs });
  enableDmaBypass(system);
  const store = new DiskStore(system.platform, options);
  system.vfs.pageBacking = store;
  return { system, store };
}

/** True when `needle` occurs in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The device-side bytes of block `block` of `owner` (the whole sectors it takes). */
export function deviceBlock(ds: DiskSystem, owner: number, block: number): Uint8Array {
  const layout = ds.store.layout;
  if (layout === undefined) throw new Error('the device was never probed');
  const sector = layout.sectorOf(owner, block);
  if (sector === undefined) throw new Error(`no sector for block ${block} of owner ${owner}`);
  return ds.system.machine.block.readStore(sector, layout.sectorsPerBlock(owner));
}

/** Overwrite block `block` of `owner` on the device (device side: an attacker with the disk). */
export function putDeviceBlock(ds: DiskSystem, owner: number, block: number, bytes: Uint8Array): void {
  const sector = ds.store.layout!.sectorOf(owner, block)!;
  ds.system.machine.block.writeStore(sector, bytes);
}

/** True when `needle` occurs anywhere in `owner`'s area of the device. */
export function areaContains(ds: DiskSystem, owner: number, needle: Uint8Array): boolean {
  const layout = ds.store.layout!;
  const first = layout.sectorOf(owner, 0)!;
  const chunk = 2048;
  for (let sector = first; sector < first + layout.areaSectors; sector += chunk) {
    // Overlap chunks by one sector so that a needle across a boundary is found.
    const count = Math.min(chunk + 1, first + layout.areaSectors - sector);
    if (containsBytes(ds.system.machine.block.readStore(sector, count), needle)) return true;
  }
  return false;
}

/**
 * Paths in the object graph from `roots` where `needle` occurs (strings and byte arrays), not
 * looking inside `skip` (the machine and the platform: simulated memory is where data belongs).
 */
export function findInObjects(
  roots: Record<string, unknown>,
  needle: string,
  skip: readonly unknown[],
): string[] {
  const bytes = new TextEncoder().encode(needle);
  const seen = new Set<unknown>(skip);
  const hits: string[] = [];
  const queue: [unknown, string][] = Object.entries(roots).map(([k, v]) => [v, k]);
  while (queue.length > 0) {
    const [value, where] = queue.shift()!;
    if (typeof value === 'string') {
      if (value.includes(needle)) hits.push(where);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      if (containsBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), bytes))
        hits.push(where);
      continue;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) queue.push([k, `${where}.key`], [v, `${where}.get(${String(k)})`]);
      continue;
    }
    if (value instanceof Set) {
      for (const v of value) queue.push([v, `${where}.item`]);
      continue;
    }
    for (const key of Reflect.ownKeys(value)) {
      queue.push([(value as Record<string | symbol, unknown>)[key], `${where}.${String(key)}`]);
    }
  }
  return hits;
}
