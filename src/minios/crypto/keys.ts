/**
 * Key derivation of the mini-OS: every symmetric key it uses comes from the 32-byte sealing root the
 * firmware hands it at boot, through HKDF-SHA256 (RFC 5869) with an explicit info string.
 *
 * Key hierarchy (all integers little-endian, fixed width, so every info string parses one way):
 *
 * ```
 * sealingRoot (32 B, firmware, stable for one platform + mini-OS measurement)
 * ├─ storage key of container c, generation g           (disk blocks, storage.ts)
 * │    HKDF(IKM = sealingRoot, salt = "",
 * │         info = "rcontainer/v1 storage key" 0x00 ‖ u32 c ‖ u32 g, L = 32)
 * └─ IPC key of channel k, direction sender a → receiver b   (rc_ipc_out frames, ipc.ts)
 *      HKDF(IKM = sealingRoot, salt = bootSalt (32 B, unique to this boot),
 *           info = "rcontainer/v1 ipc key" 0x00 ‖ u32 k ‖ u32 a ‖ u32 b, L = 32)
 * ```
 *
 * | info field | bytes | meaning |
 * |---|---|---|
 * | label | 25 / 21 | ASCII purpose string, distinct per purpose (domain separation) |
 * | 0x00 | 1 | ends the label (no label is a prefix of another label's encoding) |
 * | c, g | 4 + 4 | container id and its generation (bumped whenever an id or a disk is reused) |
 * | k, a, b | 4 + 4 + 4 | channel id, sending endpoint, receiving endpoint (0 = the host/OS) |
 *
 * Why these inputs:
 * * Storage keys must be the same after a reboot (the disk outlives the boot), so no salt; the
 *   generation keeps a re-created container or a reformatted disk from reusing (key, nonce) pairs,
 *   since storage nonces restart with the versions of a fresh disk.
 * * IPC channels do not outlive a boot, and the mini-OS numbers them from scratch at each boot, so
 *   the boot salt (from the caller's deterministic random source, see drbg.ts) keeps channel k of
 *   one boot from sharing a key and sequence numbers with channel k of another. One key per
 *   direction: both ends start their sequence numbers at 0, so a shared key would reuse nonces.
 */
import { asciiBytes, isU32, writeU32 } from './bytes.js';
import { hkdfSha256 } from './primitives.js';

/** Bytes of the sealing root the firmware provides. */
export const SEALING_ROOT_BYTES = 32;
/** Bytes of the per-boot salt of IPC keys. */
export const BOOT_SALT_BYTES = 32;
/** Bytes of every derived key (AES-256). */
export const DERIVED_KEY_BYTES = 32;
/** ASCII label of storage-key derivation. */
export const STORAGE_KEY_LABEL = 'rcontainer/v1 storage key';
/** ASCII label of IPC-key derivation. */
export const IPC_KEY_LABEL = 'rcontainer/v1 ipc key';

const EMPTY = new Uint8Array(0);

/** label ‖ 0x00 ‖ each field as u32 LE. */
function infoString(label: string, fields: readonly number[]): Uint8Array {
  const labelBytes = asciiBytes(label);
  const out = new Uint8Array(labelBytes.length + 1 + 4 * fields.length);
  out.set(labelBytes, 0);
  let offset = labelBytes.length + 1;
  for (const field of fields) {
    writeU32(out, offset, field);
    offset += 4;
  }
  return out;
}

function checkRoot(sealingRoot: Uint8Array): void {
  if (sealingRoot.length !== SEALING_ROOT_BYTES) {
    throw new RangeError(`sealing root must be ${SEALING_ROOT_BYTES} bytes, got ${sealingRoot.length}`);
  }
}

function checkU32(value: number, what: string): void {
  if (!isU32(value)) throw new RangeError(`${what} ${value} is not a 32-bit unsigned integer`);
}

/** HKDF info string of the storage key of container `containerId`, generation `generation`. */
export function storageKeyInfo(containerId: number, generation: number): Uint8Array {
  checkU32(containerId, 'container id');
  checkU32(generation, 'generation');
  return infoString(STORAGE_KEY_LABEL, [containerId, generation]);
}

/**
 * The AES-256 key that seals the disk blocks of container `containerId` in generation `generation`.
 * Called by the mini-OS when it sets up a container's storage (storage.ts `initStorage`).
 * @throws RangeError on a root of the wrong size or an id outside u32 (a mini-OS bug).
 */
export function deriveStorageKey(
  sealingRoot: Uint8Array,
  containerId: number,
  generation: number,
): Uint8Array {
  checkRoot(sealingRoot);
  return hkdfSha256(sealingRoot, EMPTY, storageKeyInfo(containerId, generation), DERIVED_KEY_BYTES);
}

/** HKDF info string of the key of channel `channelId` in the direction `sender` → `receiver`. */
export function ipcKeyInfo(channelId: number, sender: number, receiver: number): Uint8Array {
  checkU32(channelId, 'channel id');
  checkU32(sender, 'sender');
  checkU32(receiver, 'receiver');
  return infoString(IPC_KEY_LABEL, [channelId, sender, receiver]);
}

/**
 * The AES-256 key of one direction (`sender` → `receiver`) of IPC channel `channelId` in the boot
 * identified by `bootSalt`. Called by ipc.ts `initIpcChannel` for both directions of a channel end.
 * @throws RangeError on inputs of the wrong size or range, or sender = receiver (a mini-OS bug).
 */
export function deriveIpcKey(
  sealingRoot: Uint8Array,
  bootSalt: Uint8Array,
  channelId: number,
  sender: number,
  receiver: number,
): Uint8Array {
  checkRoot(sealingRoot);
  if (bootSalt.length !== BOOT_SALT_BYTES) throw new RangeError(`boot salt must be ${BOOT_SALT_BYTES} bytes`);
  if (sender === receiver) throw new RangeError('an IPC channel joins two different endpoints');
  return hkdfSha256(sealingRoot, bootSalt, ipcKeyInfo(channelId, sender, receiver), DERIVED_KEY_BYTES);
}
