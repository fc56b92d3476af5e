/**
 * The page cache of one owner's disk-backed files (the upper layer of a container's root): which of
 * their pages are resident, in least-recently-used order, and the eviction policy. File pages are
 * the owner's kernel pages (SHIM(c) pages of container c, DESIGN.md §5 "file page cache"); the
 * contents stay in simulated memory and on the disk, never in this object.
 *
 * Policy: at most `budget` resident pages per owner. When a page becomes resident (or is used) and
 * the owner is over budget, the least recently used *clean* page among the oldest SCAN_LIMIT is
 * evicted; when all of those are dirty, the oldest is written back first and then evicted. When the
 * owner's kernel pages run out altogether (KernelPages.alloc fails), PageData asks for one eviction
 * (reclaim) and retries.
 *
 * Eviction only ever happens inside a file operation on one of the owner's files, i.e. in a system
 * call of one of the owner's tasks, running in the owner's context: a container's pages are never
 * touched from the OS context (under rcontainer they are unreachable there).
 *
 * SIMPLIFICATION: no background writeback (no flusher thread, no dirty-ratio throttling): dirty
 * pages reach the disk on fsync, on TmpfsSuperBlock.sync, or when evicted.
 */
import type { CachedFile, PageBacking } from '../fs/page-data.js';
import type { FsCtx } from '../fs/inode.js';
import { BlockCost } from './costs.js';
import type { DiskStore } from './disk-store.js';

/** Resident pages examined (oldest first) for a clean victim before a dirty one is taken. */
export const SCAN_LIMIT = 32;
/** Pages per file in the cache key (a file has at most 2^20 pages: MAX_FILE_BYTES / 4096). */
const KEY_PAGES = 2 ** 20;

/** One resident page. */
interface Entry {
  readonly file: CachedFile;
  readonly index: number;
}

/** Statistics of one owner's page cache. */
export interface PageCacheStats {
  /** Pages written to the disk (fsync, sync, eviction of a dirty page). */
  writebacks: number;
  /** Pages read back from the disk. */
  pageIns: number;
  /** Pages evicted (freed, left on the disk). */
  evictions: number;
  /** Evictions that had to write the page back first. */
  dirtyEvictions: number;
  /** Evictions that failed (the write-back of the victim failed). */
  evictionFailures: number;
}

/** The page cache of one owner's backed files. */
export class OwnerPageCache implements PageBacking {
  readonly owner: number;
  /** Resident pages allowed before eviction. */
  readonly budget: number;
  readonly stats: PageCacheStats = {
    writebacks: 0,
    pageIns: 0,
    evictions: 0,
    dirtyEvictions: 0,
    evictionFailures: 0,
  };
  private readonly store: DiskStore;
  /** Resident pages by key, least recently used first (Map keeps insertion order). */
  private readonly lru = new Map<number, Entry>();

  constructor(store: DiskStore, owner: number, budget: number) {
    this.store = store;
    this.owner = owner;
    this.budget = budget;
  }

  /** Resident pages of the owner's backed files. */
  get resident(): number {
    return this.lru.size;
  }

  writePage(ctx: FsCtx, kva: number, block: number | undefined): number {
    let target = block;
    if (target === undefined) {
      target = this.store.allocateBlock(this.owner);
      if (target < 0) return target;
    }
    ctx.charge(BlockCost.page);
    const result = this.store.writeBlock(ctx.pe, this.owner, target, kva);
    if (result < 0) {
      if (block === undefined) this.store.releaseBlock(this.owner, target);
      return result;
    }
    this.stats.writebacks++;
    return target;
  }

  readPage(ctx: FsCtx, block: number, kva: number): number {
    ctx.charge(BlockCost.page);
    const result = this.store.readBlock(ctx.pe, this.owner, block, kva);
    if (result === 0) this.stats.pageIns++;
    return result;
  }

  reserveBlock(): number {
    return this.store.allocateBlock(this.owner);
  }

  releaseBlock(block: number): void {
    this.store.releaseBlock(this.owner, block);
  }

  flush(ctx: FsCtx): number {
    return this.store.flush(ctx.pe);
  }

  use(ctx: FsCtx, file: CachedFile, index: number): void {
    const key = keyOf(file, index);
    const entry = this.lru.get(key) ?? { file, index };
    this.lru.delete(key);
    this.lru.set(key, entry);
    while (this.lru.size > this.budget) {
      if (!this.evictOne(ctx, key)) break;
    }
  }

  forget(file: CachedFile, index: number): void {
    this.lru.delete(keyOf(file, index));
  }

  reclaim(ctx: FsCtx): boolean {
    return this.evictOne(ctx, undefined);
  }

  /** Evict one page other than `keep` (clean first): true if one was evicted. */
  private evictOne(ctx: FsCtx, keep: number | undefined): boolean {
    let victim: number | undefined;
    let oldestDirty: number | undefined;
    let scanned = 0;
    for (const [key, entry] of this.lru) {
      if (key === keep) continue;
      if (!entry.file.isDirty(entry.index)) {
        victim = key;
        break;
      }
      oldestDirty ??= key;
      if (++scanned >= SCAN_LIMIT) break;
    }
    victim ??= oldestDirty;
    if (victim === undefined) return false;
    const entry = this.lru.get(victim)!;
    const dirty = entry.file.isDirty(entry.index);
    ctx.charge(BlockCost.page);
    if (entry.file.evictPage(ctx, entry.index) < 0) {
      this.stats.evictionFailures++;
      return false;
    }
    this.lru.delete(victim);
    this.stats.evictions++;
    if (dirty) this.stats.dirtyEvictions++;
    return true;
  }
}

function keyOf(file: CachedFile, index: number): number {
  return file.cacheId * KEY_PAGES + index;
}
