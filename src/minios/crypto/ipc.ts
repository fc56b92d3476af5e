/**
 * Sealed IPC frames for rc_ipc_out (spec/rcontainer.md; attacks.md #12): data that leaves a
 * container through fd-based IPC (pipes, UNIX sockets, loopback) crosses kernel buffers, so the
 * mini-OS seals it at the sending end and opens it at the receiving end. The kernel can still drop
 * frames (denial of service is unavoidable) but cannot read, alter, inject, replay, reorder, cut,
 * reflect or redirect them without the receiver noticing.
 *
 * A channel joins two endpoints: container ids, or {@link HOST_ENDPOINT} for the OS side. Each end
 * keeps its own **channel state** (128 bytes, {@link IPC_CHANNEL_STATE_BYTES}) in mini-OS memory:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | magic "RCIC" |
 * | 4 | 2 | format = 1 |
 * | 6 | 1 | flags: bit 0 = FIN sent (send side closed), bit 1 = FIN received (receive side closed) |
 * | 7 | 1 | reserved, 0 |
 * | 8 | 4 | channel id |
 * | 12 | 4 | local endpoint |
 * | 16 | 4 | peer endpoint |
 * | 20 | 4 | reserved, 0 |
 * | 24 | 8 | next sequence number to send |
 * | 32 | 8 | next sequence number expected |
 * | 40 | 32 | send key (local → peer, keys.ts `deriveIpcKey`) |
 * | 72 | 32 | receive key (peer → local) |
 * | 104 | 24 | reserved, 0 |
 *
 * **Frame** = 32-byte header ‖ ciphertext (payload length) ‖ 16-byte GCM tag; the header is the
 * associated data:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | magic "RCIF" |
 * | 4 | 2 | format = 1 |
 * | 6 | 1 | flags: bit 0 = FIN (last frame of this direction) |
 * | 7 | 1 | reserved, 0 |
 * | 8 | 4 | channel id |
 * | 12 | 4 | sender endpoint |
 * | 16 | 4 | receiver endpoint |
 * | 20 | 4 | payload length (0..{@link IPC_MAX_PAYLOAD}) |
 * | 24 | 8 | sequence number |
 *
 * Nonce = u32 channel id ‖ u64 sequence number. Each direction has its own key and its own strictly
 * increasing counter, so no (key, nonce) pair repeats. Delivery is strictly in order: the receiver
 * accepts only the next sequence number; a smaller one is a replay, a larger one means a frame was
 * dropped or reordered. The FIN flag lets a receiver tell a cleanly closed stream from one the
 * kernel cut short (stream truncation); a frame cut short in bytes is refused as `Truncated`.
 *
 * Cost: one AES-GCM pass over the payload plus 32 bytes of AAD per seal and per open; no hashing.
 */
import {
  asciiBytes,
  isU32,
  isZero,
  matchesAt,
  readU16,
  readU32,
  readU64,
  writeU16,
  writeU32,
  writeU64,
} from './bytes.js';
import { deriveIpcKey } from './keys.js';
import { aesGcmDecrypt, aesGcmEncryptInto, GCM_NONCE_BYTES, GCM_TAG_BYTES } from './primitives.js';

/** Endpoint id of the host side (the untrusted OS); containers are 1..2^32-1 (abi.ts uses 0 for the OS). */
export const HOST_ENDPOINT = 0;
/** Bytes of one end's channel state. */
export const IPC_CHANNEL_STATE_BYTES = 128;
/** Bytes of a frame header. */
export const IPC_FRAME_HEADER_BYTES = 32;
/** Bytes of a frame's tag. */
export const IPC_TAG_BYTES = GCM_TAG_BYTES;
/** Largest payload of one frame (16 granules, a pipe buffer); callers split larger writes. */
export const IPC_MAX_PAYLOAD = 65_536;
/** Largest sequence number (frames per direction); far beyond any run. */
export const IPC_MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

const STATE_MAGIC = asciiBytes('RCIC');
const FRAME_MAGIC = asciiBytes('RCIF');
const FORMAT = 1;
const FLAG_SEND_CLOSED = 1;
const FLAG_RECV_CLOSED = 2;
const FRAME_FLAG_FIN = 1;
/** Field offsets of the channel state. */
const St = {
  magic: 0,
  format: 4,
  flags: 6,
  reserved0: 7,
  channelId: 8,
  local: 12,
  peer: 16,
  reserved1: 20,
  sendSeq: 24,
  recvSeq: 32,
  sendKey: 40,
  recvKey: 72,
  reserved2: 104,
} as const;
/** Field offsets of the frame header. */
const Fr = {
  magic: 0,
  format: 4,
  flags: 6,
  reserved: 7,
  channelId: 8,
  sender: 12,
  receiver: 16,
  length: 20,
  seq: 24,
} as const;

/** Parameters of {@link initIpcChannel}: one end of a channel. */
export interface IpcChannelParams {
  /** The mini-OS sealing root (32 bytes). */
  sealingRoot: Uint8Array;
  /** Salt unique to this boot (32 bytes), the same at both ends. */
  bootSalt: Uint8Array;
  /** Channel id (u32), never reused within a boot. */
  channelId: number;
  /** This end's endpoint id. */
  local: number;
  /** The other end's endpoint id (≠ local). */
  peer: number;
}

/** The decoded channel state. Keys are views into the state bytes. */
export interface IpcChannel {
  channelId: number;
  local: number;
  peer: number;
  sendSeq: number;
  recvSeq: number;
  sendClosed: boolean;
  recvClosed: boolean;
  sendKey: Uint8Array;
  recvKey: Uint8Array;
}

/** The header of a frame (unauthenticated until the frame is opened). */
export interface IpcFrameHeader {
  channelId: number;
  sender: number;
  receiver: number;
  length: number;
  seq: number;
  fin: boolean;
}

/** Why a frame was not sealed or not accepted. A refusal never changes the channel state. */
export type IpcError =
  /** The state bytes are not a channel state this module wrote. */
  | { kind: 'BadState' }
  /** Payload longer than {@link IPC_MAX_PAYLOAD}. */
  | { kind: 'TooLarge'; length: number }
  /** Sending after FIN was sent, or receiving after FIN was received. */
  | { kind: 'Closed' }
  /** The send counter is used up (never in practice). */
  | { kind: 'SequenceExhausted' }
  /** Shorter than its header says (bytes cut off the end of the frame). */
  | { kind: 'Truncated'; length: number; expected: number }
  /** Not a frame: bad magic, format, reserved bits, length field, or trailing bytes. */
  | { kind: 'Malformed'; reason: string }
  /** A frame of another channel, or between other endpoints. */
  | { kind: 'WrongChannel'; channelId: number; sender: number; receiver: number }
  /** A frame this end sent, played back to it. */
  | { kind: 'Reflected' }
  /** The tag does not verify: header, ciphertext or tag was modified. */
  | { kind: 'AuthFailed' }
  /** A genuine frame already delivered (sequence below the expected one). */
  | { kind: 'Replay'; seq: number; expected: number }
  /** A genuine frame ahead of the expected one: an earlier frame was dropped or reordered. */
  | { kind: 'OutOfOrder'; seq: number; expected: number };

/** Result of {@link ipcSeal}. */
export type IpcSealResult =
  { ok: true; frame: Uint8Array; state: Uint8Array } | { ok: false; error: IpcError };
/** Result of {@link ipcOpen}. */
export type IpcOpenResult =
  | { ok: true; payload: Uint8Array; seq: number; fin: boolean; state: Uint8Array }
  | { ok: false; error: IpcError };

/** Bytes of the frame that carries a payload of `length` bytes. */
export function ipcFrameBytes(length: number): number {
  return IPC_FRAME_HEADER_BYTES + length + IPC_TAG_BYTES;
}

/**
 * Encode a channel state.
 * @throws RangeError on ids outside u32, equal endpoints, bad counters or keys not 32 bytes.
 */
export function encodeIpcChannel(channel: IpcChannel): Uint8Array {
  if (!isU32(channel.channelId) || !isU32(channel.local) || !isU32(channel.peer)) {
    throw new RangeError('channel and endpoint ids must be u32');
  }
  if (channel.local === channel.peer) throw new RangeError('an IPC channel joins two different endpoints');
  for (const seq of [channel.sendSeq, channel.recvSeq]) {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`bad sequence number ${seq}`);
  }
  if (channel.sendKey.length !== 32 || channel.recvKey.length !== 32)
    throw new RangeError('keys are 32 bytes');
  const state = new Uint8Array(IPC_CHANNEL_STATE_BYTES);
  state.set(STATE_MAGIC, St.magic);
  writeU16(state, St.format, FORMAT);
  state[St.flags] = (channel.sendClosed ? FLAG_SEND_CLOSED : 0) | (channel.recvClosed ? FLAG_RECV_CLOSED : 0);
  writeU32(state, St.channelId, channel.channelId);
  writeU32(state, St.local, channel.local);
  writeU32(state, St.peer, channel.peer);
  writeU64(state, St.sendSeq, channel.sendSeq);
  writeU64(state, St.recvSeq, channel.recvSeq);
  state.set(channel.sendKey, St.sendKey);
  state.set(channel.recvKey, St.recvKey);
  return state;
}

/** Decode a channel state, or undefined when the bytes are not one. */
export function decodeIpcChannel(state: Uint8Array): IpcChannel | undefined {
  if (state.length !== IPC_CHANNEL_STATE_BYTES || !matchesAt(state, St.magic, STATE_MAGIC)) return undefined;
  if (readU16(state, St.format) !== FORMAT) return undefined;
  const flags = state[St.flags]!;
  if ((flags & ~(FLAG_SEND_CLOSED | FLAG_RECV_CLOSED)) !== 0 || state[St.reserved0] !== 0) return undefined;
  if (
    readU32(state, St.reserved1) !== 0 ||
    !isZero(state, St.reserved2, IPC_CHANNEL_STATE_BYTES - St.reserved2)
  ) {
    return undefined;
  }
  const local = readU32(state, St.local);
  const peer = readU32(state, St.peer);
  const sendSeq = readU64(state, St.sendSeq);
  const recvSeq = readU64(state, St.recvSeq);
  if (local === peer || sendSeq < 0 || recvSeq < 0) return undefined;
  return {
    channelId: readU32(state, St.channelId),
    local,
    peer,
    sendSeq,
    recvSeq,
    sendClosed: (flags & FLAG_SEND_CLOSED) !== 0,
    recvClosed: (flags & FLAG_RECV_CLOSED) !== 0,
    sendKey: state.subarray(St.sendKey, St.sendKey + 32),
    recvKey: state.subarray(St.recvKey, St.recvKey + 32),
  };
}

/**
 * The initial state of one end of a channel: both counters 0, both directions open. The two ends
 * are made with the same parameters and `local`/`peer` swapped. Called by the mini-OS when it sets
 * up an rc_ipc_out channel (after both sides consented).
 * @throws RangeError on parameters outside their ranges (a mini-OS bug).
 */
export function initIpcChannel(params: IpcChannelParams): Uint8Array {
  const { sealingRoot, bootSalt, channelId, local, peer } = params;
  return encodeIpcChannel({
    channelId,
    local,
    peer,
    sendSeq: 0,
    recvSeq: 0,
    sendClosed: false,
    recvClosed: false,
    sendKey: deriveIpcKey(sealingRoot, bootSalt, channelId, local, peer),
    recvKey: deriveIpcKey(sealingRoot, bootSalt, channelId, peer, local),
  });
}

function nonceOf(channelId: number, seq: number): Uint8Array {
  const nonce = new Uint8Array(GCM_NONCE_BYTES);
  writeU32(nonce, 0, channelId);
  writeU64(nonce, 4, seq);
  return nonce;
}

/**
 * Seal `payload` as the next frame from this end; with `fin`, also close this direction. Returns
 * the frame for the kernel to carry and the next state (the input state is not modified).
 */
export function ipcSeal(
  state: Uint8Array,
  payload: Uint8Array,
  options: { fin?: boolean } = {},
): IpcSealResult {
  const channel = decodeIpcChannel(state);
  if (channel === undefined) return { ok: false, error: { kind: 'BadState' } };
  if (channel.sendClosed) return { ok: false, error: { kind: 'Closed' } };
  if (payload.length > IPC_MAX_PAYLOAD)
    return { ok: false, error: { kind: 'TooLarge', length: payload.length } };
  if (channel.sendSeq >= IPC_MAX_SEQUENCE) return { ok: false, error: { kind: 'SequenceExhausted' } };
  const fin = options.fin === true;

  const frame = new Uint8Array(ipcFrameBytes(payload.length));
  frame.set(FRAME_MAGIC, Fr.magic);
  writeU16(frame, Fr.format, FORMAT);
  frame[Fr.flags] = fin ? FRAME_FLAG_FIN : 0;
  writeU32(frame, Fr.channelId, channel.channelId);
  writeU32(frame, Fr.sender, channel.local);
  writeU32(frame, Fr.receiver, channel.peer);
  writeU32(frame, Fr.length, payload.length);
  writeU64(frame, Fr.seq, channel.sendSeq);
  const tagAt = IPC_FRAME_HEADER_BYTES + payload.length;
  aesGcmEncryptInto(
    channel.sendKey,
    nonceOf(channel.channelId, channel.sendSeq),
    frame.subarray(0, IPC_FRAME_HEADER_BYTES),
    payload,
    frame,
    IPC_FRAME_HEADER_BYTES,
    tagAt,
  );

  const next = state.slice();
  writeU64(next, St.sendSeq, channel.sendSeq + 1);
  if (fin) next[St.flags] = next[St.flags]! | FLAG_SEND_CLOSED;
  return { ok: true, frame, state: next };
}

/**
 * The header of a frame, or an error when the bytes cannot be a frame (for routing by channel id;
 * nothing in it is authenticated until {@link ipcOpen} succeeds).
 */
export function decodeIpcFrameHeader(
  frame: Uint8Array,
): { ok: true; header: IpcFrameHeader } | { ok: false; error: IpcError } {
  if (frame.length < IPC_FRAME_HEADER_BYTES) {
    return { ok: false, error: { kind: 'Truncated', length: frame.length, expected: ipcFrameBytes(0) } };
  }
  if (!matchesAt(frame, Fr.magic, FRAME_MAGIC))
    return { ok: false, error: { kind: 'Malformed', reason: 'bad magic' } };
  if (readU16(frame, Fr.format) !== FORMAT)
    return { ok: false, error: { kind: 'Malformed', reason: 'unknown format' } };
  const flags = frame[Fr.flags]!;
  if ((flags & ~FRAME_FLAG_FIN) !== 0 || frame[Fr.reserved] !== 0) {
    return { ok: false, error: { kind: 'Malformed', reason: 'reserved bits set' } };
  }
  const length = readU32(frame, Fr.length);
  const seq = readU64(frame, Fr.seq);
  if (length > IPC_MAX_PAYLOAD)
    return { ok: false, error: { kind: 'Malformed', reason: 'length too large' } };
  if (seq < 0) return { ok: false, error: { kind: 'Malformed', reason: 'sequence number too large' } };
  const expected = ipcFrameBytes(length);
  if (frame.length < expected)
    return { ok: false, error: { kind: 'Truncated', length: frame.length, expected } };
  if (frame.length > expected) return { ok: false, error: { kind: 'Malformed', reason: 'trailing bytes' } };
  return {
    ok: true,
    header: {
      channelId: readU32(frame, Fr.channelId),
      sender: readU32(frame, Fr.sender),
      receiver: readU32(frame, Fr.receiver),
      length,
      seq,
      fin: (flags & FRAME_FLAG_FIN) !== 0,
    },
  };
}

/**
 * Open a frame received at this end: the payload if the frame is well formed, of this channel and
 * direction, genuine, and exactly the next in sequence. Checks, in order: format → channel and
 * direction → closed → tag → sequence, so replay and reordering are told apart from tampering. The
 * input state is not modified; the returned state expects the next sequence number (and is closed
 * for receiving after a FIN frame).
 */
export function ipcOpen(state: Uint8Array, frame: Uint8Array): IpcOpenResult {
  const channel = decodeIpcChannel(state);
  if (channel === undefined) return { ok: false, error: { kind: 'BadState' } };
  const parsed = decodeIpcFrameHeader(frame);
  if (!parsed.ok) return parsed;
  const { header } = parsed;
  if (
    header.channelId === channel.channelId &&
    header.sender === channel.local &&
    header.receiver === channel.peer
  ) {
    return { ok: false, error: { kind: 'Reflected' } };
  }
  if (
    header.channelId !== channel.channelId ||
    header.sender !== channel.peer ||
    header.receiver !== channel.local
  ) {
    const { channelId, sender, receiver } = header;
    return { ok: false, error: { kind: 'WrongChannel', channelId, sender, receiver } };
  }
  if (channel.recvClosed) return { ok: false, error: { kind: 'Closed' } };
  const payload = aesGcmDecrypt(
    channel.recvKey,
    nonceOf(header.channelId, header.seq),
    frame.subarray(0, IPC_FRAME_HEADER_BYTES),
    frame.subarray(IPC_FRAME_HEADER_BYTES, IPC_FRAME_HEADER_BYTES + header.length),
    frame.subarray(IPC_FRAME_HEADER_BYTES + header.length),
  );
  if (payload === undefined) return { ok: false, error: { kind: 'AuthFailed' } };
  if (header.seq < channel.recvSeq) {
    return { ok: false, error: { kind: 'Replay', seq: header.seq, expected: channel.recvSeq } };
  }
  if (header.seq > channel.recvSeq) {
    return { ok: false, error: { kind: 'OutOfOrder', seq: header.seq, expected: channel.recvSeq } };
  }
  const next = state.slice();
  writeU64(next, St.recvSeq, channel.recvSeq + 1);
  if (header.fin) next[St.flags] = next[St.flags]! | FLAG_RECV_CLOSED;
  return { ok: true, payload, seq: header.seq, fin: header.fin, state: next };
}
