/**
 * The run queue and the timed sleepers. One global FIFO queue serves every PE (simple and fair
 * enough for the model: no per-PE load balancing); timed sleeps (nanosleep) wait in a list ordered
 * by wake-up cycle, ties broken by task id so runs are deterministic.
 */
import type { Task } from '../core/task.js';

/** Runnable tasks and timed sleepers. */
export class RunQueue {
  private readonly queue: Task[] = [];
  private head = 0;
  private readonly timed: Task[] = [];

  /** Number of runnable tasks waiting for a PE. */
  get length(): number {
    return this.queue.length - this.head;
  }

  /** Append a runnable task. */
  push(task: Task): void {
    this.queue.push(task);
  }

  /** The next runnable task, or undefined. */
  shift(): Task | undefined {
    if (this.head >= this.queue.length) return undefined;
    const task = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return task;
  }

  /** Remove a task wherever it waits (it exited). */
  remove(task: Task): void {
    const i = this.queue.indexOf(task, this.head);
    if (i >= 0) this.queue.splice(i, 1);
    const j = this.timed.indexOf(task);
    if (j >= 0) this.timed.splice(j, 1);
  }

  /** Park `task` until cycle `wakeAt` (its wakeAt field is set by the caller). */
  addTimed(task: Task): void {
    let i = this.timed.length;
    while (i > 0) {
      const other = this.timed[i - 1]!;
      if (other.wakeAt! < task.wakeAt! || (other.wakeAt === task.wakeAt && other.tid < task.tid)) break;
      i--;
    }
    this.timed.splice(i, 0, task);
  }

  /** Earliest wake-up cycle of a timed sleeper, or undefined. */
  nextTimed(): number | undefined {
    return this.timed[0]?.wakeAt;
  }

  /** Remove and return the timed sleepers due at or before `cycle`. */
  takeDue(cycle: number): Task[] {
    let n = 0;
    while (n < this.timed.length && this.timed[n]!.wakeAt! <= cycle) n++;
    return this.timed.splice(0, n);
  }
}
