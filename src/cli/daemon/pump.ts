/**
 * The daemon's pump: advances the machine in slices while any container runs, yielding to the
 * event loop between slices so requests are served. It stops when nothing runs (an idle daemon
 * uses no CPU) and is woken by the server after every request. When everything on the machine is
 * blocked with no timer pending (a server waiting for a client), nothing can change until a request
 * does something, so it also rests then.
 *
 * In real time (the default), simulated time never runs ahead of host time: each slice may cover
 * at most the host time since the last one, and a machine that only waits for timers is left
 * waiting on a host timer instead of leaping to them, so `sleep 60` in a container takes a minute,
 * as users of a container engine expect. The model itself never sees the host clock: pacing only
 * decides how much simulated time each slice asks for.
 */
import { SLICE_NS, type Engine } from './engine.js';

/** A pump over `engine`: `wake()` (re)starts it, `stop()` ends it for good. */
export interface Pump {
  readonly wake: () => void;
  readonly stop: () => void;
}

/** Smallest slice in real time (below it a slice costs more than it simulates). */
const MIN_SLICE_NS = 1_000_000;
/** Longest host wait for a timer before looking again (requests may have changed things). */
const MAX_WAIT_MS = 100;

const hostNs = (): number => Number(process.hrtime.bigint());

/** Make the pump of `engine` (not started until woken); `realtime` paces it to host time. */
export function createPump(engine: Engine, onError: (error: unknown) => void, realtime = true): Pump {
  let immediate: NodeJS.Immediate | undefined;
  let timeout: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = hostNs();
  const step = (): void => {
    immediate = undefined;
    timeout = undefined;
    if (stopped || !engine.anyRunning()) return;
    const now = hostNs();
    // Busy, a slice is at most SLICE_NS (requests stay served); only waiting for timers, it covers
    // all the host time that went by (a leap of the clock costs nothing).
    const waiting = realtime && engine.system.idleUntilTimerNs() !== undefined;
    const elapsed = Math.max(MIN_SLICE_NS, now - last);
    const budget = !realtime ? SLICE_NS : waiting ? elapsed : Math.min(SLICE_NS, elapsed);
    last = now;
    let end: string;
    try {
      end = engine.tick(budget);
    } catch (error) {
      onError(error);
      return;
    }
    if (end === 'idle' || !engine.anyRunning()) return;
    const waitNs = realtime ? engine.system.idleUntilTimerNs() : undefined;
    if (waitNs === undefined) immediate = setImmediate(step);
    else timeout = setTimeout(step, Math.min(MAX_WAIT_MS, Math.max(1, waitNs / 1e6)));
  };
  return {
    wake: () => {
      if (stopped || immediate !== undefined) return;
      if (timeout !== undefined) clearTimeout(timeout);
      timeout = undefined;
      immediate = setImmediate(step);
    },
    stop: () => {
      stopped = true;
      if (immediate !== undefined) clearImmediate(immediate);
      if (timeout !== undefined) clearTimeout(timeout);
      immediate = timeout = undefined;
    },
  };
}
