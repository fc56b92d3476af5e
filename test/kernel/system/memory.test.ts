/**
 * Address spaces through the whole system, under both designs: copy on write after fork (heap,
 * stack and mmap memory written before the fork), brk, anonymous private and shared mappings,
 * munmap and mprotect faults (SIGSEGV), private file mappings, and noexec mounts (never mapped
 * executable: untrusted volumes are such mounts).
 */
import { describe, expect, it } from 'vitest';
import { STACK_TOP } from '../../../src/kernel/mm/layout.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { IPC, MAP, MS, O, PROT, SIG } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { decodeUtf8, encodeUtf8 } from '../../../src/user/libc/cstring.js';
import { mkdir, mount, open, readTextFile, writeFile } from '../../../src/user/libc/files.js';
import { execve } from '../../../src/user/libc/exec.js';
import { fork } from '../../../src/user/libc/fork.js';
import { pipe, readFull, writeString } from '../../../src/user/libc/io.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { defineProgram } from '../../../src/user/libc/program.js';
import { syscall, type Call } from '../../../src/user/libc/syscall.js';
import { close } from '../../../src/user/libc/sys-fs.js';
import { brk, mmap, mprotect, munmap } from '../../../src/user/libc/sys-proc.js';
import { nanosleep } from '../../../src/user/libc/time.js';
import { waitpid, type WaitResult } from '../../../src/user/libc/wait.js';
import { DESIGN_NAMES, fields, runProgram, runSystem, say } from './helpers.js';

const PAGE = 4096;
/** A stack address below the argument page (the stack VMA is 8 MiB under STACK_TOP). */
const STACK_SLOT = STACK_TOP - 16 * PAGE;

function describeWait(result: WaitResult | number): string {
  if (typeof result === 'number') return String(result);
  return result.exited ? `exited:${result.code}` : `signaled:${result.signal}`;
}

function* anonymous(length: number, flags: number = MAP.PRIVATE): Call<number> {
  return yield* mmap(0, length, PROT.READ | PROT.WRITE, flags | MAP.ANONYMOUS, -1, 0);
}

function text(p: Proc, va: number, length: number): string {
  return decodeUtf8(p.cpu.readBytes(va, length));
}

/**
 * Write "parent" at each of `places`, fork; the child checks it sees the parent's bytes, waits until
 * the parent has overwritten them with "PARENT", still sees "parent", writes "child!" and exits;
 * the parent then still reads "PARENT".
 */
function* cowRoundTrip(p: Proc, places: Record<string, number>): Call<void> {
  for (const va of Object.values(places)) p.cpu.writeBytes(va, encodeUtf8('parent'));
  const go = yield* pipe(p);
  if (typeof go === 'number') throw new Error('pipe failed');
  const child = yield* fork(p, function* (cp) {
    yield* close(go[1]);
    for (const [name, va] of Object.entries(places)) yield* say(cp, `${name}.childBefore`, text(cp, va, 6));
    const byte = yield* cp.heap.malloc(1);
    yield* readFull(go[0], byte, 1);
    for (const [name, va] of Object.entries(places)) {
      yield* say(cp, `${name}.childAfterParentWrite`, text(cp, va, 6));
      cp.cpu.writeBytes(va, encodeUtf8('child!'));
      yield* say(cp, `${name}.childOwn`, text(cp, va, 6));
    }
    return 0;
  });
  yield* close(go[0]);
  for (const va of Object.values(places)) p.cpu.writeBytes(va, encodeUtf8('PARENT'));
  yield* writeString(p, go[1], 'g');
  yield* say(p, 'child', describeWait(yield* waitpid(p, child)));
  for (const [name, va] of Object.entries(places)) yield* say(p, `${name}.parentAfter`, text(p, va, 6));
}

describe.each(DESIGN_NAMES)('memory through the system (%s)', (design) => {
  it('copies heap, stack and mmap pages on write after fork, in both directions', () => {
    const r = runProgram(design, function* (p) {
      const heap = yield* p.heap.malloc(64);
      const area = yield* anonymous(2 * PAGE);
      yield* cowRoundTrip(p, { heap, stack: STACK_SLOT, mmap: area + PAGE + 100 });
      return 0;
    });
    expect(r.code).toBe(0);
    const expected: Record<string, string> = { child: 'exited:0' };
    for (const name of ['heap', 'stack', 'mmap']) {
      expected[`${name}.childBefore`] = 'parent';
      expected[`${name}.childAfterParentWrite`] = 'parent';
      expected[`${name}.childOwn`] = 'child!';
      expected[`${name}.parentAfter`] = 'PARENT';
    }
    expect(fields(r.output)).toEqual(expected);
    expect(r.system.kernel.stats.cowCopies).toBeGreaterThan(0);
  });

  it('keeps a copy-on-write page whose last mapping was in a child that exited', () => {
    // Regression: under rcontainer, rc_task_exit scrubbed every granule only the dying address
    // space mapped, although the parent still referenced the page (its leaf was gone: mprotect
    // re-registers the area and its pages fault back in).
    const r = runProgram(design, function* (p) {
      const area = yield* anonymous(PAGE);
      p.cpu.writeBytes(area, encodeUtf8('kept!!'));
      const child = yield* fork(p, function* (cp) {
        yield* say(cp, 'child', text(cp, area, 6));
        return 0;
      });
      yield* say(p, 'mprotect', yield* mprotect(area, PAGE, PROT.READ | PROT.WRITE));
      yield* waitpid(p, child);
      yield* say(p, 'parent', text(p, area, 6));
      return 0;
    });
    expect(fields(r.output)).toEqual({ child: 'kept!!', mprotect: '0', parent: 'kept!!' });
  });

  it('keeps inherited pages for a child whose parent called execve before it touched them', () => {
    // Regression: under rcontainer, rc_task_exec (and rc_task_exit) scrubbed every granule only the
    // dropped address space mapped, including pages a copy-on-write child still had to fault in.
    const reaper = defineProgram(function* (p) {
      return (yield* waitpid(p, -1)) === -Errno.ECHILD ? 1 : 0;
    });
    const main = defineProgram(function* (p) {
      const heap = yield* p.heap.malloc(16);
      p.cpu.writeBytes(heap, encodeUtf8('from-A'));
      yield* fork(p, function* (cp) {
        yield* nanosleep(cp, 5_000_000);
        yield* say(cp, 'child', text(cp, heap, 6));
        return 0;
      });
      return yield* execve(p, '/bin/reaper', ['reaper']);
    });
    const r = runSystem(design, { argv: ['main'], programs: { main, reaper } });
    expect(r.output).toBe('child=from-A\n');
    expect(r.code).toBe(0);
  });

  // Regression (rcontainer): resuming a task whose saved x0 is negative (waitpid(-1) restarted)
  // was taken for a refusal of rc_switch_to_depriv.
  it('keeps inherited pages for an orphan whose parent exited first', () => {
    const r = runProgram(design, function* (p) {
      const middle = yield* fork(p, function* (mp) {
        const heap = yield* mp.heap.malloc(16);
        mp.cpu.writeBytes(heap, encodeUtf8('from-A'));
        yield* fork(mp, function* (gp) {
          yield* nanosleep(gp, 5_000_000);
          yield* say(gp, 'grandchild', text(gp, heap, 6));
          return 0;
        });
        return 0;
      });
      yield* say(p, 'middle', describeWait(yield* waitpid(p, middle)));
      // The orphan is reparented to this init: wait for it too.
      yield* say(p, 'orphan', describeWait(yield* waitpid(p, -1)));
      return 0;
    });
    expect(fields(r.output)).toEqual({ middle: 'exited:0', grandchild: 'from-A', orphan: 'exited:0' });
  });

  it('keeps shared pages written only by a process that exited or called execve', () => {
    const r = runProgram(design, function* (p) {
      const shared = yield* anonymous(3 * PAGE, MAP.SHARED);
      const writer = yield* fork(p, function* (cp) {
        cp.cpu.writeBytes(shared + PAGE, encodeUtf8('exited'));
        return 0;
      });
      yield* waitpid(p, writer);
      yield* say(p, 'afterExit', text(p, shared + PAGE, 6));
      const execer = yield* fork(p, function* (cp) {
        cp.cpu.writeBytes(shared + 2 * PAGE, encodeUtf8('execed'));
        return yield* execve(cp, '/bin/true', ['true']);
      });
      yield* say(p, 'exec', describeWait(yield* waitpid(p, execer)));
      yield* say(p, 'afterExec', text(p, shared + 2 * PAGE, 6));
      // A SysV segment outlives every attachment until IPC_RMID.
      const id = yield* syscall(Sys.shmget, IPC.PRIVATE, 2 * PAGE, IPC.CREAT | 0o600);
      const attacher = yield* fork(p, function* (cp) {
        const at = yield* syscall(Sys.shmat, id, 0, 0);
        cp.cpu.writeBytes(at + PAGE, encodeUtf8('sysv-1'));
        return 0;
      });
      yield* waitpid(p, attacher);
      const at = yield* syscall(Sys.shmat, id, 0, 0);
      yield* say(p, 'sysv', text(p, at + PAGE, 6));
      yield* say(p, 'shmdt', yield* syscall(Sys.shmdt, at));
      yield* say(p, 'rmid', yield* syscall(Sys.shmctl, id, IPC.RMID, 0));
      yield* say(p, 'gone', yield* syscall(Sys.shmat, id, 0, 0));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      afterExit: 'exited',
      exec: 'exited:0',
      afterExec: 'execed',
      sysv: 'sysv-1',
      shmdt: '0',
      rmid: '0',
      gone: String(-Errno.EINVAL),
    });
  });

  it('grows and shrinks the break; memory past the break faults', () => {
    const r = runProgram(design, function* (p) {
      const start = yield* brk(0);
      const grown = yield* brk(start + 3 * PAGE);
      yield* say(p, 'grew', grown === start + 3 * PAGE);
      const last = start + 3 * PAGE - 8;
      p.cpu.store64(last, 0x1234_5678);
      yield* say(p, 'value', p.cpu.load64(last).toString(16));
      yield* say(p, 'unchangedBelowStart', (yield* brk(0x1000)) === grown);
      const shrunk = yield* brk(start + PAGE);
      yield* say(p, 'shrunk', shrunk === start + PAGE);
      const child = yield* fork(p, function* (cp) {
        cp.cpu.load64(last);
        return 0;
      });
      yield* say(p, 'pastBreak', describeWait(yield* waitpid(p, child)));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      grew: 'true',
      value: '12345678',
      unchangedBelowStart: 'true',
      shrunk: 'true',
      pastBreak: `signaled:${SIG.SEGV}`,
    });
  });

  it('zero-fills anonymous mappings and shares MAP_SHARED ones with a forked child', () => {
    const r = runProgram(design, function* (p) {
      const priv = yield* anonymous(3 * PAGE);
      const shared = yield* anonymous(2 * PAGE, MAP.SHARED);
      yield* say(
        p,
        'zero',
        p.cpu.readBytes(priv, 3 * PAGE).every((b) => b === 0),
      );
      p.cpu.writeBytes(shared, encodeUtf8('before'));
      const child = yield* fork(p, function* (cp) {
        yield* say(cp, 'childSees', text(cp, shared, 6));
        cp.cpu.writeBytes(shared, encodeUtf8('shared'));
        cp.cpu.writeBytes(shared + PAGE, encodeUtf8('page-2'));
        cp.cpu.writeBytes(priv, encodeUtf8('privat'));
        return 0;
      });
      yield* waitpid(p, child);
      yield* say(p, 'sharedFirst', text(p, shared, 6));
      yield* say(p, 'sharedSecond', text(p, shared + PAGE, 6));
      yield* say(p, 'privateUntouched', p.cpu.load8(priv));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      zero: 'true',
      childSees: 'before',
      sharedFirst: 'shared',
      sharedSecond: 'page-2',
      privateUntouched: '0',
    });
  });

  it('kills a process that touches unmapped memory or writes read-only memory (SIGSEGV)', () => {
    const r = runProgram(design, function* (p) {
      const area = yield* anonymous(2 * PAGE);
      p.cpu.store8(area, 1);
      yield* say(p, 'munmap', yield* munmap(area, 2 * PAGE));
      const reader = yield* fork(p, function* (cp) {
        yield* say(cp, 'unreachable', cp.cpu.load8(area));
        return 0;
      });
      yield* say(p, 'afterMunmap', describeWait(yield* waitpid(p, reader)));
      const ro = yield* anonymous(PAGE);
      p.cpu.store8(ro, 7);
      yield* say(p, 'mprotect', yield* mprotect(ro, PAGE, PROT.READ));
      yield* say(p, 'stillReadable', p.cpu.load8(ro));
      const writer = yield* fork(p, function* (cp) {
        cp.cpu.store8(ro, 8);
        yield* say(cp, 'unreachable', 'wrote');
        return 0;
      });
      yield* say(p, 'afterMprotect', describeWait(yield* waitpid(p, writer)));
      yield* say(p, 'unchanged', p.cpu.load8(ro));
      yield* say(p, 'mprotectHole', yield* mprotect(area, PAGE, PROT.READ));
      yield* say(p, 'badLength', yield* mmap(0, 0, PROT.READ, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0));
      yield* say(p, 'noKind', yield* mmap(0, PAGE, PROT.READ, MAP.ANONYMOUS, -1, 0));
      yield* say(p, 'badFd', yield* mmap(0, PAGE, PROT.READ, MAP.PRIVATE, 42, 0));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      munmap: '0',
      afterMunmap: `signaled:${SIG.SEGV}`,
      mprotect: '0',
      stillReadable: '7',
      afterMprotect: `signaled:${SIG.SEGV}`,
      unchanged: '7',
      mprotectHole: String(-Errno.ENOMEM),
      badLength: String(-Errno.EINVAL),
      noKind: String(-Errno.EINVAL),
      badFd: String(-Errno.EBADF),
    });
  });

  it("maps a file privately: the file's bytes, zeros past its end, writes not written back", () => {
    const content = 'file-bytes:' + 'x'.repeat(PAGE) + ':end';
    const r = runProgram(design, function* (p) {
      yield* writeFile(p, '/tmp/data', encodeUtf8(content));
      const fd = yield* open(p, '/tmp/data', O.RDONLY);
      const map = yield* mmap(0, 2 * PAGE, PROT.READ | PROT.WRITE, MAP.PRIVATE, fd, 0);
      yield* say(p, 'matches', text(p, map, content.length) === content);
      yield* say(
        p,
        'tailZero',
        p.cpu.readBytes(map + content.length, 2 * PAGE - content.length).every((b) => b === 0),
      );
      const second = yield* mmap(0, PAGE, PROT.READ, MAP.PRIVATE, fd, PAGE);
      yield* say(p, 'offset', text(p, second, 6));
      p.cpu.writeBytes(map, encodeUtf8('FILE'));
      yield* say(p, 'privateWrite', text(p, map, 10));
      const now = yield* readTextFile(p, '/tmp/data');
      yield* say(p, 'fileUnchanged', now === content);
      const wo = yield* open(p, '/tmp/data', O.WRONLY);
      yield* say(p, 'writeOnly', yield* mmap(0, PAGE, PROT.READ, MAP.PRIVATE, wo, 0));
      yield* say(p, 'sharedFile', yield* mmap(0, PAGE, PROT.READ, MAP.SHARED, fd, 0));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      matches: 'true',
      tailZero: 'true',
      offset: 'xxxxxx',
      privateWrite: 'FILE-bytes',
      fileUnchanged: 'true',
      writeOnly: String(-Errno.EACCES),
      sharedFile: String(-Errno.ENODEV),
    });
  });

  it('never maps a file of a noexec mount executable (mmap EPERM, mprotect EACCES)', () => {
    const r = runProgram(design, function* (p) {
      yield* mkdir(p, '/tmp/ne');
      yield* say(p, 'mount', yield* mount(p, 'tmpfs', '/tmp/ne', 'tmpfs', MS.NOEXEC, ''));
      for (const dir of ['/tmp/ne', '/tmp']) {
        const key = dir === '/tmp' ? 'exec' : 'noexec';
        yield* writeFile(p, `${dir}/code`, encodeUtf8('x'.repeat(PAGE)));
        const fd = yield* open(p, `${dir}/code`, O.RDONLY);
        const direct = yield* mmap(0, PAGE, PROT.READ | PROT.EXEC, MAP.PRIVATE, fd, 0);
        yield* say(p, `${key}.mmapExec`, direct < 0 ? direct : 'mapped');
        const readOnly = yield* mmap(0, PAGE, PROT.READ, MAP.PRIVATE, fd, 0);
        yield* say(p, `${key}.mprotectExec`, yield* mprotect(readOnly, PAGE, PROT.READ | PROT.EXEC));
      }
      return 0;
    });
    expect(fields(r.output)).toEqual({
      mount: '0',
      'noexec.mmapExec': String(-Errno.EPERM),
      'noexec.mprotectExec': String(-Errno.EACCES),
      'exec.mmapExec': 'mapped',
      'exec.mprotectExec': '0',
    });
  });
});
