// Pipes: pipe2, blocking and restart, end of file, SIGPIPE, O_NONBLOCK, PIPE_BUF atomicity, and the
// buffer living in kernel pages of simulated memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PIPE_BUF, PIPE_CAPACITY, pipeEndOf } from '../../../src/kernel/ipc/pipe.js';
import { ERESTARTSYS, Errno } from '../../../src/kernel/uapi/errno.js';
import { O, S, SEEK, SIG } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import {
  ascii,
  close,
  findInObjectGraph,
  fstat,
  Harness,
  lseek,
  pattern,
  read,
  sys,
  USER_BASE,
  write,
  type FakeTask,
} from '../net/harness.js';

const FDS = USER_BASE;
const SRC = USER_BASE + 0x1000;
const DST = USER_BASE + 0x30_0000;
const BAD = 0x10;

/** Make a pipe as `task`: [read fd, write fd]. */
function pipe(h: Harness, task: FakeTask, flags = 0): [number, number] {
  expect(sys(task, Sys.pipe2, FDS, flags)).toBe(0);
  return [h.peekU32(FDS), h.peekU32(FDS + 4)];
}

/** The wait queues of the pipe behind `fd`. */
function queues(task: FakeTask, fd: number): { readWait: unknown; writeWait: unknown } {
  return pipeEndOf(task.files.get(fd)!)!.pipe;
}

describe('pipe2', () => {
  it('installs a read end and a write end at the lowest free descriptors', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    expect([r, w]).toEqual([0, 1]);
    expect(t.files.get(r)!.flags & O.ACCMODE).toBe(O.RDONLY);
    expect(t.files.get(w)!.flags & O.ACCMODE).toBe(O.WRONLY);
    expect(t.files.isCloexec(r)).toBe(false);
    expect(t.charged).toBeGreaterThan(0);
  });

  it('honours O_CLOEXEC and O_NONBLOCK and refuses other flags', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t, O.CLOEXEC | O.NONBLOCK);
    expect(t.files.isCloexec(r) && t.files.isCloexec(w)).toBe(true);
    expect(t.files.get(r)!.flags & O.NONBLOCK).toBe(O.NONBLOCK);
    expect(sys(t, Sys.pipe2, FDS, O.APPEND)).toBe(-Errno.EINVAL);
  });

  it('fails with EFAULT on a bad array and leaves no descriptor open', () => {
    const h = new Harness();
    const t = h.task();
    expect(sys(t, Sys.pipe2, BAD, 0)).toBe(-Errno.EFAULT);
    expect(t.files.entries()).toEqual([]);
  });

  it('gives S_IFIFO to fstat and ESPIPE to lseek and pread', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    const [st, stw] = [fstat(t, r), fstat(t, w)];
    if (typeof st === 'number' || typeof stw === 'number') throw new Error('fstat failed');
    expect(st.mode & S.IFMT).toBe(S.IFIFO);
    expect(stw.ino).toBe(st.ino);
    expect(lseek(t, r, 0, SEEK.SET)).toBe(-Errno.ESPIPE);
    const file = t.files.get(r)!;
    expect(file.ops.read!(t.ctx, file, DST, 1, 0)).toBe(-Errno.ESPIPE);
  });
});

describe('pipe data path', () => {
  it('moves bytes through kernel pages of the creator and frees them when drained', () => {
    const h = new Harness();
    const t = h.task({ cid: 3 });
    const [r, w] = pipe(h, t);
    h.poke(SRC, ascii('hello, pipe'));
    expect(write(t, w, SRC, 11)).toBe(11);
    expect(h.pages.inUse(3)).toBe(1);
    expect(read(t, r, DST, 5)).toBe(5);
    expect(read(t, r, DST + 5, 100)).toBe(6);
    expect(new TextDecoder().decode(h.peek(DST, 11))).toBe('hello, pipe');
    expect(h.pages.inUse(3)).toBe(0);
  });

  it('keeps no JS copy of the payload in kernel objects', () => {
    const h = new Harness();
    const t = h.task();
    const [, w] = pipe(h, t);
    const canary = ascii('CANARY-7f3e-secret-in-a-pipe');
    h.poke(SRC, canary);
    expect(write(t, w, SRC, canary.length)).toBe(canary.length);
    expect(findInObjectGraph([t.files, h.net], canary, [h.machine])).toEqual([]);
    // The search does find a JS copy (its own sanity check).
    expect(findInObjectGraph([{ copy: canary.slice() }], canary, [])).toEqual(['root0.copy']);
    // The bytes are in the kernel page, in simulated memory.
    const [kva] = [...h.pages.owners.keys()];
    expect(h.peek(kva!, canary.length)).toEqual(canary);
  });

  it('reads 0 (end of file) once every writer is gone, after the buffered bytes', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    h.poke(SRC, ascii('tail'));
    write(t, w, SRC, 4);
    expect(close(t, w)).toBe(0);
    expect(read(t, r, DST, 100)).toBe(4);
    expect(read(t, r, DST, 100)).toBe(0);
    expect(read(t, r, DST, 0)).toBe(0);
  });

  it('blocks a reader on an empty pipe; a write wakes it and the restarted read succeeds', () => {
    const h = new Harness();
    const reader = h.task();
    const [r, w] = pipe(h, reader);
    expect(read(reader, r, DST, 10)).toBe(-ERESTARTSYS);
    expect(reader.parkedOn).toEqual([queues(reader, r).readWait]);
    h.poke(SRC, ascii('x'));
    expect(write(reader, w, SRC, 1)).toBe(1);
    expect(reader.woken).toBe(1);
    expect(read(reader, r, DST, 10)).toBe(1);
  });

  it('wakes a blocked reader when the last writer closes, which then sees end of file', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    expect(read(t, r, DST, 10)).toBe(-ERESTARTSYS);
    close(t, w);
    expect(t.woken).toBe(1);
    expect(read(t, r, DST, 10)).toBe(0);
  });

  it('sends SIGPIPE to the writer and fails with EPIPE when no reader is left', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    close(t, r);
    expect(write(t, w, SRC, 3)).toBe(-Errno.EPIPE);
    expect(h.signals).toEqual([{ tgid: t.info.tgid, sig: SIG.PIPE }]);
    expect(write(t, w, SRC, 0)).toBe(0);
  });

  it('gives EAGAIN with O_NONBLOCK instead of blocking', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t, O.NONBLOCK);
    expect(read(t, r, DST, 1)).toBe(-Errno.EAGAIN);
    h.poke(SRC, pattern(PIPE_CAPACITY + 100));
    expect(write(t, w, SRC, PIPE_CAPACITY + 100)).toBe(PIPE_CAPACITY);
    expect(write(t, w, SRC, 1)).toBe(-Errno.EAGAIN);
    expect(t.parkedOn).toEqual([]);
    expect(h.pages.inUse(0)).toBe(16);
  });

  it('blocks a writer on a full pipe; a read wakes it and the restarted write succeeds', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    h.poke(SRC, pattern(PIPE_CAPACITY));
    expect(write(t, w, SRC, PIPE_CAPACITY)).toBe(PIPE_CAPACITY);
    expect(write(t, w, SRC, 10)).toBe(-ERESTARTSYS);
    expect(t.parkedOn).toEqual([queues(t, w).writeWait]);
    expect(read(t, r, DST, 10)).toBe(10);
    expect(t.woken).toBe(1);
    expect(write(t, w, SRC, 10)).toBe(10);
  });

  it('writes at most PIPE_BUF bytes atomically and larger writes partially', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t, O.NONBLOCK);
    const room = 100;
    h.poke(SRC, pattern(PIPE_CAPACITY));
    expect(write(t, w, SRC, PIPE_CAPACITY - room)).toBe(PIPE_CAPACITY - room);
    expect(write(t, w, SRC, room + 1)).toBe(-Errno.EAGAIN);
    expect(write(t, w, SRC, PIPE_BUF)).toBe(-Errno.EAGAIN);
    expect(write(t, w, SRC, PIPE_BUF + 1)).toBe(room);
    // Blocking: an atomic write that does not fit parks without writing anything.
    const file = t.files.get(w)!;
    file.flags &= ~O.NONBLOCK;
    expect(read(t, r, DST, 50)).toBe(50);
    expect(write(t, w, SRC, 51)).toBe(-ERESTARTSYS);
    expect(write(t, w, SRC, 50)).toBe(50);
  });

  it('returns EFAULT for bad user buffers without losing data, and EBADF on the wrong end', () => {
    const h = new Harness();
    const t = h.task();
    const [r, w] = pipe(h, t);
    expect(write(t, w, BAD, 4)).toBe(-Errno.EFAULT);
    expect(h.pages.total).toBe(0);
    h.poke(SRC, ascii('data'));
    write(t, w, SRC, 4);
    expect(read(t, r, BAD, 4)).toBe(-Errno.EFAULT);
    expect(read(t, r, DST, 4)).toBe(4);
    expect(read(t, w, DST, 4)).toBe(-Errno.EBADF);
    expect(write(t, r, SRC, 4)).toBe(-Errno.EBADF);
  });

  it('frees its pages when the read end closes with data buffered', () => {
    const h = new Harness();
    const t = h.task({ cid: 2 });
    const [r, w] = pipe(h, t);
    h.poke(SRC, pattern(10_000));
    write(t, w, SRC, 10_000);
    expect(h.pages.inUse(2)).toBe(3);
    close(t, r);
    expect(h.pages.inUse(2)).toBe(0);
    close(t, w);
  });
});

describe('pipes across contexts', () => {
  it('refuses readers and writers of another container under rcontainer (its pages are not theirs)', () => {
    const h = new Harness('rcontainer');
    const owner = h.task({ cid: 1 });
    const other = h.task({ cid: 2 });
    const [r, w] = pipe(h, owner);
    const file = owner.files.get(r)!;
    other.files.install(file);
    other.files.install(owner.files.get(w)!);
    h.poke(SRC, ascii('ab'));
    expect(write(other, 1, SRC, 2)).toBe(-Errno.EPERM);
    expect(write(owner, w, SRC, 2)).toBe(2);
    expect(read(other, 0, DST, 2)).toBe(-Errno.EPERM);
    expect(read(owner, r, DST, 2)).toBe(2);
  });

  it('works across containers under native', () => {
    const h = new Harness('native');
    const owner = h.task({ cid: 1 });
    const other = h.task({ cid: 2 });
    const [r, w] = pipe(h, owner);
    other.files.install(owner.files.get(r)!);
    h.poke(SRC, ascii('ab'));
    write(owner, w, SRC, 2);
    expect(read(other, 0, DST, 2)).toBe(2);
  });
});

describe('pipe property', () => {
  it('delivers exactly the written byte sequence under any interleaving of writes and reads', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), length: fc.integer({ min: 0, max: 20_000 }) }),
      fc.record({ kind: fc.constant('read' as const), length: fc.integer({ min: 0, max: 20_000 }) }),
    );
    const h = new Harness();
    const source = pattern(0x10_0000, 5);
    h.poke(SRC, source);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, nonblocking) => {
        const t = h.task();
        const [r, w] = pipe(h, t, nonblocking ? O.NONBLOCK : 0);
        let written = 0;
        let readTotal = 0;
        const check = (n: number): void => {
          const same = Buffer.from(h.peek(DST, n)).equals(source.subarray(readTotal, readTotal + n));
          expect(same, `bytes ${readTotal}..${readTotal + n}`).toBe(true);
          readTotal += n;
        };
        for (const { kind, length } of ops) {
          if (kind === 'write') {
            const n = write(t, w, SRC + written, length);
            if (n >= 0) written += n;
            else expect(n).toBe(nonblocking ? -Errno.EAGAIN : -ERESTARTSYS);
            expect(h.pages.inUse(0)).toBeLessThanOrEqual(16);
          } else {
            const n = read(t, r, DST, length);
            if (n >= 0) check(n);
            else expect(n).toBe(nonblocking ? -Errno.EAGAIN : -ERESTARTSYS);
          }
        }
        close(t, w);
        for (let n = read(t, r, DST, 30_000); n !== 0; n = read(t, r, DST, 30_000)) check(n);
        expect(readTotal).toBe(written);
        expect(h.pages.inUse(0)).toBe(0);
        close(t, r);
      }),
      { numRuns: 60, seed: 42 },
    );
  });
});
