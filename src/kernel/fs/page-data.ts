/**
 * The data of a regular file: 4 KiB kernel pages in simulated memory (DESIGN.md §3), allocated from
 * KernelPages for the owner of the file system, and reached only through the PE (ctx.kread/kwrite,
 * ctx.userToKernel/kernelToUser). The JS object keeps page addresses and the size, never contents.
 * A missing page (0) is a hole and reads as zeros.
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

/** File data in kernel pages. */
export class PageData {
  /** Kernel VAs of the data pages by page index; 0 = hole. */
  private readonly pages: number[] = [];
  /** File size in bytes. */
  size = 0;
  private readonly owner: number;
  private readonly allocator: KernelPages;

  constructor(owner: number, allocator: KernelPages) {
    this.owner = owner;
    this.allocator = allocator;
  }

  /** Pages allocated. */
  get pageCount(): number {
    let n = 0;
    for (const va of this.pages) if (va !== undefined && va !== 0) n++;
    return n;
  }

  /** The kernel VA of page `index`, allocating it when asked; undefined for a hole or no memory. */
  page(ctx: FsCtx, index: number, allocate: boolean): number | undefined {
    const va = this.pages[index];
    if (va !== undefined && va !== 0) return va;
    if (!allocate) return undefined;
    const fresh = ctx.kernel.pages.alloc(ctx.pe, this.owner);
    if (fresh === undefined) return undefined;
    this.pages[index] = fresh;
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
      const page = this.pages[index];
      const ok =
        page === undefined || page === 0
          ? ctx.copyOut(va + done, ZERO_PAGE.subarray(0, chunk))
          : ctx.kernelToUser(page + within, va + done, chunk);
      if (!ok) return done > 0 ? done : -Errno.EFAULT;
      done += chunk;
      at += chunk;
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
      if (page === undefined) return done > 0 ? this.grown(offset + done, done) : -Errno.ENOSPC;
      if (!ctx.userToKernel(va + done, page + within, chunk)) {
        return done > 0 ? this.grown(offset + done, done) : -Errno.EFAULT;
      }
      done += chunk;
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
      if (page === undefined) return -Errno.ENOSPC;
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
      const page = this.pages[index];
      if (page !== undefined && page !== 0) {
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
      for (let index = keep; index < this.pages.length; index++) {
        const va = this.pages[index];
        if (va !== undefined && va !== 0) this.allocator.free(this.owner, va);
      }
      this.pages.length = Math.min(this.pages.length, keep);
      const within = size % PAGE_BYTES;
      const last = this.pages[keep - 1];
      if (within !== 0 && last !== undefined && last !== 0) {
        // Bytes past the new end must read as zeros if the file grows again.
        if (!ctx.kwrite(last + within, ZERO_PAGE.subarray(0, PAGE_BYTES - within))) return -Errno.EIO;
      }
    }
    this.size = size;
    return 0;
  }

  /** Copy all of `source` into this (empty) data, page by page through the PE (overlay copy-up). */
  copyFrom(ctx: FsCtx, source: PageData): number {
    for (let index = 0; index < source.pages.length; index++) {
      const from = source.pages[index];
      if (from === undefined || from === 0) continue;
      const to = this.page(ctx, index, true);
      if (to === undefined) return -Errno.ENOSPC;
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
    for (const va of this.pages) if (va !== undefined && va !== 0) this.allocator.free(this.owner, va);
    this.pages.length = 0;
    this.size = 0;
  }

  private grown(end: number, written: number): number {
    if (end > this.size) this.size = end;
    return written;
  }
}
