/**
 * Processes through the whole system, under both designs: wait statuses (exit codes, signals,
 * ECHILD, WNOHANG), SIGPIPE and its SIG_IGN disposition.
 */
import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { F, O, SIG, SIG_IGN, WNOHANG } from '../../../src/kernel/uapi/flags.js';
import { SIGACTION_BYTES } from '../../../src/kernel/uapi/structs.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { execve } from '../../../src/user/libc/exec.js';
import { open, writeFile } from '../../../src/user/libc/files.js';
import { fork, spawnThread } from '../../../src/user/libc/fork.js';
import { pipe, readFull, writeString } from '../../../src/user/libc/io.js';
import { defineProgram } from '../../../src/user/libc/program.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { syscall, type Call } from '../../../src/user/libc/syscall.js';
import { close, fcntl } from '../../../src/user/libc/sys-fs.js';
import { exitGroup, getpid, gettid, kill } from '../../../src/user/libc/sys-proc.js';
import { nanosleep } from '../../../src/user/libc/time.js';
import { waitpid, type WaitResult } from '../../../src/user/libc/wait.js';
import { DESIGN_NAMES, fields, runProgram, runSystem, say } from './helpers.js';

/** "exited:<code>" or "signaled:<signal>" or the -errno of waitpid. */
function describeWait(result: WaitResult | number): string {
  if (typeof result === 'number') return String(result);
  return result.exited ? `exited:${result.code}` : `signaled:${result.signal}`;
}

/** rt_sigaction(sig, {sa_handler: handler}, NULL, 8). */
function* sigaction(p: Proc, sig: number, handler: number): Call<number> {
  const mark = p.scratch.mark();
  try {
    const act = p.scratch.alloc(SIGACTION_BYTES);
    p.cpu.fillBytes(act, SIGACTION_BYTES, 0);
    p.cpu.store64(act, handler);
    return yield* syscall(Sys.rt_sigaction, sig, act, 0, 8);
  } finally {
    p.scratch.release(mark);
  }
}

/** Write to a pipe whose only read end was closed; report what write returned. */
function* writeToWidowedPipe(p: Proc): Call<number> {
  const fds = yield* pipe(p);
  if (typeof fds === 'number') return 2;
  yield* close(fds[0]);
  const n = yield* writeString(p, fds[1], 'nobody reads this');
  yield* say(p, 'write', n);
  return 0;
}

describe.each(DESIGN_NAMES)('processes through the system (%s)', (design) => {
  it('reports exit codes 0, 1 and 255, SIGKILL, ECHILD and WNOHANG in wait statuses', () => {
    const r = runProgram(design, function* (p) {
      yield* say(p, 'noChildren', describeWait(yield* waitpid(p, -1)));
      for (const code of [0, 1, 255]) {
        const pid = yield* fork(p, function* () {
          return code;
        });
        yield* say(p, `exit${code}`, describeWait(yield* waitpid(p, pid)));
      }
      // A child that calls exit_group itself: only the low 8 bits of the code reach the status.
      const direct = yield* fork(p, function* () {
        return yield* exitGroup(256 + 42);
      });
      yield* say(p, 'exitGroup', describeWait(yield* waitpid(p, direct)));
      // A child that sleeps: WNOHANG finds nothing, then kill(SIGKILL) ends it.
      const sleeper = yield* fork(p, function* (cp) {
        yield* nanosleep(cp, 10_000_000_000);
        return 3;
      });
      yield* say(p, 'wnohang', describeWait(yield* waitpid(p, sleeper, WNOHANG)));
      yield* say(p, 'kill', yield* kill(sleeper, SIG.KILL));
      yield* say(p, 'killed', describeWait(yield* waitpid(p, sleeper)));
      yield* say(p, 'reaped', describeWait(yield* waitpid(p, sleeper)));
      yield* say(p, 'killGone', yield* kill(sleeper, SIG.KILL));
      // SIGTERM by default terminates; a signal 0 probe does not.
      const other = yield* fork(p, function* (cp) {
        yield* nanosleep(cp, 10_000_000_000);
        return 3;
      });
      yield* say(p, 'probe', yield* kill(other, 0));
      yield* kill(other, SIG.TERM);
      yield* say(p, 'term', describeWait(yield* waitpid(p, other)));
      return 0;
    });
    expect(r.code).toBe(0);
    expect(fields(r.output)).toEqual({
      noChildren: String(-Errno.ECHILD),
      exit0: 'exited:0',
      exit1: 'exited:1',
      exit255: 'exited:255',
      exitGroup: 'exited:42',
      wnohang: '0',
      kill: '0',
      killed: `signaled:${SIG.KILL}`,
      reaped: String(-Errno.ECHILD),
      killGone: String(-Errno.ESRCH),
      probe: '0',
      term: `signaled:${SIG.TERM}`,
    });
  });

  it('sets the wait status of a container init that exits or is killed', () => {
    expect(
      runProgram(design, function* () {
        return 255;
      }).code,
    ).toBe(255);
    // From inside its namespace, not even SIGKILL reaches the init (pid_namespaces(7))...
    const spared = runProgram(design, function* () {
      yield* kill(0, SIG.KILL);
      yield* kill(1, SIG.TERM);
      return 0;
    });
    expect(spared.code).toBe(0);
    // ...but a fault kills it, and its death ends the rest of its namespace.
    const killed = runProgram(design, function* (p) {
      yield* fork(p, function* (c) {
        yield* nanosleep(c, 1_000_000_000);
        return 0;
      });
      p.cpu.load8(0);
      return 0;
    });
    expect(killed.code).toBeUndefined();
    expect(killed.signal).toBe(SIG.SEGV);
    expect([...killed.system.kernel.allGroups()].filter((g) => !g.zombie)).toEqual([]);
  });

  it('kills a writer to a pipe without readers with SIGPIPE; with SIG_IGN write returns EPIPE', () => {
    const r = runProgram(design, function* (p) {
      const dies = yield* fork(p, writeToWidowedPipe);
      yield* say(p, 'default', describeWait(yield* waitpid(p, dies)));
      const survives = yield* fork(p, function* (cp) {
        yield* say(cp, 'sigaction', yield* sigaction(cp, SIG.PIPE, SIG_IGN));
        return yield* writeToWidowedPipe(cp);
      });
      yield* say(p, 'ignored', describeWait(yield* waitpid(p, survives)));
      return 0;
    });
    expect(r.code).toBe(0);
    // The first child never printed: it died inside write(2).
    expect(r.output).toBe(
      `default=signaled:${SIG.PIPE}\nsigaction=0\nwrite=${-Errno.EPIPE}\nignored=exited:0\n`,
    );
    // The init itself dies of SIGPIPE the same way.
    const init = runProgram(design, writeToWidowedPipe);
    expect(init.signal).toBe(SIG.PIPE);
    expect(init.output).toBe('');
  });

  it('refuses SIG_IGN for SIGKILL and inherits SIG_IGN across fork', () => {
    const r = runProgram(design, function* (p) {
      yield* say(p, 'kill', yield* sigaction(p, SIG.KILL, SIG_IGN));
      yield* say(p, 'term', yield* sigaction(p, SIG.TERM, SIG_IGN));
      const child = yield* fork(p, function* (cp) {
        yield* nanosleep(cp, 5_000_000);
        return 9;
      });
      yield* kill(child, SIG.TERM);
      yield* say(p, 'child', describeWait(yield* waitpid(p, child)));
      return 0;
    });
    expect(fields(r.output)).toEqual({ kill: String(-Errno.EINVAL), term: '0', child: 'exited:9' });
  });

  it('execs a new image in the same process: same pid, argv, close-on-exec fds closed', () => {
    const after = defineProgram(function* (p) {
      yield* say(p, 'argv', p.argv.join(' '));
      yield* say(p, 'pid', yield* getpid());
      yield* say(p, 'keptFd', (yield* fcntl(3, F.GETFD, 0)) >= 0);
      yield* say(p, 'cloexecFd', yield* fcntl(4, F.GETFD, 0));
      return 9;
    });
    const before = defineProgram(function* (p) {
      yield* say(p, 'missing', yield* execve(p, '/bin/nothing', ['nothing']));
      yield* writeFile(p, '/tmp/data', new TextEncoder().encode('not a program'), 0o755);
      yield* say(p, 'noexec', yield* execve(p, '/tmp/data', ['data']));
      yield* writeFile(p, '/tmp/plain', new TextEncoder().encode('#!/bin/sh\necho hi\n'), 0o644);
      yield* say(p, 'notExecutable', yield* execve(p, '/tmp/plain', ['plain']));
      yield* say(p, 'directory', yield* execve(p, '/tmp', ['tmp']));
      const kept = yield* open(p, '/etc/passwd', O.RDONLY);
      const closing = yield* open(p, '/etc/group', O.RDONLY | O.CLOEXEC);
      yield* say(p, 'fds', `${kept},${closing}`);
      const child = yield* fork(p, function* (cp) {
        return yield* execve(cp, '/bin/after', ['after', 'x', 'y']);
      });
      yield* say(p, 'child', describeWait(yield* waitpid(p, child)));
      return 0;
    });
    const r = runSystem(design, { argv: ['before'], programs: { before, after } });
    expect(fields(r.output)).toEqual({
      missing: String(-Errno.ENOENT),
      noexec: String(-Errno.ENOEXEC),
      notExecutable: String(-Errno.EACCES),
      directory: String(-Errno.EACCES),
      fds: '3,4',
      argv: 'after x y',
      pid: '2',
      keptFd: 'true',
      cloexecFd: String(-Errno.EBADF),
      child: 'exited:9',
    });
  });

  it('runs threads in one process: one pid, own tids, exit_group ends them all', () => {
    const r = runProgram(design, function* (p) {
      const done = yield* pipe(p);
      if (typeof done === 'number') return 1;
      const pid = yield* getpid();
      const tids: number[] = [];
      for (let i = 0; i < 2; i++) {
        tids.push(
          yield* spawnThread(p, function* (tp) {
            yield* say(tp, `samePid${i}`, (yield* getpid()) === pid);
            yield* say(tp, `ownTid${i}`, (yield* gettid()) !== pid);
            yield* writeString(tp, done[1], 'd');
            return 0;
          }),
        );
      }
      const buffer = yield* p.heap.malloc(2);
      yield* say(p, 'joined', yield* readFull(done[0], buffer, 2));
      yield* say(p, 'distinct', new Set([pid, ...tids]).size === 3);
      // A thread still sleeping when the process exits goes with it.
      yield* spawnThread(p, function* (tp) {
        yield* nanosleep(tp, 10_000_000_000);
        yield* say(tp, 'unreachable', true);
        return 0;
      });
      return 0;
    });
    expect(r.code).toBe(0);
    expect(fields(r.output)).toEqual({
      samePid0: 'true',
      ownTid0: 'true',
      samePid1: 'true',
      ownTid1: 'true',
      joined: '2',
      distinct: 'true',
    });
    expect(r.system.elapsedNs).toBeLessThan(1_000_000_000);
  });

  it('reports the status that ended a multi-threaded process, not the SIGKILL of its threads', () => {
    // Regression: the SIGKILL that takes the other threads down became the wait status.
    const r = runProgram(design, function* (p) {
      const sleepy = function* (tp: Proc): Call<number> {
        yield* nanosleep(tp, 10_000_000_000);
        return 0;
      };
      const byThread = yield* fork(p, function* (cp) {
        yield* spawnThread(cp, function* () {
          return yield* exitGroup(3);
        });
        return yield* sleepy(cp);
      });
      yield* say(p, 'threadExitGroup', describeWait(yield* waitpid(p, byThread)));
      const byMain = yield* fork(p, function* (cp) {
        yield* spawnThread(cp, sleepy);
        return 4;
      });
      yield* say(p, 'mainReturns', describeWait(yield* waitpid(p, byMain)));
      const faulting = yield* fork(p, function* (cp) {
        yield* spawnThread(cp, function* (tp) {
          tp.cpu.store8(0x1000, 1);
          return 0;
        });
        return yield* sleepy(cp);
      });
      yield* say(p, 'threadFault', describeWait(yield* waitpid(p, faulting)));
      const terminated = yield* fork(p, function* (cp) {
        yield* spawnThread(cp, sleepy);
        return yield* sleepy(cp);
      });
      yield* nanosleep(p, 1_000_000);
      yield* kill(terminated, SIG.TERM);
      yield* say(p, 'sigterm', describeWait(yield* waitpid(p, terminated)));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      threadExitGroup: 'exited:3',
      mainReturns: 'exited:4',
      threadFault: `signaled:${SIG.SEGV}`,
      sigterm: `signaled:${SIG.TERM}`,
    });
  });

  it('does not let a container signal what its pid namespace does not show', () => {
    const r = runProgram(design, function* (p) {
      yield* say(p, 'self', yield* kill(1, 0));
      yield* say(p, 'invisible', yield* kill(2, 0));
      yield* say(p, 'all', yield* kill(-1, SIG.TERM));
      yield* say(p, 'badSignal', yield* kill(1, 65));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      self: '0',
      invisible: String(-Errno.ESRCH),
      all: String(-Errno.ESRCH),
      badSignal: String(-Errno.EINVAL),
    });
  });
});
