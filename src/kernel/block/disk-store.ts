/**
 * Blocks of every context's disk on the machine's block device: the platform turns a kernel page
 * into what must reach the disk and back (Platform.blockToDisk / blockFromDisk: a plaintext copy, or
 * under rcontainer a record sealed and opened by the mini-OS, rc_seal_block / rc_open_block), the
 * driver moves it between the PE's bounce buffer and the owner's area of the device (layout.ts),
 * and a per-owner allocator says which blocks are in use.
 *
 * Every call runs on a PE in the owner's context: the page at `kva` is a kernel page of the owner
 * (for a container, a SHIM page reachable only under its shim-GPT), while the bounce buffer is OS
 * memory that both the kernel (in any context) and the device reach.
 *
 * What the core calls: `vfs.pageBacking = new DiskStore(platform)` once at boot; container roots
 * made afterwards by Vfs.createContainerRoot back their upper layer with the container's disk.
 */
import type { ProcessingElement } from '../../hw/pe.js';
import type { PageBacking, PageBackingProvider } from '../fs/page-data.js';
import type { Platform } from '../hooks.js';
import { Errno } from '../uapi/errno.js';
import { BlockAllocator } from './block-allocator.js';
import { BlockDriver } from './driver.js';
import { DiskLayout, sectorsFor } from './layout.js';
import { OwnerPageCache } from './page-cache.js';

/** The platform hooks the block layer uses. */
export type BlockPlatform = Pick<
  Platform,
  'blockDeviceVa' | 'disk' | 'bounce' | 'blockToDisk' | 'blockFromDisk'
>;

/** errno values of the platform's refusals that uapi/errno.ts does not list. */
export const DiskErrno = {
  /** A sealed block was tampered with, moved or is corrupt (Linux EBADMSG). */
  EBADMSG: 74,
  /** A sealed block is an older version (rollback or replay; Linux ESTALE). */
  ESTALE: 116,
} as const;

/** Options of a {@link DiskStore}. */
export interface DiskStoreOptions {
  /**
   * Resident page-cache pages of backed files per owner before the cache evicts (page-cache.ts);
   * default 2048 (8 MiB).
   */
  readonly cachePages?: number;
  /** Back the host's (owner 0) file systems too (default false: the host's tmpfs stays in memory). */
  readonly backHost?: boolean;
  /** SMMU StreamID of the device's DMA (default 0; unused while the SMMU is in bypass). */
  readonly streamId?: number;
}

/** Default of DiskStoreOptions.cachePages. */
export const DEFAULT_CACHE_PAGES = 2048;

/** Statistics of a disk store (all owners). */
export interface DiskStoreStats {
  blockWrites: number;
  blockReads: number;
  /** Bytes moved to and from the device (whole sectors). */
  deviceBytesWritten: number;
  deviceBytesRead: number;
  /** PE cycles spent in writeBlock / readBlock (platform hooks, driver, device registers). */
  writeCycles: number;
  readCycles: number;
  writeErrors: number;
  readErrors: number;
  /** Reads the platform refused as tampered or moved (EBADMSG). */
  refusedTampered: number;
  /** Reads the platform refused as stale (ESTALE: rollback, replay). */
  refusedStale: number;
}

/** Unit and description of each disk-store counter. */
export const DISK_STORE_STAT_INFO: Readonly<
  Record<keyof DiskStoreStats, { unit: string; description: string }>
> = {
  blockWrites: { unit: 'blocks', description: 'blocks written to the device' },
  blockReads: { unit: 'blocks', description: 'blocks read from the device' },
  deviceBytesWritten: { unit: 'bytes', description: 'bytes written to the device (whole sectors)' },
  deviceBytesRead: { unit: 'bytes', description: 'bytes read from the device (whole sectors)' },
  writeCycles: { unit: 'cycles', description: 'PE cycles spent writing blocks (sealing included)' },
  readCycles: { unit: 'cycles', description: 'PE cycles spent reading blocks (opening included)' },
  writeErrors: { unit: 'blocks', description: 'block writes that failed' },
  readErrors: { unit: 'blocks', description: 'block reads that failed (refusals included)' },
  refusedTampered: { unit: 'blocks', description: 'reads refused as tampered or moved (EBADMSG)' },
  refusedStale: { unit: 'blocks', description: 'reads refused as an old version (ESTALE)' },
};

/** The disks of all contexts on the block device. */
export class DiskStore implements PageBackingProvider {
  readonly driver: BlockDriver;
  readonly stats: DiskStoreStats = {
    blockWrites: 0,
    blockReads: 0,
    deviceBytesWritten: 0,
    deviceBytesRead: 0,
    writeCycles: 0,
    readCycles: 0,
    writeErrors: 0,
    readErrors: 0,
    refusedTampered: 0,
    refusedStale: 0,
  };
  private readonly platform: BlockPlatform;
  private readonly cachePages: number;
  private readonly backHost: boolean;
  private readonly allocators = new Map<number, BlockAllocator>();
  private readonly caches = new Map<number, OwnerPageCache>();
  private layoutValue: DiskLayout | undefined;

  constructor(platform: BlockPlatform, options: DiskStoreOptions = {}) {
    const cachePages = options.cachePages ?? DEFAULT_CACHE_PAGES;
    if (!Number.isInteger(cachePages) || cachePages < 1)
      throw new RangeError(`disk store: cachePages must be a positive integer (got ${cachePages})`);
    this.platform = platform;
    this.cachePages = cachePages;
    this.backHost = options.backHost ?? false;
    this.driver = new BlockDriver(platform.blockDeviceVa, options.streamId ?? 0);
  }

  /** The layout once the device has been probed (by the first block I/O), else undefined. */
  get layout(): DiskLayout | undefined {
    return this.layoutValue;
  }

  /** The device's split into owner areas, probing the device through `pe` the first time. */
  probe(pe: ProcessingElement): DiskLayout | number {
    if (this.layoutValue !== undefined) return this.layoutValue;
    const geometry = this.driver.probe(pe);
    if (typeof geometry === 'number') return geometry;
    this.layoutValue = new DiskLayout(geometry.capacity, (owner) => this.platform.disk(owner));
    return this.layoutValue;
  }

  /**
   * The page cache of `owner`'s backed file systems (PageBackingProvider): undefined for an owner
   * without a disk, and for the host unless `backHost`.
   */
  forOwner(owner: number): PageBacking | undefined {
    return this.cacheOf(owner);
  }

  /** The page cache of `owner` (created on first use), or undefined when it has no disk. */
  cacheOf(owner: number): OwnerPageCache | undefined {
    if (owner === 0 && !this.backHost) return undefined;
    let cache = this.caches.get(owner);
    if (cache === undefined) {
      if (this.platform.disk(owner).blocks === 0) return undefined;
      cache = new OwnerPageCache(this, owner, this.cachePages);
      this.caches.set(owner, cache);
    }
    return cache;
  }

  /** A free block of `owner`'s disk, now in use, or -ENOSPC. */
  allocateBlock(owner: number): number {
    return this.allocatorOf(owner).allocate() ?? -Errno.ENOSPC;
  }

  /** Give back a block from allocateBlock. */
  releaseBlock(owner: number, block: number): void {
    this.allocatorOf(owner).release(block);
  }

  /** Blocks of `owner`'s disk in use. */
  blocksInUse(owner: number): number {
    return this.allocators.get(owner)?.inUse ?? 0;
  }

  /**
   * Forget everything about `owner` (its container is gone; under rcontainer the mini-OS dropped
   * its version tree, so its blocks are unreadable anyway). Its files must no longer be used.
   */
  forgetOwner(owner: number): void {
    this.allocators.delete(owner);
    this.caches.delete(owner);
  }

  /**
   * Write block `block` of `owner`'s disk from the kernel page `kva` (the owner's; `pe` runs in its
   * context): the platform puts it into the bounce buffer as it must reach the disk (sealed under
   * rcontainer), the device writes it. 0 or -errno (ENOSPC: no area for the owner; EIO: device).
   */
  writeBlock(pe: ProcessingElement, owner: number, block: number, kva: number): number {
    const start = pe.cycles;
    const result = this.write(pe, owner, block, kva);
    this.stats.writeCycles += pe.cycles - start;
    if (result < 0) this.stats.writeErrors++;
    return result;
  }

  /**
   * Read block `block` of `owner`'s disk into the kernel page `kva`: the device fills the bounce
   * buffer, the platform checks and opens it. 0 or -errno (EBADMSG tampered, ESTALE rolled back,
   * ENOENT never written, EIO device).
   */
  readBlock(pe: ProcessingElement, owner: number, block: number, kva: number): number {
    const start = pe.cycles;
    const result = this.read(pe, owner, block, kva);
    this.stats.readCycles += pe.cycles - start;
    if (result < 0) {
      this.stats.readErrors++;
      if (result === -DiskErrno.EBADMSG) this.stats.refusedTampered++;
      if (result === -DiskErrno.ESTALE) this.stats.refusedStale++;
    }
    return result;
  }

  /** FLUSH the device (fsync's cache flush): 0 or -errno. */
  flush(pe: ProcessingElement): number {
    const geometry = this.driver.probe(pe);
    if (typeof geometry === 'number') return geometry;
    return this.driver.flush(pe);
  }

  private write(pe: ProcessingElement, owner: number, block: number, kva: number): number {
    const where = this.locate(pe, owner, block);
    if (typeof where === 'number') return where;
    const bounce = this.platform.bounce(pe);
    const bytes = this.platform.blockToDisk(pe, owner, block, kva);
    if (bytes < 0) return bytes;
    const sectors = sectorsFor(bytes);
    if (bytes === 0 || sectors > where.sectors || sectors * 512 > bounce.bytes) return -Errno.EIO;
    // The last sector's tail goes out as zeros, never as what an earlier request left there.
    const tail = sectors * 512 - bytes;
    if (tail > 0 && !pe.fillBytes(bounce.kva + bytes, tail, 0)) return -Errno.EIO;
    const written = this.driver.write(pe, where.sector, sectors, bounce.pa);
    if (written < 0) return written;
    this.stats.blockWrites++;
    this.stats.deviceBytesWritten += sectors * 512;
    return 0;
  }

  private read(pe: ProcessingElement, owner: number, block: number, kva: number): number {
    const where = this.locate(pe, owner, block);
    if (typeof where === 'number') return where;
    const bounce = this.platform.bounce(pe);
    if (where.sectors * 512 > bounce.bytes) return -Errno.EIO;
    const done = this.driver.read(pe, where.sector, where.sectors, bounce.pa);
    if (done < 0) return done;
    this.stats.blockReads++;
    this.stats.deviceBytesRead += where.sectors * 512;
    return this.platform.blockFromDisk(pe, owner, block, kva);
  }

  /** First sector and sector count of a block, or -errno. */
  private locate(
    pe: ProcessingElement,
    owner: number,
    block: number,
  ): { readonly sector: number; readonly sectors: number } | number {
    const layout = this.probe(pe);
    if (typeof layout === 'number') return layout;
    const sector = layout.sectorOf(owner, block);
    if (sector === undefined) return -Errno.ENOSPC;
    return { sector, sectors: layout.sectorsPerBlock(owner) };
  }

  private allocatorOf(owner: number): BlockAllocator {
    let allocator = this.allocators.get(owner);
    if (allocator === undefined) {
      allocator = new BlockAllocator(this.platform.disk(owner).blocks);
      this.allocators.set(owner, allocator);
    }
    return allocator;
  }
}
