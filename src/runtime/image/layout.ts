/**
 * The store's files: an OCI image layout (image-spec image-layout.md) at `<state>/images`
 * (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), and a staging area at `<state>/tmp` on the
 * same file system. New blobs are written to a fresh staging directory and renamed into place;
 * index.json is replaced by writing a temporary file and renaming it, so a reader always sees a
 * complete index and every blob it names. Changes are made holding `<state>/images/.lock` (see
 * lock.ts), so processes sharing the state directory do not lose each other's updates.
 *
 * SIMPLIFICATION: no fsync: a power loss may lose the last change.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assert } from '../../hw/bits.js';
import { digestHex, isDigest, verifyDigest, type Digest } from './digest.js';
import { ImageError } from './errors.js';
import { StoreLock } from './lock.js';
import { MEDIA_TYPE } from './media-types.js';
import { indexSchema, jsonBytes, ociLayoutSchema, parseJsonDocument, type ImageIndex } from './schema.js';

/** The image-layout version this store writes. */
export const IMAGE_LAYOUT_VERSION = '1.0.0';

/** An empty index. */
export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests: [] };
}

/** Write `bytes` to `file` atomically (temporary file in the same directory, then rename). */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(temp, bytes, { flag: 'wx' });
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** The OCI image layout of a state directory. */
export class ImageLayout {
  /** `<state>/images`. */
  readonly root: string;
  /** `<state>/tmp`: staging directories of imports in progress. */
  readonly staging: string;
  /** The lock every change is made under. */
  private readonly lock: StoreLock;

  private constructor(root: string, staging: string, lockTimeoutMs: number | undefined) {
    this.root = root;
    this.staging = staging;
    this.lock = new StoreLock(path.join(root, '.lock'), lockTimeoutMs);
  }

  /**
   * Open the layout under `stateDir`, creating an empty one on first use; changes wait at most
   * `lockTimeoutMs` (default DEFAULT_LOCK_TIMEOUT_MS) for another process's lock.
   */
  static open(stateDir: string, lockTimeoutMs?: number): ImageLayout {
    const layout = new ImageLayout(path.join(stateDir, 'images'), path.join(stateDir, 'tmp'), lockTimeoutMs);
    fs.mkdirSync(path.join(layout.root, 'blobs', 'sha256'), { recursive: true });
    fs.mkdirSync(layout.staging, { recursive: true });
    const marker = path.join(layout.root, 'oci-layout');
    if (fs.existsSync(marker)) {
      const version = parseJsonDocument(fs.readFileSync(marker), ociLayoutSchema, marker).imageLayoutVersion;
      if (version !== IMAGE_LAYOUT_VERSION) {
        throw new ImageError(`${marker}: unsupported image layout version '${version}'`);
      }
    } else {
      writeFileAtomic(marker, jsonBytes({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }));
    }
    // Under the lock: a process that saw no index must not replace one another process just filled.
    if (!fs.existsSync(layout.indexPath)) {
      layout.locked(() => {
        if (!fs.existsSync(layout.indexPath)) layout.writeIndex(emptyIndex());
      });
    }
    return layout;
  }

  /** Run `action` (synchronous) holding the store's lock; nested calls do not wait for themselves. */
  locked<T>(action: () => T): T {
    return this.lock.hold(action);
  }

  /** `<state>/images/index.json`. */
  get indexPath(): string {
    return path.join(this.root, 'index.json');
  }

  /** The file of blob `digest`. */
  blobPath(digest: Digest): string {
    return path.join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  /** True when blob `digest` is present (its content is not checked). */
  hasBlob(digest: Digest): boolean {
    return fs.existsSync(this.blobPath(digest));
  }

  /** The content of blob `digest`, refused unless it hashes to its name. */
  readBlob(digest: Digest): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(this.blobPath(digest));
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT')
        throw new ImageError(`blob ${digest} is missing from the image store`);
      throw error;
    }
    verifyDigest(bytes, digest);
    return bytes;
  }

  /** Every blob digest present, sorted (files with other names are ignored). */
  listBlobs(): Digest[] {
    return fs
      .readdirSync(path.join(this.root, 'blobs', 'sha256'))
      .map((hex) => `sha256:${hex}`)
      .filter(isDigest)
      .sort();
  }

  /** True when blob `digest` is present and hashes to its name. */
  hasIntactBlob(digest: Digest): boolean {
    if (!this.hasBlob(digest)) return false;
    try {
      verifyDigest(fs.readFileSync(this.blobPath(digest)), digest);
      return true;
    } catch {
      return false;
    }
  }

  /** Delete blob `digest` (no error if it is already gone); under the lock. */
  removeBlob(digest: Digest): void {
    assert(this.lock.held, 'blobs are removed under the store lock');
    fs.rmSync(this.blobPath(digest), { force: true });
  }

  /** The current index. */
  readIndex(): ImageIndex {
    return parseJsonDocument(fs.readFileSync(this.indexPath), indexSchema, this.indexPath);
  }

  /** Replace the index atomically; under the lock (read the index it edits under it too). */
  writeIndex(index: ImageIndex): void {
    assert(this.lock.held, 'the index is written under the store lock');
    writeFileAtomic(this.indexPath, jsonBytes(index));
  }

  /**
   * Put `blobs` (already verified: each key is the SHA-256 of its value) into the layout: those not
   * yet present (or present but corrupted) are written to a fresh staging directory and renamed into place. The staging
   * directory is removed whatever happens. Under the lock, with the index write that references them.
   */
  addBlobs(blobs: ReadonlyMap<Digest, Uint8Array>): void {
    assert(this.lock.held, 'blobs are added under the store lock');
    const stage = fs.mkdtempSync(path.join(this.staging, 'import-'));
    try {
      const fresh = [...blobs.keys()].filter((digest) => !this.hasIntactBlob(digest)).sort();
      for (const digest of fresh) fs.writeFileSync(path.join(stage, digestHex(digest)), blobs.get(digest)!);
      for (const digest of fresh) fs.renameSync(path.join(stage, digestHex(digest)), this.blobPath(digest));
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
    }
  }
}
