// tini as a container's init: signals reach the command through it (a namespace's init gets none
// it has no handler for), orphans are reaped, and it exits as the command did.
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../src/designs/system.js';
import { initProblem } from '../../src/cli/init-option.js';
import { SIG, wExitStatus } from '../../src/kernel/uapi/flags.js';

function start(design: 'native' | 'rcontainer', argv: string[]) {
  const system = new SimSystem({ design });
  const cid = system.createContainer();
  const init = system.startProcess(cid, { argv });
  system.runFor(50_000_000);
  const text = (): string => new TextDecoder().decode(new Uint8Array(system.kernel.consoleDevice.log(cid)));
  return { system, cid, init, text };
}

describe.each(['native', 'rcontainer'] as const)('tini under %s', (design) => {
  it('forwards SIGTERM to its command, which a bare init would never get', () => {
    const bare = start(design, ['sleep', '1000']);
    bare.system.signalContainer(bare.cid, SIG.TERM);
    bare.system.runFor(50_000_000);
    expect(bare.init.exitStatus).toBeUndefined();

    const tini = start(design, ['tini', '--', 'sh', '-c', 'sleep 1000 & sleep 1000']);
    tini.system.signalContainer(tini.cid, SIG.TERM);
    expect(tini.system.run(1_000_000)).toBe('idle');
    // sh died of SIGTERM (128 + 15); the background sleep went with the namespace.
    expect(wExitStatus(tini.init.exitStatus!)).toBe(128 + SIG.TERM);
    expect([...tini.system.kernel.allGroups()].filter((g) => !g.zombie)).toEqual([]);
  });

  it('reaps orphans and exits with its command’s code', () => {
    const tini = start(design, ['tini', 'sh', '-c', 'sh -c "sleep 0.01 &"; sleep 0.05; echo done; exit 3']);
    expect(tini.system.run(1_000_000)).toBe('idle');
    expect(tini.text()).toBe('done\n');
    expect(wExitStatus(tini.init.exitStatus!)).toBe(3);
    // The orphaned sleep was reparented to tini and reaped: no zombie is left.
    expect([...tini.system.kernel.allGroups()]).toEqual([]);
  });

  it('says how to use it, and gives 127 for a command that does not exist', () => {
    const usage = start(design, ['tini']);
    expect(usage.system.run(1_000_000)).toBe('idle');
    expect(usage.text()).toBe('tini: usage: tini [--] PROGRAM [ARGS...]\n');
    expect(wExitStatus(usage.init.exitStatus!)).toBe(1);
    const missing = start(design, ['tini', '--', 'no-such-program']);
    expect(missing.system.run(1_000_000)).toBe('idle');
    expect(missing.text()).toBe('tini: exec no-such-program failed: No such file or directory\n');
    expect(wExitStatus(missing.init.exitStatus!)).toBe(127);
  });
});

describe('--init needs a measured tini in the image', () => {
  it('names the problem when the image has none', () => {
    const binaries = [{ path: 'bin/sh', digest: 'sha256:00' }];
    expect(initProblem({ imageDigest: '', configDigest: '', binaries })).toMatch(/no \/bin\/tini/);
    expect(
      initProblem({
        imageDigest: '',
        configDigest: '',
        binaries: [...binaries, { path: 'bin/tini', digest: '' }],
      }),
    ).toBeUndefined();
  });
});
