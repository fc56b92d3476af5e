/**
 * Content digests of the OCI image layout: `sha256:<64 lowercase hex digits>`. The only algorithm
 * accepted is SHA-256 (the OCI image spec's registered default); a digest string is validated
 * before it is ever turned into a path, so it cannot name a file outside `blobs/sha256/`.
 */
import { createHash } from 'node:crypto';
import { ImageError } from './errors.js';

/** A validated `sha256:<hex>` digest. */
export type Digest = `sha256:${string}`;

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The SHA-256 digest of `bytes`. */
export function sha256Digest(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** True when `value` is a well-formed SHA-256 digest. */
export function isDigest(value: string): value is Digest {
  return DIGEST_PATTERN.test(value);
}

/** `value` as a digest, or an ImageError naming `what` (e.g. "layer digest"). */
export function parseDigest(value: string, what: string): Digest {
  if (!isDigest(value)) throw new ImageError(`${what} '${value}' is not a sha256 digest`);
  return value;
}

/** The 64 hex digits of a digest (the blob's file name). */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

/** A short form for messages and listings: the first 12 hex digits, like Docker's IMAGE ID. */
export function shortDigest(digest: Digest): string {
  return digestHex(digest).slice(0, 12);
}

/** Refuse `bytes` unless they hash to `digest`: the check every read of a blob goes through. */
export function verifyDigest(bytes: Uint8Array, digest: Digest): void {
  const actual = sha256Digest(bytes);
  if (actual !== digest)
    throw new ImageError(`blob ${digest} is corrupted (its content hashes to ${actual})`);
}
