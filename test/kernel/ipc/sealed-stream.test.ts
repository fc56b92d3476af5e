// SealedStream on its own (the stream of a socket direction between two contexts): in-order
// delivery under any mix of writes, reads and peeks; page accounting (frames in OS pages, one
// staging page of the writer, one hold page of the reader); contexts and consent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossingOf, SealedChannel, SealedStream } from '../../../src/kernel/ipc/sealed-stream.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { FakeIpc } from '../net/fake-ipc.js';
import { Harness, pattern, USER_BASE, type FakeTask } from '../net/harness.js';

const SRC = USER_BASE;
const DST = USER_BASE + 0x20_0000;
const CAPACITY = 16 * 4096;

/** A harness, writer (container 2), reader (host) and the stream between them, consented. */
function stream(capacity = CAPACITY) {
  const ipc = new FakeIpc();
  const h = new Harness('rcontainer', 512, ipc);
  const writer = h.task({ cid: 2 });
  const reader = h.task({ cid: 0 });
  const channel = SealedChannel.offer(writer.ctx, 2, 0);
  if (typeof channel === 'number') throw new Error(`offer refused ${channel}`);
  expect(channel.accept(reader.ctx)).toBe(0);
  return { h, ipc, writer, reader, channel, s: new SealedStream(writer.ctx, channel, 2, 0, capacity) };
}

describe('sealed stream', () => {
  it('says how a stream between two contexts must be built', () => {
    const sealing = new Harness('rcontainer', 16, new FakeIpc()).task({ cid: 1 }).ctx;
    expect(crossingOf(sealing, 1, 1)).toBe('plain');
    expect(crossingOf(sealing, 1, 0)).toBe('sealed');
    expect(crossingOf(new Harness('rcontainer').task().ctx, 1, 2)).toBe(-Errno.EPERM);
    expect(crossingOf(new Harness('native').task().ctx, 1, 2)).toBe('plain');
    expect(crossingOf(new Harness('native', 16, new FakeIpc(false)).task().ctx, 1, 2)).toBe('plain');
  });

  it('refuses an offer or accept from the wrong context, and a write before consent', () => {
    const h = new Harness('rcontainer', 16, new FakeIpc());
    const a = h.task({ cid: 1 });
    const b = h.task({ cid: 2 });
    expect(SealedChannel.offer(b.ctx, 1, 2)).toBe(-Errno.EPERM);
    const channel = SealedChannel.offer(a.ctx, 1, 2) as SealedChannel;
    const s = new SealedStream(a.ctx, channel, 1, 2, CAPACITY);
    expect(s.space).toBe(0);
    expect(s.writeFromUser(a.ctx, SRC, 4)).toBe(-Errno.EPERM);
    expect(channel.accept(a.ctx)).toBe(-Errno.EPERM);
    expect(channel.accept(b.ctx)).toBe(0);
    expect(channel.accept(b.ctx)).toBe(0);
    expect(s.space).toBe(CAPACITY);
    expect(s.writeFromUser(b.ctx, SRC, 4)).toBe(-Errno.EPERM);
    expect(s.writeFromUser(a.ctx, SRC, 4)).toBe(4);
    expect(s.readToUser(a.ctx, DST, 4, false)).toBe(-Errno.EPERM);
    expect(s.readToUser(b.ctx, DST, 4, false)).toBe(4);
    expect(() => new SealedStream(a.ctx, channel, 1, 1, CAPACITY)).toThrow();
    expect(() => new SealedStream(a.ctx, channel, 1, 3, CAPACITY)).toThrow();
  });

  it('refuses a write after the FIN, and gives every page back at release', () => {
    const { h, writer, reader, s } = stream();
    h.poke(SRC, pattern(5000));
    expect(s.writeFromUser(writer.ctx, SRC, 5000)).toBe(5000);
    expect(s.sealFin(writer.ctx)).toBe(0);
    expect(s.space).toBe(0);
    expect(s.writeFromUser(writer.ctx, SRC, 1)).toBe(-Errno.EPIPE);
    // Frames of 4048 and 952 payload bytes and the FIN: two OS pages (the first one full).
    expect(s.framePages).toHaveLength(2);
    expect(s.readToUser(reader.ctx, DST, 10, false)).toBe(10);
    // The first frame is opened (its page went back); its rest waits in the hold page (the host's).
    expect(s.framePages).toHaveLength(1);
    expect(h.pages.inUse(0)).toBe(1 + 1);
    expect(h.pages.inUse(2)).toBe(1); // the staging page
    s.release();
    expect(h.pages.total).toBe(0);
  });

  it('delivers exactly the written bytes under any mix of writes, reads and peeks', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), length: fc.integer({ min: 0, max: 9_000 }) }),
      fc.record({ kind: fc.constant('read' as const), length: fc.integer({ min: 0, max: 9_000 }) }),
      fc.record({ kind: fc.constant('peek' as const), length: fc.integer({ min: 1, max: 300 }) }),
    );
    const source = pattern(0x4_0000, 9);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const { h, writer, reader, s } = stream();
        h.poke(SRC, source);
        let written = 0;
        let readTotal = 0;
        const expectNext = (n: number, consume: boolean): void => {
          const same = Buffer.from(h.peek(DST, n)).equals(source.subarray(readTotal, readTotal + n));
          expect(same, `bytes ${readTotal}..${readTotal + n}`).toBe(true);
          if (consume) readTotal += n;
        };
        const take = (t: FakeTask, length: number, peek: boolean): number => {
          const n = s.readToUser(t.ctx, DST, length, peek);
          expect(n).toBeGreaterThanOrEqual(0);
          expectNext(n, !peek);
          return n;
        };
        for (const { kind, length } of ops) {
          if (kind === 'write') {
            const n = s.writeFromUser(writer.ctx, SRC + written, length);
            expect(n).toBe(Math.min(length, CAPACITY - (written - readTotal)));
            written += n;
          } else take(reader, length, kind === 'peek');
          expect(s.length).toBe(written - readTotal);
          expect(s.framePages.length).toBeLessThanOrEqual(2 * (CAPACITY / 4096));
        }
        while (s.length > 0) take(reader, 7_777, false);
        expect(readTotal).toBe(written);
        // At most one emptied frame page is kept, and the reader's hold page.
        expect(s.framePages.length).toBeLessThanOrEqual(1);
        expect(h.pages.inUse(0)).toBeLessThanOrEqual(2);
        s.release();
        expect(h.pages.total).toBe(0);
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});
