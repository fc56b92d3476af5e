// setns(2) through /proc/<pid>/ns: a descriptor opened before unshare(CLONE_NEWUTS) takes the task
// back into the UTS namespace it named, under both designs.
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../../src/designs/system.js';
import { ARG_BLOCK_VA } from '../../../src/kernel/hooks.js';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { CLONE } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import type { ProgramMain } from '../../../src/user/program.js';

/** Scratch in the argument page (mapped writable in every new image). */
const BUF = ARG_BLOCK_VA + 2048;

const nsProgram: ProgramMain = function* (cpu) {
  const put = (s: string): number => {
    cpu.writeBytes(BUF, new TextEncoder().encode(`${s}\0`));
    return BUF;
  };
  const hostname = function* () {
    yield { nr: Sys.uname, args: [BUF] };
    return new TextDecoder().decode(cpu.readBytes(BUF + 65, 16)).replace(/\0.*/s, '');
  };
  const results: (number | string)[] = [];
  const fd = yield { nr: Sys.openat, args: [-100, put('/proc/self/ns/uts'), 0, 0, 0, 0] };
  results.push(fd);
  results.push(yield { nr: Sys.unshare, args: [CLONE.NEWUTS] });
  results.push(yield { nr: Sys.sethostname, args: [put('inner'), 5] });
  results.push(yield* hostname());
  results.push(yield { nr: Sys.setns, args: [fd, CLONE.NEWNET] }); // wrong type: EINVAL
  results.push(yield { nr: Sys.setns, args: [fd, CLONE.NEWUTS] });
  results.push(yield* hostname());
  results.push(yield { nr: Sys.setns, args: [1, 0] }); // not a namespace file: EINVAL
  results.push(yield { nr: Sys.setns, args: [99, 0] }); // EBADF
  const line = `${results.join(' ')}\n`;
  yield { nr: Sys.write, args: [1, put(line), line.length] };
  return 0;
};

describe.each(['native', 'rcontainer'] as const)('setns under %s', (design) => {
  it('returns to the namespace an open /proc/self/ns/uts names, and refuses other files', () => {
    const system = new SimSystem({ design, programs: { nstest: nsProgram } });
    system.spawn({ argv: ['nstest'], hostname: 'outer' });
    expect(system.run(100_000)).toBe('idle');
    expect(system.outputText()).toBe(
      `3 0 0 inner ${-Errno.EINVAL} 0 outer ${-Errno.EINVAL} ${-Errno.EBADF}\n`,
    );
  });
});
