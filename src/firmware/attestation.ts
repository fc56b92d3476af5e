/**
 * Measured boot and the platform's keys: SHA-256 measurements of the boot images, a measurement
 * chain, the boot log, a per-machine Ed25519 attestation key derived from the machine seed, and a
 * per-boot sealing root for the mini-OS in the style of a DICE Compound Device Identifier.
 *
 * Derivations (all deterministic in the machine seed, DESIGN.md §8):
 *   chain_0 = 32 zero bytes;  chain_i = SHA-256(chain_{i-1} || digest_i)
 *   attestation key seed     = SHA-256("rcontainer attestation key" || seed)      (Ed25519, RFC 8032)
 *   sealing root (CDI)       = HMAC-SHA256(SHA-256("rcontainer sealing root" || seed), mini-OS digest)
 *   mini-OS attestation seed = HMAC-SHA256(sealing root, "rcontainer mini-OS attestation key")
 *   platform token           = Sign(attestation key, "rcontainer platform token v1" || boot chain
 *                                   || mini-OS attestation public key)
 * The mini-OS receives the sealing root at boot and can derive its own attestation key from it
 * ({@link miniosAttestationKey}); a verifier checks the platform token with the platform public key,
 * which binds the mini-OS key to the measured boot chain.
 *
 * Called from: monitor.ts at boot; the mini-OS and verifiers use the pure helpers.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/** A boot image and the component name it is measured under. */
export interface BootImage {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** One entry of the boot log. */
export interface Measurement {
  readonly component: string;
  /** SHA-256 of the image. */
  readonly digest: Uint8Array;
  /** The measurement chain after this entry. */
  readonly chain: Uint8Array;
}

/** The boot log: entries in measurement order and the final chain value. */
export interface BootLog {
  readonly entries: readonly Measurement[];
  readonly chain: Uint8Array;
}

/** Bytes of a SHA-256 digest, of an Ed25519 public key, and of an Ed25519 signature. */
export const DIGEST_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

const encoder = new TextEncoder();
/** DER prefixes of an Ed25519 PKCS#8 private key and SPKI public key (RFC 8410). */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
const PLATFORM_TOKEN_LABEL = 'rcontainer platform token v1';

/** SHA-256 of the concatenation of `parts` (strings as UTF-8). */
export function sha256(...parts: (Uint8Array | string)[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(typeof part === 'string' ? encoder.encode(part) : part);
  return new Uint8Array(hash.digest());
}

/** HMAC-SHA256 of the concatenation of `parts` under `key`. */
export function hmacSha256(key: Uint8Array, ...parts: (Uint8Array | string)[]): Uint8Array {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(typeof part === 'string' ? encoder.encode(part) : part);
  return new Uint8Array(mac.digest());
}

/** The machine seed as bytes: a string or number is taken as its UTF-8 text. */
export function seedBytes(seed: Uint8Array | string | number): Uint8Array {
  return typeof seed === 'object' ? seed : encoder.encode(String(seed));
}

/** Measure `images` in order into a boot log (chain_0 = 32 zero bytes). */
export function measureImages(images: readonly BootImage[]): BootLog {
  let chain: Uint8Array = new Uint8Array(DIGEST_BYTES);
  const entries: Measurement[] = [];
  for (const image of images) {
    const digest = sha256(image.bytes);
    chain = sha256(chain, digest);
    entries.push({ component: image.name, digest, chain });
  }
  return { entries, chain };
}

/** Recompute the chain of a boot log: true when every entry's chain and the final value agree. */
export function verifyBootLog(log: BootLog): boolean {
  let chain: Uint8Array = new Uint8Array(DIGEST_BYTES);
  for (const entry of log.entries) {
    chain = sha256(chain, entry.digest);
    if (!bytesEqual(chain, entry.chain)) return false;
  }
  return bytesEqual(chain, log.chain);
}

/** Constant-shape byte comparison. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** An Ed25519 key pair held by firmware (or derived by the mini-OS from its sealing root). */
export class AttestationKey {
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  private readonly privateKey: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.privateKey = privateKey;
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - PUBLIC_KEY_BYTES));
  }

  /** The key whose RFC 8032 private seed is `privateSeed` (32 bytes). */
  static fromPrivateSeed(privateSeed: Uint8Array): AttestationKey {
    if (privateSeed.length !== 32) throw new RangeError('an Ed25519 private seed is 32 bytes');
    const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
    der.set(PKCS8_ED25519_PREFIX);
    der.set(privateSeed, PKCS8_ED25519_PREFIX.length);
    return new AttestationKey(createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }));
  }

  /** Sign `message` (64-byte Ed25519 signature). */
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.privateKey));
  }

  /** Verify a signature of `message` under this key. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return verifySignature(this.publicKey, message, signature);
  }
}

/** Verify an Ed25519 `signature` of `message` under the raw 32-byte `publicKey`. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  const der = new Uint8Array(SPKI_ED25519_PREFIX.length + PUBLIC_KEY_BYTES);
  der.set(SPKI_ED25519_PREFIX);
  der.set(publicKey, SPKI_ED25519_PREFIX.length);
  try {
    return verify(
      null,
      message,
      createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }),
      signature,
    );
  } catch {
    return false; // not a point on the curve
  }
}

/** The per-machine platform attestation key. */
export function platformAttestationKey(seed: Uint8Array | string | number): AttestationKey {
  return AttestationKey.fromPrivateSeed(sha256('rcontainer attestation key', seedBytes(seed)));
}

/** The mini-OS sealing root (CDI) for this machine and mini-OS measurement. */
export function sealingRoot(seed: Uint8Array | string | number, miniosDigest: Uint8Array): Uint8Array {
  return hmacSha256(sha256('rcontainer sealing root', seedBytes(seed)), miniosDigest);
}

/** The mini-OS attestation key derived from its sealing root. */
export function miniosAttestationKey(root: Uint8Array): AttestationKey {
  return AttestationKey.fromPrivateSeed(hmacSha256(root, 'rcontainer mini-OS attestation key'));
}

/** The message the platform token signs. */
export function platformTokenMessage(bootChain: Uint8Array, miniosPublicKey: Uint8Array): Uint8Array {
  const label = encoder.encode(PLATFORM_TOKEN_LABEL);
  const message = new Uint8Array(label.length + bootChain.length + miniosPublicKey.length);
  message.set(label);
  message.set(bootChain, label.length);
  message.set(miniosPublicKey, label.length + bootChain.length);
  return message;
}

/** Verify a platform token: `platformPublicKey` endorses `miniosPublicKey` for `bootChain`. */
export function verifyPlatformToken(
  platformPublicKey: Uint8Array,
  bootChain: Uint8Array,
  miniosPublicKey: Uint8Array,
  token: Uint8Array,
): boolean {
  return verifySignature(platformPublicKey, platformTokenMessage(bootChain, miniosPublicKey), token);
}
