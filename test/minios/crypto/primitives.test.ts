/**
 * Primitives (src/minios/crypto/primitives.ts, bytes.ts) against published known-answer vectors:
 * FIPS 180-2 (SHA-256), RFC 4231 (HMAC-SHA256), RFC 5869 (HKDF), the GCM specification's AES-256
 * test cases, RFC 8032 (Ed25519); plus the little-endian field helpers.
 */
import { describe, expect, it } from 'vitest';
import {
  bytesEqual,
  fromHex,
  readU16,
  readU32,
  readU64,
  toHex,
  writeU16,
  writeU32,
  writeU64,
} from '../../../src/minios/crypto/bytes.js';
import {
  aesGcmDecrypt,
  aesGcmEncryptInto,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  hkdfSha256,
  hmacSha256,
  sha256,
  sha256Parts,
} from '../../../src/minios/crypto/primitives.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('primitives: known answers', () => {
  it('SHA-256 of "abc" (FIPS 180-2 B.1)', () => {
    const expected = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(toHex(sha256(ascii('abc')))).toBe(expected);
    expect(toHex(sha256Parts(ascii('a'), ascii(''), ascii('bc')))).toBe(expected);
  });

  it('HMAC-SHA256 (RFC 4231 test case 2)', () => {
    expect(toHex(hmacSha256(ascii('Jefe'), ascii('what do ya '), ascii('want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('HKDF-SHA256 (RFC 5869 test case 1)', () => {
    const okm = hkdfSha256(
      new Uint8Array(22).fill(0x0b),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('AES-256-GCM (GCM specification test cases 13 and 14)', () => {
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(12);
    const empty = new Uint8Array(0);
    const out13 = new Uint8Array(16);
    aesGcmEncryptInto(key, nonce, empty, empty, out13, 0, 0);
    expect(toHex(out13)).toBe('530f8afbc74536b9a963b4f1c4cb738b');
    const out14 = new Uint8Array(32);
    aesGcmEncryptInto(key, nonce, empty, new Uint8Array(16), out14, 0, 16);
    expect(toHex(out14)).toBe('cea7403d4d606b6e074ec5d3baf39d18' + 'd0d1c8a799996bf0265b98b5d48ab919');
    expect(aesGcmDecrypt(key, nonce, empty, out14.subarray(0, 16), out14.subarray(16))).toEqual(
      new Uint8Array(16),
    );
    expect(
      aesGcmDecrypt(key, nonce, Uint8Array.of(1), out14.subarray(0, 16), out14.subarray(16)),
    ).toBeUndefined();
  });

  it('Ed25519 (RFC 8032 §7.1 test 1), deterministic, and verification', () => {
    const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const publicKey = ed25519PublicKey(seed);
    expect(toHex(publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const signature = ed25519Sign(seed, new Uint8Array(0));
    expect(toHex(signature)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(ed25519Verify(publicKey, new Uint8Array(0), signature)).toBe(true);
    expect(ed25519Verify(publicKey, Uint8Array.of(0), signature)).toBe(false);
    expect(ed25519Verify(publicKey.subarray(1), new Uint8Array(0), signature)).toBe(false);
    expect(ed25519Verify(new Uint8Array(32).fill(0xff), new Uint8Array(0), signature)).toBe(false);
    expect(() => ed25519Sign(seed.subarray(1), new Uint8Array(0))).toThrow(RangeError);
  });

  it('returns plain Uint8Arrays (not Buffers), so results compare equal whatever made them', () => {
    expect(Object.getPrototypeOf(sha256(ascii('x')))).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(hkdfSha256(ascii('k'), ascii(''), ascii(''), 32))).toBe(
      Uint8Array.prototype,
    );
  });
});

describe('bytes: little-endian fields', () => {
  it('round-trips 16-, 32- and 64-bit fields in little-endian order', () => {
    const b = new Uint8Array(16);
    writeU16(b, 0, 0xbeef);
    writeU32(b, 2, 0xdead_beef);
    writeU64(b, 6, 2 ** 53 - 1);
    expect(toHex(b.subarray(0, 6))).toBe('efbeefbeadde');
    expect([readU16(b, 0), readU32(b, 2), readU64(b, 6)]).toEqual([0xbeef, 0xdead_beef, 2 ** 53 - 1]);
    b[13] = 0x20; // bit 53 set: not a safe integer
    expect(readU64(b, 6)).toBe(-1);
  });

  it('compares bytes and parses hex', () => {
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
    expect(() => fromHex('abc')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });
});
