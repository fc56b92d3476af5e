/**
 * Assembling an image from layer tars and run parameters: config and manifest documents written
 * with a fixed creation time and key order, so the same input gives the same digests on any
 * machine. Used for the built-in images (and for a future `build`).
 */
import { sha256Digest, type Digest } from './digest.js';
import type { StagedImport } from './archive-import.js';
import { MEDIA_TYPE } from './media-types.js';
import { jsonBytes } from './schema.js';

/** The creation time recorded in generated images (the epoch, for reproducibility). */
export const FIXED_CREATED = '1970-01-01T00:00:00Z';

/** A layer and the history line that describes it. */
export interface BuiltLayer {
  readonly tar: Uint8Array;
  readonly createdBy: string;
}

/** The run parameters of an image config. */
export interface RunParameters {
  readonly cmd: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly user?: string;
  /** e.g. `8080/tcp`. */
  readonly exposedPorts?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

/** The staged image made of `layers` (lowest first, uncompressed) with `run`, tagged `tags`. */
export function assembleImage(
  layers: readonly BuiltLayer[],
  run: RunParameters,
  tags: readonly string[],
): StagedImport {
  const blobs = new Map<Digest, Uint8Array>();
  const add = (bytes: Uint8Array): Digest => {
    const digest = sha256Digest(bytes);
    blobs.set(digest, bytes);
    return digest;
  };
  const layerDigests = layers.map((layer) => add(layer.tar));
  const config = jsonBytes({
    created: FIXED_CREATED,
    architecture: 'arm64',
    os: 'linux',
    config: {
      ...(run.user !== undefined ? { User: run.user } : {}),
      ...(run.exposedPorts !== undefined
        ? { ExposedPorts: Object.fromEntries(run.exposedPorts.map((p) => [p, {}])) }
        : {}),
      Env: run.env,
      ...(run.entrypoint !== undefined ? { Entrypoint: run.entrypoint } : {}),
      Cmd: run.cmd,
      WorkingDir: run.workingDir,
      ...(run.labels !== undefined ? { Labels: run.labels } : {}),
    },
    rootfs: { type: 'layers', diff_ids: layerDigests },
    history: layers.map((layer) => ({ created: FIXED_CREATED, created_by: layer.createdBy })),
  });
  const configDigest = add(config);
  const manifest = jsonBytes({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.imageManifest,
    config: { mediaType: MEDIA_TYPE.imageConfig, digest: configDigest, size: config.length },
    layers: layers.map((layer, i) => ({
      mediaType: MEDIA_TYPE.layerTar,
      digest: layerDigests[i]!,
      size: layer.tar.length,
    })),
  });
  const manifestDigest = add(manifest);
  return {
    blobs,
    images: [{ manifestDigest, manifestSize: manifest.length, mediaType: MEDIA_TYPE.imageManifest, tags }],
  };
}
