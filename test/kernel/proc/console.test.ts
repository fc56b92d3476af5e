// Console output of a container under rcontainer leaves through rc_ipc_out: sealed in the
// container's context, opened by the host in the OS context; under native the kernel copies it.
import { describe, expect, it } from 'vitest';
import { RcontainerPlatform } from '../../../src/designs/rcontainer.js';
import { MAX_QUEUED_INPUT } from '../../../src/kernel/core/console.js';
import { SimSystem } from '../../../src/designs/system.js';
import { ioStats } from '../../../src/minios/calls-io.js';

function run(design: 'native' | 'rcontainer', script: string): SimSystem {
  const system = new SimSystem({ design });
  system.spawn({ argv: ['sh', '-c', script] });
  expect(system.run(1_000_000)).toBe('idle');
  return system;
}

describe('console output leaving a container', () => {
  it('crosses as sealed frames under rcontainer, with the same text as native', () => {
    const script = 'echo first; echo second | cat; echo third >&2';
    const native = run('native', script);
    const rc = run('rcontainer', script);
    expect(rc.outputText()).toBe('first\nsecond\nthird\n');
    expect(native.outputText()).toBe(rc.outputText());
    expect(native.kernel.consoleDevice.stats.framesSealed).toBe(0);
    const stats = rc.kernel.consoleDevice.stats;
    expect(stats.framesSealed).toBe(3);
    expect(stats.framesOpened).toBe(3);
    expect(stats.refusals).toBe(0);
    const platform = rc.platform as RcontainerPlatform;
    expect(ioStats(platform.trusted.minios)).toMatchObject({ framesSealed: 3, framesOpened: 3 });
    // The host keeps a log per context: everything came from container 1.
    expect(new TextDecoder().decode(new Uint8Array(rc.kernel.consoleDevice.log(1)))).toBe(rc.outputText());
    expect(rc.kernel.consoleDevice.log(0)).toEqual([]);
    // The streams stay apart, in both designs alike.
    for (const system of [native, rc]) {
      const streams = system.kernel.consoleDevice
        .chunks(1)
        .map((c) => [c.stream, new TextDecoder().decode(c.bytes)]);
      expect(streams).toEqual([
        [1, 'first\n'],
        [1, 'second\n'],
        [2, 'third\n'],
      ]);
    }
  });

  it('keeps host processes on the plain path', () => {
    const system = new SimSystem({ design: 'rcontainer' });
    system.spawn({ argv: ['echo', 'from the host'], host: true });
    expect(system.run(100_000)).toBe('idle');
    expect(system.outputText()).toBe('from the host\n');
    expect(system.kernel.consoleDevice.stats.framesSealed).toBe(0);
    expect(new TextDecoder().decode(new Uint8Array(system.kernel.consoleDevice.log(0)))).toBe(
      'from the host\n',
    );
  });

  it.each(['native', 'rcontainer'] as const)(
    'keeps an exec session apart from the container output under %s',
    (design) => {
      const system = new SimSystem({ design });
      const cid = system.createContainer();
      const init = system.startProcess(cid, { argv: ['sh', '-c', 'echo init; sleep 1; echo init again'] });
      system.runFor(100_000_000);
      const exec = system.startProcess(cid, { argv: ['sh', '-c', 'echo exec; echo oops >&2'] });
      expect(system.run(10_000_000)).toBe('idle');
      expect(init.exitStatus).toBe(0);
      const session = system.consoleSession(exec);
      expect(session).toBeGreaterThan(0);
      expect(system.consoleSession(init)).toBe(0);
      const text = (s: number): string =>
        new TextDecoder().decode(new Uint8Array(system.kernel.consoleDevice.log(cid, s)));
      expect(text(0)).toBe('init\ninit again\n');
      expect(text(session)).toBe('exec\noops\n');
      expect(system.kernel.consoleDevice.chunks(cid, session).map((c) => c.stream)).toEqual([1, 2]);
    },
  );

  it('gives the host its output to keep (drain), keeps no transcript when asked not to, and forgets destroyed containers', () => {
    const system = new SimSystem({ design: 'rcontainer', keepOutput: false });
    const cid = system.createContainer();
    system.startProcess(cid, { argv: ['sh', '-c', 'echo one; echo two >&2'] });
    expect(system.run(1_000_000)).toBe('idle');
    expect(system.kernel.output).toEqual([]);
    const taken = system.kernel.consoleDevice.drain(cid);
    expect(taken.map((c) => [c.stream, new TextDecoder().decode(c.bytes)])).toEqual([
      [1, 'one\n'],
      [2, 'two\n'],
    ]);
    expect(system.kernel.consoleDevice.drain(cid)).toEqual([]);
    system.destroyContainer(cid);
    // Its id is free again: the next container gets it, with nothing of the old one's console.
    expect(system.createContainer()).toBe(cid);
    expect(system.kernel.consoleDevice.chunks(cid)).toEqual([]);
  });

  it.each(['native', 'rcontainer'] as const)(
    'gives a session its own input under %s; the others read the machine input',
    (design) => {
      const system = new SimSystem({ design, consoleInput: new TextEncoder().encode('machine input\n') });
      const cid = system.createContainer();
      system.kernel.consoleDevice.setInput(cid, 0, new TextEncoder().encode('one\ntwo\n'));
      system.startProcess(cid, { argv: ['sh', '-c', 'wc -l; sleep 1'] });
      system.runFor(100_000_000);
      const exec = system.startProcess(cid, { argv: ['cat'] });
      system.kernel.consoleDevice.setInput(
        cid,
        system.consoleSession(exec),
        new TextEncoder().encode('for the exec\n'),
      );
      const other = system.startProcess(cid, { argv: ['wc', '-c'] });
      expect(system.run(10_000_000)).toBe('idle');
      const text = (session: number): string =>
        new TextDecoder().decode(new Uint8Array(system.kernel.consoleDevice.log(cid, session)));
      expect(text(0)).toBe('2\n');
      expect(text(system.consoleSession(exec))).toBe('for the exec\n');
      // A session with no input of its own reads the machine's (the sim command's input).
      expect(text(system.consoleSession(other))).toBe('14\n');
    },
  );
  it.each(['native', 'rcontainer'] as const)(
    'blocks a reader of an open session input until the host pushes or closes it, under %s',
    (design) => {
      const system = new SimSystem({ design });
      const cid = system.createContainer();
      const exec = system.startProcess(cid, { argv: ['sh'] });
      const session = system.consoleSession(exec);
      const device = system.kernel.consoleDevice;
      device.setInput(cid, session, new Uint8Array(0), { open: true, terminal: false });
      const text = (): string => new TextDecoder().decode(new Uint8Array(device.log(cid, session)));
      // Nothing to read and more may come: the shell waits, and the machine has nothing to do.
      expect(system.run(50_000_000)).toBe('idle');
      expect(exec.exitStatus).toBeUndefined();
      expect(device.pushInput(cid, session, new TextEncoder().encode('echo one\n'))).toBe(true);
      expect(system.run(50_000_000)).toBe('idle');
      expect(text()).toBe('one\n'); // no prompt: the session is not a terminal
      expect(device.pushInput(cid, session, new TextEncoder().encode('echo two; exit 5\n'))).toBe(true);
      device.closeInput(cid, session);
      system.run(50_000_000);
      expect(text()).toBe('one\ntwo\n');
      expect(exec.exitStatus).toBe(5 << 8);
      // Closed, or never opened: the host can push no more.
      expect(device.pushInput(cid, session, new Uint8Array(1))).toBe(false);
      expect(device.pushInput(cid, 99, new Uint8Array(1))).toBe(false);
    },
  );

  it('answers TCGETS on a session as the runtime said (-t) and bounds what waits unread', () => {
    const system = new SimSystem({ design: 'native' });
    const cid = system.createContainer();
    system.startProcess(cid, { argv: ['sleep', '100'] }); // its init, so that execs may come
    const device = system.kernel.consoleDevice;
    const prompts = (terminal: boolean): string => {
      const exec = system.startProcess(cid, { argv: ['sh'] });
      const session = system.consoleSession(exec);
      device.setInput(cid, session, new TextEncoder().encode('echo hi\n'), { terminal });
      system.runFor(50_000_000);
      return new TextDecoder().decode(new Uint8Array(device.log(cid, session)));
    };
    expect(prompts(true)).toBe('$ hi\n$ ');
    expect(prompts(false)).toBe('hi\n');
    const exec = system.startProcess(cid, { argv: ['cat'] });
    const session = system.consoleSession(exec);
    device.setInput(cid, session, new Uint8Array(0), { open: true });
    // pushPending fills up to the limit, splitting a chunk there, and keeps the rest queued.
    const pending = [new Uint8Array(10), new Uint8Array(MAX_QUEUED_INPUT)];
    expect(device.pushPending(cid, session, pending)).toBe(false);
    expect(pending.map((c) => c.length)).toEqual([10]);
    expect(device.pushInput(cid, session, new Uint8Array(1))).toBe(false);
  });
});
