/**
 * `GET /containers/{id}/logs?follow=1`: a container's console output as a stream that goes on as
 * the container writes and ends when it stops running (or is removed), like `docker logs -f`.
 * It waits on the engine's change notifications, so a quiet container costs nothing.
 */
import type { ConsoleChunk } from '../../kernel/core/console.js';
import { joinRuns, multiplex } from './console-log.js';
import type { Engine } from './engine.js';

/**
 * The output of container `ref` from byte `since` on, followed until it stops running: plain, or
 * in Docker's multiplexed framing (`framed`).
 */
export function followOutput(
  engine: Engine,
  ref: string,
  since: number,
  framed = false,
): ReadableStream<Uint8Array> {
  let offset = since;
  let dirty = true;
  let wake: (() => void) | undefined;
  let unwatch: (() => void) | undefined;
  const end = (): void => {
    unwatch?.();
    unwatch = undefined;
    wake?.();
  };
  return new ReadableStream<Uint8Array>({
    start() {
      unwatch = engine.watch(() => {
        dirty = true;
        wake?.();
      });
    },
    async pull(controller) {
      while (unwatch !== undefined) {
        dirty = false;
        // Both read in one synchronous step: the machine only moves between them in the pump.
        const running = engine.running(ref);
        let runs: ConsoleChunk[];
        try {
          runs = engine.logRuns(ref, offset);
        } catch {
          runs = []; // removed meanwhile
        }
        if (runs.length > 0) {
          const bytes = joinRuns(runs);
          offset += bytes.length;
          controller.enqueue(framed ? multiplex(runs) : bytes);
          return;
        }
        if (!running) break;
        if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      end();
      controller.close();
    },
    cancel: end,
  });
}
