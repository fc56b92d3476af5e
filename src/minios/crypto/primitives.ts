/**
 * The cryptographic primitives of the mini-OS, as pure functions over Uint8Array on top of
 * node:crypto: SHA-256, HMAC-SHA256, HKDF-SHA256 (RFC 5869), AES-256-GCM with 96-bit nonces and
 * 128-bit tags, and Ed25519 with keys as raw bytes.
 *
 * No function keeps state between calls: a key is passed in as bytes on every call and node:crypto
 * objects live only for the call, so everything the mini-OS must keep (keys, counters, roots) is in
 * the byte layouts of the callers and hence in simulated memory. Outputs are plain Uint8Arrays, not
 * Buffers, so results compare equal whatever produced them.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hash,
  hkdfSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { concatBytes } from './bytes.js';

/** Bytes of a SHA-256 digest. */
export const SHA256_BYTES = 32;
/** Bytes of an AES-256 key. */
export const AES_KEY_BYTES = 32;
/** Bytes of an AES-GCM nonce (the 96-bit size GCM is specified for, SP 800-38D §5.2.1.1). */
export const GCM_NONCE_BYTES = 12;
/** Bytes of an AES-GCM tag (full 128 bits; never truncated). */
export const GCM_TAG_BYTES = 16;
/** Bytes of an Ed25519 public key. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Bytes of an Ed25519 private key seed (RFC 8032 §5.1.5). */
export const ED25519_SEED_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;

/** DER prefixes that wrap a raw Ed25519 key as PKCS#8 / SPKI (RFC 8410), so node can import it. */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

/** Copy a node Buffer into a plain Uint8Array of its own. */
function plain(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer);
}

/** SHA-256 of one byte string (the one-shot form: no hash object, the cheapest call node offers). */
export function sha256(data: Uint8Array): Uint8Array {
  return plain(hash('sha256', data, 'buffer'));
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256Parts(...parts: readonly Uint8Array[]): Uint8Array {
  return sha256(concatBytes(...parts));
}

/** HMAC-SHA256 of the concatenation of `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return plain(mac.digest());
}

/**
 * HKDF-SHA256 (RFC 5869): extract with `salt` (empty = 32 zero bytes, as the RFC says), expand with
 * `info` to `length` bytes (1..8160).
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/**
 * AES-256-GCM encryption of `plaintext` with `aad` authenticated, written in place: ciphertext at
 * `out[ciphertextOffset..]`, tag at `out[tagOffset..]`, so a sealed record is built without an
 * intermediate concatenation. The caller guarantees the (key, nonce) pair is never used twice.
 */
export function aesGcmEncryptInto(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  ciphertextOffset: number,
  tagOffset: number,
): void {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  out.set(cipher.update(plaintext), ciphertextOffset);
  const rest = cipher.final(); // empty for GCM (a stream mode), kept for completeness
  if (rest.length > 0) out.set(rest, ciphertextOffset + plaintext.length - rest.length);
  out.set(cipher.getAuthTag(), tagOffset);
}

/**
 * AES-256-GCM decryption: the plaintext, or undefined when the tag does not verify (the plaintext
 * node produced before the tag check is discarded, never returned).
 */
export function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
): Uint8Array | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const head = decipher.update(ciphertext);
  try {
    const rest = decipher.final();
    return rest.length === 0 ? plain(head) : concatBytes(head, rest);
  } catch {
    return undefined;
  }
}

/** Node key object for a raw Ed25519 private seed (lives only for the call that made it). */
function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== ED25519_SEED_BYTES)
    throw new RangeError(`Ed25519 seed must be ${ED25519_SEED_BYTES} bytes`);
  return createPrivateKey({
    key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, seed)),
    format: 'der',
    type: 'pkcs8',
  });
}

/** The raw 32-byte Ed25519 public key of a 32-byte private seed (RFC 8032 §5.1.5). */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(ed25519PrivateKey(seed)).export({ format: 'der', type: 'spki' });
  return plain(spki.subarray(spki.length - ED25519_PUBLIC_KEY_BYTES));
}

/** Ed25519 signature (deterministic, RFC 8032) of `message` under the private `seed`. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return plain(nodeSign(null, message, ed25519PrivateKey(seed)));
}

/** True when `signature` is a valid Ed25519 signature of `message` under the raw `publicKey`. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
    return false;
  try {
    const key = createPublicKey({
      key: Buffer.from(concatBytes(SPKI_ED25519_PREFIX, publicKey)),
      format: 'der',
      type: 'spki',
    });
    return nodeVerify(null, message, key, signature);
  } catch {
    // A public key that is not a valid curve point cannot have signed anything.
    return false;
  }
}
