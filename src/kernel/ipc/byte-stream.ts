/**
 * Byte streams: the buffer behind a pipe or one direction of a stream socket. The bytes live in
 * simulated memory (DESIGN.md §3), in 4 KiB kernel pages of the stream's owner, and move between
 * user memory and those pages through the PE (SysCtx.userToKernel / kernelToUser): the kernel's JS
 * objects hold page addresses and counters, never the payload.
 *
 * A stream whose reader and writer run in different contexts (different container ids) needs
 * another implementation under the rcontainer design: data that crosses a container boundary must be
 * sealed by the mini-OS (DESIGN.md §4 "I/O"). A socket connection between contexts gets a
 * SealedStream per direction (sealed-stream.ts: frames in OS pages, rc_ipc_out). A PageRing lives
 * in pages of one context, so under "rcontainer" a task of another context may not touch it
 * ({@link crossContextError}: EPERM; a pipe is always made for one context, and after fork both its
 * ends stay there). Under "native" every stream is a {@link PageRing}.
 */
import type { SysCtx } from '../core/ctx.js';
import { Errno } from '../uapi/errno.js';

/** Bytes of a kernel page. */
export const STREAM_PAGE_BYTES = 4096;

/** A FIFO of bytes with a fixed capacity. */
export interface ByteStream {
  /** Container id whose kernel pages hold the bytes (0 = the OS). */
  readonly owner: number;
  /** Largest number of buffered bytes. */
  readonly capacity: number;
  /** Bytes buffered. */
  readonly length: number;
  /** Bytes that can be appended now (capacity - length). */
  readonly space: number;
  /**
   * Append up to `length` bytes of user memory at `va` (at most `space`). Returns the bytes
   * appended, or -EFAULT (nothing appended) / -ENOMEM (no kernel page left, nothing appended);
   * a SealedStream may also say -EPERM, -EPIPE or -EIO (see there).
   */
  writeFromUser(ctx: SysCtx, va: number, length: number): number;
  /**
   * Copy up to `length` buffered bytes to user memory at `va`, consuming them unless `peek`.
   * Returns the bytes copied, or -EFAULT when nothing could be copied (a SealedStream: also -EIO
   * when the mini-OS refused the next frame).
   */
  readToUser(ctx: SysCtx, va: number, length: number, peek: boolean): number;
  /** Drop every buffered byte and give the pages back. */
  release(): void;
}

/** Make the stream of a pipe or socket direction owned by container `owner`. */
export type ByteStreamFactory = (ctx: SysCtx, owner: number, capacity: number) => ByteStream;

/** The default factory: a {@link PageRing}. */
export const newByteStream: ByteStreamFactory = (ctx, owner, capacity) =>
  new PageRing(ctx.kernel.pages, owner, capacity);

/**
 * -EPERM when a task of container `readerCid` would use kernel pages of context `ownerCid` under
 * the rcontainer design (they are reachable only in the owner's context), else 0.
 */
export function crossContextError(ctx: SysCtx, readerCid: number, ownerCid: number): number {
  return ctx.kernel.design === 'rcontainer' && readerCid !== ownerCid ? -Errno.EPERM : 0;
}

/** The page allocator a ring uses (KernelPages). */
interface PagePool {
  alloc(pe: SysCtx['pe'], owner: number): number | undefined;
  free(owner: number, va: number): void;
}

/**
 * A ring of `capacity / 4096` page slots. A slot's page is allocated when the writer first reaches
 * it and freed as soon as it holds no unread byte, so an empty stream holds no page.
 */
export class PageRing implements ByteStream {
  readonly owner: number;
  readonly capacity: number;
  private readonly pool: PagePool;
  /** Kernel VA of each slot's page (0 = no page). */
  private readonly slots: Float64Array;
  /** Ring position of the first unread byte. */
  private head = 0;
  private buffered = 0;

  constructor(pool: PagePool, owner: number, capacity: number) {
    if (!Number.isInteger(capacity / STREAM_PAGE_BYTES) || capacity <= 0) {
      throw new RangeError(`stream capacity ${capacity} is not a positive multiple of a page`);
    }
    this.pool = pool;
    this.owner = owner;
    this.capacity = capacity;
    this.slots = new Float64Array(capacity / STREAM_PAGE_BYTES);
  }

  get length(): number {
    return this.buffered;
  }

  get space(): number {
    return this.capacity - this.buffered;
  }

  /** Pages the ring holds now. */
  get pages(): number {
    return this.slots.reduce((n, kva) => (kva !== 0 ? n + 1 : n), 0);
  }

  writeFromUser(ctx: SysCtx, va: number, length: number): number {
    const total = Math.min(length, this.space);
    let done = 0;
    while (done < total) {
      const at = (this.head + this.buffered) % this.capacity;
      const slot = Math.floor(at / STREAM_PAGE_BYTES);
      const offset = at - slot * STREAM_PAGE_BYTES;
      const chunk = Math.min(total - done, STREAM_PAGE_BYTES - offset);
      let kva = this.slots[slot]!;
      if (kva === 0) {
        const page = this.pool.alloc(ctx.pe, this.owner);
        if (page === undefined) return done > 0 ? done : -Errno.ENOMEM;
        kva = page;
        this.slots[slot] = kva;
      }
      if (!ctx.userToKernel(va + done, kva + offset, chunk)) {
        this.freeEmptySlots();
        return done > 0 ? done : -Errno.EFAULT;
      }
      this.buffered += chunk;
      done += chunk;
    }
    return done;
  }

  readToUser(ctx: SysCtx, va: number, length: number, peek: boolean): number {
    const total = Math.min(length, this.buffered);
    let done = 0;
    let at = this.head;
    while (done < total) {
      const slot = Math.floor(at / STREAM_PAGE_BYTES);
      const offset = at - slot * STREAM_PAGE_BYTES;
      const chunk = Math.min(total - done, STREAM_PAGE_BYTES - offset);
      if (!ctx.kernelToUser(this.slots[slot]! + offset, va + done, chunk)) break;
      done += chunk;
      at = (at + chunk) % this.capacity;
    }
    if (!peek && done > 0) {
      this.head = at;
      this.buffered -= done;
      if (this.buffered === 0) this.head = 0;
      this.freeEmptySlots();
    }
    return done > 0 || total === 0 ? done : -Errno.EFAULT;
  }

  release(): void {
    this.head = 0;
    this.buffered = 0;
    this.freeEmptySlots();
  }

  /** Give back the page of every slot that holds no unread byte. */
  private freeEmptySlots(): void {
    for (let slot = 0; slot < this.slots.length; slot++) {
      const kva = this.slots[slot]!;
      if (kva !== 0 && !this.slotHoldsData(slot)) {
        this.pool.free(this.owner, kva);
        this.slots[slot] = 0;
      }
    }
  }

  /** True when the unread range [head, head + length) (mod capacity) meets slot `slot`. */
  private slotHoldsData(slot: number): boolean {
    if (this.buffered === 0) return false;
    const start = slot * STREAM_PAGE_BYTES;
    if (Math.floor(this.head / STREAM_PAGE_BYTES) === slot) return true;
    const distance = (start - this.head + this.capacity) % this.capacity;
    return distance < this.buffered;
  }
}
