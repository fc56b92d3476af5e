/**
 * The local image store (issue 5, "Container engine"): OCI image layout under `<state>/images`,
 * `docker save` / OCI archive import and export, built-in images, and layer extraction into an
 * {@link ImageTree} for the engine. Everything fails with an {@link ImageError}.
 */
export { ImageError } from './errors.js';
export { isDigest, sha256Digest, shortDigest, type Digest } from './digest.js';
export { MEDIA_TYPE } from './media-types.js';
export type { Descriptor, ImageConfig, ImageManifest } from './schema.js';
export { DEFAULT_TAG, parseReference, type ImageReference } from './reference.js';
export {
  ImageStore,
  type ExportOptions,
  type ImageInUse,
  type ImageRecord,
  type ImageStoreOptions,
  type RemoveOptions,
  type RemoveResult,
} from './store.js';
export type { ArchiveFormat } from './archive-export.js';
export { BUILTIN_IMAGE_NAMES, type BuiltinImageName, type ProgramCatalog } from './builtin.js';
export { imageRunConfig, type ImageRunConfig } from './run-config.js';
export { unpackLayers } from './tree.js';
export type { ImageTree, TreeEntry } from './tree-types.js';
export { DEFAULT_UNPACK_LIMITS, type UnpackLimits } from './limits.js';
export {
  executableKind,
  listExecutables,
  measuredBinaryListDigest,
  type ExecutableKind,
  type ImageExecutable,
} from './executables.js';
