/**
 * Whole-buffer I/O helpers over read/write: write everything, read until full or end of file,
 * copy JS bytes or strings to an fd through user memory, pipes.
 */
import { Errno } from '../../kernel/uapi/errno.js';
import { encodeUtf8 } from './cstring.js';
import { Cost } from './cost.js';
import type { Proc } from './process.js';
import { isError, type Call } from './syscall.js';
import { pipe2, read, write } from './sys-fs.js';

/** Size of the pieces in which JS bytes are staged through the scratch area. */
const STAGE_BYTES = 16 * 1024;

/** Write all of [va, va + length) to `fd`; the bytes written, or -errno if nothing could be. */
export function* writeAll(fd: number, va: number, length: number): Call<number> {
  let done = 0;
  while (done < length) {
    const n = yield* write(fd, va + done, length - done);
    if (isError(n)) return done > 0 ? done : n;
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Read into [va, va + length) until it is full or at end of file; bytes read or -errno. */
export function* readFull(fd: number, va: number, length: number): Call<number> {
  let done = 0;
  while (done < length) {
    const n = yield* read(fd, va + done, length - done);
    if (isError(n)) return done > 0 ? done : n;
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Write JS bytes to `fd` (staged through the scratch area); bytes written or -errno. */
export function* writeBytes(p: Proc, fd: number, bytes: Uint8Array): Call<number> {
  const mark = p.scratch.mark();
  try {
    const stage = p.scratch.alloc(Math.min(STAGE_BYTES, Math.max(1, bytes.length)));
    let done = 0;
    while (done < bytes.length) {
      const n = Math.min(STAGE_BYTES, bytes.length - done);
      p.cpu.writeBytes(stage, bytes.subarray(done, done + n));
      p.cpu.compute(n * Cost.perCopiedByte);
      const written = yield* writeAll(fd, stage, n);
      if (isError(written)) return done > 0 ? done : written;
      done += written;
      if (written < n) break;
    }
    return done;
  } finally {
    p.scratch.release(mark);
  }
}

/** Write a string to `fd` unbuffered; bytes written or -errno. */
export function writeString(p: Proc, fd: number, text: string): Call<number> {
  return writeBytes(p, fd, encodeUtf8(text));
}

/** Read from `fd` until end of file into JS bytes (through a heap buffer); the bytes or -errno. */
export function* readToEnd(p: Proc, fd: number, limit = 64 * 1024 * 1024): Call<Uint8Array | number> {
  const CHUNK = 16 * 1024;
  const buffer = yield* p.heap.malloc(CHUNK);
  if (buffer === 0) return -Errno.ENOMEM;
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const n = yield* read(fd, buffer, Math.min(CHUNK, limit - total));
      if (isError(n)) return n;
      if (n === 0) break;
      parts.push(p.cpu.readBytes(buffer, n));
      total += n;
    }
  } finally {
    yield* p.heap.free(buffer);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** pipe2(2): [read end, write end] or -errno. */
export function* pipe(p: Proc, flags = 0): Call<[number, number] | number> {
  const mark = p.scratch.mark();
  try {
    const fds = p.scratch.alloc(8);
    const result = yield* pipe2(fds, flags);
    if (isError(result)) return result;
    return [p.cpu.load32(fds) | 0, p.cpu.load32(fds + 4) | 0];
  } finally {
    p.scratch.release(mark);
  }
}
