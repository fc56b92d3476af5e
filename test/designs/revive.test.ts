// A restart (Docker's start of an exited container) keeps the container's writable layer: a new
// init runs in the same machine container, with pid 1 again in a fresh pid namespace.
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../src/designs/system.js';

describe.each(['native', 'rcontainer'] as const)('reviving a container under %s', (design) => {
  it('runs a new init that sees what the last one wrote, then is destroyed cleanly', () => {
    const system = new SimSystem({ design });
    const cid = system.createContainer();
    const script = 'cat /counter; echo $$ run >> /counter';
    const first = system.startProcess(cid, { argv: ['sh', '-c', script] });
    expect(system.run(5_000_000)).toBe('idle');
    expect(first.exitStatus).toBe(0);
    expect(() => system.startProcess(cid, { argv: ['true'] })).toThrow(/not running/);

    system.reviveContainer(cid);
    const second = system.startProcess(cid, { argv: ['sh', '-c', script] });
    expect(system.run(5_000_000)).toBe('idle');
    expect(second.exitStatus).toBe(0);
    const log = new TextDecoder().decode(new Uint8Array(system.kernel.consoleDevice.log(cid)));
    expect(log).toContain('1 run\n');
    system.destroyContainer(cid);
    expect(system.containerRunning(cid)).toBe(false);
  });

  it('refuses to revive a container that still runs', () => {
    const system = new SimSystem({ design });
    const cid = system.createContainer();
    system.startProcess(cid, { argv: ['sleep', '1'] });
    expect(() => system.reviveContainer(cid)).toThrow(/still has processes/);
  });
});
