/**
 * The block driver, the disk layout, the disk store and the page cache, driven from the OS context
 * of a booted system (PE 0 idle in the kernel) on the host's own disk, under both designs.
 */
import { describe, expect, it } from 'vitest';
import type { RcontainerPlatform } from '../../../src/designs/rcontainer.js';
import { BlockStatus } from '../../../src/hw/devices/block.js';
import { BlockAllocator } from '../../../src/kernel/block/block-allocator.js';
import { MAX_DISK_OWNERS } from '../../../src/kernel/block/layout.js';
import { PageData } from '../../../src/kernel/fs/page-data.js';
import { fsCtxFor, populate } from '../../../src/kernel/fs/vfs.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { DESIGN_NAMES } from '../system/helpers.js';
import { bootDiskSystem, containsBytes, deviceBlock, findInObjects } from './helpers.js';

const PAGE = 4096;

/** A page of recognisable bytes: `label` repeated. */
function pageOf(label: string): Uint8Array {
  const text = new TextEncoder().encode(label);
  const out = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i++) out[i] = text[i % text.length]!;
  return out;
}

describe('block allocator', () => {
  it('hands out every block once, next-fit, and takes them back', () => {
    const allocator = new BlockAllocator(3);
    expect([allocator.allocate(), allocator.allocate(), allocator.allocate()]).toEqual([0, 1, 2]);
    expect(allocator.allocate()).toBeUndefined();
    allocator.release(1);
    expect(allocator.inUse).toBe(2);
    expect(allocator.allocate()).toBe(1);
    expect(() => allocator.release(7)).toThrow(/not in use/);
  });
});

describe.each(DESIGN_NAMES)('block layer from the OS context (%s)', (design) => {
  function boot(cachePages = 2048) {
    const ds = bootDiskSystem(design, {}, { backHost: true, cachePages });
    const pe = ds.system.machine.pes[0]!;
    const ctx = fsCtxFor(pe, ds.system.kernel);
    return { ...ds, pe, ctx, pages: ds.system.platform.pages };
  }

  it('probes the device and gives every owner a fixed area', () => {
    const { store, pe } = boot();
    const layout = store.probe(pe);
    if (typeof layout === 'number') throw new Error(`probe: ${layout}`);
    // 4096 blocks of 8 sectors (native) or 9 (a 4144-byte sealed record) per context.
    const perBlock = design === 'native' ? 8 : 9;
    expect(layout.sectorsPerBlock(1)).toBe(perBlock);
    expect(layout.areaSectors).toBe(4096 * perBlock);
    expect(layout.owners).toBe(Math.min(MAX_DISK_OWNERS, Math.floor(2 ** 21 / (4096 * perBlock))));
    expect(layout.sectorOf(3, 2)).toBe(3 * layout.areaSectors + 2 * perBlock);
    expect(layout.sectorOf(0, 4096)).toBeUndefined();
    expect(layout.sectorOf(layout.owners, 0)).toBeUndefined();
  });

  it('writes a block through the bounce buffer and reads it back', () => {
    const ds = boot();
    const { store, pe, pages } = ds;
    const kva = pages.alloc(pe, 0)!;
    const data = pageOf('host-block-');
    expect(pe.writeBytes(kva, data)).toBe(true);
    expect(store.writeBlock(pe, 0, 5, kva)).toBe(0);
    // The host's blocks are plaintext under both designs.
    expect(containsBytes(deviceBlock(ds, 0, 5), data.subarray(0, 64))).toBe(true);
    pe.fillBytes(kva, PAGE, 0);
    expect(store.readBlock(pe, 0, 5, kva)).toBe(0);
    expect(pe.readBytes(kva, PAGE)).toEqual(data);
    expect(store.stats).toMatchObject({ blockWrites: 1, blockReads: 1, writeErrors: 0, readErrors: 0 });
    expect(store.driver.stats).toMatchObject({ sectorsWritten: 8, sectorsRead: 8, errors: 0 });
    expect(store.flush(pe)).toBe(0);
    expect(ds.system.machine.block.stats.flushes).toBe(1);
  });

  it('reports requests the device refuses as EIO', () => {
    const { store, pe, system } = boot();
    const layout = store.probe(pe);
    if (typeof layout === 'number') throw new Error(`probe: ${layout}`);
    const bounce = system.platform.bounce(pe);
    expect(store.driver.read(pe, 2 ** 21, 1, bounce.pa)).toBe(-Errno.EIO);
    expect(store.readBlock(pe, MAX_DISK_OWNERS, 0, bounce.kva)).toBe(-Errno.ENOSPC);
    if (design === 'rcontainer') {
      // The device reaches OS memory only: a DMA into the mini-OS's memory is stopped by the GPC.
      const mini = (system.platform as RcontainerPlatform).firmware.layout.minios.base;
      expect(store.driver.read(pe, 0, 1, mini)).toBe(-Errno.EIO);
      expect(system.machine.block.status).toBe(BlockStatus.DmaError);
      expect(system.machine.block.stats.dmaErrors).toBe(1);
    }
  });

  it('evicts file pages over the budget and reads them back on the next access', () => {
    const { store, ctx, pages } = boot(2);
    const cache = store.cacheOf(0)!;
    const file = new PageData(0, pages, cache);
    const contents = [0, 1, 2, 3].map((i) => pageOf(`file-page-${i}-`));
    for (const [i, bytes] of contents.entries()) expect(file.writeKernel(ctx, i * PAGE, bytes)).toBe(0);
    // Two pages at most stay in memory; the oldest dirty ones were written back to be evicted.
    expect(cache.resident).toBe(2);
    expect(file.residentCount).toBe(2);
    expect(cache.stats).toMatchObject({ evictions: 2, dirtyEvictions: 2 });
    expect(file.pageCount).toBe(4);
    expect(file.readKernel(ctx, 0, 4 * PAGE)).toEqual(new Uint8Array(contents.flatMap((c) => [...c])));
    expect(cache.stats.pageIns).toBeGreaterThanOrEqual(2);
    // fsync: every dirty page reaches the disk; nothing stays dirty.
    expect(file.writeback(ctx)).toBe(0);
    expect(file.dirtyCount).toBe(0);
    expect(store.blocksInUse(0)).toBe(4);
    // Truncating frees the blocks past the end and zeroes the tail of the last page.
    expect(file.truncate(ctx, PAGE + 100)).toBe(0);
    expect(store.blocksInUse(0)).toBe(2);
    expect(file.truncate(ctx, 2 * PAGE)).toBe(0);
    const tail = file.readKernel(ctx, PAGE, PAGE)!;
    expect(tail.subarray(0, 100)).toEqual(contents[1]!.subarray(0, 100));
    expect(tail.subarray(100).every((b) => b === 0)).toBe(true);
    // No file contents in the block layer's objects.
    expect(findInObjects({ store, file }, 'file-page-1-', [ctx.pe, ctx.kernel, store['platform']])).toEqual(
      [],
    );
    file.freeAll();
    expect(store.blocksInUse(0)).toBe(0);
    expect(cache.resident).toBe(0);
  });

  it('syncs every dirty file of a backed tmpfs', () => {
    const { store, ctx, system } = boot();
    const layer = system.vfs.createLayer(ctx, 0);
    layer.backing = store.cacheOf(0);
    expect(populate(ctx, layer.root, '/a', pageOf('file-a-'), 0o644)).toBe(0);
    expect(populate(ctx, layer.root, '/dir/b', pageOf('file-b-').subarray(0, 100), 0o644)).toBe(0);
    const link = layer.root.lookup(ctx, 'a')!;
    expect(layer.root.link(ctx, 'a-again', link)).toBe(0);
    expect(store.stats.blockWrites).toBe(0);
    expect(layer.sync(ctx)).toBe(0);
    // One block per file page, the hard link written once.
    expect(store.stats.blockWrites).toBe(2);
    expect(layer.sync(ctx)).toBe(0);
    expect(store.stats.blockWrites).toBe(2);
  });

  it('takes a clean page before a dirty one', () => {
    const { store, ctx, pages } = boot(2);
    const cache = store.cacheOf(0)!;
    const clean = new PageData(0, pages, cache);
    const dirty = new PageData(0, pages, cache);
    expect(dirty.writeKernel(ctx, 0, pageOf('dirty-'))).toBe(0);
    expect(clean.writeKernel(ctx, 0, pageOf('clean-'))).toBe(0);
    expect(clean.writeback(ctx)).toBe(0);
    const before = store.stats.blockWrites;
    const third = new PageData(0, pages, cache);
    expect(third.writeKernel(ctx, 0, pageOf('third-'))).toBe(0);
    // The clean page went (no write needed); the older dirty page stayed.
    expect(store.stats.blockWrites).toBe(before);
    expect(clean.residentCount).toBe(0);
    expect(dirty.residentCount).toBe(1);
    expect(clean.readKernel(ctx, 0, 6)).toEqual(new TextEncoder().encode('clean-'));
  });
});
