// Docker's words for durations (go-units HumanDuration), used by ps.
import { describe, expect, it } from 'vitest';
import { ago, humanDuration } from '../../src/cli/human-duration.js';

describe('humanDuration', () => {
  it.each([
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1000, '1 second'],
    [59_000, '59 seconds'],
    [60_000, 'About a minute'],
    [119_000, 'About a minute'],
    [120_000, '2 minutes'],
    [59 * 60_000, '59 minutes'],
    [60 * 60_000, 'About an hour'],
    [3 * 3_600_000, '3 hours'],
    [47 * 3_600_000, '47 hours'],
    [3 * 86_400_000, '3 days'],
    [20 * 86_400_000, '2 weeks'],
    [90 * 86_400_000, '3 months'],
    [800 * 86_400_000, '2 years'],
  ])('%d ms is "%s"', (ms, words) => {
    expect(humanDuration(ms)).toBe(words);
  });

  it('says how long ago an ISO time was, and nothing for none or a bad one', () => {
    const now = Date.parse('2026-11-29T10:00:05Z');
    expect(ago('2026-11-29T10:00:00Z', now)).toBe('5 seconds ago');
    expect(ago(undefined, now)).toBe('');
    expect(ago('yesterday-ish', now)).toBe('');
  });
});
