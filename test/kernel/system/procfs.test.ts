/**
 * /proc through the whole system, under both designs: status, maps, mounts, exe and the pid
 * listing as a container sees them.
 */
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../../src/designs/system.js';
import { listDirectory, readlink, readTextFile } from '../../../src/user/libc/files.js';
import { fork } from '../../../src/user/libc/fork.js';
import { pipe, readFull } from '../../../src/user/libc/io.js';
import type { Proc } from '../../../src/user/libc/process.js';
import { defineProgram } from '../../../src/user/libc/program.js';
import type { Call } from '../../../src/user/libc/syscall.js';
import { close } from '../../../src/user/libc/sys-fs.js';
import { waitpid } from '../../../src/user/libc/wait.js';
import { DESIGN_NAMES, fields, runProgram, say } from './helpers.js';

/** The value of `Key:\tvalue` in /proc/<pid>/status text. */
function statusField(text: string, key: string): string {
  return new RegExp(`^${key}:\\t(.*)$`, 'm').exec(text)?.[1] ?? `<no ${key}>`;
}

function* readOrErrno(p: Proc, path: string): Call<string> {
  const text = yield* readTextFile(p, path);
  return typeof text === 'number' ? `errno ${text}` : text;
}

describe.each(DESIGN_NAMES)('/proc through the system (%s)', (design) => {
  it('shows Name, Pid and PPid in /proc/self/status for the init and a child', () => {
    const r = runProgram(design, function* (p) {
      const status = yield* readOrErrno(p, '/proc/self/status');
      yield* say(p, 'name', statusField(status, 'Name') === p.name);
      yield* say(p, 'pid', statusField(status, 'Pid'));
      yield* say(p, 'ppid', statusField(status, 'PPid'));
      yield* say(p, 'comm', (yield* readOrErrno(p, '/proc/self/comm')).trim() === p.name);
      yield* say(p, 'exe', (yield* readlink(p, '/proc/self/exe')) === `/bin/${p.name}`);
      const child = yield* fork(p, function* (cp) {
        const childStatus = yield* readOrErrno(cp, '/proc/self/status');
        yield* say(cp, 'childPid', statusField(childStatus, 'Pid'));
        yield* say(cp, 'childPpid', statusField(childStatus, 'PPid'));
        return 0;
      });
      yield* waitpid(p, child);
      return 0;
    });
    expect(fields(r.output)).toEqual({
      name: 'true',
      pid: '1',
      ppid: '0',
      comm: 'true',
      exe: 'true',
      childPid: '2',
      childPpid: '1',
    });
  });

  it('lists [heap], [stack] and the executable in /proc/self/maps, and the mounts', () => {
    const r = runProgram(design, function* (p) {
      const block = yield* p.heap.malloc(64);
      p.cpu.store8(block, 1);
      const maps = yield* readOrErrno(p, '/proc/self/maps');
      yield* say(p, 'heap', /^[0-9a-f]+-[0-9a-f]+ rw-p .*\[heap\]$/m.test(maps));
      yield* say(p, 'stack', /^[0-9a-f]+-[0-9a-f]+ rw-p .*\[stack\]$/m.test(maps));
      yield* say(p, 'text', new RegExp(`^0*400000-[0-9a-f]+ r-xp .*/bin/${p.name}$`, 'm').test(maps));
      const mounts = yield* readOrErrno(p, '/proc/mounts');
      yield* say(p, 'root', mounts.split('\n')[0]!.startsWith('overlay / overlay '));
      yield* say(p, 'proc', /^proc \/proc proc /m.test(mounts));
      yield* say(p, 'selfMounts', (yield* readOrErrno(p, '/proc/self/mounts')) === mounts);
      return 0;
    });
    expect(fields(r.output)).toEqual({
      heap: 'true',
      stack: 'true',
      text: 'true',
      root: 'true',
      proc: 'true',
      selfMounts: 'true',
    });
  });

  it("lists only the container's own processes, by their pids in its namespace", () => {
    const lister = defineProgram(function* (p) {
      const hold = yield* pipe(p);
      if (typeof hold === 'number') return 1;
      const child = yield* fork(p, function* (cp) {
        yield* close(hold[1]);
        const buffer = yield* cp.heap.malloc(1);
        yield* readFull(hold[0], buffer, 1);
        return 0;
      });
      const entries = yield* listDirectory(p, '/proc');
      if (typeof entries === 'number') return 2;
      const pids = entries.map((e) => e.name).filter((name) => /^\d+$/.test(name));
      yield* p.stdout.print(`${p.argv[1]}=${pids.sort().join(',')}\n`);
      yield* close(hold[1]);
      yield* waitpid(p, child);
      return 0;
    });
    const system = new SimSystem({ design, programs: { lister } });
    system.spawn({ argv: ['lister', 'a'] });
    system.spawn({ argv: ['lister', 'b'] });
    expect(system.run(1_000_000)).toBe('idle');
    expect(fields(system.outputText())).toEqual({ a: '1,2', b: '1,2' });
  });
});
