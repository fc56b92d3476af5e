/**
 * A stand-in for the rcontainer platform's sealed-IPC hooks (hooks.ts Platform "IPC leaving a
 * container") for the pipe and socket harness: the same contract as rc_ipc_out (consent from both
 * ends, per-direction sequence numbers, FIN, refusals EBADMSG / ESTALE / EPROTO / EPIPE) with a toy
 * cipher (SHA-256 keystream, truncated HMAC tag). The harness runs with the MMU off, so kernel VAs
 * are PAs. It cannot check which context a call comes from (the harness has no GPT views); the
 * SysCtx checks of SealedStream and the system tests cover that.
 */
import { createHash, createHmac } from 'node:crypto';
import type { ProcessingElement } from '../../../src/hw/pe.js';
import type { IpcPlatform } from '../../../src/kernel/core/ctx.js';
import { IPC_PAYLOAD_MAX } from '../../../src/kernel/hooks.js';

const HEADER = 32;
const TAG = 16;
const KEY = 'fake-ipc-key';

interface FakeChannel {
  readonly offerer: number;
  readonly peer: number;
  accepted: boolean;
  /** Next sequence number to seal / to open, and FIN seen, per sending endpoint. */
  readonly sent: Map<number, number>;
  readonly opened: Map<number, number>;
  readonly finSealed: Set<number>;
  readonly finOpened: Set<number>;
}

/** Calls made, by operation (to show what went through the platform). */
export interface FakeIpcCalls {
  offer: number;
  accept: number;
  seal: number;
  open: number;
  close: number;
}

/** The fake platform; `sealing` false makes it behave like native (sealsIpc always false). */
export class FakeIpc implements IpcPlatform {
  readonly calls: FakeIpcCalls = { offer: 0, accept: 0, seal: 0, open: 0, close: 0 };
  private readonly channels = new Map<number, FakeChannel>();
  private nextId = 1;
  private readonly sealing: boolean;

  constructor(sealing = true) {
    this.sealing = sealing;
  }

  /** Live (not closed) channels. */
  get openChannels(): number {
    return this.channels.size;
  }

  sealsIpc(from: number, to: number): boolean {
    return this.sealing && from !== to;
  }

  ipcConsent(_pe: ProcessingElement, self: number, peer: number, channel?: number): number {
    if (channel === undefined) {
      this.calls.offer++;
      const id = this.nextId++;
      this.channels.set(id, {
        offerer: self,
        peer,
        accepted: false,
        sent: new Map(),
        opened: new Map(),
        finSealed: new Set(),
        finOpened: new Set(),
      });
      return id;
    }
    this.calls.accept++;
    const c = this.channels.get(channel);
    if (c === undefined) return -2;
    if (c.peer !== self || c.offerer !== peer) return -1;
    if (c.accepted) return -16;
    c.accepted = true;
    return 0;
  }

  ipcSeal(
    pe: ProcessingElement,
    from: number,
    to: number,
    channel: number,
    srcKva: number,
    length: number,
    frameKva: number,
    fin: boolean,
  ): number {
    this.calls.seal++;
    const c = this.between(channel, from, to);
    if (typeof c === 'number') return c;
    if (length > IPC_PAYLOAD_MAX || length < 0) return -22;
    if (c.finSealed.has(from)) return -32;
    const payload = length === 0 ? new Uint8Array(0) : pe.readBytes(srcKva, length);
    if (payload === undefined) return -22;
    const seq = c.sent.get(from) ?? 0;
    const header = new Uint8Array(HEADER);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x46414b45);
    view.setUint32(4, channel, true);
    view.setUint32(8, seq, true);
    view.setUint32(12, length, true);
    view.setUint32(16, fin ? 1 : 0, true);
    view.setUint32(20, from, true);
    view.setUint32(24, to, true);
    const body = xor(payload, keystream(channel, from, seq, length));
    const tag = mac(header, body);
    const frame = new Uint8Array(HEADER + length + TAG);
    frame.set(header);
    frame.set(body, HEADER);
    frame.set(tag, HEADER + length);
    if (!pe.writeBytes(frameKva, frame)) return -22;
    c.sent.set(from, seq + 1);
    if (fin) c.finSealed.add(from);
    return frame.length;
  }

  ipcOpen(
    pe: ProcessingElement,
    from: number,
    to: number,
    channel: number,
    frameKva: number,
    frameLength: number,
    dstKva: number,
  ): { readonly bytes: number; readonly fin: boolean } | number {
    this.calls.open++;
    const c = this.between(channel, from, to);
    if (typeof c === 'number') return c;
    if (c.finOpened.has(from)) return -32;
    if (frameLength < HEADER + TAG || frameLength > HEADER + IPC_PAYLOAD_MAX + TAG) return -22;
    const frame = pe.readBytes(frameKva, frameLength);
    if (frame === undefined) return -22;
    const view = new DataView(frame.buffer, frame.byteOffset);
    const length = view.getUint32(12, true);
    if (view.getUint32(0) !== 0x46414b45 || HEADER + length + TAG !== frameLength) return -74;
    const header = frame.subarray(0, HEADER);
    const body = frame.subarray(HEADER, HEADER + length);
    const tag = frame.subarray(HEADER + length);
    if (Buffer.compare(Buffer.from(mac(header, body)), Buffer.from(tag)) !== 0) return -74;
    if (
      view.getUint32(4, true) !== channel ||
      view.getUint32(20, true) !== from ||
      view.getUint32(24, true) !== to
    )
      return -74;
    const seq = view.getUint32(8, true);
    const expected = c.opened.get(from) ?? 0;
    if (seq < expected) return -116;
    if (seq > expected) return -71;
    const fin = view.getUint32(16, true) === 1;
    if (length > 0 && !pe.writeBytes(dstKva, xor(body, keystream(channel, from, seq, length)))) return -22;
    c.opened.set(from, seq + 1);
    if (fin) c.finOpened.add(from);
    return { bytes: length, fin };
  }

  ipcClose(_pe: ProcessingElement, self: number, peer: number, channel: number): void {
    this.calls.close++;
    const c = this.channels.get(channel);
    if (c === undefined) return;
    if ((c.offerer === self && c.peer === peer) || (c.offerer === peer && c.peer === self))
      this.channels.delete(channel);
  }

  private between(channel: number, from: number, to: number): FakeChannel | number {
    const c = this.channels.get(channel);
    if (c === undefined) return -2;
    const ends = [c.offerer, c.peer];
    if (!ends.includes(from) || !ends.includes(to) || from === to) return -1;
    if (!c.accepted) return -1;
    return c;
  }
}

function keystream(channel: number, from: number, seq: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0, block = 0; at < length; block++, at += 32) {
    const digest = createHash('sha256').update(`${KEY}/${channel}/${from}/${seq}/${block}`).digest();
    out.set(digest.subarray(0, Math.min(32, length - at)), at);
  }
  return out;
}

function xor(data: Uint8Array, stream: Uint8Array): Uint8Array {
  return data.map((byte, i) => byte ^ stream[i]!);
}

function mac(header: Uint8Array, body: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', KEY).update(header).update(body).digest().subarray(0, TAG));
}
