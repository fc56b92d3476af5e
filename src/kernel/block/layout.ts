/**
 * Where each context's disk lives on the machine's one block device (DESIGN.md §4 "I/O").
 *
 * The device's 512-byte sectors are cut into areas of the same size S, one per owner (0 = the host,
 * c = container c), in owner order from sector 0; what is left at the end is unused:
 *
 * ```
 *  sector 0          S                 2S                     (n-1)S            nS      capacity
 *         | owner 0  | owner 1          | owner 2  | ...       | owner n-1       | unused |
 * ```
 *
 * Block b of owner o takes ceil(disk(o).bytesPerBlock / 512) sectors from sector
 * o × S + b × ceil(disk(o).bytesPerBlock / 512): 8 sectors for a plaintext 4 KiB block, 9 for a
 * block sealed by the mini-OS (SEALED_BLOCK_BYTES = 4144 bytes; the tail of the ninth sector is
 * written as zeros). S is the larger of the host's and a container's disk (disk(o).blocks × sectors
 * per block, o = 0 and 1) rounded up to 1 MiB (2048 sectors); owners go up to
 * min(MAX_DISK_OWNERS, floor(capacity / S)) - 1.
 *
 * With the designs' disks (4096 blocks per context) on the machine's default 1 GiB device:
 * native S = 32768 sectors (16 MiB), owners 0..63; rcontainer S = 36864 sectors (18 MiB, sealed
 * blocks), owners 0..55.
 *
 * SIMPLIFICATION: every container's disk is taken to be the size of container 1's (the designs give
 * every context the same disk); a block that would not fit its owner's area is refused anyway.
 */
import { SECTOR_BYTES } from '../../hw/devices/block.js';

/** Largest number of owners (host + containers) with an area on the device. */
export const MAX_DISK_OWNERS = 64;
/** Areas start on 1 MiB boundaries. */
export const AREA_ALIGN_SECTORS = 2048;

/** A context's disk as the platform describes it (hooks.ts Platform.disk). */
export interface DiskGeometry {
  /** 4 KiB blocks of the disk (0: the context has none). */
  readonly blocks: number;
  /** Bytes one block takes on the device (4096 in plaintext, more when sealed). */
  readonly bytesPerBlock: number;
}

/** The split of the device into per-owner areas. */
export class DiskLayout {
  /** Sectors of every owner's area (S). */
  readonly areaSectors: number;
  /** Owners with an area: 0 .. owners - 1. */
  readonly owners: number;
  private readonly disk: (owner: number) => DiskGeometry;

  /** @param capacitySectors the device's capacity (CAPACITY_LO/HI). */
  constructor(capacitySectors: number, disk: (owner: number) => DiskGeometry) {
    this.disk = disk;
    let largest = 0;
    for (const owner of [0, 1]) {
      const geometry = disk(owner);
      largest = Math.max(largest, geometry.blocks * sectorsFor(geometry.bytesPerBlock));
    }
    this.areaSectors = Math.max(
      AREA_ALIGN_SECTORS,
      Math.ceil(largest / AREA_ALIGN_SECTORS) * AREA_ALIGN_SECTORS,
    );
    this.owners = Math.min(MAX_DISK_OWNERS, Math.floor(capacitySectors / this.areaSectors));
  }

  /** Sectors one block of `owner` takes on the device. */
  sectorsPerBlock(owner: number): number {
    return sectorsFor(this.disk(owner).bytesPerBlock);
  }

  /**
   * First sector of block `block` of `owner`, or undefined when the owner has no area or the block
   * is outside its disk or its area.
   */
  sectorOf(owner: number, block: number): number | undefined {
    if (!Number.isInteger(owner) || owner < 0 || owner >= this.owners) return undefined;
    const geometry = this.disk(owner);
    if (!Number.isInteger(block) || block < 0 || block >= geometry.blocks) return undefined;
    const perBlock = sectorsFor(geometry.bytesPerBlock);
    if ((block + 1) * perBlock > this.areaSectors) return undefined;
    return owner * this.areaSectors + block * perBlock;
  }
}

/** Whole sectors that hold `bytes` bytes. */
export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR_BYTES);
}
