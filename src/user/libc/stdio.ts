/**
 * Buffered output streams (stdout, stderr) whose buffer is in user memory: `print` copies the
 * bytes into the buffer, `flush` writes the buffer with write(2). Threads of a process share the
 * streams; a flush in progress makes other writers wait (sched_yield) instead of racing on the
 * buffer.
 */
import type { UserCpu } from '../program.js';
import { encodeUtf8 } from './cstring.js';
import { Cost } from './cost.js';
import { format, type FormatArg } from './format.js';
import { isError, type Call } from './syscall.js';
import { write } from './sys-fs.js';
import { schedYield } from './sys-proc.js';

/** An output stream over fd `fd` with a buffer of `capacity` bytes at `base`. */
export class OutStream {
  readonly fd: number;
  private readonly cpu: UserCpu;
  private readonly base: number;
  private readonly capacity: number;
  /** Flush after every write that contains a newline (stderr) instead of when the buffer is full. */
  readonly lineBuffered: boolean;
  private length = 0;
  private flushing = false;
  /** The last write error (-errno), or 0. Output after an error is dropped. */
  error = 0;

  constructor(cpu: UserCpu, fd: number, base: number, capacity: number, lineBuffered: boolean) {
    this.cpu = cpu;
    this.fd = fd;
    this.base = base;
    this.capacity = capacity;
    this.lineBuffered = lineBuffered;
  }

  /** Bytes waiting in the buffer. */
  get pending(): number {
    return this.length;
  }

  /** Append `bytes` (flushing as the buffer fills). */
  *write(bytes: Uint8Array): Call<void> {
    this.cpu.compute(Cost.perCall + bytes.length * Cost.perCopiedByte);
    let offset = 0;
    while (offset < bytes.length) {
      while (this.flushing) yield* schedYield();
      if (this.length === this.capacity) {
        yield* this.flush();
        continue;
      }
      const n = Math.min(this.capacity - this.length, bytes.length - offset);
      this.cpu.writeBytes(this.base + this.length, bytes.subarray(offset, offset + n));
      this.length += n;
      offset += n;
    }
    if (this.lineBuffered && bytes.includes(0x0a)) yield* this.flush();
  }

  /** Append the UTF-8 bytes of `text`. */
  *print(text: string): Call<void> {
    yield* this.write(encodeUtf8(text));
  }

  /** Append `format(template, ...args)`. */
  *printf(template: string, ...args: FormatArg[]): Call<void> {
    yield* this.print(format(template, ...args));
  }

  /** Write the buffer out; 0 or the -errno of the failed write (the data is then dropped). */
  *flush(): Call<number> {
    while (this.flushing) yield* schedYield();
    if (this.length === 0) return this.error;
    this.flushing = true;
    try {
      const total = this.length;
      let done = 0;
      while (done < total) {
        const n = yield* write(this.fd, this.base + done, total - done);
        if (isError(n) || n === 0) {
          this.error = isError(n) ? n : this.error;
          break;
        }
        done += n;
      }
      // Another thread may have appended while we were in write(2): keep its bytes.
      const rest = this.length - total;
      if (rest > 0) this.cpu.writeBytes(this.base, this.cpu.readBytes(this.base + total, rest));
      this.length = rest;
      return this.error;
    } finally {
      this.flushing = false;
    }
  }

  /** A copy of the stream state (for a forked child: same buffer VA, copied memory). */
  clone(): OutStream {
    const copy = new OutStream(this.cpu, this.fd, this.base, this.capacity, this.lineBuffered);
    copy.length = this.length;
    copy.error = this.error;
    return copy;
  }
}
