/**
 * What kind of executable a file is, and the list of an image's executables with the digest the
 * mini-OS measures for each (SHA-256 of the whole file content, DESIGN.md §5 "launch integrity").
 * Whether the machine can run a kind is the engine's decision, not the store's.
 */
import { createHash } from 'node:crypto';
import { sha256Digest, type Digest } from './digest.js';
import type { ImageTree } from './tree-types.js';

/** Kinds of executable file. */
export type ExecutableKind = 'rcx' | 'script' | 'elf' | 'unknown';

/**
 * Magic of the model's executables: `\x7fRCX ` then the program name (EXECUTABLE_MAGIC of
 * src/user/program.ts, which the layer rule keeps the runtime from importing; a test checks that
 * the two agree).
 */
export const RCX_MAGIC = new Uint8Array([0x7f, 0x52, 0x43, 0x58, 0x20]);
const ELF_MAGIC = new Uint8Array([0x7f, 0x45, 0x4c, 0x46]);
const SCRIPT_MAGIC = new Uint8Array([0x23, 0x21]);

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

/** The kind of executable `bytes` are, from their first bytes. */
export function executableKind(bytes: Uint8Array): ExecutableKind {
  if (startsWith(bytes, RCX_MAGIC)) return 'rcx';
  if (startsWith(bytes, ELF_MAGIC)) return 'elf';
  if (startsWith(bytes, SCRIPT_MAGIC)) return 'script';
  return 'unknown';
}

/** One executable of an image. */
export interface ImageExecutable {
  readonly path: string;
  readonly kind: ExecutableKind;
  /** SHA-256 of the whole file content. */
  readonly digest: Digest;
  readonly size: number;
  readonly mode: number;
}

/** The regular files (hard links included) of `tree` with an execute bit set, in path order. */
export function listExecutables(tree: ImageTree): ImageExecutable[] {
  const out: ImageExecutable[] = [];
  for (const entry of tree.entries) {
    if ((entry.type !== 'file' && entry.type !== 'hardlink') || (entry.mode & 0o111) === 0) continue;
    out.push({
      path: entry.path,
      kind: executableKind(entry.content),
      digest: sha256Digest(entry.content),
      size: entry.content.length,
      mode: entry.mode,
    });
  }
  return out;
}

/**
 * The image digest a container's attestation report carries: SHA-256 (hex) of the binary list as
 * rc_create_container measures it (minios/calls.ts): a u32 little-endian count, then each
 * executable's 32-byte digest, in path order.
 */
export function measuredBinaryListDigest(executables: readonly { readonly digest: Digest }[]): string {
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, executables.length, true);
  const hash = createHash('sha256').update(count);
  for (const e of executables) hash.update(Buffer.from(e.digest.slice('sha256:'.length), 'hex'));
  return hash.digest('hex');
}
