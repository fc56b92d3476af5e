/**
 * Docker's multiplexed stream (the daemon's `logs?multiplex=1`): frames of a header (stream u8,
 * three zero bytes, length u32 BE) and that many bytes, which may arrive split across reads.
 */

/** Bytes of a frame header. */
const HEADER_BYTES = 8;

/** Splits a multiplexed stream back into its streams as its bytes arrive. */
export class Demultiplexer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly write: (stream: 1 | 2, bytes: Buffer) => void;

  /** `write` gets each frame's payload with its stream (1 stdout, 2 stderr). */
  constructor(write: (stream: 1 | 2, bytes: Buffer) => void) {
    this.write = write;
  }

  /** Feed bytes of the stream. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= HEADER_BYTES) {
      const length = this.pending.readUInt32BE(at + 4);
      if (this.pending.length - at < HEADER_BYTES + length) break;
      const stream = this.pending[at] === 2 ? 2 : 1;
      this.write(stream, this.pending.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length));
      at += HEADER_BYTES + length;
    }
    this.pending = this.pending.subarray(at);
  }

  /** True when the stream ended inside a frame. */
  get truncated(): boolean {
    return this.pending.length > 0;
  }
}

/** A demultiplexer writing stdout and stderr of a container to this process's. */
export function toTerminal(): Demultiplexer {
  return new Demultiplexer((stream, bytes) => (stream === 2 ? process.stderr : process.stdout).write(bytes));
}
