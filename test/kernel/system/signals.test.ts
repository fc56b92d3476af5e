/**
 * Signal handlers through the whole system, under both designs: the kernel enters a handler on the
 * way back to EL0 (PC = handler, x0 = the signal, x30 = sa_restorer), the handler's rt_sigreturn
 * finishes the interrupted call (its result, EINTR, or a restart with SA_RESTART), and the usual
 * rules around it hold: SIGKILL cannot be caught, exec resets handlers, fork keeps them, and an
 * rt_sigreturn with no handler running is a bad frame (SIGSEGV).
 */
import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { SIG } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { execve } from '../../../src/user/libc/exec.js';
import { fork } from '../../../src/user/libc/fork.js';
import { pipe } from '../../../src/user/libc/io.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { sigaction } from '../../../src/user/libc/signal.js';
import { syscall, type Call } from '../../../src/user/libc/syscall.js';
import { read, write } from '../../../src/user/libc/sys-fs.js';
import { getpid, kill, nanosleepRaw } from '../../../src/user/libc/sys-proc.js';
import { nanosleep } from '../../../src/user/libc/time.js';
import { waitpid } from '../../../src/user/libc/wait.js';
import { DESIGN_NAMES, fields, runProgram, say } from './helpers.js';

/** A handler that prints the signal it got. */
function* report(p: Proc, sig: number): Call<void> {
  yield* say(p, 'handler', sig);
}

/** A child that sleeps `ms` then sends `sig` to `pid`. */
function signalLater(pid: number, sig: number, ms: number) {
  return function* (p: Proc): Call<number> {
    yield* nanosleep(p, ms * 1_000_000);
    yield* kill(pid, sig);
    return 0;
  };
}

describe.each(DESIGN_NAMES)('signal handlers under %s', (design) => {
  it('runs a handler before the call that raised the signal returns', () => {
    const run = runProgram(design, function* (p) {
      let seen = 0;
      yield* sigaction(p, SIG.USR1, function* (q, sig) {
        seen = sig;
        yield* report(q, sig);
      });
      const result = yield* kill(yield* getpid(), SIG.USR1);
      yield* say(p, 'kill', result);
      yield* say(p, 'seen', seen);
      return 0;
    });
    expect(run.code).toBe(0);
    expect(run.output).toBe('handler=10\nkill=0\nseen=10\n');
  });

  it('interrupts a blocking read: EINTR without SA_RESTART, the read goes on with it', () => {
    const run = runProgram(design, function* (p) {
      const pid = yield* getpid();
      for (const restart of [false, true]) {
        yield* sigaction(p, SIG.USR1, report, { restart });
        const fds = yield* pipe(p);
        if (typeof fds === 'number') return 1;
        const [readEnd, writeEnd] = fds;
        // The signal comes at 1 ms; the data at 2 ms.
        const sender = yield* fork(p, signalLater(pid, SIG.USR1, 1));
        const writer = yield* fork(p, function* (c) {
          yield* nanosleep(c, 2_000_000);
          const buffer = yield* c.heap.malloc(1);
          c.cpu.store8(buffer, 0x41);
          yield* write(writeEnd, buffer, 1);
          return 0;
        });
        const buffer = yield* p.heap.malloc(8);
        const n = yield* read(readEnd, buffer, 8);
        yield* say(p, restart ? 'restarted read' : 'plain read', n);
        if (n === -Errno.EINTR) yield* say(p, 'then', yield* read(readEnd, buffer, 8));
        yield* waitpid(p, sender);
        yield* waitpid(p, writer);
      }
      return 0;
    });
    expect(run.output).toBe(
      ['handler=10', `plain read=${-Errno.EINTR}`, 'then=1', 'handler=10', 'restarted read=1', ''].join('\n'),
    );
  });

  it('runs the handlers of two signals pending at once, one after the other, then the call', () => {
    const run = runProgram(design, function* (p) {
      // Without SA_RESTART, the first handler's rt_sigreturn hands back EINTR and the second
      // handler is entered on the way (no restart in between).
      yield* sigaction(p, SIG.USR1, report, { restart: false });
      yield* sigaction(p, SIG.USR2, report, { restart: false });
      const fds = yield* pipe(p);
      if (typeof fds === 'number') return 1;
      const pid = yield* getpid();
      const child = yield* fork(p, function* (c) {
        yield* nanosleep(c, 1_000_000);
        yield* kill(pid, SIG.USR2);
        yield* kill(pid, SIG.USR1);
        const buffer = yield* c.heap.malloc(1);
        c.cpu.store8(buffer, 0x42);
        yield* write(fds[1], buffer, 1);
        return 0;
      });
      const buffer = yield* p.heap.malloc(8);
      yield* say(p, 'read', yield* read(fds[0], buffer, 8));
      yield* say(p, 'again', yield* read(fds[0], buffer, 8));
      yield* waitpid(p, child);
      return 0;
    });
    expect(run.output).toBe(`handler=10\nhandler=12\nread=${-Errno.EINTR}\nagain=1\n`);
  });

  it('ends an interrupted nanosleep with EINTR and the time left, whatever SA_RESTART says', () => {
    const run = runProgram(design, function* (p) {
      yield* sigaction(p, SIG.USR1, report, { restart: true });
      const child = yield* fork(p, signalLater(yield* getpid(), SIG.USR1, 30));
      const request = yield* p.heap.malloc(16);
      const left = yield* p.heap.malloc(16);
      p.cpu.store64(request, 1); // 1 s
      p.cpu.store64(request + 8, 0);
      const result = yield* nanosleepRaw(request, left);
      yield* say(p, 'nanosleep', result);
      const ns = p.cpu.load64(left) * 1e9 + p.cpu.load64(left + 8);
      yield* say(p, 'left about 970 ms', Math.abs(ns - 970_000_000) < 5_000_000);
      yield* waitpid(p, child);
      return 0;
    });
    expect(fields(run.output)).toMatchObject({
      handler: '10',
      nanosleep: String(-Errno.EINTR),
      'left about 970 ms': 'true',
    });
  });

  it('keeps handlers across fork and drops them at exec; SIGKILL cannot be caught', () => {
    const run = runProgram(design, function* (p) {
      yield* sigaction(p, SIG.TERM, report);
      yield* say(p, 'catch SIGKILL', yield* sigaction(p, SIG.KILL, report));
      const forked = yield* fork(p, function* (_c) {
        yield* kill(yield* getpid(), SIG.TERM);
        return 7;
      });
      const forkedStatus = yield* waitpid(p, forked);
      const execd = yield* fork(p, function* (c) {
        yield* execve(c, '/bin/sleep', ['sleep', '10']);
        return 1;
      });
      yield* nanosleep(p, 10_000_000);
      yield* kill(execd, SIG.TERM);
      const execdStatus = yield* waitpid(p, execd);
      if (typeof forkedStatus === 'number' || typeof execdStatus === 'number') return 1;
      yield* say(p, 'forked child', forkedStatus.status >> 8);
      yield* say(p, 'exec child killed by', execdStatus.status & 0x7f);
      return 0;
    });
    expect(run.output).toBe(
      [`catch SIGKILL=${-Errno.EINVAL}`, 'handler=15', 'forked child=7', 'exec child killed by=15', ''].join(
        '\n',
      ),
    );
  });

  it('kills a process whose rt_sigreturn has no handler frame (SIGSEGV)', () => {
    const run = runProgram(design, function* () {
      yield* syscall(Sys.rt_sigreturn);
      return 0;
    });
    expect(run.signal).toBe(SIG.SEGV);
  });
});

describe('signal handlers, both designs alike', () => {
  it('prints the same under native and rcontainer', () => {
    const body = function* (p: Proc): Call<number> {
      yield* sigaction(p, SIG.USR2, report);
      for (let i = 0; i < 3; i++) yield* kill(yield* getpid(), SIG.USR2);
      return 0;
    };
    const outputs = DESIGN_NAMES.map((design) => runProgram(design, body).output);
    expect(outputs[0]).toBe('handler=12\nhandler=12\nhandler=12\n');
    expect(outputs[1]).toBe(outputs[0]);
  });
});
