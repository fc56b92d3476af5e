// --memory: a container's user pages are charged to it; a fault over the limit OOM-kills the
// process (SIGKILL), under either design, while a process within the limit runs to the end.
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../src/designs/system.js';
import { MAP, PROT, SIG, wIfSignaled, wTermSig } from '../../src/kernel/uapi/flags.js';
import { Sys } from '../../src/kernel/uapi/syscalls.js';
import type { ProgramMain } from '../../src/user/program.js';

/** Touch `mib` MiB of fresh anonymous memory, one byte per page. */
const toucher = (mib: number): ProgramMain =>
  function* (cpu) {
    const bytes = mib * 2 ** 20;
    const area = yield {
      nr: Sys.mmap,
      args: [0, bytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0],
    };
    for (let at = 0; at < bytes; at += 4096) cpu.store8(area + at, 1);
    return 0;
  };

describe.each(['native', 'rcontainer'] as const)('memory limits under %s', (design) => {
  it('kills a process that touches more than its container may have, and only it', () => {
    const system = new SimSystem({ design, programs: { small: toucher(2), big: toucher(16) } });
    const cid = system.createContainer({ memoryLimitBytes: 8 * 2 ** 20 });
    const small = system.startProcess(cid, { argv: ['small'] });
    expect(system.run(5_000_000)).toBe('idle');
    expect(small.exitStatus).toBe(0);
    system.destroyContainer(cid);
    const cid2 = system.createContainer({ memoryLimitBytes: 8 * 2 ** 20 });
    const big = system.startProcess(cid2, { argv: ['big'] });
    expect(system.run(5_000_000)).toBe('idle');
    expect(wIfSignaled(big.exitStatus!)).toBe(true);
    expect(wTermSig(big.exitStatus!)).toBe(SIG.KILL);
    expect(system.kernel.memory.refusals).toBe(1);
    // Everything it had went back: a new container of the same limit runs the small one again.
    system.destroyContainer(cid2);
    const cid3 = system.createContainer({ memoryLimitBytes: 8 * 2 ** 20 });
    expect(system.kernel.memory.usageOf(cid3)).toBe(0);
  });
});
