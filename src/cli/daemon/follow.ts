/**
 * Streams that go on as the machine produces output: `GET /containers/{id}/logs?follow=1` (like
 * `docker logs -f`, until the container stops running or is removed) and a streamed exec's output.
 * They wait on the engine's change notifications, so a quiet stream costs nothing.
 */
import type { ConsoleChunk } from '../../kernel/core/console.js';
import { joinRuns, multiplex } from './console-log.js';
import type { Engine } from './engine.js';

/** What a followed stream has now: bytes to send, or that it is over. */
export type FollowStep = { readonly bytes: Uint8Array } | 'wait' | 'end';

/**
 * A stream that asks `next` for what to send each time something changed (`watch` calls its
 * listener), and ends when `next` says so. `onCancel` is told when the client goes away first.
 */
export function followStream(
  watch: (listener: () => void) => () => void,
  next: () => FollowStep,
  onCancel?: () => void,
): ReadableStream<Uint8Array> {
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
      unwatch = watch(() => {
        dirty = true;
        wake?.();
      });
    },
    async pull(controller) {
      while (unwatch !== undefined) {
        dirty = false;
        const step = next();
        if (step === 'end') break;
        if (step !== 'wait') {
          controller.enqueue(step.bytes);
          return;
        }
        if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      end();
      controller.close();
    },
    cancel: () => {
      end();
      onCancel?.();
    },
  });
}

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
  return followStream(
    (listener) => engine.watch(listener),
    () => {
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
        return { bytes: framed ? multiplex(runs) : bytes };
      }
      return running ? 'wait' : 'end';
    },
  );
}
