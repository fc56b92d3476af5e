/**
 * Byte-level helpers shared by the mini-OS crypto libraries: little-endian field access into fixed
 * layouts, constant-time comparison, ASCII labels and hex for tests and logs.
 *
 * Every layout of src/minios/crypto is little-endian (the byte order of the modelled AArch64 memory),
 * so a record the mini-OS stores with PE stores reads back field by field with PE loads.
 * 64-bit fields are held in JS as numbers below 2^53 (exact as doubles; STYLE.md rule 6).
 */
import { timingSafeEqual } from 'node:crypto';

/** 2^32 as a number. */
const TWO32 = 0x1_0000_0000;

/** Unsigned 16-bit little-endian field at `offset`. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

/** Store `value` (0..0xffff) as a 16-bit little-endian field at `offset`. */
export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
}

/** Unsigned 32-bit little-endian field at `offset`. */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0
  );
}

/** Store `value` (0..2^32-1) as a 32-bit little-endian field at `offset`. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * Unsigned 64-bit little-endian field at `offset` as a number, or -1 when it does not fit in 2^53
 * (every 64-bit counter of these layouts stays below 2^53, so -1 means a corrupt record).
 */
export function readU64(bytes: Uint8Array, offset: number): number {
  const low = readU32(bytes, offset);
  const high = readU32(bytes, offset + 4);
  return high >= 0x20_0000 ? -1 : high * TWO32 + low;
}

/** Store a safe non-negative integer as a 64-bit little-endian field at `offset`. */
export function writeU64(bytes: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / TWO32);
  writeU32(bytes, offset, value - high * TWO32);
  writeU32(bytes, offset + 4, high);
}

/** True when `value` is an integer in 0..2^32-1. */
export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}

/** True when bytes [offset, offset + length) are all zero. */
export function isZero(bytes: Uint8Array, offset: number, length: number): boolean {
  let acc = 0;
  for (let i = offset; i < offset + length; i++) acc |= bytes[i]!;
  return acc === 0;
}

/** True when bytes [offset, offset + expected.length) equal `expected` (public constants: magics). */
export function matchesAt(bytes: Uint8Array, offset: number, expected: Uint8Array): boolean {
  if (offset + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[offset + i] !== expected[i]) return false;
  return true;
}

/**
 * Equality of two byte strings in time independent of where they differ (tags, roots, nonces: a
 * comparison that stops early would tell an attacker how many leading bytes it guessed right).
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Concatenate byte strings into a fresh array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The bytes of an ASCII string; throws on a character outside 0x00..0x7f (labels are ASCII). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new RangeError(`'${text}' is not ASCII`);
    out[i] = code;
  }
  return out;
}

/** Lower-case hex of a byte string (logs, tests, CLI output). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string (even length, [0-9a-f]); throws on malformed input. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError(`'${hex}' is not hex`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
