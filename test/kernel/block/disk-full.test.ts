/**
 * A container that fills its disk: write(2) says ENOSPC once every block is taken (blocks are
 * reserved when a page is first written, not at eviction), so the page cache can still evict and
 * the container's memory is never pinned by pages that have nowhere to go: its later output, a
 * file it writes after freeing space, all work. Under both designs, with the same sizes.
 */
import { describe, expect, it } from 'vitest';
import { SimSystem } from '../../../src/designs/system.js';

describe.each(['native', 'rcontainer'] as const)('a full disk under %s', (design) => {
  it('is ENOSPC at write time, and the container goes on', () => {
    const system = new SimSystem({ design });
    const init = system.spawn({
      argv: [
        'sh',
        '-c',
        'cat /dev/zero > /big; echo "cat $?"; ls -l /big; echo more >> /big; echo "append $?"; rm /big; echo again > /f; cat /f',
      ],
    });
    system.run(2_000_000_000);
    expect(init.exitStatus).toBe(0);
    const diskBytes = system.platform.disk(init.cid).blocks * 4096;
    expect(diskBytes).toBeGreaterThan(0);
    const out = new TextDecoder().decode(new Uint8Array(system.kernel.consoleDevice.log(init.cid)));
    // Every block went to /big (the image's layers are not on the container's disk).
    expect(out).toBe(
      [
        'cat: /dev/zero: No space left on device',
        'cat 1',
        `-rw-r--r--    1 root     root     ${String(diskBytes).padStart(9)} Jan  1 00:00 /big`,
        'echo: write error: No space left on device',
        'append 1',
        'again',
        '',
      ].join('\n'),
    );
  });
});
