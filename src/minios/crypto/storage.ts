/**
 * Sealed storage of container disks (DESIGN.md §4 "I/O", §5 "disk crypto"; attacks.md #11): every
 * 4 KiB block a container writes is sealed by the mini-OS with AES-256-GCM before the untrusted
 * kernel and disk see it, and checked on the way back for confidentiality, integrity and freshness.
 *
 * ## State
 *
 * * The **storage context** (128 bytes, {@link STORAGE_CONTEXT_BYTES}) is the trusted state: the
 *   block key, the container's identity, and the **root** of the version tree. The mini-OS keeps it
 *   in memory the kernel cannot write (SHIM or MINI granules; note that SHIM(c) is open to the kernel
 *   while it serves c, so MINI is the safer home for the key and root).
 * * The **version tree** ({@link storageTreeBytes} bytes, ≈ 4.6 bytes per block) holds a 32-bit
 *   version per block and the hashes above them. It may live anywhere, even in untrusted memory or
 *   on disk: every operation checks the path it uses against the root, and only the root is trusted.
 *   The library reaches it through a {@link VersionTreeStore} (the mini-OS backs it with PE loads and
 *   stores, tests with a Uint8Array), reading one 256-byte fan-out block per level.
 *
 * Context layout (little-endian):
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4 | magic "RCSC" |
 * | 4 | 2 | format = 1 |
 * | 6 | 2 | stored tree levels h (a function of the block count, kept as a check) |
 * | 8 | 4 | container id |
 * | 12 | 4 | generation |
 * | 16 | 4 | block count N (1..2^24) |
 * | 20 | 4 | reserved, 0 |
 * | 24 | 8 | seal count (blocks sealed so far; statistics) |
 * | 32 | 32 | block key (keys.ts `deriveStorageKey`) |
 * | 64 | 32 | version-tree root |
 * | 96 | 32 | reserved, 0 |
 *
 * Version tree: an 8-ary hash tree. Level 0 is the version table, N u32 versions (0 = never
 * written) in 32-byte nodes of 8. Node j of level ℓ+1 = SHA-256("RCVT" ‖ u32 (ℓ+1) ‖ the 8 nodes
 * 8j..8j+7 of level ℓ), slots past the end of a level being zeros. Levels are stored one after the
 * other from level 0, each padded to whole 256-byte fan-out blocks; the first level with a single
 * fan-out block is the last one stored, and its hash is the root (in the context, not the tree).
 * The level number in every hash keeps version data and hashes apart.
 *
 * ## On-disk record of one block ({@link SEALED_BLOCK_BYTES} = 4144 bytes)
 *
 * | offset | bytes | field |
 * |---|---|---|
 * | 0 | 4096 | AES-256-GCM ciphertext of the block |
 * | 4096 | 4 | magic "RCBK" |
 * | 4100 | 2 | format = 1 |
 * | 4102 | 2 | reserved, 0 |
 * | 4104 | 4 | container id |
 * | 4108 | 4 | generation |
 * | 4112 | 4 | block number |
 * | 4116 | 4 | version (1..2^32-1) |
 * | 4120 | 8 | reserved, 0 |
 * | 4128 | 16 | GCM tag |
 *
 * The 32-byte header at 4096 is the GCM associated data, so container id, block number and version
 * are authenticated. The ciphertext comes first so a disk layout can keep it in the block's own
 * eight 512-byte sectors and the 48-byte trailer in a metadata area (as dm-integrity does).
 * Nonce = u32 block ‖ u32 version ‖ u32 0: the key is unique to (container, generation) and a
 * block's version only grows, so no (key, nonce) pair is ever used twice.
 *
 * ## Cost per operation (h = stored levels: 1 up to 64 blocks, 3 for 4,096, 7 for 2^24)
 *
 * * open: h tree reads of 256 B, h SHA-256 over 264 B, one AES-GCM over 4096 B (+ 32 B AAD).
 * * seal: the same plus h more SHA-256 and h tree writes (4 B at level 0, 32 B above).
 * * init: O(h) hashes (an all-zero tree has one distinct node per level) plus filling the tree.
 * Measured informally on the development host (Node 20): at N = 4,096 ≈ 14 µs per open and
 * ≈ 19 µs per seal, of which ≈ 6 µs is AES-GCM and ≈ 1 µs each SHA-256 call (node's per-call
 * overhead dominates a 264-byte hash; an 8-ary tree keeps the calls few); ≈ 21 / 35 µs at 2^20
 * blocks. {@link storageWork} gives the byte counts the mini-OS can charge as simulated cycles.
 *
 * SIMPLIFICATION: freshness across a reboot needs the root persisted with a firmware monotonic
 * counter (attacks.md #11); the model keeps the root only for the life of the context, and crash
 * consistency between the disk write and the root update is the caller's concern.
 */
import {
  asciiBytes,
  bytesEqual,
  isU32,
  isZero,
  matchesAt,
  readU16,
  readU32,
  readU64,
  writeU16,
  writeU32,
  writeU64,
} from './bytes.js';
import { deriveStorageKey } from './keys.js';
import { aesGcmDecrypt, aesGcmEncryptInto, GCM_NONCE_BYTES, GCM_TAG_BYTES, sha256 } from './primitives.js';

/** Bytes of one container disk block (plaintext). */
export const STORAGE_BLOCK_BYTES = 4096;
/** Bytes of the header of a sealed record (the associated data). */
export const SEALED_HEADER_BYTES = 32;
/** Bytes of one sealed block record on disk: ciphertext, header, tag. */
export const SEALED_BLOCK_BYTES = STORAGE_BLOCK_BYTES + SEALED_HEADER_BYTES + GCM_TAG_BYTES;
/** Bytes of the storage context. */
export const STORAGE_CONTEXT_BYTES = 128;
/** Largest number of blocks of one container disk (64 GiB; bounds the tree to ≈ 77 MiB). */
export const STORAGE_MAX_BLOCKS = 2 ** 24;
/** Largest block version; a block sealed this many times cannot be sealed again under its key. */
export const STORAGE_MAX_VERSION = 0xffff_ffff;
/** Children per tree node, bytes per node and per fan-out block. */
export const TREE_ARITY = 8;
/** Bytes of one tree node (a hash, or 8 versions at level 0). */
export const TREE_NODE_BYTES = 32;
/** Bytes of one fan-out block: the 8 nodes hashed into one parent. */
export const TREE_FANOUT_BYTES = TREE_ARITY * TREE_NODE_BYTES;

const CONTEXT_MAGIC = asciiBytes('RCSC');
const RECORD_MAGIC = asciiBytes('RCBK');
const TREE_MAGIC = asciiBytes('RCVT');
const FORMAT = 1;
/** Field offsets of the context. */
const Ctx = {
  magic: 0,
  format: 4,
  levels: 6,
  containerId: 8,
  generation: 12,
  blockCount: 16,
  reserved0: 20,
  sealCount: 24,
  key: 32,
  root: 64,
  reserved1: 96,
} as const;
/** Field offsets of the record header, relative to its start at STORAGE_BLOCK_BYTES. */
const Hdr = {
  magic: 0,
  format: 4,
  reserved0: 6,
  containerId: 8,
  generation: 12,
  block: 16,
  version: 20,
  reserved1: 24,
} as const;
const HEADER_AT = STORAGE_BLOCK_BYTES;
const TAG_AT = STORAGE_BLOCK_BYTES + SEALED_HEADER_BYTES;

/** The decoded storage context. `key` and `root` are views into the context bytes. */
export interface StorageContext {
  containerId: number;
  generation: number;
  blockCount: number;
  sealCount: number;
  key: Uint8Array;
  root: Uint8Array;
}

/** The claimed identity in a sealed record's header (unauthenticated until the tag is checked). */
export interface SealedHeader {
  containerId: number;
  generation: number;
  block: number;
  version: number;
}

/**
 * Byte-addressed access to the version tree, wherever the caller keeps it. `read` may return a copy
 * or a view (the library never writes through it); `write` is called only when an operation
 * succeeds, after every check, so a refused operation leaves the tree untouched.
 */
export interface VersionTreeStore {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, bytes: Uint8Array): void;
}

/** Parameters of {@link initStorage}. */
export interface StorageParams {
  /** The mini-OS sealing root from the firmware (32 bytes). */
  sealingRoot: Uint8Array;
  /** Container id (u32). */
  containerId: number;
  /** Generation of the container id / disk (u32); a fresh disk needs a fresh generation. */
  generation: number;
  /** Blocks of the disk, 1..{@link STORAGE_MAX_BLOCKS}. */
  blockCount: number;
}

/** Why a storage operation was refused. Every refusal leaves context and tree unchanged. */
export type StorageError =
  /** The context bytes are not a context this module wrote (wrong size, magic, or fields). */
  | { kind: 'BadContext' }
  /** Block number outside 0..blockCount-1. */
  | { kind: 'OutOfRange'; block: number; blockCount: number }
  /** Data to seal is not exactly one block. */
  | { kind: 'BadLength'; length: number }
  /** The record is not in the on-disk format (size, magic, format or reserved fields). */
  | { kind: 'Malformed'; reason: string }
  /** The record was sealed for another container, or another generation of this one. */
  | { kind: 'WrongContainer'; containerId: number; generation: number }
  /** The version tree does not hash to the root: it was tampered with at or below `level`. */
  | { kind: 'TreeCorrupt'; level: number }
  /** The block was never sealed, so no record of it can be genuine. */
  | { kind: 'Unwritten'; block: number }
  /** The tag does not verify: ciphertext, header or tag was modified. */
  | { kind: 'AuthFailed'; block: number }
  /** A genuine record of this container, but of block `sealedFor`: moved to another block number. */
  | { kind: 'Relocated'; block: number; sealedFor: number }
  /** A genuine record of this block, but an older version than the tree's: rollback or replay. */
  | { kind: 'Rollback'; block: number; version: number; current: number }
  /** A genuine record newer than the tree's version: the trusted state itself was rolled back. */
  | { kind: 'VersionAhead'; block: number; version: number; current: number }
  /** The block reached {@link STORAGE_MAX_VERSION}; its nonces are used up under this key. */
  | { kind: 'VersionExhausted'; block: number };

/** Result of {@link sealBlock}: the on-disk record and the next context. */
export type SealResult =
  { ok: true; sealed: Uint8Array; context: Uint8Array } | { ok: false; error: StorageError };
/** Result of {@link openBlock}: the plaintext block. */
export type OpenResult = { ok: true; data: Uint8Array; version: number } | { ok: false; error: StorageError };

/** Byte counts of one operation, for the mini-OS's cycle accounting (DESIGN.md §6). */
export interface StorageWork {
  /** Bytes through AES-GCM (block plus associated data). */
  aesBytes: number;
  /** Bytes through SHA-256. */
  hashBytes: number;
  /** Bytes read from the version tree. */
  treeReadBytes: number;
  /** Bytes written to the version tree. */
  treeWriteBytes: number;
}

/** A {@link VersionTreeStore} over a Uint8Array (tests, or a tree the caller copies in and out). */
export function arrayTreeStore(tree: Uint8Array): VersionTreeStore {
  return {
    read: (offset, length) => tree.subarray(offset, offset + length),
    write: (offset, bytes) => tree.set(bytes, offset),
  };
}

/** Stored levels h of the tree of an N-block disk (at least 1). */
export function storageTreeLevels(blockCount: number): number {
  let nodes = Math.ceil(blockCount / TREE_ARITY);
  let levels = 1;
  while (nodes > TREE_ARITY) {
    nodes = Math.ceil(nodes / TREE_ARITY);
    levels++;
  }
  return levels;
}

/** Bytes of the version tree of an N-block disk. */
export function storageTreeBytes(blockCount: number): number {
  checkBlockCount(blockCount);
  let nodes = Math.ceil(blockCount / TREE_ARITY);
  let bytes = 0;
  for (;;) {
    const fanouts = Math.ceil(nodes / TREE_ARITY);
    bytes += fanouts * TREE_FANOUT_BYTES;
    if (fanouts === 1) return bytes;
    nodes = fanouts;
  }
}

/** Byte counts of one `seal` or `open` on an N-block disk (see the cost section above). */
export function storageWork(blockCount: number, op: 'seal' | 'open'): StorageWork {
  const levels = storageTreeLevels(blockCount);
  const hashes = op === 'seal' ? 2 * levels : levels;
  return {
    aesBytes: STORAGE_BLOCK_BYTES + SEALED_HEADER_BYTES,
    hashBytes: hashes * (TREE_MAGIC.length + 4 + TREE_FANOUT_BYTES),
    treeReadBytes: levels * TREE_FANOUT_BYTES,
    treeWriteBytes: op === 'seal' ? 4 + (levels - 1) * TREE_NODE_BYTES : 0,
  };
}

function checkBlockCount(blockCount: number): void {
  if (!Number.isInteger(blockCount) || blockCount < 1 || blockCount > STORAGE_MAX_BLOCKS) {
    throw new RangeError(`block count ${blockCount} is outside 1..${STORAGE_MAX_BLOCKS}`);
  }
}

/** Hash input scratch: "RCVT" ‖ u32 level ‖ fan-out block. Fully rewritten by every use. */
const hashInput = new Uint8Array(8 + TREE_FANOUT_BYTES);
hashInput.set(TREE_MAGIC, 0);

/** The parent node (at `level`) of one fan-out block of level `level` - 1. */
function nodeHash(level: number, fanout: Uint8Array): Uint8Array {
  writeU32(hashInput, 4, level);
  hashInput.set(fanout, 8);
  return sha256(hashInput);
}

/**
 * Encode a storage context.
 * @throws RangeError on a field outside its range or a key/root that is not 32 bytes.
 */
export function encodeStorageContext(context: StorageContext): Uint8Array {
  checkBlockCount(context.blockCount);
  if (!isU32(context.containerId) || !isU32(context.generation)) throw new RangeError('ids must be u32');
  if (!Number.isSafeInteger(context.sealCount) || context.sealCount < 0)
    throw new RangeError('bad seal count');
  if (context.key.length !== 32 || context.root.length !== 32)
    throw new RangeError('key and root are 32 bytes');
  const bytes = new Uint8Array(STORAGE_CONTEXT_BYTES);
  bytes.set(CONTEXT_MAGIC, Ctx.magic);
  writeU16(bytes, Ctx.format, FORMAT);
  writeU16(bytes, Ctx.levels, storageTreeLevels(context.blockCount));
  writeU32(bytes, Ctx.containerId, context.containerId);
  writeU32(bytes, Ctx.generation, context.generation);
  writeU32(bytes, Ctx.blockCount, context.blockCount);
  writeU64(bytes, Ctx.sealCount, context.sealCount);
  bytes.set(context.key, Ctx.key);
  bytes.set(context.root, Ctx.root);
  return bytes;
}

/** Decode a storage context, or undefined when the bytes are not one (size, magic, fields). */
export function decodeStorageContext(bytes: Uint8Array): StorageContext | undefined {
  if (bytes.length !== STORAGE_CONTEXT_BYTES || !matchesAt(bytes, Ctx.magic, CONTEXT_MAGIC)) return undefined;
  if (readU16(bytes, Ctx.format) !== FORMAT) return undefined;
  const blockCount = readU32(bytes, Ctx.blockCount);
  const sealCount = readU64(bytes, Ctx.sealCount);
  if (blockCount < 1 || blockCount > STORAGE_MAX_BLOCKS || sealCount < 0) return undefined;
  if (readU16(bytes, Ctx.levels) !== storageTreeLevels(blockCount)) return undefined;
  if (
    readU32(bytes, Ctx.reserved0) !== 0 ||
    !isZero(bytes, Ctx.reserved1, STORAGE_CONTEXT_BYTES - Ctx.reserved1)
  ) {
    return undefined;
  }
  return {
    containerId: readU32(bytes, Ctx.containerId),
    generation: readU32(bytes, Ctx.generation),
    blockCount,
    sealCount,
    key: bytes.subarray(Ctx.key, Ctx.key + 32),
    root: bytes.subarray(Ctx.root, Ctx.root + 32),
  };
}

/**
 * A fresh context and version tree for an N-block disk on which no block has been written yet.
 * Called by the mini-OS when it attaches a disk to a container.
 * @throws RangeError on parameters outside their ranges (a mini-OS bug).
 */
export function initStorage(params: StorageParams): { context: Uint8Array; tree: Uint8Array } {
  checkBlockCount(params.blockCount);
  const key = deriveStorageKey(params.sealingRoot, params.containerId, params.generation);
  const tree = new Uint8Array(storageTreeBytes(params.blockCount));
  // All versions are 0, so within a level every node is the same "full" value except possibly the
  // last, whose fan-out block is padded with zeros: two hashes per level instead of one per node.
  let nodes = Math.ceil(params.blockCount / TREE_ARITY);
  let full: Uint8Array = new Uint8Array(TREE_NODE_BYTES);
  let last: Uint8Array = full;
  let levelOffset = 0;
  let level = 0;
  const fanout = new Uint8Array(TREE_FANOUT_BYTES);
  for (;;) {
    const fanouts = Math.ceil(nodes / TREE_ARITY);
    if (level > 0) {
      for (let i = 0; i < nodes - 1; i++) tree.set(full, levelOffset + i * TREE_NODE_BYTES);
      tree.set(last, levelOffset + (nodes - 1) * TREE_NODE_BYTES);
    }
    for (let i = 0; i < TREE_ARITY; i++) fanout.set(full, i * TREE_NODE_BYTES);
    const nextFull = nodeHash(level + 1, fanout);
    const inLast = nodes - (fanouts - 1) * TREE_ARITY;
    fanout.fill(0, inLast * TREE_NODE_BYTES);
    fanout.set(last, (inLast - 1) * TREE_NODE_BYTES);
    const nextLast = nodeHash(level + 1, fanout);
    levelOffset += fanouts * TREE_FANOUT_BYTES;
    level++;
    if (fanouts === 1) {
      const context = encodeStorageContext({
        containerId: params.containerId,
        generation: params.generation,
        blockCount: params.blockCount,
        sealCount: 0,
        key,
        root: nextLast,
      });
      return { context, tree };
    }
    full = nextFull;
    last = nextLast;
    nodes = fanouts;
  }
}

/** The verified path from one block's version to the root. */
interface TreePath {
  version: number;
  /** Per stored level: the fan-out block read, its byte offset in the tree, the path slot in it. */
  fanouts: Uint8Array[];
  fanoutOffsets: number[];
  slots: number[];
}

/** Read and check the path of `block` against the trusted root: h reads, h hashes, no writes. */
function readPath(
  store: VersionTreeStore,
  context: StorageContext,
  block: number,
): TreePath | { kind: 'TreeCorrupt'; level: number } {
  const path: TreePath = { version: 0, fanouts: [], fanoutOffsets: [], slots: [] };
  let nodes = Math.ceil(context.blockCount / TREE_ARITY);
  let index = Math.floor(block / TREE_ARITY); // node index of the path at this level
  let levelOffset = 0;
  let computed: Uint8Array | undefined;
  for (let level = 0; ; level++) {
    const fanouts = Math.ceil(nodes / TREE_ARITY);
    const fanoutOffset = levelOffset + Math.floor(index / TREE_ARITY) * TREE_FANOUT_BYTES;
    const fanout = store.read(fanoutOffset, TREE_FANOUT_BYTES);
    if (fanout.length !== TREE_FANOUT_BYTES) return { kind: 'TreeCorrupt', level };
    let slot = (index % TREE_ARITY) * TREE_NODE_BYTES;
    if (computed === undefined) {
      slot += (block % TREE_ARITY) * 4;
      path.version = readU32(fanout, slot);
    } else if (!bytesEqual(fanout.subarray(slot, slot + TREE_NODE_BYTES), computed)) {
      return { kind: 'TreeCorrupt', level };
    }
    path.fanouts.push(fanout);
    path.fanoutOffsets.push(fanoutOffset);
    path.slots.push(slot);
    computed = nodeHash(level + 1, fanout);
    if (fanouts === 1) {
      return bytesEqual(computed, context.root) ? path : { kind: 'TreeCorrupt', level: level + 1 };
    }
    levelOffset += fanouts * TREE_FANOUT_BYTES;
    index = Math.floor(index / TREE_ARITY);
    nodes = fanouts;
  }
}

function nonceOf(block: number, version: number): Uint8Array {
  const nonce = new Uint8Array(GCM_NONCE_BYTES);
  writeU32(nonce, 0, block);
  writeU32(nonce, 4, version);
  return nonce;
}

/** The checked context and block, or the refusal shared by seal, open and version lookup. */
function prologue(
  contextBytes: Uint8Array,
  block: number,
): { ok: true; context: StorageContext } | { ok: false; error: StorageError } {
  const context = decodeStorageContext(contextBytes);
  if (context === undefined) return { ok: false, error: { kind: 'BadContext' } };
  if (!Number.isInteger(block) || block < 0 || block >= context.blockCount) {
    return { ok: false, error: { kind: 'OutOfRange', block, blockCount: context.blockCount } };
  }
  return { ok: true, context };
}

/**
 * Seal `data` (one block) as the next version of `block`: returns the on-disk record and the next
 * context (new root, seal count + 1) and writes the h changed tree slots through `tree`. The input
 * context bytes are not modified; on refusal nothing is written.
 */
export function sealBlock(
  contextBytes: Uint8Array,
  tree: VersionTreeStore,
  block: number,
  data: Uint8Array,
): SealResult {
  const start = prologue(contextBytes, block);
  if (!start.ok) return start;
  const { context } = start;
  if (data.length !== STORAGE_BLOCK_BYTES)
    return { ok: false, error: { kind: 'BadLength', length: data.length } };
  const path = readPath(tree, context, block);
  if (!('version' in path)) return { ok: false, error: path };
  if (path.version === STORAGE_MAX_VERSION) return { ok: false, error: { kind: 'VersionExhausted', block } };
  const version = path.version + 1;

  const sealed = new Uint8Array(SEALED_BLOCK_BYTES);
  sealed.set(RECORD_MAGIC, HEADER_AT + Hdr.magic);
  writeU16(sealed, HEADER_AT + Hdr.format, FORMAT);
  writeU32(sealed, HEADER_AT + Hdr.containerId, context.containerId);
  writeU32(sealed, HEADER_AT + Hdr.generation, context.generation);
  writeU32(sealed, HEADER_AT + Hdr.block, block);
  writeU32(sealed, HEADER_AT + Hdr.version, version);
  const aad = sealed.subarray(HEADER_AT, TAG_AT);
  aesGcmEncryptInto(context.key, nonceOf(block, version), aad, data, sealed, 0, TAG_AT);

  // New path bottom-up, on copies of the fan-out blocks (the store may have handed out views).
  const writes: { offset: number; bytes: Uint8Array }[] = [];
  let child: Uint8Array = new Uint8Array(4);
  writeU32(child, 0, version);
  for (let level = 0; level < path.fanouts.length; level++) {
    const fanout = path.fanouts[level]!.slice();
    fanout.set(child, path.slots[level]!);
    writes.push({ offset: path.fanoutOffsets[level]! + path.slots[level]!, bytes: child });
    child = nodeHash(level + 1, fanout);
  }
  for (const write of writes) tree.write(write.offset, write.bytes);
  const next = contextBytes.slice();
  next.set(child, Ctx.root);
  writeU64(next, Ctx.sealCount, context.sealCount + 1);
  return { ok: true, sealed, context: next };
}

/** The header fields of a sealed record, or undefined when it is not in the on-disk format. */
export function decodeSealedHeader(sealed: Uint8Array): SealedHeader | undefined {
  return malformedReason(sealed) === undefined
    ? {
        containerId: readU32(sealed, HEADER_AT + Hdr.containerId),
        generation: readU32(sealed, HEADER_AT + Hdr.generation),
        block: readU32(sealed, HEADER_AT + Hdr.block),
        version: readU32(sealed, HEADER_AT + Hdr.version),
      }
    : undefined;
}

function malformedReason(sealed: Uint8Array): string | undefined {
  if (sealed.length !== SEALED_BLOCK_BYTES)
    return `record is ${sealed.length} bytes, not ${SEALED_BLOCK_BYTES}`;
  if (!matchesAt(sealed, HEADER_AT + Hdr.magic, RECORD_MAGIC)) return 'bad magic';
  if (readU16(sealed, HEADER_AT + Hdr.format) !== FORMAT) return 'unknown format';
  if (readU16(sealed, HEADER_AT + Hdr.reserved0) !== 0 || !isZero(sealed, HEADER_AT + Hdr.reserved1, 8)) {
    return 'reserved field not zero';
  }
  if (readU32(sealed, HEADER_AT + Hdr.version) === 0) return 'version 0';
  return undefined;
}

/**
 * Open the record `sealed` read back for `block`: the plaintext if the record is genuine, of this
 * container and generation, of this block number, and of the block's current version. Checks, in
 * order: format → container → tree path → written at all → tag → block number → version, so each
 * attack gets its own error; the plaintext is never released before every check passed.
 */
export function openBlock(
  contextBytes: Uint8Array,
  tree: VersionTreeStore,
  block: number,
  sealed: Uint8Array,
): OpenResult {
  const start = prologue(contextBytes, block);
  if (!start.ok) return start;
  const { context } = start;
  const reason = malformedReason(sealed);
  if (reason !== undefined) return { ok: false, error: { kind: 'Malformed', reason } };
  const containerId = readU32(sealed, HEADER_AT + Hdr.containerId);
  const generation = readU32(sealed, HEADER_AT + Hdr.generation);
  // Another container's key cannot be checked here, so this verdict rests on the claimed header.
  if (containerId !== context.containerId || generation !== context.generation) {
    return { ok: false, error: { kind: 'WrongContainer', containerId, generation } };
  }
  const path = readPath(tree, context, block);
  if (!('version' in path)) return { ok: false, error: path };
  if (path.version === 0) return { ok: false, error: { kind: 'Unwritten', block } };

  // Authenticate under the header's own claims first: a genuine record then tells us which block
  // and version it really is, which separates relocation and rollback from tampering.
  const claimedBlock = readU32(sealed, HEADER_AT + Hdr.block);
  const claimedVersion = readU32(sealed, HEADER_AT + Hdr.version);
  const data = aesGcmDecrypt(
    context.key,
    nonceOf(claimedBlock, claimedVersion),
    sealed.subarray(HEADER_AT, TAG_AT),
    sealed.subarray(0, STORAGE_BLOCK_BYTES),
    sealed.subarray(TAG_AT, SEALED_BLOCK_BYTES),
  );
  if (data === undefined) return { ok: false, error: { kind: 'AuthFailed', block } };
  if (claimedBlock !== block)
    return { ok: false, error: { kind: 'Relocated', block, sealedFor: claimedBlock } };
  if (claimedVersion < path.version) {
    return { ok: false, error: { kind: 'Rollback', block, version: claimedVersion, current: path.version } };
  }
  if (claimedVersion > path.version) {
    return {
      ok: false,
      error: { kind: 'VersionAhead', block, version: claimedVersion, current: path.version },
    };
  }
  return { ok: true, data, version: claimedVersion };
}

/** The verified current version of `block` (0 = never written), e.g. to skip reading unwritten blocks. */
export function blockVersion(
  contextBytes: Uint8Array,
  tree: VersionTreeStore,
  block: number,
): { ok: true; version: number } | { ok: false; error: StorageError } {
  const start = prologue(contextBytes, block);
  if (!start.ok) return start;
  const path = readPath(tree, start.context, block);
  return 'version' in path ? { ok: true, version: path.version } : { ok: false, error: path };
}

/**
 * Check the whole tree against the root (O(tree size): one hash per fan-out block), e.g. when the
 * mini-OS loads a tree from untrusted storage. Per-block operations never need this.
 */
export function verifyStorageTree(
  contextBytes: Uint8Array,
  tree: VersionTreeStore,
): { ok: true } | { ok: false; error: StorageError } {
  const context = decodeStorageContext(contextBytes);
  if (context === undefined) return { ok: false, error: { kind: 'BadContext' } };
  let nodes = Math.ceil(context.blockCount / TREE_ARITY);
  let levelOffset = 0;
  for (let level = 0; ; level++) {
    const fanouts = Math.ceil(nodes / TREE_ARITY);
    const nextOffset = levelOffset + fanouts * TREE_FANOUT_BYTES;
    for (let j = 0; j < fanouts; j++) {
      const fanout = tree.read(levelOffset + j * TREE_FANOUT_BYTES, TREE_FANOUT_BYTES);
      if (fanout.length !== TREE_FANOUT_BYTES) return { ok: false, error: { kind: 'TreeCorrupt', level } };
      const parent = nodeHash(level + 1, fanout);
      const stored =
        fanouts === 1 ? context.root : tree.read(nextOffset + j * TREE_NODE_BYTES, TREE_NODE_BYTES);
      if (!bytesEqual(parent, stored)) return { ok: false, error: { kind: 'TreeCorrupt', level: level + 1 } };
    }
    if (fanouts === 1) return { ok: true };
    levelOffset = nextOffset;
    nodes = fanouts;
  }
}
