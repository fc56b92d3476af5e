/**
 * The machine's console (the terminal behind /dev/console and /dev/tty) and its per-container logs.
 *
 * Output of the host and of a native kernel's containers is copied by the kernel. Under a design
 * that seals data leaving a container (Platform.sealsIpc), a container's console output is IPC to
 * the host and crosses as rc_ipc_out frames: in the container's context its bytes are staged in one
 * of its kernel pages and sealed into an OS page; in the OS context (an idle PE, where the host
 * endpoint speaks) the kernel accepts the channel and opens the frames into its own pages. A
 * container's first write therefore waits for the host to accept its channel.
 */
import type { ProcessingElement } from '../../hw/pe.js';
import { IPC_PAYLOAD_MAX, type Platform } from '../hooks.js';
import { Errno } from '../uapi/errno.js';
import type { SysCtx } from './ctx.js';
import { WaitQueue } from './wait.js';

/** A sealed frame waiting for the host to open it. */
interface QueuedFrame {
  readonly kva: number;
  readonly length: number;
}

/** The console stream of one context. */
interface ConsoleSink {
  /** Everything the context wrote, in order (host-side bytes). */
  readonly log: number[];
  /** rc_ipc_out channel of a container (undefined until its first write). */
  channel: number | undefined;
  accepted: boolean;
  readonly frames: QueuedFrame[];
  /** Writers waiting for the host to accept the channel. */
  readonly waiters: WaitQueue;
}

/** Counters of the console. */
export interface ConsoleStats {
  bytes: number;
  framesSealed: number;
  framesOpened: number;
  refusals: number;
}

/** The console device. */
export class ConsoleDevice {
  /** Everything written to the console, from every context, in the order the host saw it. */
  readonly output: number[] = [];
  readonly stats: ConsoleStats = { bytes: 0, framesSealed: 0, framesOpened: 0, refusals: 0 };
  private readonly sinks = new Map<number, ConsoleSink>();
  private readonly platform: Platform;
  private readonly input: Uint8Array;
  private inputAt = 0;
  private pending = false;

  constructor(platform: Platform, input: Uint8Array) {
    this.platform = platform;
    this.input = input;
  }

  /** What context `cid` (0 = host) wrote so far. */
  log(cid: number): readonly number[] {
    return this.sinks.get(cid)?.log ?? [];
  }

  /** True while sealed frames or channel consents wait for the OS context. */
  get hasHostWork(): boolean {
    return this.pending;
  }

  /** write(2) to the console by the task of `ctx`. */
  write(ctx: SysCtx, va: number, length: number): number {
    const cid = ctx.task.cid;
    const sink = this.sink(cid);
    if (!this.platform.sealsIpc(cid, 0)) {
      const data = ctx.copyIn(va, length);
      if (data === undefined) return -Errno.EFAULT;
      this.emit(sink, data);
      return length;
    }
    if (sink.channel === undefined) {
      const channel = this.platform.ipcConsent(ctx.pe, cid, 0);
      if (channel < 0) return -Errno.EIO;
      sink.channel = channel;
      this.pending = true;
    }
    if (!sink.accepted) return ctx.sleep(sink.waiters);
    return this.seal(ctx, cid, sink, va, length);
  }

  /** read(2) from the console: the machine's input, then end of input. */
  read(ctx: SysCtx, va: number, length: number): number {
    const n = Math.min(length, this.input.length - this.inputAt);
    if (n <= 0) return 0;
    if (!ctx.copyOut(va, this.input.subarray(this.inputAt, this.inputAt + n))) return -Errno.EFAULT;
    this.inputAt += n;
    return n;
  }

  /**
   * The host's side, on `pe` idle in the OS context: accept the channels containers offered and
   * open their frames into the logs, in order.
   */
  runHostWork(pe: ProcessingElement, kread: (kva: number, n: number) => Uint8Array | undefined): void {
    if (!this.pending) return;
    this.pending = false;
    for (const [cid, sink] of this.sinks) {
      if (sink.channel === undefined) continue;
      if (!sink.accepted) {
        if (this.platform.ipcConsent(pe, 0, cid, sink.channel) < 0) {
          this.stats.refusals++;
          continue;
        }
        sink.accepted = true;
        sink.waiters.wakeAll();
      }
      for (const frame of sink.frames.splice(0)) this.open(pe, cid, sink, frame, kread);
    }
  }

  private sink(cid: number): ConsoleSink {
    let sink = this.sinks.get(cid);
    if (sink === undefined) {
      sink = { log: [], channel: undefined, accepted: false, frames: [], waiters: new WaitQueue() };
      this.sinks.set(cid, sink);
    }
    return sink;
  }

  private emit(sink: ConsoleSink, data: Uint8Array): void {
    for (const byte of data) {
      sink.log.push(byte);
      this.output.push(byte);
    }
    this.stats.bytes += data.length;
  }

  /** In the container's context: stage and seal `length` bytes of user memory into OS frames. */
  private seal(ctx: SysCtx, cid: number, sink: ConsoleSink, va: number, length: number): number {
    const pages = ctx.kernel.pages;
    const stage = pages.alloc(ctx.pe, cid);
    if (stage === undefined) return -Errno.ENOMEM;
    let done = 0;
    try {
      while (done < length) {
        const n = Math.min(IPC_PAYLOAD_MAX, length - done);
        const frame = pages.alloc(ctx.pe, 0);
        if (frame === undefined) break;
        const sealed = ctx.userToKernel(va + done, stage, n)
          ? this.platform.ipcSeal(ctx.pe, cid, 0, sink.channel!, stage, n, frame, false)
          : -Errno.EFAULT;
        if (sealed < 0) {
          pages.free(0, frame);
          if (sealed !== -Errno.EFAULT) this.stats.refusals++;
          return done > 0 ? done : sealed === -Errno.EFAULT ? sealed : -Errno.EIO;
        }
        sink.frames.push({ kva: frame, length: sealed });
        this.stats.framesSealed++;
        this.pending = true;
        done += n;
      }
    } finally {
      pages.free(cid, stage);
    }
    return done > 0 ? done : -Errno.ENOMEM;
  }

  /** In the OS context: open one frame into a host page and append its bytes to the log. */
  private open(
    pe: ProcessingElement,
    cid: number,
    sink: ConsoleSink,
    frame: QueuedFrame,
    kread: (kva: number, n: number) => Uint8Array | undefined,
  ): void {
    const pages = this.platform.pages;
    const dst = pages.alloc(pe, 0);
    if (dst !== undefined) {
      const opened = this.platform.ipcOpen(pe, cid, 0, sink.channel!, frame.kva, frame.length, dst);
      if (typeof opened === 'number') this.stats.refusals++;
      else {
        const data = kread(dst, opened.bytes);
        if (data !== undefined) this.emit(sink, data);
        this.stats.framesOpened++;
      }
      pages.free(0, dst);
    }
    pages.free(0, frame.kva);
  }
}
