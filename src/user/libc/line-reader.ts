/**
 * Line reading from an fd: read(2) fills a buffer in user memory; lines are split from the bytes
 * read. `readLine` returns a line without its newline, or undefined at end of input.
 */
import { Errno } from '../../kernel/uapi/errno.js';
import { decodeUtf8 } from './cstring.js';
import { Cost } from './cost.js';
import type { Proc } from './process.js';
import { isError, type Call } from './syscall.js';
import { read } from './sys-fs.js';

/** Default size of the user-memory buffer of a reader. */
export const LINE_BUFFER_BYTES = 4096;

/** A buffered line reader over one fd. */
export class LineReader {
  private readonly p: Proc;
  readonly fd: number;
  private buffer = 0;
  private readonly capacity: number;
  private pending: Uint8Array = new Uint8Array(0);
  private eof = false;
  /** The -errno of a failed read, or 0. */
  error = 0;

  constructor(p: Proc, fd: number, capacity = LINE_BUFFER_BYTES) {
    this.p = p;
    this.fd = fd;
    this.capacity = capacity;
  }

  /** The next line as bytes (without "\n"), or undefined at end of input or on error. */
  *readLineBytes(): Call<Uint8Array | undefined> {
    for (;;) {
      const newline = this.pending.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.pending.subarray(0, newline);
        this.pending = this.pending.subarray(newline + 1);
        this.p.cpu.compute(Cost.perLine + line.length * Cost.perByte);
        return line;
      }
      if (this.eof) {
        if (this.pending.length === 0) return undefined;
        const line = this.pending;
        this.pending = new Uint8Array(0);
        this.p.cpu.compute(Cost.perLine + line.length * Cost.perByte);
        return line;
      }
      yield* this.fill();
    }
  }

  /** The next line as a string, or undefined at end of input. */
  *readLine(): Call<string | undefined> {
    const line = yield* this.readLineBytes();
    return line === undefined ? undefined : decodeUtf8(line);
  }

  /** Give the buffer back to the heap. */
  *close(): Call<void> {
    if (this.buffer !== 0) yield* this.p.heap.free(this.buffer);
    this.buffer = 0;
  }

  private *fill(): Call<void> {
    if (this.buffer === 0) {
      this.buffer = yield* this.p.heap.malloc(this.capacity);
      if (this.buffer === 0) {
        this.error = -Errno.ENOMEM;
        this.eof = true;
        return;
      }
    }
    let n = yield* read(this.fd, this.buffer, this.capacity);
    // A signal handler without SA_RESTART interrupted the read (a shell's trap): read again.
    while (n === -Errno.EINTR) n = yield* read(this.fd, this.buffer, this.capacity);
    if (isError(n) || n === 0) {
      if (isError(n)) this.error = n;
      this.eof = true;
      return;
    }
    const fresh = this.p.cpu.readBytes(this.buffer, n);
    const joined = new Uint8Array(this.pending.length + n);
    joined.set(this.pending);
    joined.set(fresh, this.pending.length);
    this.pending = joined;
  }
}
