// bench lifecycle: one run per design completes and reports positive times, rcontainer slower in
// simulated time (shim, measured launch, gates), the simulated figure deterministic.
import { describe, expect, it } from 'vitest';
import { runLifecycleBench } from '../../src/eval/bench/lifecycle.js';

describe('bench lifecycle', () => {
  it('times create + start + stop + rm of busybox under each design', async () => {
    let clock = 0n;
    const now = (): bigint => (clock += 1_000_000n);
    const first = await runLifecycleBench({ runs: 1, now });
    expect(first.simulatedMs.native).toBeGreaterThan(0);
    expect(first.simulatedMs.rcontainer).toBeGreaterThan(first.simulatedMs.native);
    expect(first.hostMs.native).toBeGreaterThan(0);
    const second = await runLifecycleBench({ runs: 1, now });
    expect(second.simulatedMs).toEqual(first.simulatedMs);
  });
});
