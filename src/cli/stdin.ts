/**
 * `run -i` without a daemon: this process's standard input as it arrives, for the machine that
 * runs in this process to take between slices (typed lines, or a pipe until its end).
 */

/** Standard input, queued as it arrives. */
export class StdinQueue {
  private chunks: Buffer[] = [];
  private ended = false;
  private waiter: (() => void) | undefined;
  private readonly onData = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };

  constructor() {
    process.stdin.on('data', this.onData);
    process.stdin.on('end', this.onEnd);
    process.stdin.on('error', this.onEnd);
  }

  /** What arrived since the last call, and whether the input has ended. */
  take(): { chunks: Buffer[]; ended: boolean } {
    const chunks = this.chunks;
    this.chunks = [];
    return { chunks, ended: this.ended };
  }

  /** Resolves once something arrives or the input ends (at once if either already happened). */
  next(): Promise<void> {
    if (this.chunks.length > 0 || this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  /** Stop reading (a terminal or pipe still open would keep this process alive). */
  stop(): void {
    process.stdin.off('data', this.onData);
    process.stdin.off('end', this.onEnd);
    process.stdin.off('error', this.onEnd);
    process.stdin.destroy();
  }

  private notify(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
