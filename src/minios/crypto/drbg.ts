/**
 * HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1 §10.1.2): the mini-OS's only source of random
 * bytes (per-boot IPC salts, identifiers). The model has no entropy: the caller seeds it (e.g. from
 * the simulation seed and a firmware-provided value), so the same seed gives the same bytes.
 *
 * The working state is a fixed 80-byte record (little-endian) the mini-OS keeps in its memory:
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | magic "RCDR" |
 * | 4 | 2 | format version = 1 |
 * | 6 | 2 | reserved, 0 |
 * | 8 | 8 | reseed_counter (1 after instantiate; reseed required above 2^48) |
 * | 16 | 32 | Key |
 * | 48 | 32 | V |
 *
 * Prediction resistance is not offered (there is no live entropy source to draw on).
 */
import { asciiBytes, concatBytes, matchesAt, readU16, readU64, writeU16, writeU64 } from './bytes.js';
import { hmacSha256 } from './primitives.js';

/** Bytes of the DRBG state record. */
export const DRBG_STATE_BYTES = 80;
/** Smallest entropy input accepted (256 bits, the security strength of HMAC_DRBG-SHA256). */
export const DRBG_MIN_ENTROPY_BYTES = 32;
/** Largest request of one generate call (SP 800-90A Table 2: 2^19 bits). */
export const DRBG_MAX_REQUEST_BYTES = 65_536;
/** Generate calls allowed between reseeds (SP 800-90A Table 2: 2^48). */
export const DRBG_RESEED_INTERVAL = 2 ** 48;

const MAGIC = asciiBytes('RCDR');
const FORMAT = 1;
const Off = { magic: 0, format: 4, reserved: 6, counter: 8, key: 16, v: 48 } as const;
const EMPTY = new Uint8Array(0);
const BYTE_00 = Uint8Array.of(0x00);
const BYTE_01 = Uint8Array.of(0x01);

/** Why a generate call produced nothing. */
export type DrbgError =
  /** The state record is not one this module wrote. */
  | { kind: 'BadState' }
  /** More than {@link DRBG_MAX_REQUEST_BYTES} requested, or a negative/non-integer length. */
  | { kind: 'BadLength'; length: number }
  /** The reseed interval is exhausted: call {@link drbgReseed} first. */
  | { kind: 'ReseedRequired' };

/** Result of {@link drbgGenerate}: the bytes and the next state, or why not. */
export type DrbgResult = { ok: true; bytes: Uint8Array; state: Uint8Array } | { ok: false; error: DrbgError };

/** HMAC_DRBG_Update (SP 800-90A §10.1.2.2) on copies of K and V. */
function update(key: Uint8Array, v: Uint8Array, provided: Uint8Array): [Uint8Array, Uint8Array] {
  let k = hmacSha256(key, v, BYTE_00, provided);
  let nextV = hmacSha256(k, v);
  if (provided.length > 0) {
    k = hmacSha256(k, nextV, BYTE_01, provided);
    nextV = hmacSha256(k, nextV);
  }
  return [k, nextV];
}

function encode(counter: number, key: Uint8Array, v: Uint8Array): Uint8Array {
  const state = new Uint8Array(DRBG_STATE_BYTES);
  state.set(MAGIC, Off.magic);
  writeU16(state, Off.format, FORMAT);
  writeU64(state, Off.counter, counter);
  state.set(key, Off.key);
  state.set(v, Off.v);
  return state;
}

function decode(state: Uint8Array): { counter: number; key: Uint8Array; v: Uint8Array } | undefined {
  if (state.length !== DRBG_STATE_BYTES) return undefined;
  if (!matchesAt(state, Off.magic, MAGIC)) return undefined;
  if (readU16(state, Off.format) !== FORMAT || readU16(state, Off.reserved) !== 0) return undefined;
  const counter = readU64(state, Off.counter);
  if (counter < 1) return undefined;
  return { counter, key: state.subarray(Off.key, Off.key + 32), v: state.subarray(Off.v, Off.v + 32) };
}

/**
 * HMAC_DRBG_Instantiate (§10.1.2.3): a fresh state from entropy ‖ nonce ‖ personalization.
 * @throws RangeError when `entropy` is shorter than {@link DRBG_MIN_ENTROPY_BYTES}.
 */
export function drbgInstantiate(
  entropy: Uint8Array,
  nonce: Uint8Array,
  personalization: Uint8Array = EMPTY,
): Uint8Array {
  if (entropy.length < DRBG_MIN_ENTROPY_BYTES) {
    throw new RangeError(`DRBG entropy must be at least ${DRBG_MIN_ENTROPY_BYTES} bytes`);
  }
  const [key, v] = update(
    new Uint8Array(32),
    new Uint8Array(32).fill(1),
    concatBytes(entropy, nonce, personalization),
  );
  return encode(1, key, v);
}

/**
 * HMAC_DRBG_Reseed (§10.1.2.4): the next state after mixing in fresh `entropy` and `additional` input.
 * Returns undefined on a malformed state.
 * @throws RangeError when `entropy` is shorter than {@link DRBG_MIN_ENTROPY_BYTES}.
 */
export function drbgReseed(
  state: Uint8Array,
  entropy: Uint8Array,
  additional: Uint8Array = EMPTY,
): Uint8Array | undefined {
  if (entropy.length < DRBG_MIN_ENTROPY_BYTES) {
    throw new RangeError(`DRBG entropy must be at least ${DRBG_MIN_ENTROPY_BYTES} bytes`);
  }
  const current = decode(state);
  if (current === undefined) return undefined;
  const [key, v] = update(current.key, current.v, concatBytes(entropy, additional));
  return encode(1, key, v);
}

/**
 * HMAC_DRBG_Generate (§10.1.2.5): `length` bytes and the next state; the input state is not
 * modified, so the caller commits the returned state to memory before using the bytes.
 */
export function drbgGenerate(state: Uint8Array, length: number, additional: Uint8Array = EMPTY): DrbgResult {
  if (!Number.isInteger(length) || length < 0 || length > DRBG_MAX_REQUEST_BYTES) {
    return { ok: false, error: { kind: 'BadLength', length } };
  }
  const current = decode(state);
  if (current === undefined) return { ok: false, error: { kind: 'BadState' } };
  if (current.counter > DRBG_RESEED_INTERVAL) return { ok: false, error: { kind: 'ReseedRequired' } };
  let key: Uint8Array = current.key;
  let v: Uint8Array = current.v;
  if (additional.length > 0) [key, v] = update(key, v, additional);
  const bytes = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 32) {
    v = hmacSha256(key, v);
    bytes.set(v.subarray(0, Math.min(32, length - offset)), offset);
  }
  [key, v] = update(key, v, additional);
  return { ok: true, bytes, state: encode(current.counter + 1, key, v) };
}
