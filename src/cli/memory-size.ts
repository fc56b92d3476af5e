/** Docker's memory sizes (`--memory 64m`): a number of bytes with an optional b, k, m or g. */
import { EngineError } from './errors.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** Bytes of a size like `64m`, `1g`, `4096`; EngineError for anything else or below 4 MiB (Docker's minimum is 6 MiB). */
export function parseMemorySize(text: string): number {
  const match = /^(\d+)([bkmg]?)$/i.exec(text.trim());
  if (match === null) throw new EngineError(`invalid memory size '${text}': use a number with b, k, m or g`);
  const bytes = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  if (bytes < 4 * 2 ** 20) throw new EngineError(`memory size '${text}' is below the minimum of 4m`);
  return bytes;
}
