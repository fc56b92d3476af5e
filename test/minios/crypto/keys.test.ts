/**
 * Key derivation (src/minios/crypto/keys.ts): the documented info strings byte for byte, HKDF with
 * the documented salt, determinism, and separation (every input changes the key; storage and IPC
 * keys never coincide).
 */
import { createHash, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/minios/crypto/bytes.js';
import {
  deriveIpcKey,
  deriveStorageKey,
  ipcKeyInfo,
  IPC_KEY_LABEL,
  STORAGE_KEY_LABEL,
  storageKeyInfo,
} from '../../../src/minios/crypto/keys.js';
import { SEED, testBytes } from './helpers.js';

const ROOT = testBytes('sealing root', 32);
const SALT = testBytes('boot salt', 32);

describe('keys: info strings and derivation', () => {
  it('encodes info as ASCII label, 0x00, then u32 little-endian fields', () => {
    expect(toHex(storageKeyInfo(0x0102_0304, 5))).toBe(
      Buffer.from('rcontainer/v1 storage key').toString('hex') + '00' + '04030201' + '05000000',
    );
    expect(toHex(ipcKeyInfo(7, 1, 0))).toBe(
      Buffer.from('rcontainer/v1 ipc key').toString('hex') + '00' + '07000000' + '01000000' + '00000000',
    );
    expect([STORAGE_KEY_LABEL.length, IPC_KEY_LABEL.length]).toEqual([25, 21]);
  });

  it('is HKDF-SHA256 with the documented salt: none for storage, the boot salt for IPC', () => {
    const storage = new Uint8Array(hkdfSync('sha256', ROOT, new Uint8Array(0), storageKeyInfo(3, 4), 32));
    expect(deriveStorageKey(ROOT, 3, 4)).toEqual(storage);
    const ipc = new Uint8Array(hkdfSync('sha256', ROOT, SALT, ipcKeyInfo(9, 1, 2), 32));
    expect(deriveIpcKey(ROOT, SALT, 9, 1, 2)).toEqual(ipc);
  });

  it('gives the same key for the same inputs (a disk outlives a boot)', () => {
    expect(deriveStorageKey(ROOT.slice(), 3, 4)).toEqual(deriveStorageKey(ROOT, 3, 4));
    expect(deriveIpcKey(ROOT, SALT.slice(), 9, 1, 2)).toEqual(deriveIpcKey(ROOT, SALT, 9, 1, 2));
  });

  it('refuses inputs of the wrong size or range', () => {
    expect(() => deriveStorageKey(ROOT.subarray(1), 1, 1)).toThrow(RangeError);
    expect(() => deriveStorageKey(ROOT, 2 ** 32, 1)).toThrow(RangeError);
    expect(() => deriveStorageKey(ROOT, 1, -1)).toThrow(RangeError);
    expect(() => deriveIpcKey(ROOT, SALT.subarray(1), 1, 1, 2)).toThrow(RangeError);
    expect(() => deriveIpcKey(ROOT, SALT, 1, 2, 2)).toThrow(RangeError);
    expect(() => deriveIpcKey(ROOT, SALT, 1.5, 1, 2)).toThrow(RangeError);
  });
});

describe('keys: separation', () => {
  const u32 = fc.nat({ max: 0xffff_ffff });

  it('every input of a storage key changes it: root, container id, generation', () => {
    fc.assert(
      fc.property(u32, u32, u32, u32, (c1, g1, c2, g2) => {
        fc.pre(c1 !== c2 || g1 !== g2);
        expect(toHex(deriveStorageKey(ROOT, c1, g1))).not.toBe(toHex(deriveStorageKey(ROOT, c2, g2)));
      }),
      { seed: SEED, numRuns: 100 },
    );
    const other = createHash('sha256').update('another root').digest();
    expect(deriveStorageKey(other, 1, 1)).not.toEqual(deriveStorageKey(ROOT, 1, 1));
  });

  it('every input of an IPC key changes it: boot salt, channel, and direction', () => {
    const base = toHex(deriveIpcKey(ROOT, SALT, 5, 1, 2));
    const variants = [
      deriveIpcKey(ROOT, testBytes('next boot', 32), 5, 1, 2),
      deriveIpcKey(ROOT, SALT, 6, 1, 2),
      deriveIpcKey(ROOT, SALT, 5, 2, 1),
      deriveIpcKey(ROOT, SALT, 5, 1, 3),
      deriveIpcKey(testBytes('other root', 32), SALT, 5, 1, 2),
    ].map(toHex);
    expect(new Set([base, ...variants]).size).toBe(6);
  });

  it('a storage key is never an IPC key, even when their numeric fields agree', () => {
    expect(toHex(deriveStorageKey(ROOT, 1, 2))).not.toBe(
      toHex(deriveIpcKey(ROOT, new Uint8Array(32), 1, 2, 0)),
    );
  });
});
