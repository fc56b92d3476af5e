/** `sleep DURATION...`: sleep for the sum of the durations (seconds; suffixes s, m, h, d). */
import { fail } from '../../libc/errors.js';
import { defineProgram } from '../../libc/program.js';
import { sleepSeconds } from '../../libc/time.js';

const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds of a duration like "1.5", "2m", or undefined if invalid. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+\.?\d*|\.\d+)([smhd]?)$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** The program `sleep`. */
export const sleepMain = defineProgram(function* sleep(p) {
  const operands = p.argv.slice(1);
  if (operands.length === 0) return yield* fail(p, 'missing operand');
  let total = 0;
  for (const operand of operands) {
    const seconds = parseDuration(operand);
    if (seconds === undefined) return yield* fail(p, `invalid number '${operand}'`);
    total += seconds;
  }
  const result = yield* sleepSeconds(p, total);
  return result < 0 ? 1 : 0;
});
