/**
 * The one discrete-event loop that owns simulated time (DESIGN.md §7): idle PEs pick up runnable
 * tasks; then the PE running a thread with the smallest cycle clock goes next (ties: lowest PE id),
 * and runs its thread up to its next system call. When no PE runs anything, time jumps to the next
 * timed wake-up. Nothing here reads a wall clock, so runs are deterministic.
 */
import type { Kernel } from '../kernel/kernel.js';
import type { UserRunner } from './runner.js';

/** Why the loop stopped. */
export type LoopEnd = 'idle' | 'step-limit' | 'time-limit';

/**
 * Run until nothing can run any more, `maxSteps` thread steps, or (with `untilCycle`) until the
 * next thing to run lies at or after that cycle.
 */
export function runLoop(
  kernel: Kernel,
  runner: UserRunner,
  maxSteps: number,
  untilCycle = Infinity,
): LoopEnd {
  const pes = kernel.machine.pes;
  for (let steps = 0; steps < maxSteps;) {
    // The host's side of containers' console output runs on an idle PE, in the OS context.
    if (kernel.hasHostWork) {
      const idle = pes.find((pe) => pe.el !== 0 && pe.halted === undefined);
      if (idle !== undefined && kernel.runHostWork(idle)) continue;
    }
    // Idle PEs take runnable tasks (each jumps to the time its task became runnable if later).
    if (kernel.runQueue.length > 0) {
      for (const pe of pes) {
        if (pe.el !== 0 && pe.halted === undefined && kernel.runQueue.length > 0) kernel.schedule(pe);
      }
    }
    let best = -1;
    let bestCycles = Infinity;
    for (const pe of pes) {
      if (pe.el === 0 && pe.halted === undefined && pe.cycles < bestCycles) {
        best = pe.id;
        bestCycles = pe.cycles;
      }
    }
    const timer = kernel.nextTimerCycle();
    if (best < 0) {
      if (timer === undefined) return 'idle';
      if (timer >= untilCycle) {
        // Nothing happens before the limit: the idle PEs' time passes up to it.
        for (const pe of pes) if (pe.el !== 0 && pe.cycles < untilCycle) pe.cycles = untilCycle;
        return 'time-limit';
      }
      // Nothing runs: the earliest idle PE waits for the timer.
      const idle = pes.reduce((a, b) => (b.cycles < a.cycles ? b : a));
      if (idle.cycles < timer) idle.cycles = timer;
      kernel.fireTimers(timer);
      continue;
    }
    if (bestCycles >= untilCycle) return 'time-limit';
    if (timer !== undefined && timer <= bestCycles) kernel.fireTimers(timer);
    runner.step(pes[best]!);
    steps++;
    if ((steps & 0xfff) === 0) runner.prune((tid) => kernel.task(tid) !== undefined);
  }
  return 'step-limit';
}
