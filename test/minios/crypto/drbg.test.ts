/**
 * HMAC_DRBG (src/minios/crypto/drbg.ts) against NIST CAVP HMAC_DRBG SHA-256 vectors (no reseed,
 * no prediction resistance: instantiate, generate 1024 bits twice, the second output is checked),
 * plus the state layout, determinism and refusals.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, readU64, toHex, writeU64 } from '../../../src/minios/crypto/bytes.js';
import {
  DRBG_MAX_REQUEST_BYTES,
  DRBG_RESEED_INTERVAL,
  DRBG_STATE_BYTES,
  drbgGenerate,
  drbgInstantiate,
  drbgReseed,
} from '../../../src/minios/crypto/drbg.js';

/** Two generate calls of `length` bytes from a fresh state; the second output. */
function secondOutput(state: Uint8Array, length: number): Uint8Array {
  const first = drbgGenerate(state, length);
  if (!first.ok) throw new Error('generate refused');
  const second = drbgGenerate(first.state, length);
  if (!second.ok) throw new Error('generate refused');
  return second.bytes;
}

describe('drbg: NIST CAVP known answers (HMAC_DRBG, SHA-256)', () => {
  const vectors = [
    {
      entropy: 'ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488',
      nonce: '659ba96c601dc69fc902940805ec0ca8',
      personalization: '',
      expected:
        'e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89d54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc107694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8',
    },
    {
      entropy: '79737479ba4e7642a221fcfd1b820b134e9e3540a35bb48ffae29c20f5418ea3',
      nonce: '3593259c092bef4129bc2c6c9e19f343',
      personalization: '',
      expected:
        'cf5ad5984f9e43917aa9087380dac46e410ddc8a7731859c84e9d0f31bd43655b924159413e2293b17610f211e09f770f172b8fb693a35b85d3b9e5e63b1dc252ac0e115002e9bedfb4b5b6fd43f33b8e0eafb2d072e1a6fee1f159df9b51e6c8da737e60d5032dd30544ec51558c6f080bdbdab1de8a939e961e06b5f1aca37',
    },
    {
      entropy: '5cacc68165a2e2ee20812f35ec73a79dbf30fd475476ac0c44fc6174cdac2b55',
      nonce: '6f885496c1e63af620becd9e71ecb824',
      personalization: 'e72dd8590d4ed5295515c35ed6199e9d211b8f069b3058caa6670b96ef1208d0',
      expected:
        'f1012cf543f94533df27fedfbf58e5b79a3dc517a9c402bdbfc9a0c0f721f9d53faf4aafdc4b8f7a1b580fcaa52338d4bd95f58966a243cdcd3f446ed4bc546d9f607b190dd69954450d16cd0e2d6437067d8b44d19a6af7a7cfa8794e5fbd728e8fb2f2e8db5dd4ff1aa275f35886098e80ff844886060da8b1e7137846b23b',
    },
  ];
  for (const [i, v] of vectors.entries()) {
    it(`vector ${i}${v.personalization ? ' (with personalization)' : ''}`, () => {
      const state = drbgInstantiate(fromHex(v.entropy), fromHex(v.nonce), fromHex(v.personalization));
      expect(toHex(secondOutput(state, 128))).toBe(v.expected);
    });
  }
});

describe('drbg: state, determinism and refusals', () => {
  const entropy = new Uint8Array(32).fill(7);

  it('keeps its state in a fixed 80-byte record and never modifies the input state', () => {
    const state = drbgInstantiate(entropy, new Uint8Array(16));
    expect(state.length).toBe(DRBG_STATE_BYTES);
    expect(Buffer.from(state.subarray(0, 4)).toString('latin1')).toBe('RCDR');
    expect(readU64(state, 8)).toBe(1);
    const before = state.slice();
    const result = drbgGenerate(state, 10);
    expect(state).toEqual(before);
    expect(result.ok && readU64(result.state, 8)).toBe(2);
  });

  it('same seed, same bytes; additional input and reseeding change them', () => {
    const a = drbgInstantiate(entropy, new Uint8Array(16));
    const b = drbgInstantiate(entropy.slice(), new Uint8Array(16));
    expect(drbgGenerate(a, 100)).toEqual(drbgGenerate(b, 100));
    const plain = drbgGenerate(a, 32);
    const withAdditional = drbgGenerate(a, 32, Uint8Array.of(1));
    const reseeded = drbgGenerate(drbgReseed(a, new Uint8Array(32).fill(9))!, 32);
    const outputs = [plain, withAdditional, reseeded].map((r) => (r.ok ? toHex(r.bytes) : 'refused'));
    expect(new Set(outputs).size).toBe(3);
  });

  it('refuses bad lengths, bad states, short entropy, and asks for a reseed when the interval is used up', () => {
    const state = drbgInstantiate(entropy, new Uint8Array(0));
    expect(drbgGenerate(state, DRBG_MAX_REQUEST_BYTES + 1)).toEqual({
      ok: false,
      error: { kind: 'BadLength', length: DRBG_MAX_REQUEST_BYTES + 1 },
    });
    expect(drbgGenerate(new Uint8Array(80), 1)).toEqual({ ok: false, error: { kind: 'BadState' } });
    expect(drbgReseed(new Uint8Array(80), entropy)).toBeUndefined();
    expect(() => drbgInstantiate(new Uint8Array(31), new Uint8Array(16))).toThrow(RangeError);
    const old = state.slice();
    writeU64(old, 8, DRBG_RESEED_INTERVAL + 1);
    expect(drbgGenerate(old, 1)).toEqual({ ok: false, error: { kind: 'ReseedRequired' } });
    const reseeded = drbgReseed(old, entropy)!;
    expect(drbgGenerate(reseeded, 1).ok).toBe(true);
  });
});
