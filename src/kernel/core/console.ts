/**
 * The machine's console (the terminal behind /dev/console and /dev/tty) and its per-container logs.
 *
 * Output of the host and of a native kernel's containers is copied by the kernel. Under a design
 * that seals data leaving a container (Platform.sealsIpc), a container's console output is IPC to
 * the host and crosses as rc_ipc_out frames: in the container's context its bytes are staged in one
 * of its kernel pages and sealed into an OS page; in the OS context (an idle PE, where the host
 * endpoint speaks) the kernel accepts the channel and opens the frames into its own pages. A
 * container's first write therefore waits for the host to accept its channel.
 *
 * A context's output is kept per session (0: the container's own; n: exec session n) and tagged
 * with its stream (1 stdout, 2 stderr), as runc's per-process stdio pipes would keep them apart.
 * The tag is a header in the sealed frame: the OS knows which descriptor wrote anyway.
 */
import type { ProcessingElement } from '../../hw/pe.js';
import { IPC_PAYLOAD_MAX, type Platform } from '../hooks.js';
import { Errno } from '../uapi/errno.js';
import type { SysCtx } from './ctx.js';
import type { StdioTag } from './file.js';
import { WaitQueue } from './wait.js';

/** Bytes of the stream header in a sealed console frame: session (u32 LE), stream (u8). */
const TAG_BYTES = 5;
/** Where writes without a tag go: the container's stdout. */
const DEFAULT_TAG: StdioTag = { session: 0, stream: 1 };

/** A run of output of one stream, in the order the host saw it. */
export interface ConsoleChunk {
  readonly stream: 1 | 2;
  readonly bytes: Uint8Array;
}

/** Bytes an open session may have queued and unread (the host waits beyond it). */
export const MAX_QUEUED_INPUT = 1 << 20;

/** A session's own input: chunks the host gave, read in order. */
interface SessionInput {
  readonly queue: Uint8Array[];
  /** Offset in queue[0]. */
  at: number;
  /** Bytes queued and not read. */
  queued: number;
  /** More may be pushed (else end of input after the queue). */
  open: boolean;
  /** TCGETS answers as a terminal; undefined: as the machine console (yes). */
  readonly terminal: boolean | undefined;
  /** Readers waiting for input. */
  readonly waiters: WaitQueue;
}

/** The output of one session not yet taken by the host (drain). */
interface SessionLog {
  chunks: ConsoleChunk[];
}

/** A sealed frame waiting for the host to open it. */
interface QueuedFrame {
  readonly kva: number;
  readonly length: number;
}

/** The console stream of one context. */
interface ConsoleSink {
  /** What the context wrote (host-side bytes), per session. */
  readonly sessions: Map<number, SessionLog>;
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
  /**
   * Everything written to the console, from every context, in the order the host saw it (the
   * terminal's transcript); empty when the machine keeps no transcript (a long-lived daemon).
   */
  readonly output: number[] = [];
  readonly stats: ConsoleStats = { bytes: 0, framesSealed: 0, framesOpened: 0, refusals: 0 };
  private readonly sinks = new Map<number, ConsoleSink>();
  private readonly platform: Platform;
  private readonly input: Uint8Array;
  private inputAt = 0;
  /** Input of the sessions the runtime gave one, by inputKey. */
  private readonly inputs = new Map<string, SessionInput>();
  private pending = false;

  private readonly keepOutput: boolean;

  constructor(platform: Platform, input: Uint8Array, keepOutput = true) {
    this.platform = platform;
    this.input = input;
    this.keepOutput = keepOutput;
  }

  /** What context `cid` (0 = host) wrote in `session` and the host has not drained, both streams. */
  log(cid: number, session = 0): readonly number[] {
    return this.chunks(cid, session).flatMap((chunk) => [...chunk.bytes]);
  }

  /** The same output as runs tagged with their stream (stdout 1, stderr 2). */
  chunks(cid: number, session = 0): readonly ConsoleChunk[] {
    return this.sinks.get(cid)?.sessions.get(session)?.chunks ?? [];
  }

  /** Take the output of a session: the host has it now (its memory here is given up). */
  drain(cid: number, session = 0): ConsoleChunk[] {
    const log = this.sinks.get(cid)?.sessions.get(session);
    if (log === undefined) return [];
    const taken = log.chunks;
    log.chunks = [];
    return taken;
  }

  /** Forget one session of context `cid` (its process is gone): its input and undrained output. */
  forgetSession(cid: number, session: number): void {
    this.sinks.get(cid)?.sessions.delete(session);
    this.inputs.get(inputKey(cid, session))?.waiters.wakeAll();
    this.inputs.delete(inputKey(cid, session));
  }

  /** Forget context `cid` (destroyed): its undrained output, unopened frames and channel. */
  forget(cid: number): void {
    const sink = this.sinks.get(cid);
    if (sink === undefined) return;
    for (const frame of sink.frames) this.platform.pages.free(0, frame.kva);
    this.sinks.delete(cid);
    for (const key of [...this.inputs.keys()]) if (key.startsWith(`${cid}:`)) this.inputs.delete(key);
  }

  /** True while sealed frames or channel consents wait for the OS context. */
  get hasHostWork(): boolean {
    return this.pending;
  }

  /** write(2) to the console by the task of `ctx`, as stream `tag`. */
  write(ctx: SysCtx, va: number, length: number, tag: StdioTag = DEFAULT_TAG): number {
    const cid = ctx.task.cid;
    const sink = this.sink(cid);
    if (!this.platform.sealsIpc(cid, 0)) {
      const data = ctx.copyIn(va, length);
      if (data === undefined) return -Errno.EFAULT;
      this.emit(sink, data, tag);
      return length;
    }
    if (sink.channel === undefined) {
      const channel = this.platform.ipcConsent(ctx.pe, cid, 0);
      if (channel < 0) return -Errno.EIO;
      sink.channel = channel;
      this.pending = true;
    }
    if (!sink.accepted) return ctx.sleep(sink.waiters);
    return this.seal(ctx, cid, sink, va, length, tag);
  }

  /**
   * read(2) from the console, as stream `tag`: a session's own input when the runtime gave it one
   * (`run -i`, `exec -i`), else the machine's input; then end of input. A session whose input is
   * still open and has nothing queued blocks the reader until the host pushes more or closes it,
   * as a terminal or a pipe does.
   */
  read(ctx: SysCtx, va: number, length: number, tag?: StdioTag): number {
    const own = tag === undefined ? undefined : this.inputs.get(inputKey(ctx.task.cid, tag.session));
    if (own === undefined) {
      const n = Math.min(length, this.input.length - this.inputAt);
      if (n <= 0) return 0;
      if (!ctx.copyOut(va, this.input.subarray(this.inputAt, this.inputAt + n))) return -Errno.EFAULT;
      this.inputAt += n;
      return n;
    }
    const head = own.queue[0];
    if (head === undefined) return own.open ? ctx.sleep(own.waiters) : 0;
    // One pushed chunk at most per read, as a terminal hands over one line at a time.
    const n = Math.min(length, head.length - own.at);
    if (!ctx.copyOut(va, head.subarray(own.at, own.at + n))) return -Errno.EFAULT;
    own.at += n;
    own.queued -= n;
    if (own.at === head.length) {
      own.queue.shift();
      own.at = 0;
    }
    return n;
  }

  /**
   * Give session `session` of context `cid` its own input: `bytes`, then end of input, or, with
   * `open`, whatever the host pushes later ({@link pushInput}) until it closes it. `terminal` says
   * whether the session's descriptors answer TCGETS as a terminal (`-t`) or not.
   */
  setInput(
    cid: number,
    session: number,
    bytes: Uint8Array,
    options: { open?: boolean; terminal?: boolean } = {},
  ): void {
    const queue = bytes.length > 0 ? [bytes.slice()] : [];
    this.inputs.get(inputKey(cid, session))?.waiters.wakeAll();
    this.inputs.set(inputKey(cid, session), {
      queue,
      at: 0,
      queued: bytes.length,
      open: options.open === true,
      terminal: options.terminal,
      waiters: new WaitQueue(),
    });
  }

  /**
   * More input for an open session (the host's side of its terminal or pipe): false when the
   * session has no open input or more than {@link MAX_QUEUED_INPUT} bytes wait unread.
   */
  pushInput(cid: number, session: number, bytes: Uint8Array): boolean {
    const input = this.inputs.get(inputKey(cid, session));
    if (input === undefined || !input.open || input.queued + bytes.length > MAX_QUEUED_INPUT) return false;
    if (bytes.length === 0) return true;
    input.queue.push(bytes.slice());
    input.queued += bytes.length;
    input.waiters.wakeAll();
    return true;
  }

  /**
   * Push the host's queued chunks (`pending`, oldest first) into an open session's input as far
   * as its limit allows, splitting a chunk at the limit; what went in leaves `pending`. True when
   * `pending` is empty afterwards.
   */
  pushPending(cid: number, session: number, pending: Uint8Array[]): boolean {
    const input = this.inputs.get(inputKey(cid, session));
    if (input === undefined || !input.open) return pending.length === 0;
    while (pending.length > 0) {
      const room = MAX_QUEUED_INPUT - input.queued;
      if (room <= 0) break;
      const chunk = pending[0]!;
      this.pushInput(cid, session, chunk.subarray(0, room));
      if (chunk.length <= room) pending.shift();
      else pending[0] = chunk.subarray(room);
    }
    return pending.length === 0;
  }

  /** End of input for a session: its readers get what is queued, then 0. */
  closeInput(cid: number, session: number): void {
    const input = this.inputs.get(inputKey(cid, session));
    if (input === undefined || !input.open) return;
    input.open = false;
    input.waiters.wakeAll();
  }

  /** True while a session's input is open (more may come); then a blocked reader may still wake. */
  inputOpen(cid: number, session: number): boolean {
    return this.inputs.get(inputKey(cid, session))?.open === true;
  }

  /**
   * Whether a session's descriptors are a terminal: as the runtime said when it gave the session
   * input, else true (the machine console is a terminal).
   */
  isTerminal(cid: number, session: number): boolean {
    return this.inputs.get(inputKey(cid, session))?.terminal ?? true;
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
      sink = {
        sessions: new Map(),
        channel: undefined,
        accepted: false,
        frames: [],
        waiters: new WaitQueue(),
      };
      this.sinks.set(cid, sink);
    }
    return sink;
  }

  private emit(sink: ConsoleSink, data: Uint8Array, tag: StdioTag): void {
    let log = sink.sessions.get(tag.session);
    if (log === undefined) {
      log = { chunks: [] };
      sink.sessions.set(tag.session, log);
    }
    if (this.keepOutput) for (const byte of data) this.output.push(byte);
    log.chunks.push({ stream: tag.stream, bytes: data.slice() });
    this.stats.bytes += data.length;
  }

  /**
   * In the container's context: stage and seal `length` bytes of user memory into OS frames, each
   * behind the stream header of `tag`.
   */
  private seal(
    ctx: SysCtx,
    cid: number,
    sink: ConsoleSink,
    va: number,
    length: number,
    tag: StdioTag,
  ): number {
    const pages = ctx.kernel.pages;
    const stage = pages.alloc(ctx.pe, cid);
    if (stage === undefined) return -Errno.ENOMEM;
    let done = 0;
    try {
      if (!ctx.kwrite(stage, encodeTag(tag))) return -Errno.EFAULT;
      while (done < length) {
        const n = Math.min(IPC_PAYLOAD_MAX - TAG_BYTES, length - done);
        const frame = pages.alloc(ctx.pe, 0);
        if (frame === undefined) break;
        const sealed = ctx.userToKernel(va + done, stage + TAG_BYTES, n)
          ? this.platform.ipcSeal(ctx.pe, cid, 0, sink.channel!, stage, TAG_BYTES + n, frame, false)
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
        const tag = data === undefined ? undefined : decodeTag(data);
        if (data === undefined || tag === undefined) this.stats.refusals++;
        else this.emit(sink, data.subarray(TAG_BYTES), tag);
        this.stats.framesOpened++;
      }
      pages.free(0, dst);
    }
    pages.free(0, frame.kva);
  }
}

function inputKey(cid: number, session: number): string {
  return `${cid}:${session}`;
}

function encodeTag(tag: StdioTag): Uint8Array {
  const header = new Uint8Array(TAG_BYTES);
  new DataView(header.buffer).setUint32(0, tag.session, true);
  header[4] = tag.stream;
  return header;
}

/** The stream header of an opened frame (undefined if it is not one). */
function decodeTag(data: Uint8Array): StdioTag | undefined {
  if (data.length < TAG_BYTES || (data[4] !== 1 && data[4] !== 2)) return undefined;
  const session = new DataView(data.buffer, data.byteOffset, TAG_BYTES).getUint32(0, true);
  return { session, stream: data[4] };
}
