/**
 * Verification of an image before it enters the store: every blob it needs is present and hashes to
 * its descriptor's digest and size, the manifest and config are valid documents of supported media
 * types, each layer's uncompressed content hashes to the config's `rootfs.diff_ids` entry, and the
 * layers unpack under the extraction rules ({@link unpackLayers}). Nothing is written here.
 */
import { maybeGunzip } from './compression.js';
import { sha256Digest, type Digest } from './digest.js';
import { ImageError } from './errors.js';
import { DEFAULT_UNPACK_LIMITS, maxTarBytes, type UnpackLimits } from './limits.js';
import { isConfigMediaType, isManifestMediaType, layerCompression } from './media-types.js';
import {
  configSchema,
  manifestSchema,
  parseJsonDocument,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
} from './schema.js';
import { unpackLayers } from './tree.js';

/** Blobs by digest; each key is the SHA-256 of its value. */
export type BlobMap = ReadonlyMap<Digest, Uint8Array>;

/** A verified image. */
export interface VerifiedImage {
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
  /** The layers, uncompressed, lowest first. */
  readonly layers: readonly Uint8Array[];
}

/** The blob a descriptor names, checked against the descriptor's size. */
export function blobFor(blobs: BlobMap, descriptor: Descriptor, what: string): Uint8Array {
  const bytes = blobs.get(descriptor.digest);
  if (bytes === undefined) throw new ImageError(`${what} ${descriptor.digest} is missing`);
  if (bytes.length !== descriptor.size) {
    throw new ImageError(
      `${what} ${descriptor.digest} has ${bytes.length} bytes, its descriptor says ${descriptor.size}`,
    );
  }
  return bytes;
}

/** Parse the manifest blob `digest` (known to be present and intact). */
export function parseManifest(bytes: Uint8Array, digest: Digest): ImageManifest {
  const manifest = parseJsonDocument(bytes, manifestSchema, `manifest ${digest}`);
  if (manifest.mediaType !== undefined && !isManifestMediaType(manifest.mediaType)) {
    throw new ImageError(`manifest ${digest} has unsupported media type '${manifest.mediaType}'`);
  }
  if (!isConfigMediaType(manifest.config.mediaType)) {
    throw new ImageError(`manifest ${digest}: unsupported config media type '${manifest.config.mediaType}'`);
  }
  for (const layer of manifest.layers) layerCompression(layer.mediaType);
  return manifest;
}

/** Parse the config blob `digest` (known to be present and intact). */
export function parseConfig(bytes: Uint8Array, digest: Digest): ImageConfig {
  return parseJsonDocument(bytes, configSchema, `config ${digest}`);
}

/** The uncompressed layers of `manifest`, each checked against its diff_id. */
export function uncompressedLayers(
  manifest: ImageManifest,
  config: ImageConfig,
  readLayerBlob: (descriptor: Descriptor) => Uint8Array,
  limits: UnpackLimits,
): Uint8Array[] {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(
      `image has ${manifest.layers.length} layers but its config lists ${diffIds.length} diff_ids`,
    );
  }
  return manifest.layers.map((descriptor, index) => {
    const blob = readLayerBlob(descriptor);
    const tar =
      layerCompression(descriptor.mediaType) === 'gzip'
        ? maybeGunzip(blob, maxTarBytes(limits), `layer ${descriptor.digest}`)
        : blob;
    const diffId = sha256Digest(tar);
    if (diffId !== diffIds[index]) {
      throw new ImageError(
        `layer ${descriptor.digest} does not match diff_id ${diffIds[index]} of the config (it is ${diffId})`,
      );
    }
    return tar;
  });
}

/** Verify image `manifestDigest` against `blobs`, or throw an ImageError saying what is wrong. */
export async function verifyImage(
  blobs: BlobMap,
  manifestDigest: Digest,
  manifestSize: number,
  limits: UnpackLimits = DEFAULT_UNPACK_LIMITS,
): Promise<VerifiedImage> {
  const manifestBytes = blobFor(
    blobs,
    { mediaType: '', digest: manifestDigest, size: manifestSize },
    'manifest',
  );
  const manifest = parseManifest(manifestBytes, manifestDigest);
  const config = parseConfig(blobFor(blobs, manifest.config, 'config'), manifest.config.digest);
  const layers = uncompressedLayers(manifest, config, (d) => blobFor(blobs, d, 'layer'), limits);
  await unpackLayers(layers, limits);
  return { manifest, config, layers };
}
