/**
 * The daemon's pump: advances the machine in slices while any container runs, yielding to the
 * event loop between slices so requests are served. It stops when nothing runs (an idle daemon
 * uses no CPU) and is woken by the server after every request. When everything on the machine is
 * blocked with no timer pending (a server waiting for a client), nothing can change until a request
 * does something, so it also rests then.
 */
import { SLICE_NS, type Engine } from './engine.js';

/** A pump over `engine`: `wake()` (re)starts it, `stop()` ends it for good. */
export interface Pump {
  readonly wake: () => void;
  readonly stop: () => void;
}

/** Make the pump of `engine` (not started until woken). */
export function createPump(engine: Engine, onError: (error: unknown) => void): Pump {
  let timer: NodeJS.Immediate | undefined;
  let stopped = false;
  const step = (): void => {
    timer = undefined;
    if (stopped || !engine.anyRunning()) return;
    let end: string;
    try {
      end = engine.tick(SLICE_NS);
    } catch (error) {
      onError(error);
      return;
    }
    if (end !== 'idle' && engine.anyRunning()) timer = setImmediate(step);
  };
  return {
    wake: () => {
      if (stopped) return;
      if (timer === undefined) timer = setImmediate(step);
    },
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearImmediate(timer);
      timer = undefined;
    },
  };
}
