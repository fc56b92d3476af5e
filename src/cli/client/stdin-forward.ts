/**
 * `exec -i` and `run -i` through the daemon: this process's standard input, pushed as it arrives
 * (POST /exec/{id}/input or /containers/{id}/input, one request at a time, in order), and its end
 * as `close`. The daemon refuses more than the session's queue holds (429); the chunk is sent
 * again shortly. It stops when the daemon says the input is gone (the exec or container ended).
 */
import { ApiError, type DaemonClient } from './connect.js';

/** Pause before sending a refused chunk again. */
const RETRY_MS = 20;
/** Largest chunk per request. */
const CHUNK_BYTES = 64 * 1024;

/** A running forwarder; `stop` lets this process exit (stdin is no longer read). */
export interface StdinForwarder {
  stop(): void;
}

/** Forward standard input to `inputPath` (an input endpoint) until its end, or until it is gone. */
export function forwardStdin(client: DaemonClient, inputPath: string): StdinForwarder {
  const stdin = process.stdin;
  let stopped = false;
  let sending: Promise<void> = Promise.resolve();
  const send = (data: Buffer | undefined, close: boolean): void => {
    sending = sending.then(async () => {
      for (let at = 0; !stopped;) {
        const part = data?.subarray(at, at + CHUNK_BYTES);
        const last = data === undefined || at + CHUNK_BYTES >= data.length;
        const body = {
          ...(part !== undefined && part.length > 0 ? { data: part.toString('base64') } : {}),
          ...(close && last ? { close: true } : {}),
        };
        const response = await client.raw('POST', inputPath, body).catch(() => undefined);
        if (response === undefined || response.status === 409 || response.status === 404) return stop();
        if (response.status === 429) {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          continue;
        }
        if (response.status >= 300) throw new ApiError(response.text, response.status);
        if (last) return;
        at += CHUNK_BYTES;
      }
    });
    sending.catch(() => stop());
  };
  const onData = (chunk: Buffer): void => send(chunk, false);
  const onEnd = (): void => send(undefined, true);
  function stop(): void {
    if (stopped) return;
    stopped = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    // A terminal or pipe still open would keep this process alive.
    stdin.destroy();
  }
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return { stop };
}
