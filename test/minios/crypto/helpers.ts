/**
 * Helpers of the mini-OS crypto tests: deterministic test data, bit flips, and an independent
 * reference model of the storage version tree written from the layout documented in storage.ts
 * (plain arrays and node:crypto, none of the library's code).
 */
import { createHash } from 'node:crypto';

/** Seed of every fast-check run in these tests (runs are reproducible). */
export const SEED = 0x5eed;

/** `length` deterministic pseudo-random bytes for `label` (SHA-256 in counter mode). */
export function testBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0, counter = 0; offset < length; offset += 32, counter++) {
    const block = createHash('sha256').update(`${label}/${counter}`).digest();
    out.set(block.subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}

/**
 * Byte equality for hot test loops (vitest's deep equality walks typed arrays element by element,
 * ~1 ms per 4 KiB block).
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** A copy of `bytes` with bit `bit` (0 = LSB of byte 0) inverted. */
export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >>> 3] = copy[bit >>> 3]! ^ (1 << (bit & 7));
  return copy;
}

/** The 32-bit little-endian encoding of `value`. */
function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/**
 * The version tree of storage.ts built from a version table, level by level as its documentation
 * says: level 0 = versions in 32-byte nodes of 8; node j of level l+1 = SHA-256("RCVT" ‖ u32 (l+1)
 * ‖ nodes 8j..8j+7 of level l, missing ones zero); levels stored in order, each padded to whole
 * 256-byte fan-out blocks; the hash of the first single-block level is the root.
 */
export function referenceTree(versions: readonly number[]): {
  tree: Uint8Array;
  root: Uint8Array;
  levels: number;
} {
  const level0 = Buffer.alloc(Math.ceil(versions.length / 8) * 32);
  versions.forEach((v, i) => level0.writeUInt32LE(v, i * 4));
  let nodes: Buffer[] = [];
  for (let i = 0; i < level0.length; i += 32) nodes.push(level0.subarray(i, i + 32));
  const stored: Buffer[] = [];
  for (let level = 0; ; level++) {
    const fanouts: Buffer[] = [];
    for (let j = 0; j < nodes.length; j += 8) {
      const group = nodes.slice(j, j + 8);
      while (group.length < 8) group.push(Buffer.alloc(32));
      fanouts.push(Buffer.concat(group));
    }
    stored.push(...fanouts);
    const parents = fanouts.map((f) =>
      createHash('sha256')
        .update(Buffer.concat([Buffer.from('RCVT'), u32(level + 1), f]))
        .digest(),
    );
    if (fanouts.length === 1) {
      return {
        tree: new Uint8Array(Buffer.concat(stored)),
        root: new Uint8Array(parents[0]!),
        levels: level + 1,
      };
    }
    nodes = parents;
  }
}
