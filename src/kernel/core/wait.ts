/**
 * Wait queues: a blocking call parks its task on a queue and returns -ERESTARTSYS; a wake-up makes
 * every parked task runnable again, and each re-executes its system call (its PC was rewound to the
 * SVC), as Linux restarts a call interrupted before it did anything.
 */
import { ERESTARTSYS } from '../uapi/errno.js';

/** Something that can be parked and woken (a task). */
export interface Sleeper {
  /** Called once when a queue the sleeper waits on is woken. */
  wake(): void;
}

/** A wait queue. */
export class WaitQueue {
  private sleepers: Sleeper[] = [];

  /** Park `sleeper` until the next wake-up. Returns -ERESTARTSYS for the caller to return. */
  sleep(sleeper: Sleeper): number {
    if (!this.sleepers.includes(sleeper)) this.sleepers.push(sleeper);
    return -ERESTARTSYS;
  }

  /** Make every parked sleeper runnable. */
  wakeAll(): void {
    if (this.sleepers.length === 0) return;
    const woken = this.sleepers;
    this.sleepers = [];
    for (const sleeper of woken) sleeper.wake();
  }

  /** Forget `sleeper` (it was woken by something else, or it is exiting). */
  remove(sleeper: Sleeper): void {
    const i = this.sleepers.indexOf(sleeper);
    if (i >= 0) this.sleepers.splice(i, 1);
  }

  /** Number of parked sleepers. */
  get size(): number {
    return this.sleepers.length;
  }
}
