/** clock_gettime and nanosleep with times as JS numbers of nanoseconds. */
import { Errno } from '../../kernel/uapi/errno.js';
import { CLOCK } from '../../kernel/uapi/flags.js';
import { TIMESPEC_BYTES } from '../../kernel/uapi/structs.js';
import type { UserCpu } from '../program.js';
import type { Proc } from './process.js';
import { isError, type Call } from './syscall.js';
import { clockGettime, nanosleepRaw } from './sys-proc.js';

/** Nanoseconds per second. */
export const NS_PER_SECOND = 1_000_000_000;

function readTimespec(cpu: UserCpu, va: number): number {
  return cpu.load64(va) * NS_PER_SECOND + cpu.load64(va + 8);
}

function writeTimespec(cpu: UserCpu, va: number, ns: number): void {
  const whole = Math.max(0, Math.floor(ns));
  cpu.store64(va, Math.floor(whole / NS_PER_SECOND));
  cpu.store64(va + 8, whole % NS_PER_SECOND);
}

/** clock_gettime(2): the clock's time in nanoseconds, or -errno. */
export function* clockNs(p: Proc, clock: number = CLOCK.MONOTONIC): Call<number> {
  const mark = p.scratch.mark();
  try {
    const ts = p.scratch.alloc(TIMESPEC_BYTES);
    const result = yield* clockGettime(clock, ts);
    if (isError(result)) return result;
    return readTimespec(p.cpu, ts);
  } finally {
    p.scratch.release(mark);
  }
}

/** nanosleep(2) for `ns` nanoseconds, resuming after EINTR with the time that remained. 0 or -errno. */
export function* nanosleep(p: Proc, ns: number): Call<number> {
  const mark = p.scratch.mark();
  try {
    const request = p.scratch.alloc(TIMESPEC_BYTES);
    const remain = p.scratch.alloc(TIMESPEC_BYTES);
    writeTimespec(p.cpu, request, ns);
    for (;;) {
      writeTimespec(p.cpu, remain, 0);
      const result = yield* nanosleepRaw(request, remain);
      if (result !== -Errno.EINTR) return result;
      p.cpu.writeBytes(request, p.cpu.readBytes(remain, TIMESPEC_BYTES));
    }
  } finally {
    p.scratch.release(mark);
  }
}

/** sleep for `seconds` (fractions allowed). */
export function sleepSeconds(p: Proc, seconds: number): Call<number> {
  return nanosleep(p, Math.round(seconds * NS_PER_SECOND));
}
