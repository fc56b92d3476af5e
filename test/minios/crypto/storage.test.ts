/**
 * Sealed storage (src/minios/crypto/storage.ts): round trips, the documented layouts, one test per
 * refusal (rollback, relocation, another container, tampering, a tampered or rolled-back tree, …),
 * all-or-nothing updates, determinism, and property tests against a reference model of the tree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU32 } from '../../../src/minios/crypto/bytes.js';
import { deriveStorageKey } from '../../../src/minios/crypto/keys.js';
import {
  arrayTreeStore,
  blockVersion,
  decodeSealedHeader,
  decodeStorageContext,
  encodeStorageContext,
  initStorage,
  openBlock,
  SEALED_BLOCK_BYTES,
  sealBlock,
  STORAGE_BLOCK_BYTES,
  STORAGE_CONTEXT_BYTES,
  STORAGE_MAX_BLOCKS,
  STORAGE_MAX_VERSION,
  storageTreeBytes,
  storageTreeLevels,
  storageWork,
  verifyStorageTree,
  type StorageError,
  type VersionTreeStore,
} from '../../../src/minios/crypto/storage.js';
import { flipBit, referenceTree, sameBytes, SEED, testBytes } from './helpers.js';

const ROOT = testBytes('sealing root', 32);

/** A disk of `blockCount` blocks: context bytes, tree bytes and a store over them. */
interface Disk {
  context: Uint8Array;
  tree: Uint8Array;
  store: VersionTreeStore;
}

function newDisk(blockCount: number, containerId = 7, generation = 1): Disk {
  const { context, tree } = initStorage({ sealingRoot: ROOT, containerId, generation, blockCount });
  return { context, tree, store: arrayTreeStore(tree) };
}

/** Seal and commit the new context; fails the test on refusal. */
function seal(disk: Disk, block: number, data: Uint8Array): Uint8Array {
  const result = sealBlock(disk.context, disk.store, block, data);
  if (!result.ok) throw new Error(`seal refused: ${JSON.stringify(result.error)}`);
  disk.context = result.context;
  return result.sealed;
}

function openError(disk: Disk, block: number, sealed: Uint8Array): StorageError | undefined {
  const result = openBlock(disk.context, disk.store, block, sealed);
  return result.ok ? undefined : result.error;
}

const block = (label: string): Uint8Array => testBytes(label, STORAGE_BLOCK_BYTES);

describe('storage: round trip and layout', () => {
  it('opens what it sealed, and each new seal bumps the version', () => {
    const disk = newDisk(100);
    const first = seal(disk, 42, block('a'));
    expect(openBlock(disk.context, disk.store, 42, first)).toEqual({
      ok: true,
      data: block('a'),
      version: 1,
    });
    const second = seal(disk, 42, block('b'));
    expect(openBlock(disk.context, disk.store, 42, second)).toEqual({
      ok: true,
      data: block('b'),
      version: 2,
    });
    expect(blockVersion(disk.context, disk.store, 42)).toEqual({ ok: true, version: 2 });
    expect(blockVersion(disk.context, disk.store, 41)).toEqual({ ok: true, version: 0 });
  });

  it('writes the documented on-disk record: ciphertext, then the 32-byte header, then the tag', () => {
    const disk = newDisk(100, 0x1234_5678, 9);
    const data = block('layout');
    const sealed = seal(disk, 99, data);
    expect(sealed.length).toBe(SEALED_BLOCK_BYTES);
    expect(SEALED_BLOCK_BYTES).toBe(4144);
    expect(Buffer.from(sealed.subarray(4096, 4100)).toString('latin1')).toBe('RCBK');
    expect([sealed[4100], sealed[4101], sealed[4102], sealed[4103]]).toEqual([1, 0, 0, 0]);
    expect(readU32(sealed, 4104)).toBe(0x1234_5678);
    expect(readU32(sealed, 4108)).toBe(9);
    expect(readU32(sealed, 4112)).toBe(99);
    expect(readU32(sealed, 4116)).toBe(1);
    expect(sealed.subarray(4120, 4128)).toEqual(new Uint8Array(8));
    expect(decodeSealedHeader(sealed)).toEqual({
      containerId: 0x1234_5678,
      generation: 9,
      block: 99,
      version: 1,
    });
    expect(Buffer.from(sealed.subarray(0, 4096)).equals(Buffer.from(data))).toBe(false);
  });

  it('uses nonce = block ‖ version ‖ 0 and the header as AAD (checked with node:crypto directly)', async () => {
    const { createDecipheriv } = await import('node:crypto');
    const disk = newDisk(16, 3, 4);
    const sealed = seal(disk, 5, block('nonce'));
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32LE(5, 0);
    nonce.writeUInt32LE(1, 4);
    const decipher = createDecipheriv('aes-256-gcm', deriveStorageKey(ROOT, 3, 4), nonce);
    decipher.setAAD(sealed.subarray(4096, 4128));
    decipher.setAuthTag(sealed.subarray(4128));
    const plain = Buffer.concat([decipher.update(sealed.subarray(0, 4096)), decipher.final()]);
    expect(new Uint8Array(plain)).toEqual(block('nonce'));
  });

  it('writes the documented 128-byte context and decodes it back', () => {
    const disk = newDisk(4096, 11, 2);
    seal(disk, 1, block('x'));
    expect(disk.context.length).toBe(STORAGE_CONTEXT_BYTES);
    expect(Buffer.from(disk.context.subarray(0, 4)).toString('latin1')).toBe('RCSC');
    const decoded = decodeStorageContext(disk.context)!;
    expect(decoded).toMatchObject({ containerId: 11, generation: 2, blockCount: 4096, sealCount: 1 });
    expect(decoded.key).toEqual(deriveStorageKey(ROOT, 11, 2));
    expect(encodeStorageContext(decoded)).toEqual(disk.context);
    expect(disk.context[6]).toBe(3); // stored levels of a 4096-block tree
  });

  it('sizes the tree as documented: levels and bytes for small and large disks', () => {
    expect([1, 64, 65, 512, 513, 4096, 4097, 2 ** 24].map(storageTreeLevels)).toEqual([
      1, 1, 2, 2, 3, 3, 4, 7,
    ]);
    expect(storageTreeBytes(1)).toBe(256);
    expect(storageTreeBytes(4096)).toBe((64 + 8 + 1) * 256);
    for (const n of [1, 7, 8, 9, 63, 64, 65, 511, 512, 513, 4095, 4096, 4097, 40_000]) {
      const reference = referenceTree(new Array<number>(n).fill(0));
      const disk = newDisk(n);
      expect(disk.tree.length).toBe(storageTreeBytes(n));
      expect(sameBytes(disk.tree, reference.tree)).toBe(true);
      expect(decodeStorageContext(disk.context)!.root).toEqual(reference.root);
      expect(storageTreeLevels(n)).toBe(reference.levels);
      expect(verifyStorageTree(disk.context, disk.store)).toEqual({ ok: true });
    }
  });

  it('reports the work of one operation for cycle accounting', () => {
    expect(storageWork(4096, 'open')).toEqual({
      aesBytes: 4128,
      hashBytes: 3 * 264,
      treeReadBytes: 768,
      treeWriteBytes: 0,
    });
    expect(storageWork(4096, 'seal')).toEqual({
      aesBytes: 4128,
      hashBytes: 6 * 264,
      treeReadBytes: 768,
      treeWriteBytes: 68,
    });
  });

  it('refuses to set up an impossible disk', () => {
    expect(() => initStorage({ sealingRoot: ROOT, containerId: 1, generation: 0, blockCount: 0 })).toThrow(
      RangeError,
    );
    expect(() =>
      initStorage({ sealingRoot: ROOT, containerId: 1, generation: 0, blockCount: STORAGE_MAX_BLOCKS + 1 }),
    ).toThrow(RangeError);
    expect(() =>
      initStorage({ sealingRoot: ROOT.subarray(1), containerId: 1, generation: 0, blockCount: 8 }),
    ).toThrow(RangeError);
    expect(() => initStorage({ sealingRoot: ROOT, containerId: -1, generation: 0, blockCount: 8 })).toThrow(
      RangeError,
    );
  });
});

describe('storage: each attack gets its own refusal', () => {
  it('rollback: an older sealed version of the block is refused after a newer seal', () => {
    const disk = newDisk(64);
    const old = seal(disk, 3, block('v1'));
    seal(disk, 3, block('v2'));
    expect(openError(disk, 3, old)).toEqual({ kind: 'Rollback', block: 3, version: 1, current: 2 });
  });

  it('relocation: a genuine record of block m presented as block n', () => {
    const disk = newDisk(64);
    const of3 = seal(disk, 3, block('three'));
    seal(disk, 5, block('five'));
    expect(openError(disk, 5, of3)).toEqual({ kind: 'Relocated', block: 5, sealedFor: 3 });
  });

  it("another container's block (same block number and version) is refused", () => {
    const mine = newDisk(64, 1);
    const theirs = newDisk(64, 2);
    seal(mine, 3, block('mine'));
    const foreign = seal(theirs, 3, block('theirs'));
    expect(openError(mine, 3, foreign)).toEqual({ kind: 'WrongContainer', containerId: 2, generation: 1 });
  });

  it('a block of an earlier generation of the same container id is refused', () => {
    const before = newDisk(64, 1, 1);
    const after = newDisk(64, 1, 2);
    const stale = seal(before, 3, block('gen 1'));
    seal(after, 3, block('gen 2'));
    expect(openError(after, 3, stale)).toEqual({ kind: 'WrongContainer', containerId: 1, generation: 1 });
  });

  it("another container's block relabelled with our id fails authentication (different key)", () => {
    const mine = newDisk(64, 1);
    const theirs = newDisk(64, 2);
    seal(mine, 3, block('mine'));
    const foreign = seal(theirs, 3, block('theirs'));
    foreign[4104] = 1; // container id field
    expect(openError(mine, 3, foreign)).toEqual({ kind: 'AuthFailed', block: 3 });
  });

  it('tampering with the ciphertext, the tag or the authenticated header fails authentication', () => {
    const disk = newDisk(64);
    const sealed = seal(disk, 9, block('t'));
    expect(openError(disk, 9, flipBit(sealed, 100))).toEqual({ kind: 'AuthFailed', block: 9 });
    expect(openError(disk, 9, flipBit(sealed, 4130 * 8))).toEqual({ kind: 'AuthFailed', block: 9 });
    seal(disk, 9, block('t2'));
    const old = seal(disk, 9, block('t3')); // version 3 …
    seal(disk, 9, block('t4')); // … now stale; claiming the current version breaks the tag
    const forged = old.slice();
    forged[4116] = 4;
    expect(openError(disk, 9, forged)).toEqual({ kind: 'AuthFailed', block: 9 });
  });

  it('a block never written has no genuine record', () => {
    const disk = newDisk(64);
    const other = seal(disk, 1, block('one'));
    expect(openError(disk, 2, other)).toEqual({ kind: 'Unwritten', block: 2 });
  });

  it('records not in the on-disk format are malformed', () => {
    const disk = newDisk(64);
    const sealed = seal(disk, 1, block('m'));
    expect(openError(disk, 1, sealed.subarray(0, SEALED_BLOCK_BYTES - 1))?.kind).toBe('Malformed');
    expect(openError(disk, 1, new Uint8Array(SEALED_BLOCK_BYTES))?.kind).toBe('Malformed');
    const reserved = sealed.slice();
    reserved[4125] = 1;
    expect(openError(disk, 1, reserved)).toEqual({ kind: 'Malformed', reason: 'reserved field not zero' });
    const versionZero = sealed.slice();
    versionZero[4116] = 0;
    expect(openError(disk, 1, versionZero)).toEqual({ kind: 'Malformed', reason: 'version 0' });
  });

  it('block numbers outside the disk are refused by seal and open', () => {
    const disk = newDisk(10);
    const sealed = seal(disk, 9, block('edge'));
    for (const bad of [10, -1, 1.5, Number.NaN]) {
      expect(sealBlock(disk.context, disk.store, bad, block('x'))).toEqual({
        ok: false,
        error: { kind: 'OutOfRange', block: bad, blockCount: 10 },
      });
      expect(openError(disk, bad, sealed)?.kind).toBe('OutOfRange');
    }
  });

  it('seal takes exactly one block of data', () => {
    const disk = newDisk(10);
    expect(sealBlock(disk.context, disk.store, 0, new Uint8Array(4095))).toEqual({
      ok: false,
      error: { kind: 'BadLength', length: 4095 },
    });
  });

  it('a context that is not one is refused, not trusted', () => {
    const disk = newDisk(10);
    const sealed = seal(disk, 0, block('c'));
    const garbage = disk.context.slice();
    garbage[20] = 1; // reserved
    expect(openBlock(garbage, disk.store, 0, sealed)).toEqual({ ok: false, error: { kind: 'BadContext' } });
    expect(sealBlock(new Uint8Array(128), disk.store, 0, block('c'))).toEqual({
      ok: false,
      error: { kind: 'BadContext' },
    });
    const wrongLevels = disk.context.slice();
    wrongLevels[6] = 2;
    expect(decodeStorageContext(wrongLevels)).toBeUndefined();
  });

  it('a version table rolled back in the (untrusted) tree is caught against the root', () => {
    const disk = newDisk(4096);
    const old = seal(disk, 700, block('v1'));
    const treeAtV1 = disk.tree.slice();
    seal(disk, 700, block('v2'));
    disk.tree.set(treeAtV1); // the host restores the whole old tree, keeping the new root
    expect(openError(disk, 700, old)).toEqual({ kind: 'TreeCorrupt', level: 3 }); // consistent below, not with the root
    expect(verifyStorageTree(disk.context, disk.store).ok).toBe(false);
  });

  it('a corrupt tree makes seal refuse and leaves the tree untouched', () => {
    const disk = newDisk(4096);
    seal(disk, 100, block('a'));
    disk.tree.set(flipBit(disk.tree, (100 * 4 + 1) * 8)); // version slot of block 100 (level 0, u32 per block)
    const before = disk.tree.slice();
    const result = sealBlock(disk.context, disk.store, 100, block('b'));
    expect(result).toEqual({ ok: false, error: { kind: 'TreeCorrupt', level: 1 } });
    expect(sameBytes(disk.tree, before)).toBe(true);
  });

  it('version ahead: the trusted state itself was rolled back (context and tree from before a seal)', () => {
    const disk = newDisk(64);
    seal(disk, 4, block('v1'));
    const contextAtV1 = disk.context.slice();
    const treeAtV1 = disk.tree.slice();
    const newer = seal(disk, 4, block('v2'));
    const restored: Disk = { context: contextAtV1, tree: treeAtV1, store: arrayTreeStore(treeAtV1) };
    expect(openError(restored, 4, newer)).toEqual({ kind: 'VersionAhead', block: 4, version: 2, current: 1 });
  });

  it('a block sealed 2^32-1 times cannot be sealed again (its nonces are used up)', () => {
    const versions = new Array<number>(20).fill(0);
    versions[13] = STORAGE_MAX_VERSION;
    const { tree, root } = referenceTree(versions);
    const context = encodeStorageContext({
      containerId: 7,
      generation: 1,
      blockCount: 20,
      sealCount: 0,
      key: deriveStorageKey(ROOT, 7, 1),
      root,
    });
    const store = arrayTreeStore(tree);
    expect(blockVersion(context, store, 13)).toEqual({ ok: true, version: STORAGE_MAX_VERSION });
    expect(sealBlock(context, store, 13, block('x'))).toEqual({
      ok: false,
      error: { kind: 'VersionExhausted', block: 13 },
    });
    expect(sealBlock(context, store, 12, block('x')).ok).toBe(true);
  });
});

describe('storage: purity and determinism', () => {
  it('never modifies the input context; refused operations write nothing to the tree', () => {
    const disk = newDisk(128);
    const sealed = seal(disk, 1, block('p'));
    const contextBefore = disk.context.slice();
    const treeBefore = disk.tree.slice();
    openBlock(disk.context, disk.store, 1, sealed);
    openBlock(disk.context, disk.store, 1, flipBit(sealed, 7));
    sealBlock(disk.context, disk.store, 1, new Uint8Array(10));
    expect(disk.context).toEqual(contextBefore);
    expect(sameBytes(disk.tree, treeBefore)).toBe(true);
    sealBlock(disk.context, disk.store, 2, block('q')); // accepted, but its new context is dropped
    expect(disk.context).toEqual(contextBefore);
  });

  it('same inputs give byte-identical records, contexts and trees', () => {
    const run = (): Uint8Array[] => {
      const disk = newDisk(300, 5, 6);
      const out: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) out.push(seal(disk, (i * 37) % 300, block(`d${i % 7}`)));
      return [...out, disk.context, disk.tree];
    };
    const [first, second] = [run(), run()];
    expect(first.length).toBe(second.length);
    first.forEach((bytes, i) => expect(sameBytes(bytes, second[i]!)).toBe(true));
  });

  it('the same plaintext gives different ciphertexts per version, block and container', () => {
    const a = newDisk(8, 1);
    const b = newDisk(8, 2);
    const data = block('same');
    const ciphertexts = [seal(a, 0, data), seal(a, 0, data), seal(a, 1, data), seal(b, 0, data)].map((s) =>
      Buffer.from(s.subarray(0, 4096)).toString('hex'),
    );
    expect(new Set(ciphertexts).size).toBe(4);
  });
});

describe('storage: properties', () => {
  /** A random sequence of seals on a small disk: [blockCount, [block, data seed][]]. */
  const workload = fc.integer({ min: 1, max: 200 }).chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: 1_000 })), {
        minLength: 1,
        maxLength: 40,
      }),
    ),
  );

  it('open(seal(x)) = x for the latest version, every older version is a rollback, and the tree matches the reference', () => {
    fc.assert(
      fc.property(workload, ([n, ops]) => {
        const disk = newDisk(n);
        const versions = new Array<number>(n).fill(0);
        const history: { block: number; version: number; sealed: Uint8Array; data: Uint8Array }[] = [];
        for (const [b, seed] of ops) {
          const data = testBytes(`p${seed}`, STORAGE_BLOCK_BYTES);
          versions[b]! += 1;
          history.push({ block: b, version: versions[b]!, sealed: seal(disk, b, data), data });
        }
        for (const h of history) {
          const result = openBlock(disk.context, disk.store, h.block, h.sealed);
          if (h.version === versions[h.block]) {
            expect(result.ok && result.version === h.version && sameBytes(result.data, h.data)).toBe(true);
          } else {
            const current = versions[h.block];
            expect(result).toEqual({
              ok: false,
              error: { kind: 'Rollback', block: h.block, version: h.version, current },
            });
          }
        }
        const reference = referenceTree(versions);
        expect(sameBytes(disk.tree, reference.tree)).toBe(true);
        expect(decodeStorageContext(disk.context)!.root).toEqual(reference.root);
        expect(decodeStorageContext(disk.context)!.sealCount).toBe(ops.length);
        expect(verifyStorageTree(disk.context, disk.store)).toEqual({ ok: true });
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('old versions never open after a newer seal, even when the host also restores the old tree', () => {
    fc.assert(
      fc.property(workload, fc.nat(), ([n, ops], pick) => {
        const disk = newDisk(n);
        const snapshots: { tree: Uint8Array; block: number; sealed: Uint8Array }[] = [];
        for (const [b, seed] of ops) {
          const sealed = seal(disk, b, testBytes(`r${seed}`, STORAGE_BLOCK_BYTES));
          snapshots.push({ tree: disk.tree.slice(), block: b, sealed });
        }
        const old = snapshots[pick % snapshots.length]!;
        const superseded = snapshots.some(
          (s) => s !== old && s.block === old.block && snapshots.indexOf(s) > snapshots.indexOf(old),
        );
        if (!superseded) return;
        expect(openBlock(disk.context, disk.store, old.block, old.sealed).ok).toBe(false);
        disk.tree.set(old.tree); // the host rolls the untrusted tree back to match the old record
        expect(openBlock(disk.context, disk.store, old.block, old.sealed)).toMatchObject({
          ok: false,
          error: { kind: 'TreeCorrupt' },
        });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('any single-bit flip of a sealed record (ciphertext, AAD header or tag) is refused', () => {
    const disk = newDisk(50);
    seal(disk, 17, block('before'));
    const sealed = seal(disk, 17, block('flip me'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SEALED_BLOCK_BYTES * 8 - 1 }), (bit) => {
        expect(openBlock(disk.context, disk.store, 17, flipBit(sealed, bit)).ok).toBe(false);
      }),
      { seed: SEED, numRuns: 400 },
    );
    // Every bit of the 48-byte trailer, exhaustively.
    for (let bit = 4096 * 8; bit < SEALED_BLOCK_BYTES * 8; bit++) {
      expect(openBlock(disk.context, disk.store, 17, flipBit(sealed, bit)).ok).toBe(false);
    }
  });

  it('opening under different associated data (another container, generation or block) always fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        (b, cidDelta, genDelta) => {
          const source = newDisk(16, 10, 20);
          const target = newDisk(16, 10 + cidDelta, 20 + genDelta);
          const sealed = seal(source, b, block('aad'));
          seal(target, (b + 1) % 16, block('other'));
          seal(target, b, block('target'));
          const result = openBlock(
            target.context,
            target.store,
            (b + (cidDelta + genDelta === 0 ? 1 : 0)) % 16,
            sealed,
          );
          expect(result.ok).toBe(false);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('a bit flip anywhere in the tree never yields wrong data: each open is correct or TreeCorrupt', () => {
    const disk = newDisk(600);
    const records = new Map<number, { sealed: Uint8Array; data: Uint8Array }>();
    for (let i = 0; i < 40; i++) {
      const b = (i * 131) % 600;
      const data = block(`tree ${i}`);
      records.set(b, { sealed: seal(disk, b, data), data });
    }
    const pristine = disk.tree.slice();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: pristine.length * 8 - 1 }), (bit) => {
        disk.tree.set(flipBit(pristine, bit));
        expect(verifyStorageTree(disk.context, disk.store).ok).toBe(false);
        for (const [b, r] of records) {
          const result = openBlock(disk.context, disk.store, b, r.sealed);
          if (result.ok) expect(sameBytes(result.data, r.data)).toBe(true);
          else expect(result.error.kind).toBe('TreeCorrupt');
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
    disk.tree.set(pristine);
  });
});
