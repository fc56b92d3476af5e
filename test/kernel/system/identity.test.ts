/**
 * Identity and namespaces through the whole system, under both designs: pids in the container's pid
 * namespace, the UTS name, sethostname's privilege check and unshare(CLONE_NEWUTS).
 */
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../../src/designs/system.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { CLONE } from '../../../src/kernel/uapi/flags.js';
import { UTSNAME_BYTES, UTSNAME_FIELD } from '../../../src/kernel/uapi/structs.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { decodeUtf8 } from '../../../src/user/libc/cstring.js';
import { fork } from '../../../src/user/libc/fork.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { defineProgram } from '../../../src/user/libc/program.js';
import { syscall, type Call } from '../../../src/user/libc/syscall.js';
import { getpid, getppid, getuid, sethostname, uname } from '../../../src/user/libc/sys-proc.js';
import { waitpid } from '../../../src/user/libc/wait.js';
import { DESIGN_NAMES, fields, resultOf, runProgram, say } from './helpers.js';

/** Field `index` of struct utsname (0 sysname, 1 nodename, 2 release, ...), or the -errno. */
function* unameField(p: Proc, index: number): Call<string> {
  const mark = p.scratch.mark();
  try {
    const buffer = p.scratch.alloc(UTSNAME_BYTES);
    const result = yield* uname(buffer);
    if (result < 0) return String(result);
    const field = p.cpu.readBytes(buffer + index * UTSNAME_FIELD, UTSNAME_FIELD);
    const nul = field.indexOf(0);
    return decodeUtf8(field.subarray(0, nul < 0 ? field.length : nul));
  } finally {
    p.scratch.release(mark);
  }
}

function* setHostname(p: Proc, name: string): Call<number> {
  const mark = p.scratch.mark();
  try {
    const bytes = new TextEncoder().encode(name);
    return yield* sethostname(p.scratch.bytes(p.cpu, bytes, 1), bytes.length);
  } finally {
    p.scratch.release(mark);
  }
}

describe.each(DESIGN_NAMES)('identity and namespaces (%s)', (design) => {
  it('numbers the container init 1 in its pid namespace and its children from 2', () => {
    const r = runProgram(design, function* (p) {
      yield* say(p, 'pid', yield* getpid());
      yield* say(p, 'ppid', yield* getppid());
      yield* say(p, 'uid', yield* getuid());
      const child = yield* fork(p, function* (cp) {
        yield* say(cp, 'childPid', yield* getpid());
        yield* say(cp, 'childPpid', yield* getppid());
        const grandchild = yield* fork(cp, function* (gp) {
          yield* say(gp, 'grandchildPpid', yield* getppid());
          return 0;
        });
        yield* waitpid(cp, grandchild);
        return 0;
      });
      yield* waitpid(p, child);
      yield* say(p, 'forkReturned', child);
      return 0;
    });
    expect(fields(r.output)).toEqual({
      pid: '1',
      ppid: '0',
      uid: '0',
      childPid: '2',
      childPpid: '1',
      grandchildPpid: '2',
      forkReturned: '2',
    });
  });

  it('gives two containers on one system their own pid 1 and host name', () => {
    const report = defineProgram(function* (p) {
      yield* say(p, `pid-${yield* unameField(p, 1)}`, yield* getpid());
      return 0;
    });
    const system = new SimSystem({ design, programs: { report } });
    const a = system.spawn({ argv: ['report'], hostname: 'alpha' });
    const b = system.spawn({ argv: ['report'], hostname: 'beta' });
    const end = system.run(1_000_000);
    expect(end).toBe('idle');
    expect(fields(system.outputText())).toEqual({ 'pid-alpha': '1', 'pid-beta': '1' });
    expect(a.tgid).not.toBe(b.tgid);
    expect(resultOf(system, a, true).code).toBe(0);
    expect(resultOf(system, b, true).code).toBe(0);
  });

  it('reports the UTS names and lets root, not uid 1000, change the host name', () => {
    const r = runProgram(design, function* (p) {
      yield* say(p, 'sysname', yield* unameField(p, 0));
      yield* say(p, 'nodename', yield* unameField(p, 1));
      yield* say(p, 'machine', yield* unameField(p, 4));
      yield* say(p, 'set', yield* setHostname(p, 'renamed'));
      yield* say(p, 'after', yield* unameField(p, 1));
      yield* say(p, 'tooLong', yield* setHostname(p, 'x'.repeat(65)));
      yield* say(p, 'badPointer', yield* sethostname(0x1000, 4));
      yield* say(p, 'setuid', yield* syscall(Sys.setuid, 1000));
      yield* say(p, 'unprivileged', yield* setHostname(p, 'mine'));
      yield* say(p, 'unchanged', yield* unameField(p, 1));
      yield* say(p, 'unshareUnprivileged', yield* syscall(Sys.unshare, CLONE.NEWUTS));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      sysname: 'Linux',
      nodename: 'box',
      machine: 'aarch64',
      set: '0',
      after: 'renamed',
      tooLong: String(-Errno.EINVAL),
      badPointer: String(-Errno.EFAULT),
      setuid: '0',
      unprivileged: String(-Errno.EPERM),
      unchanged: 'renamed',
      unshareUnprivileged: String(-Errno.EPERM),
    });
  });

  it('isolates the host name of a child that unshares CLONE_NEWUTS', () => {
    const r = runProgram(design, function* (p) {
      const child = yield* fork(p, function* (cp) {
        yield* say(cp, 'unshare', yield* syscall(Sys.unshare, CLONE.NEWUTS));
        yield* say(cp, 'inherited', yield* unameField(cp, 1));
        yield* say(cp, 'set', yield* setHostname(cp, 'inner'));
        yield* say(cp, 'inner', yield* unameField(cp, 1));
        return 0;
      });
      yield* waitpid(p, child);
      yield* say(p, 'outer', yield* unameField(p, 1));
      // Without unshare, a child's sethostname is seen by its parent (same UTS namespace).
      const sharer = yield* fork(p, function* (cp) {
        return yield* setHostname(cp, 'shared');
      });
      yield* waitpid(p, sharer);
      yield* say(p, 'shared', yield* unameField(p, 1));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      unshare: '0',
      inherited: 'box',
      set: '0',
      inner: 'inner',
      outer: 'box',
      shared: 'shared',
    });
  });
});
