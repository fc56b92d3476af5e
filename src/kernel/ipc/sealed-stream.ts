/**
 * Sealed streams: the byte stream of a pipe or socket direction whose writer and reader run in
 * different contexts under the rcontainer design (a container and another container, or a container
 * and the host, cid 0). DESIGN.md §4 "I/O": fd-based IPC that leaves a container is sealed by the
 * mini-OS (rc_ipc_out, minios/abi.ts), so the bytes never sit in memory the other side's kernel
 * context, the OS or a device could read in plaintext.
 *
 * The path of a byte, writer context A → reader context B:
 *
 *   A's user buffer ─(PE copy, in A's context)→ A's staging page (a kernel page of A)
 *     ─(ipcSeal, rc_ipc_out Seal)→ a frame in an OS kernel page (owner 0: readable in every view)
 *     … queued here, in order …
 *   ─(ipcOpen in B's context, rc_ipc_out Open)→ B's hold page (a kernel page of B)
 *     ─(PE copy, in B's context)→ B's user buffer
 *
 * Several frames share an OS page when they fit (a frame is its payload + 48 bytes, at most one
 * page). What a read does not take of an opened frame stays in B's hold page for the next read; the
 * kernel's JS objects hold page addresses and counters, never payload bytes (DESIGN.md §3).
 *
 * Consent: the mini-OS seals and opens only on a channel both ends consented to. A socket
 * connection gets its {@link SealedChannel} at connect (the connecting context offers) and accept
 * (the accepting context accepts); the channel carries both directions, each with its own sequence
 * numbers. Until the accept, the stream reports no space, so a writer blocks (or gets EAGAIN) as
 * it would on a full buffer. SIMPLIFICATION: Linux lets a client write to a loopback connection
 * that is still in the accept queue; here the client waits for the accept.
 *
 * Failures: a frame the mini-OS refuses to open (tampered, replayed, reordered or lost: EBADMSG,
 * ESTALE, EPROTO) stays at the head of the queue and every read fails with EIO: the stream cannot
 * go past bytes it cannot vouch for. End of stream: shutdown(SHUT_WR) seals a FIN frame, which the
 * reader opens when it reaches the end. close(2), exec and exit seal it too when they run in the
 * writer's context; a socket that dies otherwise (its process killed while not running) ends
 * without one, and the end of that stream is the kernel's word.
 */
import type { IpcPlatform, KernelPages, SysCtx } from '../core/ctx.js';
import { IPC_PAYLOAD_MAX } from '../hooks.js';
import { Errno } from '../uapi/errno.js';
import { crossContextError, newByteStream, STREAM_PAGE_BYTES, type ByteStream } from './byte-stream.js';

/** Bytes a frame adds to its payload (rc_ipc_out: 32-byte header, 16-byte tag). */
export const FRAME_OVERHEAD = STREAM_PAGE_BYTES - IPC_PAYLOAD_MAX;
/**
 * Smallest payload worth splitting a write for, to fill the rest of a frame page (smaller pieces
 * go to a fresh page instead: a frame that small costs more in overhead than it saves).
 */
const MIN_SPLIT_PAYLOAD = 256;
/** mini-OS refusals of rc_ipc_out (minios/abi.ts RcError) the kernel reports differently. */
const RC_ENOENT = -2;
const RC_EPIPE = -32;

/** How bytes from one context reach another: plain copies, sealed frames, or a refusal (-errno). */
export type Crossing = 'plain' | 'sealed' | number;

/**
 * How a stream written in context `from` and read in context `to` must be built: 'sealed' when the
 * platform seals IPC between them, 'plain' when the kernel may copy (same context, or a design
 * without isolation), -EPERM when the contexts differ under rcontainer and nothing can seal (a
 * kernel without the platform hooks).
 */
export function crossingOf(ctx: SysCtx, from: number, to: number): Crossing {
  if (from === to) return 'plain';
  if (ctx.kernel.platform?.sealsIpc(from, to) === true) return 'sealed';
  const refused = crossContextError(ctx, to, from);
  return refused !== 0 ? refused : 'plain';
}

/**
 * The consent of two contexts to carry stream bytes between them (one rc_ipc_out channel, both
 * directions). Made by {@link SealedChannel.offer} in the offering context; usable once the other
 * context called {@link accept}.
 */
export class SealedChannel {
  /** Channel id the mini-OS gave. */
  readonly id: number;
  /** The context that offered (a connecting socket's) and the one that must accept. */
  readonly offerer: number;
  readonly acceptor: number;
  private readonly platform: IpcPlatform;
  /** Both ends consented. */
  accepted = false;
  /** An end dropped the channel (rc_ipc_out Close): nothing more can be sealed or opened. */
  closed = false;

  private constructor(platform: IpcPlatform, id: number, offerer: number, acceptor: number) {
    this.platform = platform;
    this.id = id;
    this.offerer = offerer;
    this.acceptor = acceptor;
  }

  /**
   * Offer a channel from context `self` (the caller must run in it) to `peer`: the channel, or
   * -errno (-EPERM when the kernel has no platform hooks, or the mini-OS refused).
   */
  static offer(ctx: SysCtx, self: number, peer: number): SealedChannel | number {
    const platform = ctx.kernel.platform;
    if (platform === undefined || ctx.task.cid !== self) return -Errno.EPERM;
    const id = platform.ipcConsent(ctx.pe, self, peer);
    if (id < 0) return id;
    return new SealedChannel(platform, id, self, peer);
  }

  /** The acceptor's consent, given in its context: 0 (also when already given), or -errno. */
  accept(ctx: SysCtx): number {
    if (this.accepted) return 0;
    if (this.closed || ctx.task.cid !== this.acceptor) return -Errno.EPERM;
    const result = this.platform.ipcConsent(ctx.pe, this.acceptor, this.offerer, this.id);
    if (result < 0) return result;
    this.accepted = true;
    return 0;
  }

  /** Drop the channel from an end's context (no-op when closed or not called from an end). */
  close(ctx: SysCtx): void {
    const self = ctx.task.cid;
    if (this.closed || (self !== this.offerer && self !== this.acceptor)) return;
    this.platform.ipcClose(ctx.pe, self, this.peerOf(self), this.id);
    this.closed = true;
  }

  /** The other end of `self`. */
  peerOf(self: number): number {
    return self === this.offerer ? this.acceptor : this.offerer;
  }
}

/** An OS page holding frames. */
interface FramePage {
  readonly kva: number;
  /** Frames in it not opened yet. */
  live: number;
}

/** A queued frame. */
interface Frame {
  readonly page: FramePage;
  /** Kernel VA of the frame and its size. */
  readonly kva: number;
  readonly bytes: number;
  /** Payload bytes it carries (0 for a FIN frame). */
  readonly payload: number;
}

/** A stream whose bytes cross from context `from` to context `to` as frames sealed by the mini-OS. */
export class SealedStream implements ByteStream {
  /** The frames live in OS pages. */
  readonly owner = 0;
  readonly capacity: number;
  /** Writer and reader contexts. */
  readonly from: number;
  readonly to: number;
  readonly channel: SealedChannel;
  private readonly pool: KernelPages;
  private readonly platform: IpcPlatform;
  /** Most OS pages the queued frames may take (small writes waste room; this bounds them). */
  private readonly maxPages: number;
  private readonly frames: Frame[] = [];
  private readonly pages: FramePage[] = [];
  /** Bytes used of the last page of `pages` (where the next frame goes if it fits). */
  private tailUsed = 0;
  /** Payload bytes queued in frames plus those waiting in the hold page. */
  private buffered = 0;
  /** A page of `from` that holds plaintext on its way to being sealed (0 = none yet). */
  private stage = 0;
  /** A page of `to` holding the unread rest of the last opened frame: [holdAt, holdAt + holdLength). */
  private hold = 0;
  private holdAt = 0;
  private holdLength = 0;
  /** The reader opened a FIN frame (the writer's authenticated end of the stream). */
  finOpened = false;
  /** The writer sealed a FIN: nothing more may be written. */
  finSealed = false;

  constructor(ctx: SysCtx, channel: SealedChannel, from: number, to: number, capacity: number) {
    if (!Number.isInteger(capacity / STREAM_PAGE_BYTES) || capacity <= 0) {
      throw new RangeError(`stream capacity ${capacity} is not a positive multiple of a page`);
    }
    const platform = ctx.kernel.platform;
    if (platform === undefined) throw new Error('sealed stream: the kernel has no IPC platform hooks');
    const ends = [channel.offerer, channel.acceptor];
    if (from === to || !ends.includes(from) || !ends.includes(to)) {
      throw new Error(`sealed stream ${from} → ${to} is not a direction of channel ${channel.id}`);
    }
    this.pool = ctx.kernel.pages;
    this.platform = platform;
    this.channel = channel;
    this.from = from;
    this.to = to;
    this.capacity = capacity;
    this.maxPages = (2 * capacity) / STREAM_PAGE_BYTES;
  }

  get length(): number {
    return this.buffered;
  }

  /** 0 until both ends consented, after a FIN, or while the frame pages are all taken. */
  get space(): number {
    const usable = this.channel.accepted && !this.channel.closed && !this.finSealed;
    const pageRoom = this.pages.length < this.maxPages || this.tailRoom() >= MIN_SPLIT_PAYLOAD;
    return usable && pageRoom ? this.capacity - this.buffered : 0;
  }

  /** OS pages holding frames now, or kept empty for the next frame (for tests and accounting). */
  get framePages(): readonly number[] {
    return this.pages.map((page) => page.kva);
  }

  /** Kernel VAs and sizes of the queued frames, oldest first (for tests: they are ciphertext). */
  get queuedFrames(): readonly { readonly kva: number; readonly bytes: number }[] {
    return this.frames.map(({ kva, bytes }) => ({ kva, bytes }));
  }

  /**
   * In the writer's context: seal up to `length` bytes of user memory at `va` (at most `space`).
   * The bytes taken, or -EFAULT / -ENOMEM / -EPERM (wrong context or no consent) / -EPIPE (the
   * channel is gone) / -EIO (the mini-OS refused to seal) when nothing was taken.
   */
  writeFromUser(ctx: SysCtx, va: number, length: number): number {
    if (ctx.task.cid !== this.from || !this.channel.accepted) return -Errno.EPERM;
    if (this.channel.closed || this.finSealed) return -Errno.EPIPE;
    const total = Math.min(length, this.space);
    let done = 0;
    while (done < total) {
      const placed = this.placeFrame(ctx, total - done);
      if (typeof placed === 'number') return done > 0 ? done : placed;
      const { page, offset, payload } = placed;
      if (!this.haveStage(ctx)) return this.dropEmptyTail(done, -Errno.ENOMEM);
      if (!ctx.userToKernel(va + done, this.stage, payload)) return this.dropEmptyTail(done, -Errno.EFAULT);
      const sealed = this.seal(ctx, this.stage, payload, page.kva + offset, false);
      if (sealed < 0) return this.dropEmptyTail(done, sealed);
      this.frames.push({ page, kva: page.kva + offset, bytes: sealed, payload });
      page.live++;
      this.tailUsed = offset + sealed;
      this.buffered += payload;
      done += payload;
    }
    return done;
  }

  /**
   * In the writer's context: seal a FIN frame (shutdown(SHUT_WR)): 0, or -errno when it could not
   * be sealed (no consent yet, no page, channel gone). Idempotent.
   */
  sealFin(ctx: SysCtx): number {
    if (this.finSealed) return 0;
    if (ctx.task.cid !== this.from || !this.channel.accepted || this.channel.closed) return -Errno.EPERM;
    const placed = this.placeFrame(ctx, 0);
    if (typeof placed === 'number') return placed;
    const { page, offset } = placed;
    if (!this.haveStage(ctx)) return this.dropEmptyTail(0, -Errno.ENOMEM);
    const sealed = this.seal(ctx, this.stage, 0, page.kva + offset, true);
    if (sealed < 0) return this.dropEmptyTail(0, sealed);
    this.frames.push({ page, kva: page.kva + offset, bytes: sealed, payload: 0 });
    page.live++;
    this.tailUsed = offset + sealed;
    this.finSealed = true;
    return 0;
  }

  /**
   * In the reader's context: copy up to `length` bytes to user memory at `va`, consuming them
   * unless `peek` (a peek returns at most the rest of one frame). The bytes copied, or -EFAULT,
   * -EPERM (wrong context) or -EIO (the next frame was refused) when nothing was copied.
   */
  readToUser(ctx: SysCtx, va: number, length: number, peek: boolean): number {
    if (ctx.task.cid !== this.to) return -Errno.EPERM;
    const total = Math.min(length, this.buffered);
    let done = 0;
    while (done < total) {
      if (this.holdLength === 0) {
        const opened = this.openNext(ctx);
        if (opened < 0) return done > 0 ? done : opened;
        continue;
      }
      const chunk = Math.min(total - done, this.holdLength);
      if (!ctx.kernelToUser(this.hold + this.holdAt, va + done, chunk)) break;
      done += chunk;
      if (peek) break;
      this.holdAt += chunk;
      this.holdLength -= chunk;
      this.buffered -= chunk;
    }
    return done > 0 || total === 0 ? done : -Errno.EFAULT;
  }

  /**
   * In the reader's context, when it has reached the end of the stream: open what is left (a FIN
   * frame), and with `peerGone` (the other end closed its socket: nobody reads the other direction
   * any more) drop the channel. 0, or -EIO when a frame was refused.
   */
  finish(ctx: SysCtx, peerGone: boolean): number {
    if (ctx.task.cid !== this.to) return 0;
    while (this.buffered === 0 && this.frames.length > 0) {
      const opened = this.openNext(ctx);
      if (opened < 0) return opened;
    }
    if (peerGone && this.buffered === 0) this.channel.close(ctx);
    return 0;
  }

  release(): void {
    for (const page of this.pages) this.pool.free(0, page.kva);
    this.pages.length = 0;
    this.frames.length = 0;
    this.tailUsed = 0;
    this.buffered = 0;
    this.holdAt = 0;
    this.holdLength = 0;
    if (this.stage !== 0) this.pool.free(this.from, this.stage);
    if (this.hold !== 0) this.pool.free(this.to, this.hold);
    this.stage = 0;
    this.hold = 0;
  }

  /** Make sure the staging page of the writer exists (allocated in its context); false if no memory. */
  private haveStage(ctx: SysCtx): boolean {
    if (this.stage === 0) this.stage = this.pool.alloc(ctx.pe, this.from) ?? 0;
    return this.stage !== 0;
  }

  /** Free room for a frame's payload in the tail page (-1 when there is no tail page). */
  private tailRoom(): number {
    return this.pages.length === 0 ? -1 : STREAM_PAGE_BYTES - this.tailUsed - FRAME_OVERHEAD;
  }

  /**
   * Where the next frame goes, for up to `wanted` payload bytes: the rest of the tail page when the
   * whole payload, or at least MIN_SPLIT_PAYLOAD bytes of it, fits; else a fresh OS page. The page,
   * the offset in it and the payload bytes to seal there, or -ENOMEM.
   */
  private placeFrame(
    ctx: SysCtx,
    wanted: number,
  ): { page: FramePage; offset: number; payload: number } | number {
    const room = this.tailRoom();
    if (room >= Math.min(wanted, MIN_SPLIT_PAYLOAD)) {
      return {
        page: this.pages[this.pages.length - 1]!,
        offset: this.tailUsed,
        payload: Math.min(wanted, room),
      };
    }
    if (this.pages.length >= this.maxPages) return -Errno.ENOMEM;
    const kva = this.pool.alloc(ctx.pe, 0);
    if (kva === undefined) return -Errno.ENOMEM;
    const page: FramePage = { kva, live: 0 };
    this.pages.push(page);
    this.tailUsed = 0;
    return { page, offset: 0, payload: Math.min(wanted, IPC_PAYLOAD_MAX) };
  }

  /** Seal through the platform: the frame's size, or -errno (the kernel's view of the refusal). */
  private seal(ctx: SysCtx, srcKva: number, payload: number, frameKva: number, fin: boolean): number {
    const { channel } = this;
    const sealed = this.platform.ipcSeal(
      ctx.pe,
      this.from,
      this.to,
      channel.id,
      srcKva,
      payload,
      frameKva,
      fin,
    );
    if (sealed >= 0) return sealed;
    if (sealed === RC_ENOENT || sealed === RC_EPIPE) return -Errno.EPIPE;
    return sealed === -Errno.EPERM ? -Errno.EPERM : -Errno.EIO;
  }

  /** After a failed step of a write: free a tail page that got no frame; `done` or `error`. */
  private dropEmptyTail(done: number, error: number): number {
    const tail = this.pages[this.pages.length - 1];
    if (tail !== undefined && tail.live === 0) {
      this.pages.pop();
      this.pool.free(0, tail.kva);
      const previous = this.frames[this.frames.length - 1];
      this.tailUsed = previous === undefined ? 0 : previous.kva - previous.page.kva + previous.bytes;
    }
    return done > 0 ? done : error;
  }

  /**
   * Open the oldest frame into the hold page (allocated on first use, in the reader's context):
   * 0, or -ENOMEM / -EIO (refused: the frame stays queued). A FIN frame sets finOpened.
   */
  private openNext(ctx: SysCtx): number {
    const frame = this.frames[0];
    if (frame === undefined) return -Errno.EIO;
    if (this.hold === 0) {
      const hold = this.pool.alloc(ctx.pe, this.to);
      if (hold === undefined) return -Errno.ENOMEM;
      this.hold = hold;
    }
    const { channel } = this;
    const opened = this.platform.ipcOpen(
      ctx.pe,
      this.from,
      this.to,
      channel.id,
      frame.kva,
      frame.bytes,
      this.hold,
    );
    if (typeof opened === 'number' || opened.bytes !== frame.payload) return -Errno.EIO;
    this.frames.shift();
    if (opened.fin) this.finOpened = true;
    this.holdAt = 0;
    this.holdLength = opened.bytes;
    const page = frame.page;
    // Frames are opened in the order they were placed, so a page whose frames are all opened holds
    // nothing more. If it is the tail page, it is the only page left: it stays, refilled from its
    // start by the next frame (what is left in it is ciphertext), which spares a page allocation
    // and scrub per message of a request-response exchange.
    page.live--;
    if (page.live === 0) {
      if (page === this.pages[this.pages.length - 1]) this.tailUsed = 0;
      else {
        this.pages.splice(this.pages.indexOf(page), 1);
        this.pool.free(0, page.kva);
      }
    }
    return 0;
  }
}

/**
 * The stream for bytes written in context `from` and read in context `to`: a {@link SealedStream}
 * on `channel` when they cross a context boundary under sealing, else the default plain stream
 * owned by `to`.
 */
export function streamBetween(
  ctx: SysCtx,
  from: number,
  to: number,
  capacity: number,
  channel: SealedChannel | undefined,
): ByteStream {
  if (channel !== undefined && from !== to) return new SealedStream(ctx, channel, from, to, capacity);
  return newByteStream(ctx, to, capacity);
}
