/**
 * Writing images as an archive: `docker` (the default) is the format `docker save` writes since
 * Docker 25, an OCI image layout plus a `manifest.json` for older `docker load`s (which follow its
 * paths into `blobs/sha256/`); `oci` is the bare OCI image layout. Blobs are copied as stored, so
 * manifest and config digests survive a save → load round trip. Deterministic: entries sorted,
 * fixed mtimes.
 */
import { CONTAINERD_NAME_ANNOTATION } from './archive-import.js';
import { digestHex, type Digest } from './digest.js';
import { REF_NAME_ANNOTATION, type ManifestRef } from './index-edit.js';
import { IMAGE_LAYOUT_VERSION } from './layout.js';
import { MEDIA_TYPE } from './media-types.js';
import { parseTagReference } from './reference.js';
import { jsonBytes, type Descriptor, type ImageManifest } from './schema.js';
import { writeTar, type TarWriteEntry } from './tar-write.js';

/** Archive formats `export` writes. */
export type ArchiveFormat = 'docker' | 'oci';

/** An image to export. */
export interface ExportedImage {
  readonly ref: ManifestRef;
  readonly manifest: ImageManifest;
  /** `name:tag`s to record (none: the image is exported by digest only). */
  readonly tags: readonly string[];
}

/** The fully qualified name Docker and containerd record (`busybox:latest` → `docker.io/library/busybox:latest`). */
export function qualifiedName(tag: string): string {
  const { name, tag: version } = parseTagReference(tag);
  const first = name.split('/')[0]!;
  const hasHost = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = hasHost ? name : name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return `${full}:${version}`;
}

/** The index.json descriptors of the exported images (one per tag, as Docker writes them). */
function indexDescriptors(images: readonly ExportedImage[]): Descriptor[] {
  return images.flatMap((image) => {
    const base = { mediaType: image.ref.mediaType, digest: image.ref.digest, size: image.ref.size };
    if (image.tags.length === 0) return [base];
    return image.tags.map((tag) => ({
      ...base,
      annotations: {
        [CONTAINERD_NAME_ANNOTATION]: qualifiedName(tag),
        [REF_NAME_ANNOTATION]: parseTagReference(tag).tag,
      },
    }));
  });
}

/** The archive holding `images`, their blobs read with `readBlob` (which verifies them). */
export async function writeImageArchive(
  images: readonly ExportedImage[],
  readBlob: (digest: Digest) => Uint8Array,
  format: ArchiveFormat,
): Promise<Uint8Array> {
  const blobs = new Set<Digest>();
  for (const image of images) {
    blobs.add(image.ref.digest);
    blobs.add(image.manifest.config.digest);
    for (const layer of image.manifest.layers) blobs.add(layer.digest);
  }
  const files: TarWriteEntry[] = [...blobs].sort().map((digest) => ({
    name: `blobs/sha256/${digestHex(digest)}`,
    type: 'file',
    mode: 0o644,
    data: readBlob(digest),
  }));
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests: indexDescriptors(images) };
  files.push({ name: 'index.json', type: 'file', mode: 0o644, data: jsonBytes(index) });
  files.push({
    name: 'oci-layout',
    type: 'file',
    mode: 0o644,
    data: jsonBytes({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }),
  });
  if (format === 'docker') {
    const manifestJson = images.map((image) => ({
      Config: `blobs/sha256/${digestHex(image.manifest.config.digest)}`,
      RepoTags: image.tags.length === 0 ? null : image.tags,
      Layers: image.manifest.layers.map((layer) => `blobs/sha256/${digestHex(layer.digest)}`),
    }));
    files.push({ name: 'manifest.json', type: 'file', mode: 0o644, data: jsonBytes(manifestJson) });
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dirs: TarWriteEntry[] = ['blobs/', 'blobs/sha256/'].map((name) => ({
    name,
    type: 'directory',
    mode: 0o755,
  }));
  return writeTar([...dirs, ...files]);
}
