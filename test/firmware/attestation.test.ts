/**
 * Measured boot and keys (src/firmware/attestation.ts) and the boot-information structure
 * (src/firmware/boot-info.ts): SHA-256 chain, Ed25519 from a seed (RFC 8032 test vector 1),
 * determinism, the sealing root, the platform token, and encoding round trips.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AttestationKey,
  measureImages,
  miniosAttestationKey,
  platformAttestationKey,
  platformTokenMessage,
  sealingRoot,
  sha256,
  verifyBootLog,
  verifyPlatformToken,
  verifySignature,
} from '../../src/firmware/attestation.js';
import {
  BOOT_INFO_MAGIC,
  decodeBootInfo,
  encodeBootInfo,
  type BootInfo,
} from '../../src/firmware/boot-info.js';
import { IMAGES } from './helpers.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const images = [IMAGES.firmware, IMAGES.minios, IMAGES.kernel];

describe('measurements', () => {
  it('SHA-256 of "abc" is the FIPS 180-2 value', () => {
    expect(hex(sha256('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('each chain value is SHA-256(previous || digest), starting from 32 zero bytes', () => {
    const log = measureImages(images);
    let chain = Buffer.alloc(32);
    log.entries.forEach((entry, i) => {
      const digest = createHash('sha256').update(images[i]!.bytes).digest();
      expect(Buffer.from(entry.digest)).toEqual(digest);
      chain = createHash('sha256').update(chain).update(digest).digest();
      expect(Buffer.from(entry.chain)).toEqual(chain);
      expect(entry.component).toBe(images[i]!.name);
    });
    expect(Buffer.from(log.chain)).toEqual(chain);
    expect(verifyBootLog(log)).toBe(true);
  });

  it('is deterministic, and any change to an image or a log entry shows', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(63), (bytes, at) => {
        const a = measureImages([{ name: 'x', bytes }]);
        expect(measureImages([{ name: 'x', bytes: bytes.slice() }])).toEqual(a);
        const changed = bytes.slice();
        changed[at % bytes.length]! ^= 1;
        expect(hex(measureImages([{ name: 'x', bytes: changed }]).chain)).not.toBe(hex(a.chain));
      }),
      { numRuns: 50 },
    );
    const log = measureImages(images);
    const tampered = {
      ...log,
      entries: [log.entries[0]!, { ...log.entries[1]!, digest: sha256('other') }, log.entries[2]!],
    };
    expect(verifyBootLog(tampered)).toBe(false);
    expect(verifyBootLog({ ...log, chain: sha256('x') })).toBe(false);
  });
});

describe('keys', () => {
  it('an Ed25519 key from a private seed matches RFC 8032 test vector 1', () => {
    const key = AttestationKey.fromPrivateSeed(
      fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
    );
    expect(hex(key.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(hex(key.sign(new Uint8Array(0)))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(() => AttestationKey.fromPrivateSeed(new Uint8Array(31))).toThrow(RangeError);
  });

  it('the platform key is derived from the machine seed: deterministic, distinct per seed', () => {
    const a = platformAttestationKey('machine A');
    expect(hex(platformAttestationKey('machine A').publicKey)).toBe(hex(a.publicKey));
    expect(hex(platformAttestationKey('machine B').publicKey)).not.toBe(hex(a.publicKey));
    const expectedSeed = createHash('sha256')
      .update('rcontainer attestation key')
      .update('machine A')
      .digest();
    expect(hex(AttestationKey.fromPrivateSeed(expectedSeed).publicKey)).toBe(hex(a.publicKey));
    expect(hex(platformAttestationKey(7).publicKey)).toBe(hex(platformAttestationKey('7').publicKey));
  });

  it('signatures verify under the right key and message only', () => {
    const key = platformAttestationKey('seed');
    const message = new TextEncoder().encode('report');
    const signature = key.sign(message);
    expect(key.verify(message, signature)).toBe(true);
    expect(verifySignature(key.publicKey, message, signature)).toBe(true);
    expect(verifySignature(key.publicKey, new TextEncoder().encode('report!'), signature)).toBe(false);
    expect(verifySignature(platformAttestationKey('other').publicKey, message, signature)).toBe(false);
    expect(verifySignature(key.publicKey, message, signature.subarray(1))).toBe(false);
    expect(verifySignature(new Uint8Array(32).fill(0xff), message, signature)).toBe(false);
  });

  it('the sealing root is HMAC-SHA256(seed-derived key, mini-OS digest)', () => {
    const digest = sha256('mini-OS');
    const key = createHash('sha256').update('rcontainer sealing root').update('seed').digest();
    expect(Buffer.from(sealingRoot('seed', digest))).toEqual(
      createHmac('sha256', key).update(digest).digest(),
    );
    expect(hex(sealingRoot('seed', sha256('other mini-OS')))).not.toBe(hex(sealingRoot('seed', digest)));
    expect(hex(sealingRoot('other seed', digest))).not.toBe(hex(sealingRoot('seed', digest)));
  });

  it('the platform token endorses the mini-OS key derived from the sealing root for one boot chain', () => {
    const log = measureImages(images);
    const platform = platformAttestationKey('seed');
    const minios = miniosAttestationKey(sealingRoot('seed', log.entries[1]!.digest));
    const token = platform.sign(platformTokenMessage(log.chain, minios.publicKey));
    expect(verifyPlatformToken(platform.publicKey, log.chain, minios.publicKey, token)).toBe(true);
    expect(verifyPlatformToken(platform.publicKey, sha256('other chain'), minios.publicKey, token)).toBe(
      false,
    );
    const impostor = miniosAttestationKey(sealingRoot('seed', sha256('evil mini-OS')));
    expect(verifyPlatformToken(platform.publicKey, log.chain, impostor.publicKey, token)).toBe(false);
  });
});

describe('boot information encoding', () => {
  function sample(): BootInfo {
    const log = measureImages(images);
    const numbers = {
      dramBase: 0x8000_0000,
      dramSize: 0x4000_0000,
      rootBase: 0x8000_0000,
      rootSize: 0x20_0000,
      miniosBase: 0x8020_0000,
      miniosSize: 0x80_0000,
      miniosImageBytes: 13,
      miniosEntryVa: -0x7f_e000_0000, // a TTBR1 VA
      kernelBase: 0x80a0_0000,
      kernelSize: 0x200_0000,
      kernelImageBytes: 12,
      privGptBase: 0x8000_1000,
      privGptGpccr: 0x3_3500,
      smmuBase: 0x2b40_0000,
      blockBase: 0x1c13_0000,
      bootInfoPa: 0x809f_f000,
      peCount: 2,
    };
    return {
      ...numbers,
      sealingRoot: sha256('root'),
      platformPublicKey: platformAttestationKey('s').publicKey,
      platformToken: new Uint8Array(64).fill(7),
      bootChain: log.chain,
      log: log.entries,
    };
  }

  it('round-trips, with a negative entry VA', () => {
    const info = sample();
    const bytes = encodeBootInfo(info);
    expect(bytes.subarray(0, 8)).toEqual(BOOT_INFO_MAGIC);
    expect(decodeBootInfo(bytes)).toEqual(info);
    const padded = new Uint8Array(4096);
    padded.set(bytes);
    expect(decodeBootInfo(padded)).toEqual(info);
  });

  it('decoding refuses a wrong magic, version or size', () => {
    const bytes = encodeBootInfo(sample());
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    expect(decodeBootInfo(badMagic)).toBeUndefined();
    const badVersion = bytes.slice();
    badVersion[8] = 2;
    expect(decodeBootInfo(badVersion)).toBeUndefined();
    expect(decodeBootInfo(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(decodeBootInfo(new Uint8Array(16))).toBeUndefined();
  });

  it('encoding refuses names over 32 bytes and logs that do not fit one granule', () => {
    const info = sample();
    expect(() => encodeBootInfo({ ...info, log: [{ ...info.log[0]!, component: 'x'.repeat(33) }] })).toThrow(
      RangeError,
    );
    expect(() => encodeBootInfo({ ...info, log: Array.from({ length: 50 }, () => info.log[0]!) })).toThrow(
      RangeError,
    );
  });
});
