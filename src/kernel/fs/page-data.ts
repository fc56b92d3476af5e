/**
 * The data of a regular file: 4 KiB kernel pages in simulated memory (DESIGN.md §3), allocated from
 * KernelPages for the owner of the file system, and reached only through the PE (ctx.kread/kwrite,
 * ctx.userToKernel/kernelToUser). The JS object keeps page addresses and the size, never contents.
 * A missing page (0) is a hole and reads as zeros.
 *
 * Disk backing (optional; src/kernel/block/page-cache.ts): a file of a file system given a
 * {@link PageBacking} tracks which of its pages are dirty, writes them to its owner's disk (fsync:
 * {@link PageData.writeback}) and lets the page cache evict them ({@link PageData.evictPage}: the
 * page is freed, the entry remembers its disk block); an evicted page is read back transparently by
 * the next access (read, write, readKernel, page). Without a backing nothing changes: pages live
 * until the file is truncated or freed.
 */
import type { KernelPages, SysCtx } from '../core/ctx.js';
import { Errno } from '../uapi/errno.js';
import { BYTE_COPY_CYCLES } from './costs.js';
import type { FsCtx } from './inode.js';

/** Page size of file data. */
export const PAGE_BYTES = 4096;
/**
 * Largest file size. SIMPLIFICATION: 4 GiB (tmpfs allows more; nothing here needs it); larger
 * writes fail with EFBIG.
 */
export const MAX_FILE_BYTES = 2 ** 32;

const ZERO_PAGE = new Uint8Array(PAGE_BYTES);

// ------------------------------------------------------------ disk backing (src/kernel/block)

/** The pages of one disk-backed file as its page cache sees them ({@link PageData} is one). */
export interface CachedFile {
  /** A number unique among files (the page cache's keys). */
  readonly cacheId: number;
  /** True when page `index` is resident and changed since it was last written to the disk. */
  isDirty(index: number): boolean;
  /** Write page `index` back if it is dirty, then free it (it stays on the disk): 0 or -errno. */
  evictPage(ctx: FsCtx, index: number): number;
}

/**
 * Where the pages of a file system's files go when they leave memory: the owner's disk and page
 * cache (src/kernel/block/page-cache.ts). Every call runs in the owner's context.
 */
export interface PageBacking {
  /** Write the page at `kva` to disk block `block` (a new block when undefined): the block or -errno. */
  writePage(ctx: FsCtx, kva: number, block: number | undefined): number;
  /** Fill the page at `kva` from disk block `block`: 0 or -errno (EBADMSG, ESTALE, EIO...). */
  readPage(ctx: FsCtx, block: number, kva: number): number;
  /**
   * A disk block for a page that has none yet, taken when the page is first written (so that a
   * full disk is ENOSPC at write(2), as with ext4's delayed-allocation reservations, and never at
   * eviction): the block or -ENOSPC.
   */
  reserveBlock(): number;
  /** The file no longer needs disk block `block`. */
  releaseBlock(block: number): void;
  /** Make the blocks written so far durable (the device's FLUSH; fsync's cache flush): 0 or -errno. */
  flush(ctx: FsCtx): number;
  /**
   * Page `index` of `file` is resident and being used: the cache's replacement state. It may evict
   * other resident pages of the owner (CachedFile.evictPage), never this one.
   */
  use(ctx: FsCtx, file: CachedFile, index: number): void;
  /** Page `index` of `file` is no longer resident. */
  forget(file: CachedFile, index: number): void;
  /** The owner's kernel pages ran out: evict one resident page; true if one was. */
  reclaim(ctx: FsCtx): boolean;
}

/** The backing of an owner's file systems, if it has one (src/kernel/block/disk-store.ts DiskStore). */
export interface PageBackingProvider {
  forOwner(owner: number): PageBacking | undefined;
}

let nextCacheId = 1;

// ------------------------------------------------------------ end of disk backing declarations

/** File data in kernel pages. */
export class PageData implements CachedFile {
  /** Kernel VAs of the data pages by page index; 0 = hole (or, with a disk block, evicted). */
  private readonly pages: number[] = [];
  /** File size in bytes. */
  size = 0;
  private readonly owner: number;
  private readonly allocator: KernelPages;
  // Disk backing: the disk block of each page written back once, and the pages changed since.
  readonly cacheId = nextCacheId++;
  private readonly backing: PageBacking | undefined;
  private readonly blocks: (number | undefined)[] = [];
  private readonly dirty = new Set<number>();
  /** errno of the last failed page lookup (ENOSPC: no memory, EIO: the disk read failed). */
  private failure: number = Errno.ENOSPC;

  constructor(owner: number, allocator: KernelPages, backing?: PageBacking) {
    this.owner = owner;
    this.allocator = allocator;
    this.backing = backing;
  }

  /** Pages allocated (resident or on the disk). */
  get pageCount(): number {
    let n = 0;
    for (let index = 0; index < Math.max(this.pages.length, this.blocks.length); index++) {
      if ((this.pages[index] ?? 0) !== 0 || this.blocks[index] !== undefined) n++;
    }
    return n;
  }

  /**
   * The kernel VA of page `index` (read back from the disk if it was evicted), allocating it when
   * asked; undefined for a hole, no memory or a failed disk read. `allocate` means the caller may
   * write the page: it is marked dirty.
   */
  page(ctx: FsCtx, index: number, allocate: boolean): number | undefined {
    const va = this.resident(ctx, index);
    if (va === undefined) return undefined;
    if (va !== 0) {
      if (allocate) this.markDirty(index);
      return va;
    }
    if (!allocate) return undefined;
    // A new page of a disk-backed file gets its disk block now: a dirty page can then always be
    // written back and evicted, so a full disk never pins the owner's memory.
    const reserved = this.backing !== undefined && this.blocks[index] === undefined;
    if (reserved) {
      const block = this.backing!.reserveBlock();
      if (block < 0) {
        this.failure = -block;
        return undefined;
      }
      this.blocks[index] = block;
    }
    const fresh = this.allocPage(ctx);
    if (fresh === undefined) {
      if (reserved) {
        this.backing!.releaseBlock(this.blocks[index]!);
        this.blocks[index] = undefined;
      }
      this.failure = Errno.ENOSPC;
      return undefined;
    }
    this.pages[index] = fresh;
    this.markDirty(index);
    this.backing?.use(ctx, this, index);
    return fresh;
  }

  /** Read up to `length` bytes at `offset` into user memory at `va`: bytes read or -EFAULT/-EIO. */
  read(ctx: SysCtx, offset: number, va: number, length: number): number {
    const end = Math.min(this.size, offset + length);
    let done = 0;
    for (let at = offset; at < end;) {
      const index = Math.floor(at / PAGE_BYTES);
      const within = at - index * PAGE_BYTES;
      const chunk = Math.min(end - at, PAGE_BYTES - within);
      const page = this.resident(ctx, index);
      if (page === undefined) return done > 0 ? done : -this.failure;
      const copied = userPages(va + done, chunk, (userVa, offsetInChunk, n) =>
        page === 0
          ? ctx.copyOut(userVa, ZERO_PAGE.subarray(0, n))
          : ctx.kernelToUser(page + within + offsetInChunk, userVa, n),
      );
      done += copied;
      at += copied;
      // Linux copies up to the first unmapped byte of the buffer and returns the short count.
      if (copied < chunk) return done > 0 ? done : -Errno.EFAULT;
    }
    ctx.charge(done * BYTE_COPY_CYCLES);
    return done;
  }

  /** Write `length` bytes of user memory at `va` at `offset`: bytes written or -errno. */
  write(ctx: SysCtx, offset: number, va: number, length: number): number {
    // A zero-length write never extends the file.
    if (length === 0) return 0;
    if (offset + length > MAX_FILE_BYTES) {
      if (offset >= MAX_FILE_BYTES) return -Errno.EFBIG;
      length = MAX_FILE_BYTES - offset;
    }
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const index = Math.floor(at / PAGE_BYTES);
      const within = at - index * PAGE_BYTES;
      const chunk = Math.min(length - done, PAGE_BYTES - within);
      const page = this.page(ctx, index, true);
      if (page === undefined) return done > 0 ? this.grown(offset + done, done) : -this.failure;
      const copied = userPages(va + done, chunk, (userVa, offsetInChunk, n) =>
        ctx.userToKernel(userVa, page + within + offsetInChunk, n),
      );
      done += copied;
      if (copied < chunk) return done > 0 ? this.grown(offset + done, done) : -Errno.EFAULT;
    }
    ctx.charge(done * BYTE_COPY_CYCLES);
    return this.grown(offset + done, done);
  }

  /** Write kernel bytes at `offset` (boot-time population, copy-up): 0 or -errno. */
  writeKernel(ctx: FsCtx, offset: number, data: Uint8Array): number {
    if (offset + data.length > MAX_FILE_BYTES) return -Errno.EFBIG;
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const index = Math.floor(at / PAGE_BYTES);
      const within = at - index * PAGE_BYTES;
      const chunk = Math.min(data.length - done, PAGE_BYTES - within);
      const page = this.page(ctx, index, true);
      if (page === undefined) return -this.failure;
      if (!ctx.kwrite(page + within, data.subarray(done, done + chunk))) return -Errno.EIO;
      done += chunk;
    }
    ctx.charge(done * BYTE_COPY_CYCLES);
    this.grown(offset + done, done);
    return 0;
  }

  /** Read `length` bytes at `offset` (clipped to the size) into a kernel buffer; undefined on a fault. */
  readKernel(ctx: FsCtx, offset: number, length: number): Uint8Array | undefined {
    const end = Math.min(this.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (let at = offset; at < end;) {
      const index = Math.floor(at / PAGE_BYTES);
      const within = at - index * PAGE_BYTES;
      const chunk = Math.min(end - at, PAGE_BYTES - within);
      const page = this.resident(ctx, index);
      if (page === undefined) return undefined;
      if (page !== 0) {
        const bytes = ctx.kread(page + within, chunk);
        if (bytes === undefined) return undefined;
        out.set(bytes, at - offset);
      }
      at += chunk;
    }
    ctx.charge(out.length * BYTE_COPY_CYCLES);
    return out;
  }

  /** Change the size: pages past the end are freed and the tail of the last page zeroed. */
  truncate(ctx: FsCtx, size: number): number {
    if (size > MAX_FILE_BYTES) return -Errno.EFBIG;
    if (size < this.size) {
      const keep = Math.ceil(size / PAGE_BYTES);
      this.dropFrom(keep);
      const within = size % PAGE_BYTES;
      const last = within !== 0 ? this.resident(ctx, keep - 1) : 0;
      if (last === undefined) return -this.failure;
      if (last !== 0) {
        // Bytes past the new end must read as zeros if the file grows again.
        if (!ctx.kwrite(last + within, ZERO_PAGE.subarray(0, PAGE_BYTES - within))) return -Errno.EIO;
        this.markDirty(keep - 1);
      }
    }
    this.size = size;
    return 0;
  }

  /** Copy all of `source` into this (empty) data, page by page through the PE (overlay copy-up). */
  copyFrom(ctx: FsCtx, source: PageData): number {
    for (let index = 0; index < Math.max(source.pages.length, source.blocks.length); index++) {
      const from = source.resident(ctx, index);
      if (from === undefined) return -source.failure;
      if (from === 0) continue;
      const to = this.page(ctx, index, true);
      if (to === undefined) return -this.failure;
      const bytes = ctx.kread(from, PAGE_BYTES);
      if (bytes === undefined || !ctx.kwrite(to, bytes)) return -Errno.EIO;
      bytes.fill(0);
    }
    ctx.charge(source.size * BYTE_COPY_CYCLES);
    this.size = source.size;
    return 0;
  }

  /** Give every page back (the inode is gone). */
  freeAll(): void {
    this.dropFrom(0);
    this.size = 0;
  }

  // ------------------------------------------------------------ disk backing (src/kernel/block)

  /** Resident pages. */
  get residentCount(): number {
    let n = 0;
    for (const va of this.pages) if (va !== undefined && va !== 0) n++;
    return n;
  }

  /** Resident pages changed since they were last written to the disk. */
  get dirtyCount(): number {
    return this.dirty.size;
  }

  isDirty(index: number): boolean {
    return this.dirty.has(index);
  }

  /**
   * Write every dirty page to the disk (fsync); in the owner's context. 0, or the first -errno (the
   * pages that failed stay dirty). Without a backing: 0.
   */
  writeback(ctx: FsCtx): number {
    if (this.backing === undefined || this.dirty.size === 0) return 0;
    let result = 0;
    for (const index of [...this.dirty].sort((a, b) => a - b)) {
      const va = this.pages[index];
      const written = va !== undefined && va !== 0 ? this.writeOne(ctx, index, va) : 0;
      if (written < 0 && result === 0) result = written;
    }
    const flushed = this.backing.flush(ctx);
    return result < 0 ? result : flushed;
  }

  evictPage(ctx: FsCtx, index: number): number {
    const va = this.pages[index];
    if (va === undefined || va === 0) return 0;
    if (this.backing === undefined) return -Errno.EINVAL;
    if (this.dirty.has(index)) {
      const written = this.writeOne(ctx, index, va);
      if (written < 0) return written;
    }
    this.allocator.free(this.owner, va);
    this.pages[index] = 0;
    this.backing.forget(this, index);
    return 0;
  }

  /**
   * Page `index` in memory: its kernel VA, 0 for a hole, or undefined when it was evicted and
   * could not be read back (`failure`: ENOMEM, or EIO for any refusal of the disk: EBADMSG,
   * ESTALE, a device error; Linux reports a failed page read as EIO).
   */
  private resident(ctx: FsCtx, index: number): number | undefined {
    const va = this.pages[index];
    if (va !== undefined && va !== 0) {
      this.backing?.use(ctx, this, index);
      return va;
    }
    const block = this.blocks[index];
    if (block === undefined || this.backing === undefined) return 0;
    const fresh = this.allocPage(ctx);
    if (fresh === undefined) {
      this.failure = Errno.ENOMEM;
      return undefined;
    }
    if (this.backing.readPage(ctx, block, fresh) < 0) {
      this.allocator.free(this.owner, fresh);
      this.failure = Errno.EIO;
      return undefined;
    }
    this.pages[index] = fresh;
    this.backing.use(ctx, this, index);
    return fresh;
  }

  /** A fresh page of the owner; when memory is short, the page cache evicts one first. */
  private allocPage(ctx: FsCtx): number | undefined {
    const fresh = ctx.kernel.pages.alloc(ctx.pe, this.owner);
    if (fresh !== undefined || this.backing === undefined || !this.backing.reclaim(ctx)) return fresh;
    return ctx.kernel.pages.alloc(ctx.pe, this.owner);
  }

  private markDirty(index: number): void {
    if (this.backing !== undefined) this.dirty.add(index);
  }

  /** Write page `index` (resident at `va`) to its disk block: 0 or -errno. */
  private writeOne(ctx: FsCtx, index: number, va: number): number {
    const block = this.backing!.writePage(ctx, va, this.blocks[index]);
    if (block < 0) return block;
    this.blocks[index] = block;
    this.dirty.delete(index);
    return 0;
  }

  /** Free the pages and disk blocks from page `first` on. */
  private dropFrom(first: number): void {
    for (let index = first; index < this.pages.length; index++) {
      const va = this.pages[index];
      if (va === undefined || va === 0) continue;
      this.allocator.free(this.owner, va);
      this.backing?.forget(this, index);
    }
    for (let index = first; index < this.blocks.length; index++) {
      const block = this.blocks[index];
      if (block !== undefined) this.backing?.releaseBlock(block);
    }
    for (const index of this.dirty) if (index >= first) this.dirty.delete(index);
    this.pages.length = Math.min(this.pages.length, first);
    this.blocks.length = Math.min(this.blocks.length, first);
  }

  // ------------------------------------------------------------ end of disk backing

  private grown(end: number, written: number): number {
    if (end > this.size) this.size = end;
    return written;
  }
}

/**
 * Copy `length` bytes of a user buffer at `va` one user page at a time with `copy(userVa, offset,
 * n)`: the bytes copied before the first page that faults (copy_to_user's short count).
 */
function userPages(
  va: number,
  length: number,
  copy: (userVa: number, offset: number, n: number) => boolean,
): number {
  let done = 0;
  while (done < length) {
    const n = Math.min(length - done, PAGE_BYTES - ((va + done) % PAGE_BYTES));
    if (!copy(va + done, done, n)) break;
    done += n;
  }
  return done;
}
