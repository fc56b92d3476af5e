/**
 * The local image store: images in an OCI image layout under `<state>/images` (see layout.ts),
 * named by `name:tag`s in its index.json. Every blob read is verified against its digest; an image
 * enters the store only after all of it was verified (blobs, manifest, config, diff_ids, layer
 * extraction rules), so a failed import leaves the store as it was. Every change (import, built-in
 * image creation, tag, rmi and its garbage collection) reads and writes the index under the
 * layout's lock between processes. Used by the engine and the CLI (`images`, `rmi`, `load`, `save`,
 * `tag`, and `run`'s lookup of built-in images).
 */
import { readImageArchive, type StagedImport } from './archive-import.js';
import { writeImageArchive, type ArchiveFormat } from './archive-export.js';
import { buildBuiltinImage, builtinName, BUILTIN_IMAGE_NAMES, type ProgramCatalog } from './builtin.js';
import { maybeGunzip } from './compression.js';
import { parseDigest, shortDigest, type Digest } from './digest.js';
import { ImageError } from './errors.js';
import { indexImages, withImage, withoutImage, withoutTag, type ManifestRef } from './index-edit.js';
import { ImageLayout } from './layout.js';
import { DEFAULT_UNPACK_LIMITS, maxTarBytes, type UnpackLimits } from './limits.js';
import { formatTag, looksLikeIdPrefix, parseReference, parseTagReference } from './reference.js';
import type { ImageConfig, ImageManifest } from './schema.js';
import { unpackLayers } from './tree.js';
import type { ImageTree } from './tree-types.js';
import { parseConfig, parseManifest, uncompressedLayers, verifyImage } from './verify.js';

/** Options of {@link ImageStore.open}. */
export interface ImageStoreOptions {
  /** The programs built-in images are made of (needed by `ensureBuiltin` only). */
  readonly programs?: ProgramCatalog;
  /** Bounds on the layers of imported images and on unpacking (defaults: DEFAULT_UNPACK_LIMITS). */
  readonly limits?: Partial<UnpackLimits>;
  /** How long a change waits for another process's lock on the store (default: DEFAULT_LOCK_TIMEOUT_MS, 10 s). */
  readonly lockTimeoutMs?: number;
}

/** An image of the store. */
export interface ImageRecord {
  /** The image ID, as Docker shows it: the config digest. */
  readonly id: Digest;
  readonly manifestDigest: Digest;
  readonly configDigest: Digest;
  /** `name:tag`s, sorted (empty for a dangling image). */
  readonly tags: readonly string[];
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  /** Sum of the layer blob sizes. */
  readonly size: number;
}

/** Who uses an image, for `remove`: the manifest or config digests in use, or a callback naming the user. */
export type ImageInUse =
  ReadonlySet<string> | ((image: { manifestDigest: Digest; configDigest: Digest }) => string | undefined);

/** Options of {@link ImageStore.remove}. */
export interface RemoveOptions {
  /** Remove an image given by ID even when it has several tags (`rmi -f`). Never overrides `inUse`. */
  readonly force?: boolean;
  /** Images that must not be deleted (used by containers); untagging a still-tagged image is allowed. */
  readonly inUse?: ImageInUse;
}

/** What `remove` did. */
export interface RemoveResult {
  readonly untagged: readonly string[];
  /** Manifest digest of the deleted image, if the image itself was deleted. */
  readonly deleted: Digest | undefined;
  /** Blobs deleted because no remaining image needs them. */
  readonly deletedBlobs: readonly Digest[];
}

/** Options of {@link ImageStore.export}. */
export interface ExportOptions {
  /** `docker` (default: what `docker save` writes, loadable by Docker and OCI tools) or `oci`. */
  readonly format?: ArchiveFormat;
}

/** The image store of one state directory. */
export class ImageStore {
  private readonly layout: ImageLayout;
  private readonly programs: ProgramCatalog | undefined;
  private readonly limits: UnpackLimits;

  private constructor(layout: ImageLayout, options: ImageStoreOptions) {
    this.layout = layout;
    this.programs = options.programs;
    this.limits = { ...DEFAULT_UNPACK_LIMITS, ...options.limits };
  }

  /** Open the store under `stateDir` (e.g. ~/.rcontainer), creating an empty layout on first use. */
  static open(stateDir: string, options: ImageStoreOptions = {}): ImageStore {
    return new ImageStore(ImageLayout.open(stateDir, options.lockTimeoutMs), options);
  }

  /** `<state>/images`, the OCI image layout. */
  get root(): string {
    return this.layout.root;
  }

  /** Every image, tagged ones first by tag, then dangling ones by ID. */
  list(): ImageRecord[] {
    const records = [...indexImages(this.layout.readIndex()).values()].map((image) =>
      this.record(image.ref, image.tags),
    );
    const key = (record: ImageRecord): string =>
      record.tags[0] === undefined ? `\u{10ffff}${record.id}` : record.tags[0];
    return records.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /** The image `ref` names (`name[:tag]`, `name@sha256:…`, `sha256:<prefix>` or an ID prefix), or an ImageError. */
  resolve(ref: string): ImageRecord {
    const image = this.findImage(ref);
    return this.record(image.ref, image.tags);
  }

  /** True when `ref` names an image of the store. */
  has(ref: string): boolean {
    try {
      this.findImage(ref);
      return true;
    } catch (error) {
      if (error instanceof ImageError) return false;
      throw error;
    }
  }

  /** The content of blob `digest`, verified. */
  readBlob(digest: string): Uint8Array {
    return this.layout.readBlob(parseDigest(digest, 'blob digest'));
  }

  /** The manifest blob `digest`, verified and parsed. */
  readManifest(digest: string): ImageManifest {
    const checked = parseDigest(digest, 'manifest digest');
    return parseManifest(this.layout.readBlob(checked), checked);
  }

  /** The config blob `digest`, verified and parsed. */
  readConfig(digest: string): ImageConfig {
    const checked = parseDigest(digest, 'config digest');
    return parseConfig(this.layout.readBlob(checked), checked);
  }

  /** The layer blob `digest`, verified, inflated if it is gzip-compressed. */
  readLayer(digest: string): Uint8Array {
    const checked = parseDigest(digest, 'layer digest');
    return maybeGunzip(this.layout.readBlob(checked), maxTarBytes(this.limits), `layer ${checked}`);
  }

  /** The layers of `image`, uncompressed, lowest first, each checked against its diff_id. */
  layers(image: ImageRecord): Uint8Array[] {
    return uncompressedLayers(
      image.manifest,
      image.config,
      (d) => this.layout.readBlob(d.digest),
      this.limits,
    );
  }

  /** The file tree of image `ref` (layers verified and unpacked under the extraction rules). */
  async unpack(ref: string | ImageRecord): Promise<ImageTree> {
    const image = typeof ref === 'string' ? this.resolve(ref) : ref;
    return unpackLayers(this.layers(image), this.limits);
  }

  /**
   * Load the images of an archive (`docker save` tarball, legacy or Docker 25+, or an OCI layout
   * tar; gzip-compressed or not). All of it is verified before anything is written; a tag that
   * named another image moves, leaving that image dangling. Returns the loaded images.
   */
  async import(archive: Uint8Array): Promise<ImageRecord[]> {
    const staged = await readImageArchive(archive);
    if (staged.images.length === 0) throw new ImageError('archive holds no image');
    return this.commit(staged);
  }

  /** The archive holding images `refs` (all tags of each are recorded when given by ID). */
  async export(refs: string | readonly string[], options: ExportOptions = {}): Promise<Uint8Array> {
    const list = typeof refs === 'string' ? [refs] : refs;
    if (list.length === 0) throw new ImageError('no image to export');
    const images = list.map((ref) => {
      const image = this.findImage(ref);
      const parsed = parseReference(ref);
      const tags =
        parsed.kind === 'tag' && image.tags.includes(formatTag(parsed.name, parsed.tag))
          ? [formatTag(parsed.name, parsed.tag)]
          : image.tags;
      return { ref: image.ref, manifest: this.readManifest(image.ref.digest), tags };
    });
    return writeImageArchive(images, (digest) => this.layout.readBlob(digest), options.format ?? 'docker');
  }

  /** Tag image `source` as `target` (`name[:tag]`); the tag moves if it named another image. */
  tag(source: string, target: string): ImageRecord {
    const { name, tag } = parseTagReference(target);
    return this.layout.locked(() => {
      const image = this.findImage(source);
      this.layout.writeIndex(withImage(this.layout.readIndex(), image.ref, [formatTag(name, tag)]));
      return this.resolve(formatTag(name, tag));
    });
  }

  /**
   * Remove `ref` (`rmi`): a tag is removed, and the image with it when it was its last tag; an
   * image given by ID or digest is removed with all its tags (several only with `force`). An
   * image in use is never deleted. Blobs no remaining image needs are deleted.
   */
  remove(ref: string, options: RemoveOptions = {}): RemoveResult {
    return this.layout.locked(() => this.removeLocked(ref, options));
  }

  /** {@link remove}, holding the lock. */
  private removeLocked(ref: string, options: RemoveOptions): RemoveResult {
    const image = this.findImage(ref);
    const parsed = parseReference(ref);
    const tag = parsed.kind === 'tag' ? formatTag(parsed.name, parsed.tag) : undefined;
    const byTag = tag !== undefined && image.tags.includes(tag);
    if (byTag && image.tags.length > 1) {
      this.layout.writeIndex(withoutTag(this.layout.readIndex(), tag));
      return { untagged: [tag], deleted: undefined, deletedBlobs: [] };
    }
    if (!byTag && image.tags.length > 1 && options.force !== true) {
      throw new ImageError(
        `image ${shortDigest(image.ref.digest)} has several tags (${image.tags.join(', ')}): remove them by name, or force`,
      );
    }
    const user = this.userOf(image.ref.digest, options.inUse);
    if (user !== undefined) throw new ImageError(`image ${ref} is in use by ${user}`);
    // Read again: `inUse` may have changed the index (nested calls in this process hold the lock too).
    this.layout.writeIndex(withoutImage(this.layout.readIndex(), image.ref.digest));
    return { untagged: image.tags, deleted: image.ref.digest, deletedBlobs: this.collectGarbage() };
  }

  /**
   * Built-in image `name` (`busybox`, `kv`, `httpd`, `hackbench`, `build`, optionally `:latest`):
   * the stored `<name>:latest` if there is one, else generated (deterministically) and stored.
   */
  async ensureBuiltin(name: string): Promise<ImageRecord> {
    const builtin = builtinName(name);
    if (builtin === undefined) {
      throw new ImageError(`'${name}' is not a built-in image (built-in: ${BUILTIN_IMAGE_NAMES.join(', ')})`);
    }
    const tag = formatTag(builtin, 'latest');
    if (this.has(tag)) return this.resolve(tag);
    if (this.programs === undefined)
      throw new ImageError('built-in images need a program catalogue (ImageStore.open options.programs)');
    const [record] = await this.commit(await buildBuiltinImage(builtin, this.programs));
    return record!;
  }

  /** Delete every blob no image of the index needs (none when some manifest cannot be read). */
  collectGarbage(): Digest[] {
    return this.layout.locked(() => this.collectGarbageLocked());
  }

  /** {@link collectGarbage}, holding the lock. */
  private collectGarbageLocked(): Digest[] {
    const needed = new Set<Digest>();
    for (const image of indexImages(this.layout.readIndex()).values()) {
      let manifest: ImageManifest;
      try {
        manifest = this.readManifest(image.ref.digest);
      } catch (error) {
        if (error instanceof ImageError) return [];
        throw error;
      }
      needed.add(image.ref.digest);
      needed.add(manifest.config.digest);
      for (const layer of manifest.layers) needed.add(layer.digest);
    }
    const garbage = this.layout.listBlobs().filter((digest) => !needed.has(digest));
    for (const digest of garbage) this.layout.removeBlob(digest);
    return garbage;
  }

  /** Verify every image of `staged`, then store the blobs they need and tag them. */
  private async commit(staged: StagedImport): Promise<ImageRecord[]> {
    const needed = new Map<Digest, Uint8Array>();
    for (const image of staged.images) {
      const verified = await verifyImage(staged.blobs, image.manifestDigest, image.manifestSize, this.limits);
      for (const digest of [
        image.manifestDigest,
        verified.manifest.config.digest,
        ...verified.manifest.layers.map((l) => l.digest),
      ]) {
        needed.set(digest, staged.blobs.get(digest)!);
      }
    }
    // Blobs and the index entries naming them in one critical section, or another process's garbage
    // collection could delete the new blobs before they are referenced.
    return this.layout.locked(() => {
      this.layout.addBlobs(needed);
      let index = this.layout.readIndex();
      for (const image of staged.images) {
        const ref: ManifestRef = {
          mediaType: image.mediaType,
          digest: image.manifestDigest,
          size: image.manifestSize,
        };
        index = withImage(index, ref, image.tags);
      }
      this.layout.writeIndex(index);
      const images = indexImages(index);
      return staged.images.map((image) => {
        const stored = images.get(image.manifestDigest)!;
        return this.record(stored.ref, stored.tags);
      });
    });
  }

  /** The index entry `ref` names, or an ImageError. */
  private findImage(ref: string): { ref: ManifestRef; tags: string[] } {
    const images = indexImages(this.layout.readIndex());
    const parsed = parseReference(ref);
    if (parsed.kind === 'tag') {
      const tag = formatTag(parsed.name, parsed.tag);
      for (const image of images.values()) if (image.tags.includes(tag)) return image;
      if (!looksLikeIdPrefix(ref)) throw new ImageError(`no such image: ${ref}`);
    }
    if (parsed.kind === 'pinned') {
      const image = images.get(parsed.digest);
      if (image === undefined || !image.tags.some((tag) => parseTagReference(tag).name === parsed.name)) {
        throw new ImageError(`no such image: ${ref}`);
      }
      return image;
    }
    const prefix = parsed.kind === 'id' ? parsed.prefix : ref;
    const matches = [...images.values()].filter((image) => {
      const config = this.configDigestOf(image.ref.digest);
      return (
        image.ref.digest.startsWith(`sha256:${prefix}`) || config?.startsWith(`sha256:${prefix}`) === true
      );
    });
    if (matches.length > 1)
      throw new ImageError(`image reference '${ref}' is ambiguous (${matches.length} images match)`);
    if (matches[0] === undefined) throw new ImageError(`no such image: ${ref}`);
    return matches[0];
  }

  /** The config digest of manifest `digest`, or undefined if the manifest cannot be read. */
  private configDigestOf(digest: Digest): Digest | undefined {
    try {
      return this.readManifest(digest).config.digest;
    } catch (error) {
      if (error instanceof ImageError) return undefined;
      throw error;
    }
  }

  /** Who uses image `manifestDigest`, per `inUse`, or undefined. */
  private userOf(manifestDigest: Digest, inUse: ImageInUse | undefined): string | undefined {
    if (inUse === undefined) return undefined;
    const configDigest = this.configDigestOf(manifestDigest) ?? manifestDigest;
    if (typeof inUse === 'function') return inUse({ manifestDigest, configDigest });
    return inUse.has(manifestDigest) || inUse.has(configDigest) ? 'a container' : undefined;
  }

  /** The record of an index entry (manifest and config read and verified). */
  private record(ref: ManifestRef, tags: readonly string[]): ImageRecord {
    const manifest = this.readManifest(ref.digest);
    const config = this.readConfig(manifest.config.digest);
    return {
      id: manifest.config.digest,
      manifestDigest: ref.digest,
      configDigest: manifest.config.digest,
      tags,
      manifest,
      config,
      size: manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
    };
  }
}
