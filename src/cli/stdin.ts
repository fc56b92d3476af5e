/**
 * `-i`: the bytes a container (or an exec) reads as its standard input.
 * SIMPLIFICATION: this process's stdin is read to its end first and handed over whole (no
 * interactive stream); without `-i` a container reads end of input at once.
 */
import { readFileSync } from 'node:fs';
import { EngineError } from './errors.js';

/** Largest input handed to a container. */
const MAX_INPUT_BYTES = 16 * 2 ** 20;

/** All of this process's standard input (for `-i`). */
export function readStdin(): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EOF') return new Uint8Array(0);
    throw new EngineError(`-i: cannot read standard input (${code ?? (error as Error).message})`);
  }
  if (bytes.length > MAX_INPUT_BYTES)
    throw new EngineError(`-i: standard input is larger than ${MAX_INPUT_BYTES} bytes`);
  return new Uint8Array(bytes);
}
