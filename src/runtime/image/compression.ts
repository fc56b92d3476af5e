/**
 * Gzip-compressed layers and archives: detected by the gzip magic (1f 8b), inflated with a bound on
 * the output so that a compression bomb is refused instead of filling memory.
 */
import { gunzipSync } from 'node:zlib';
import { ImageError } from './errors.js';

/** True when `bytes` start with the gzip magic. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** `bytes` inflated if they are gzip data (at most `maxBytes` of output), else `bytes` unchanged. */
export function maybeGunzip(bytes: Uint8Array, maxBytes: number, what: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw new ImageError(`${what} inflates to more than ${maxBytes} bytes`);
    throw new ImageError(`${what} is not valid gzip data (${(error as Error).message})`);
  }
}
