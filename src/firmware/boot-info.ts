/**
 * The boot-information structure the monitor leaves for the mini-OS: the platform layout, the
 * Priv-GPT, the measured boot log, the platform public key and token, and the per-boot sealing
 * root. The monitor writes it into one granule of the mini-OS image region (open in the Priv-GPT;
 * the mini-OS closes that region in every other view) and passes its PA in X0 at the first entry.
 *
 * Layout (little-endian; `u64` values are PAs, sizes and counts; the entry VA is two's complement):
 *   0x000  magic "RCBOOTv1"          0x008  u32 version (1)        0x00C  u32 total bytes
 *   0x010  u64 fields in the order of {@link BOOT_INFO_U64_FIELDS} (8 bytes each)
 *   then   sealing root [32], platform public key [32], platform token [64], boot chain [32],
 *          u64 log entry count, and per entry: component name [32, UTF-8, NUL-padded],
 *          digest [32], chain [32].
 * The structure never exceeds one 4 KiB granule ({@link BOOT_INFO_MAX_BYTES}).
 */
import { DIGEST_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, type Measurement } from './attestation.js';

/** Number-valued fields of the boot information, in their order in memory. */
export const BOOT_INFO_U64_FIELDS = [
  'dramBase',
  'dramSize',
  'rootBase',
  'rootSize',
  'miniosBase',
  'miniosSize',
  'miniosImageBytes',
  'miniosEntryVa',
  'kernelBase',
  'kernelSize',
  'kernelImageBytes',
  'privGptBase',
  'privGptGpccr',
  'smmuBase',
  'blockBase',
  'bootInfoPa',
  'peCount',
] as const;
/** A number-valued field name. */
export type BootInfoNumberField = (typeof BOOT_INFO_U64_FIELDS)[number];

/** The decoded boot information. */
export type BootInfo = Readonly<Record<BootInfoNumberField, number>> & {
  /** Per-boot sealing root (CDI) of the mini-OS. */
  readonly sealingRoot: Uint8Array;
  /** Raw Ed25519 platform attestation public key. */
  readonly platformPublicKey: Uint8Array;
  /** Platform token: the platform key's signature over the boot chain and the mini-OS key. */
  readonly platformToken: Uint8Array;
  /** Final measurement chain value. */
  readonly bootChain: Uint8Array;
  /** The boot log. */
  readonly log: readonly Measurement[];
};

/** "RCBOOTv1" as bytes. */
export const BOOT_INFO_MAGIC = new TextEncoder().encode('RCBOOTv1');
export const BOOT_INFO_VERSION = 1;
/** The structure fits in one 4 KiB granule. */
export const BOOT_INFO_MAX_BYTES = 4096;
const NAME_BYTES = 32;
const ENTRY_BYTES = NAME_BYTES + 2 * DIGEST_BYTES;
const FIELDS_OFFSET = 0x10;
const BLOBS_OFFSET = FIELDS_OFFSET + 8 * BOOT_INFO_U64_FIELDS.length;
const BLOB_SIZES = [DIGEST_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, DIGEST_BYTES] as const;
const LOG_OFFSET = BLOBS_OFFSET + BLOB_SIZES.reduce((a, b) => a + b, 0);

/** Bytes of a boot-information structure with `logEntries` log entries. */
export function bootInfoBytes(logEntries: number): number {
  return LOG_OFFSET + 8 + logEntries * ENTRY_BYTES;
}

/** Encode `info`; throws a RangeError when it does not fit in one granule or a name is too long. */
export function encodeBootInfo(info: BootInfo): Uint8Array {
  const total = bootInfoBytes(info.log.length);
  if (total > BOOT_INFO_MAX_BYTES)
    throw new RangeError(`boot info: ${info.log.length} log entries do not fit in 4 KiB`);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(BOOT_INFO_MAGIC, 0);
  view.setUint32(8, BOOT_INFO_VERSION, true);
  view.setUint32(12, total, true);
  BOOT_INFO_U64_FIELDS.forEach((name, i) =>
    view.setBigUint64(FIELDS_OFFSET + 8 * i, BigInt.asUintN(64, BigInt(info[name])), true),
  );
  let at = BLOBS_OFFSET;
  [info.sealingRoot, info.platformPublicKey, info.platformToken, info.bootChain].forEach((blob, i) => {
    if (blob.length !== BLOB_SIZES[i])
      throw new RangeError(`boot info: blob ${i} must be ${BLOB_SIZES[i]} bytes`);
    bytes.set(blob, at);
    at += blob.length;
  });
  view.setBigUint64(at, BigInt(info.log.length), true);
  at += 8;
  for (const entry of info.log) {
    const name = new TextEncoder().encode(entry.component);
    if (name.length > NAME_BYTES)
      throw new RangeError(`boot info: component name '${entry.component}' exceeds ${NAME_BYTES} bytes`);
    bytes.set(name, at);
    bytes.set(entry.digest, at + NAME_BYTES);
    bytes.set(entry.chain, at + NAME_BYTES + DIGEST_BYTES);
    at += ENTRY_BYTES;
  }
  return bytes;
}

/**
 * Decode boot information read from memory; undefined when the magic, version or sizes are wrong
 * (the mini-OS validates what it reads, STYLE.md rule 8).
 */
export function decodeBootInfo(bytes: Uint8Array): BootInfo | undefined {
  if (bytes.length < LOG_OFFSET + 8) return undefined;
  if (!BOOT_INFO_MAGIC.every((b, i) => bytes[i] === b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getUint32(12, true);
  if (view.getUint32(8, true) !== BOOT_INFO_VERSION || total > bytes.length || total > BOOT_INFO_MAX_BYTES)
    return undefined;
  const numbers = {} as Record<BootInfoNumberField, number>;
  BOOT_INFO_U64_FIELDS.forEach((name, i) => {
    const raw =
      name === 'miniosEntryVa'
        ? view.getBigInt64(FIELDS_OFFSET + 8 * i, true)
        : view.getBigUint64(FIELDS_OFFSET + 8 * i, true);
    numbers[name] = Number(raw);
  });
  let at = BLOBS_OFFSET;
  const blobs = BLOB_SIZES.map((size) => {
    const blob = bytes.slice(at, at + size);
    at += size;
    return blob;
  });
  const count = view.getBigUint64(at, true);
  at += 8;
  if (count > BigInt(BOOT_INFO_MAX_BYTES) || bootInfoBytes(Number(count)) !== total) return undefined;
  const log: Measurement[] = [];
  for (let i = 0; i < Number(count); i++) {
    const nameBytes = bytes.subarray(at, at + NAME_BYTES);
    const end = nameBytes.indexOf(0);
    log.push({
      component: new TextDecoder().decode(end < 0 ? nameBytes : nameBytes.subarray(0, end)),
      digest: bytes.slice(at + NAME_BYTES, at + NAME_BYTES + DIGEST_BYTES),
      chain: bytes.slice(at + NAME_BYTES + DIGEST_BYTES, at + ENTRY_BYTES),
    });
    at += ENTRY_BYTES;
  }
  return {
    ...numbers,
    sealingRoot: blobs[0]!,
    platformPublicKey: blobs[1]!,
    platformToken: blobs[2]!,
    bootChain: blobs[3]!,
    log,
  };
}
