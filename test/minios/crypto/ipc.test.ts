/**
 * Sealed IPC frames (src/minios/crypto/ipc.ts): round trips in both directions, the documented
 * layouts, one test per refusal (replay, reordering, truncation, another channel, reflection,
 * tampering, closed streams), purity and determinism, and property tests with an adversarial
 * kernel that replays, drops and reorders frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU32 } from '../../../src/minios/crypto/bytes.js';
import { deriveIpcKey } from '../../../src/minios/crypto/keys.js';
import {
  decodeIpcChannel,
  decodeIpcFrameHeader,
  encodeIpcChannel,
  HOST_ENDPOINT,
  initIpcChannel,
  IPC_CHANNEL_STATE_BYTES,
  IPC_MAX_PAYLOAD,
  ipcFrameBytes,
  ipcOpen,
  ipcSeal,
  type IpcError,
} from '../../../src/minios/crypto/ipc.js';
import { flipBit, sameBytes, SEED, testBytes } from './helpers.js';

const ROOT = testBytes('sealing root', 32);
const SALT = testBytes('boot salt', 32);

/** Both ends of channel `channelId` between endpoints `a` and `b`. */
function channel(channelId = 5, a = 1, b = 2, bootSalt = SALT): { a: Uint8Array; b: Uint8Array } {
  return {
    a: initIpcChannel({ sealingRoot: ROOT, bootSalt, channelId, local: a, peer: b }),
    b: initIpcChannel({ sealingRoot: ROOT, bootSalt, channelId, local: b, peer: a }),
  };
}

/** An end's state plus a helper that seals and commits. */
class End {
  state: Uint8Array;
  constructor(state: Uint8Array) {
    this.state = state;
  }
  send(payload: Uint8Array, fin = false): Uint8Array {
    const result = ipcSeal(this.state, payload, { fin });
    if (!result.ok) throw new Error(`seal refused: ${JSON.stringify(result.error)}`);
    this.state = result.state;
    return result.frame;
  }
  receive(frame: Uint8Array): Uint8Array | IpcError {
    const result = ipcOpen(this.state, frame);
    if (!result.ok) return result.error;
    this.state = result.state;
    return result.payload;
  }
}

function ends(channelId = 5, a = 1, b = 2): [End, End] {
  const c = channel(channelId, a, b);
  return [new End(c.a), new End(c.b)];
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('ipc: round trip and layout', () => {
  it('carries messages both ways, in order, with per-direction sequence numbers', () => {
    const [a, b] = ends();
    expect(b.receive(a.send(text('ping 0')))).toEqual(text('ping 0'));
    expect(b.receive(a.send(text('ping 1')))).toEqual(text('ping 1'));
    expect(a.receive(b.send(text('pong 0')))).toEqual(text('pong 0'));
    expect(decodeIpcChannel(a.state)).toMatchObject({ sendSeq: 2, recvSeq: 1 });
    expect(decodeIpcChannel(b.state)).toMatchObject({ sendSeq: 1, recvSeq: 2 });
  });

  it('works between a container and the host endpoint, with empty and maximal payloads', () => {
    const [container, host] = ends(9, 3, HOST_ENDPOINT);
    expect(host.receive(container.send(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    const big = testBytes('big', IPC_MAX_PAYLOAD);
    const frame = container.send(big);
    expect(frame.length).toBe(ipcFrameBytes(IPC_MAX_PAYLOAD));
    expect(sameBytes(host.receive(frame) as Uint8Array, big)).toBe(true);
  });

  it('writes the documented 32-byte header, then ciphertext and a 16-byte tag', () => {
    const [a] = ends(0xabcd, 0x11, 0x22);
    a.send(text('first'));
    const frame = a.send(text('hello'), true);
    expect(frame.length).toBe(32 + 5 + 16);
    expect(Buffer.from(frame.subarray(0, 4)).toString('latin1')).toBe('RCIF');
    expect([frame[4], frame[5], frame[6], frame[7]]).toEqual([1, 0, 1, 0]); // format 1, FIN
    expect([readU32(frame, 8), readU32(frame, 12), readU32(frame, 16), readU32(frame, 20)]).toEqual([
      0xabcd, 0x11, 0x22, 5,
    ]);
    expect([readU32(frame, 24), readU32(frame, 28)]).toEqual([1, 0]); // sequence number 1
    expect(decodeIpcFrameHeader(frame)).toEqual({
      ok: true,
      header: { channelId: 0xabcd, sender: 0x11, receiver: 0x22, length: 5, seq: 1, fin: true },
    });
  });

  it('uses the send key of its direction and nonce = channel id ‖ u64 seq (checked with node:crypto)', async () => {
    const { createDecipheriv } = await import('node:crypto');
    const [a] = ends(77, 1, 2);
    a.send(text('zero'));
    const frame = a.send(text('one'));
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32LE(77, 0);
    nonce.writeUInt32LE(1, 4);
    const decipher = createDecipheriv('aes-256-gcm', deriveIpcKey(ROOT, SALT, 77, 1, 2), nonce);
    decipher.setAAD(frame.subarray(0, 32));
    decipher.setAuthTag(frame.subarray(32 + 3));
    const payload = Buffer.concat([decipher.update(frame.subarray(32, 35)), decipher.final()]);
    expect(payload.toString()).toBe('one');
  });

  it('writes the documented 128-byte channel state and decodes it back', () => {
    const c = channel(42, 1, 2);
    expect(c.a.length).toBe(IPC_CHANNEL_STATE_BYTES);
    expect(Buffer.from(c.a.subarray(0, 4)).toString('latin1')).toBe('RCIC');
    const decoded = decodeIpcChannel(c.a)!;
    expect(decoded).toMatchObject({
      channelId: 42,
      local: 1,
      peer: 2,
      sendSeq: 0,
      recvSeq: 0,
      sendClosed: false,
    });
    expect(decoded.sendKey).toEqual(deriveIpcKey(ROOT, SALT, 42, 1, 2));
    expect(decoded.recvKey).toEqual(deriveIpcKey(ROOT, SALT, 42, 2, 1));
    expect(decodeIpcChannel(c.b)!.sendKey).toEqual(decoded.recvKey);
    expect(encodeIpcChannel(decoded)).toEqual(c.a);
  });

  it('refuses to set up a channel from an endpoint to itself or with bad ids', () => {
    expect(() =>
      initIpcChannel({ sealingRoot: ROOT, bootSalt: SALT, channelId: 1, local: 3, peer: 3 }),
    ).toThrow(RangeError);
    expect(() =>
      initIpcChannel({ sealingRoot: ROOT, bootSalt: SALT, channelId: -1, local: 3, peer: 4 }),
    ).toThrow(RangeError);
    expect(() =>
      initIpcChannel({ sealingRoot: ROOT, bootSalt: SALT.subarray(2), channelId: 1, local: 3, peer: 4 }),
    ).toThrow(RangeError);
  });
});

describe('ipc: each attack gets its own refusal', () => {
  it('replay: a frame delivered twice is refused the second time', () => {
    const [a, b] = ends();
    const frame = a.send(text('once'));
    expect(b.receive(frame)).toEqual(text('once'));
    expect(b.receive(frame)).toEqual({ kind: 'Replay', seq: 0, expected: 1 });
  });

  it('reordering: a later frame before an earlier one is refused, and the stream resumes in order', () => {
    const [a, b] = ends();
    const f0 = a.send(text('0'));
    const f1 = a.send(text('1'));
    expect(b.receive(f1)).toEqual({ kind: 'OutOfOrder', seq: 1, expected: 0 });
    expect(b.receive(f0)).toEqual(text('0'));
    expect(b.receive(f1)).toEqual(text('1'));
  });

  it('a dropped frame shows up as a gap at the next one (dropping cannot be prevented, only noticed)', () => {
    const [a, b] = ends();
    a.send(text('lost'));
    expect(b.receive(a.send(text('next')))).toEqual({ kind: 'OutOfOrder', seq: 1, expected: 0 });
  });

  it('truncation: every strict prefix of a frame is refused as truncated', () => {
    const [a, b] = ends();
    const frame = a.send(text('cut me short'));
    for (let length = 0; length < frame.length; length++) {
      expect(b.receive(frame.subarray(0, length))).toMatchObject({ kind: 'Truncated', length });
    }
    expect(b.receive(frame)).toEqual(text('cut me short'));
  });

  it('stream truncation: FIN marks a clean end; without it the receiver knows more was due', () => {
    const [a, b] = ends();
    b.receive(a.send(text('body')));
    expect(decodeIpcChannel(b.state)!.recvClosed).toBe(false);
    const fin = ipcOpen(b.state, a.send(text('bye'), true));
    expect(fin).toMatchObject({ ok: true, fin: true, seq: 1 });
    if (fin.ok) b.state = fin.state;
    expect(decodeIpcChannel(b.state)!.recvClosed).toBe(true);
  });

  it('a frame of another channel between the same endpoints is refused', () => {
    const [a5] = ends(5);
    const [, b6] = ends(6);
    expect(b6.receive(a5.send(text('elsewhere')))).toEqual({
      kind: 'WrongChannel',
      channelId: 5,
      sender: 1,
      receiver: 2,
    });
  });

  it('a frame between other endpoints (same channel id) is refused', () => {
    const [, b] = ends(5, 1, 2);
    const [c] = ends(5, 3, 2);
    expect(b.receive(c.send(text('not from my peer')))).toEqual({
      kind: 'WrongChannel',
      channelId: 5,
      sender: 3,
      receiver: 2,
    });
  });

  it('reflection: a frame played back to its own sender is refused', () => {
    const [a] = ends();
    expect(a.receive(a.send(text('echo')))).toEqual({ kind: 'Reflected' });
  });

  it('tampering with the ciphertext, the tag or an authenticated header field fails authentication', () => {
    const [a, b] = ends();
    const frame = a.send(text('integrity'));
    expect(b.receive(flipBit(frame, 32 * 8 + 3))).toEqual({ kind: 'AuthFailed' });
    expect(b.receive(flipBit(frame, (frame.length - 1) * 8))).toEqual({ kind: 'AuthFailed' });
    expect(b.receive(flipBit(frame, 24 * 8 + 2))).toEqual({ kind: 'AuthFailed' }); // sequence number
    expect(b.receive(flipBit(frame, 6 * 8))).toEqual({ kind: 'AuthFailed' }); // FIN flag
    expect(b.receive(frame)).toEqual(text('integrity'));
  });

  it('a frame forged with the keys of another boot fails authentication', () => {
    const other = channel(5, 1, 2, testBytes('another boot', 32));
    const b = new End(channel().b);
    expect(b.receive(new End(other.a).send(text('old boot')))).toEqual({ kind: 'AuthFailed' });
  });

  it('after FIN neither side moves on: sending is closed, and so is receiving', () => {
    const [a, b] = ends();
    const fin = a.send(text('last'), true);
    expect(ipcSeal(a.state, text('more'))).toEqual({ ok: false, error: { kind: 'Closed' } });
    expect(b.receive(fin)).toEqual(text('last'));
    expect(b.receive(fin)).toEqual({ kind: 'Closed' });
    expect(a.receive(b.send(text('the other direction is still open')))).toEqual(
      text('the other direction is still open'),
    );
  });

  it('malformed frames: bad magic, reserved bits, oversized length field, trailing bytes', () => {
    const [a, b] = ends();
    const frame = a.send(text('m'));
    const badMagic = frame.slice();
    badMagic[0] = 0;
    expect(b.receive(badMagic)).toEqual({ kind: 'Malformed', reason: 'bad magic' });
    const reserved = frame.slice();
    reserved[7] = 1;
    expect(b.receive(reserved)).toEqual({ kind: 'Malformed', reason: 'reserved bits set' });
    const huge = frame.slice();
    huge[23] = 1;
    expect(b.receive(huge)).toEqual({ kind: 'Malformed', reason: 'length too large' });
    const trailing = new Uint8Array(frame.length + 1);
    trailing.set(frame);
    expect(b.receive(trailing)).toEqual({ kind: 'Malformed', reason: 'trailing bytes' });
  });

  it('refuses payloads over the frame limit, and states that are not states', () => {
    const [a, b] = ends();
    expect(ipcSeal(a.state, new Uint8Array(IPC_MAX_PAYLOAD + 1))).toEqual({
      ok: false,
      error: { kind: 'TooLarge', length: IPC_MAX_PAYLOAD + 1 },
    });
    const frame = a.send(text('x'));
    const broken = b.state.slice();
    broken[120] = 1;
    expect(ipcOpen(broken, frame)).toEqual({ ok: false, error: { kind: 'BadState' } });
    expect(ipcSeal(new Uint8Array(IPC_CHANNEL_STATE_BYTES), text('x'))).toEqual({
      ok: false,
      error: { kind: 'BadState' },
    });
  });

  it('refuses to send when the sequence counter is used up', () => {
    const decoded = decodeIpcChannel(channel().a)!;
    const exhausted = encodeIpcChannel({ ...decoded, sendSeq: Number.MAX_SAFE_INTEGER });
    expect(ipcSeal(exhausted, text('x'))).toEqual({ ok: false, error: { kind: 'SequenceExhausted' } });
  });
});

describe('ipc: purity and determinism', () => {
  it('never modifies the input state, accepted or refused', () => {
    const c = channel();
    const before = { a: c.a.slice(), b: c.b.slice() };
    const sealed = ipcSeal(c.a, text('pure'));
    expect(sealed.ok).toBe(true);
    if (sealed.ok) {
      ipcOpen(c.b, sealed.frame);
      ipcOpen(c.b, flipBit(sealed.frame, 300));
    }
    expect(c).toEqual(before);
  });

  it('same inputs give byte-identical frames and states', () => {
    const run = (): Uint8Array[] => {
      const [a, b] = ends(3, 4, 5);
      const out: Uint8Array[] = [];
      for (let i = 0; i < 20; i++) {
        const frame = i % 3 === 0 ? b.send(text(`b${i}`)) : a.send(text(`a${i}`));
        out.push(frame);
        (i % 3 === 0 ? a : b).receive(frame);
      }
      return [...out, a.state, b.state];
    };
    expect(run()).toEqual(run());
  });

  it('the two directions never share a keystream: equal payloads at equal sequence numbers differ', () => {
    const [a, b] = ends();
    const fromA = a.send(text('same'));
    const fromB = b.send(text('same'));
    expect(Buffer.from(fromA.subarray(32)).equals(Buffer.from(fromB.subarray(32)))).toBe(false);
  });
});

describe('ipc: properties', () => {
  const message = fc.uint8Array({ maxLength: 300 });

  it('open(seal(x)) = x for random messages interleaved in both directions', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), message), { maxLength: 40 }), (script) => {
        const [a, b] = ends();
        for (const [fromA, payload] of script) {
          const [sender, receiver] = fromA ? [a, b] : [b, a];
          expect(receiver.receive(sender.send(payload))).toEqual(payload);
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('any single-bit flip of a frame is refused', () => {
    fc.assert(
      fc.property(message, fc.nat(), (payload, pick) => {
        const [a, b] = ends();
        const frame = a.send(payload);
        const result = ipcOpen(b.state, flipBit(frame, pick % (frame.length * 8)));
        expect(result.ok).toBe(false);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('whatever the kernel delivers (replays, drops, reorders), the receiver accepts exactly an in-order prefix', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (messages, deliveries) => {
          const [a, b] = ends();
          const frames = messages.map((m) => a.send(m));
          let expected = 0;
          for (const pick of deliveries) {
            const index = pick % frames.length;
            const result = b.receive(frames[index]!);
            if (index === expected) {
              expect(result).toEqual(messages[index]);
              expected++;
            } else if (index < expected) {
              expect(result).toEqual({ kind: 'Replay', seq: index, expected });
            } else {
              expect(result).toEqual({ kind: 'OutOfOrder', seq: index, expected });
            }
          }
          expect(decodeIpcChannel(b.state)!.recvSeq).toBe(expected);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});
