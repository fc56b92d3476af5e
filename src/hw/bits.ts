/**
 * Bit and address helpers shared by the machine model.
 *
 * Addresses are JS numbers: physical addresses are below 2^52 and so exact as doubles. A 64-bit
 * register or descriptor is handled as two unsigned 32-bit halves on hot paths; BigInt appears only
 * at I/O edges (parsing and printing), as STYLE.md rule 6 asks.
 */

/** 2^32 as a number. */
export const TWO32 = 0x1_0000_0000;

/** Bits [hi:lo] of a 32-bit value, as an unsigned number. Requires 0 <= lo <= hi <= 31. */
export function field32(value: number, hi: number, lo: number): number {
  const width = hi - lo + 1;
  return width === 32 ? value >>> 0 : (value >>> lo) & ((1 << width) - 1);
}

/** Bit `n` (0..63) of the 64-bit value held as `lo`/`hi` halves. */
export function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

/**
 * Bits [hi:lo] (hi - lo < 32 and hi < 53 so the result is exact) of a 64-bit value held as halves.
 */
export function field64(valueLo: number, valueHi: number, hi: number, lo: number): number {
  if (hi < 32) return field32(valueLo, hi, lo);
  if (lo >= 32) return field32(valueHi, hi - 32, lo - 32);
  const lowPart = valueLo >>> lo;
  const highBits = hi - 31;
  const highPart = valueHi & (highBits >= 32 ? 0xffff_ffff : (1 << highBits) - 1);
  return (highPart >>> 0) * 2 ** (32 - lo) + lowPart;
}

/** Combine two 32-bit halves into a number; exact only while the value is below 2^53. */
export function join64(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

/** Split a non-negative number below 2^53 into [lo, hi] halves. */
export function split64(value: number): [number, number] {
  const hi = Math.floor(value / TWO32);
  return [value - hi * TWO32, hi];
}

/** Parse a hex or decimal string (or a number) into a BigInt; throws on malformed input. */
export function parseU64(text: string | number, what: string): bigint {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 0)
      throw new RangeError(`${what}: ${text} is not a 64-bit value`);
    return BigInt(text);
  }
  if (!/^(0x[0-9a-f_]+|[0-9_]+)$/i.test(text.trim())) {
    throw new RangeError(`${what}: '${text}' is not a hex or decimal number`);
  }
  const value = BigInt(text.trim().replaceAll('_', ''));
  if (value >= 1n << 64n) throw new RangeError(`${what}: '${text}' does not fit in 64 bits`);
  return value;
}

/** A 64-bit BigInt as [lo, hi] 32-bit halves. */
export function bigToHalves(value: bigint): [number, number] {
  return [Number(value & 0xffff_ffffn), Number((value >> 32n) & 0xffff_ffffn)];
}

/** Halves to BigInt (for printing and tests). */
export function halvesToBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Format a non-negative number or BigInt as 0x-prefixed lower-case hex. */
export function hex(value: number | bigint): string {
  if (typeof value === 'number' && value < 0) return '-0x' + (-value).toString(16);
  return '0x' + value.toString(16);
}

/**
 * A 64-bit virtual address as the model's number form: the two's-complement value, exact because
 * every canonical VA of a 48-bit (or smaller) range lies in [-2^48, 2^48). A value that cannot be
 * represented (top bits neither all-0 nor all-1 beyond 2^53) maps to 2^53, which no range contains.
 */
export function vaFromU64(value: bigint): number {
  const signed = value >= 1n << 63n ? value - (1n << 64n) : value;
  if (signed >= -(1n << 53n) && signed < 1n << 53n) return Number(signed);
  return 2 ** 53;
}

/** Inverse of {@link vaFromU64} for printing. */
export function vaToU64(va: number): bigint {
  const v = BigInt(va);
  return v < 0n ? v + (1n << 64n) : v;
}

/** Assert an internal invariant of the simulator (a bug if it fails, never user input). */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`simulator invariant violated: ${message}`);
}

/** Exhaustiveness helper for `switch` over unions. */
export function assertNever(value: never): never {
  throw new Error(`simulator invariant violated: unexpected ${String(value)}`);
}
