/**
 * Reading an image archive into staged images (blobs in memory, nothing written): an OCI image
 * layout archive (`oci-layout`, `index.json`, `blobs/sha256/*`, as `docker save` writes since
 * Docker 25 and skopeo/buildah write), or a legacy `docker save` archive (`manifest.json`, config
 * `<id>.json`, layers `<id>/layer.tar`), for which the OCI manifest is rebuilt canonically. Tags come
 * from manifest.json's RepoTags and from the index's `io.containerd.image.name` annotation (or a
 * `name:tag` in `org.opencontainers.image.ref.name`). Verification is {@link verifyImage}'s job.
 */
import { ArchiveFiles } from './archive-files.js';
import { isGzip } from './compression.js';
import { sha256Digest, type Digest } from './digest.js';
import { ImageError } from './errors.js';
import { REF_NAME_ANNOTATION } from './index-edit.js';
import { IMAGE_LAYOUT_VERSION } from './layout.js';
import { isIndexMediaType, isManifestMediaType, MEDIA_TYPE } from './media-types.js';
import { formatTag, parseTagReference } from './reference.js';
import { parseManifest } from './verify.js';
import {
  dockerSaveManifestSchema,
  indexSchema,
  jsonBytes,
  ociLayoutSchema,
  parseJsonDocument,
  type Descriptor,
  type DockerSaveEntry,
} from './schema.js';

/** An image read from an archive, to be verified. */
export interface StagedImage {
  readonly manifestDigest: Digest;
  readonly manifestSize: number;
  readonly mediaType: string;
  /** Normalised `name:tag`s. */
  readonly tags: readonly string[];
}

/** What an archive holds. */
export interface StagedImport {
  /** Every blob the archive provided that an image may need; each key is the SHA-256 of its value. */
  readonly blobs: ReadonlyMap<Digest, Uint8Array>;
  readonly images: readonly StagedImage[];
}

/** The annotation containerd and Docker put the full image name in. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
/** The platform the simulated machine runs. */
export const MACHINE_PLATFORM = { os: 'linux', architecture: 'arm64' } as const;
const MAX_INDEX_DEPTH = 4;
const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

/** The normalised tag a top-level index descriptor names, if any. */
function descriptorTag(descriptor: Descriptor): string | undefined {
  const full = descriptor.annotations?.[CONTAINERD_NAME_ANNOTATION];
  const refName = descriptor.annotations?.[REF_NAME_ANNOTATION];
  const ref = full ?? (refName?.includes(':') === true ? refName : undefined);
  if (ref === undefined) return undefined;
  const { name, tag } = parseTagReference(ref);
  return formatTag(name, tag);
}

/** Collects the blobs images need, each checked against its name when it is read. */
class BlobCollector {
  readonly blobs = new Map<Digest, Uint8Array>();
  private readonly files: ArchiveFiles;

  constructor(files: ArchiveFiles) {
    this.files = files;
  }

  /** Blob `digest` from `blobs/sha256/`, refused if its content does not hash to its name. */
  fromLayout(digest: Digest, what: string): Uint8Array {
    const bytes = this.files.get(`blobs/sha256/${digest.slice('sha256:'.length)}`, what);
    const actual = sha256Digest(bytes);
    if (actual !== digest)
      throw new ImageError(`blob ${digest} is corrupted (its content hashes to ${actual})`);
    this.blobs.set(digest, bytes);
    return bytes;
  }

  /** The file `name` as a blob, checked against its name when that is a digest; its digest. */
  fromFile(name: string, what: string): { digest: Digest; bytes: Uint8Array } {
    const bytes = this.files.get(name, what);
    const digest = sha256Digest(bytes);
    const named = BLOB_PATH.exec(name)?.[1] ?? /^([0-9a-f]{64})\.json$/.exec(name)?.[1];
    if (named !== undefined && `sha256:${named}` !== digest) {
      throw new ImageError(`blob sha256:${named} is corrupted (its content hashes to ${digest})`);
    }
    this.blobs.set(digest, bytes);
    return { digest, bytes };
  }
}

/** The image manifests a descriptor leads to (an index is narrowed to the machine's platform). */
function manifestsOf(collector: BlobCollector, descriptor: Descriptor, depth: number): Descriptor[] {
  if (isManifestMediaType(descriptor.mediaType)) {
    const manifest = parseManifest(collector.fromLayout(descriptor.digest, 'the index'), descriptor.digest);
    collector.fromLayout(manifest.config.digest, `manifest ${descriptor.digest}`);
    for (const layer of manifest.layers) collector.fromLayout(layer.digest, `manifest ${descriptor.digest}`);
    return [descriptor];
  }
  if (!isIndexMediaType(descriptor.mediaType)) {
    throw new ImageError(
      `index entry ${descriptor.digest} has unsupported media type '${descriptor.mediaType}'`,
    );
  }
  if (depth >= MAX_INDEX_DEPTH)
    throw new ImageError(`index ${descriptor.digest} nests more than ${MAX_INDEX_DEPTH} deep`);
  const bytes = collector.fromLayout(descriptor.digest, `index ${descriptor.digest}`);
  const index = parseJsonDocument(bytes, indexSchema, `index ${descriptor.digest}`);
  const { os, architecture } = MACHINE_PLATFORM;
  const matching = index.manifests.filter(
    (d) => d.platform?.os === os && d.platform.architecture === architecture,
  );
  const chosen =
    matching.length > 0 ? matching.slice(0, 1) : index.manifests.length === 1 ? index.manifests : [];
  if (chosen.length === 0)
    throw new ImageError(`index ${descriptor.digest} has no ${os}/${architecture} image`);
  return chosen.flatMap((d) => manifestsOf(collector, d, depth + 1));
}

/** The normalised tags of a manifest.json entry. */
function repoTags(entry: DockerSaveEntry): string[] {
  return (entry.RepoTags ?? []).map((ref) => {
    const { name, tag } = parseTagReference(ref);
    return formatTag(name, tag);
  });
}

/** Merge images that are the same manifest, uniting their tags. */
function mergeImages(images: readonly StagedImage[]): StagedImage[] {
  const byDigest = new Map<Digest, StagedImage>();
  for (const image of images) {
    const seen = byDigest.get(image.manifestDigest);
    const tags = [...new Set([...(seen?.tags ?? []), ...image.tags])].sort();
    byDigest.set(image.manifestDigest, { ...image, tags });
  }
  return [...byDigest.values()];
}

/** The images of an OCI layout archive (plus RepoTags of a Docker manifest.json beside it). */
function readOciLayout(files: ArchiveFiles): StagedImport {
  const version = parseJsonDocument(
    files.get('oci-layout', 'the layout'),
    ociLayoutSchema,
    'archive oci-layout',
  );
  if (version.imageLayoutVersion !== IMAGE_LAYOUT_VERSION) {
    throw new ImageError(`archive: unsupported image layout version '${version.imageLayoutVersion}'`);
  }
  const index = parseJsonDocument(files.get('index.json', 'the layout'), indexSchema, 'archive index.json');
  const collector = new BlobCollector(files);
  const images: StagedImage[] = [];
  for (const top of index.manifests) {
    const tag = descriptorTag(top);
    for (const manifest of manifestsOf(collector, top, 0)) {
      images.push({
        manifestDigest: manifest.digest,
        manifestSize: manifest.size,
        mediaType: manifest.mediaType,
        tags: tag === undefined ? [] : [tag],
      });
    }
  }
  if (files.has('manifest.json')) {
    const entries = parseJsonDocument(
      files.get('manifest.json', 'the archive'),
      dockerSaveManifestSchema,
      'archive manifest.json',
    );
    for (const entry of entries) {
      const hex = BLOB_PATH.exec(entry.Config)?.[1];
      const target = images.find((image) => {
        const manifest = collector.blobs.get(image.manifestDigest)!;
        return parseManifest(manifest, image.manifestDigest).config.digest === `sha256:${hex}`;
      });
      if (target !== undefined) images.push({ ...target, tags: repoTags(entry) });
    }
  }
  return { blobs: collector.blobs, images: mergeImages(images) };
}

/** The images of a legacy `docker save` archive, with canonical OCI manifests. */
function readDockerSave(files: ArchiveFiles): StagedImport {
  const entries = parseJsonDocument(
    files.get('manifest.json', 'the archive'),
    dockerSaveManifestSchema,
    'archive manifest.json',
  );
  const collector = new BlobCollector(files);
  const images: StagedImage[] = [];
  for (const [index, entry] of entries.entries()) {
    const what = `manifest.json entry ${index + 1}`;
    const config = collector.fromFile(entry.Config, what);
    const layers = entry.Layers.map((name) => {
      const layer = collector.fromFile(name, what);
      const mediaType = isGzip(layer.bytes) ? MEDIA_TYPE.layerTarGzip : MEDIA_TYPE.layerTar;
      return { mediaType, digest: layer.digest, size: layer.bytes.length };
    });
    const manifest = jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.imageManifest,
      config: { mediaType: MEDIA_TYPE.imageConfig, digest: config.digest, size: config.bytes.length },
      layers,
    });
    const manifestDigest = sha256Digest(manifest);
    collector.blobs.set(manifestDigest, manifest);
    images.push({
      manifestDigest,
      manifestSize: manifest.length,
      mediaType: MEDIA_TYPE.imageManifest,
      tags: repoTags(entry),
    });
  }
  return { blobs: collector.blobs, images: mergeImages(images) };
}

/** The images an archive holds, not yet verified. */
export async function readImageArchive(bytes: Uint8Array): Promise<StagedImport> {
  const files = await ArchiveFiles.read(bytes);
  if (files.has('oci-layout') && files.has('index.json')) return readOciLayout(files);
  if (files.has('manifest.json')) return readDockerSave(files);
  throw new ImageError(
    'archive is neither a docker save archive (manifest.json) nor an OCI image layout (oci-layout, index.json)',
  );
}
