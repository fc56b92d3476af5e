/** Reading RESP replies from a connection: read(2) into a heap buffer, parse incrementally. */
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { read } from '../../libc/sys-fs.js';
import { parseValue, type RespValue } from './resp.js';

const INPUT_BYTES = 16 * 1024;

/** A reader of RESP values from one fd. */
export class ReplyReader {
  private readonly p: Proc;
  private readonly fd: number;
  private buffer = 0;
  private pending: Uint8Array = new Uint8Array(0);

  constructor(p: Proc, fd: number) {
    this.p = p;
    this.fd = fd;
  }

  /** The next reply, or an error message (connection closed, protocol error, read error). */
  *next(): Call<RespValue | string> {
    for (;;) {
      const parsed = parseValue(this.pending);
      if (parsed.kind === 'ok') {
        this.pending = this.pending.subarray(parsed.consumed);
        return parsed.value;
      }
      if (parsed.kind === 'error') return `protocol error: ${parsed.message}`;
      if (this.buffer === 0) {
        this.buffer = yield* this.p.heap.malloc(INPUT_BYTES);
        if (this.buffer === 0) return 'out of memory';
      }
      const n = yield* read(this.fd, this.buffer, INPUT_BYTES);
      if (isError(n)) return `read: error ${-n}`;
      if (n === 0) return 'connection closed by server';
      const joined = new Uint8Array(this.pending.length + n);
      joined.set(this.pending);
      joined.set(this.p.cpu.readBytes(this.buffer, n), this.pending.length);
      this.pending = joined;
    }
  }

  /** Free the buffer. */
  *close(): Call<void> {
    yield* this.p.heap.free(this.buffer);
    this.buffer = 0;
  }
}
