/**
 * Media types of the OCI image spec (v1.1) and the Docker schema-2 equivalents that `docker save`
 * and registries still produce. Layers are tar archives, uncompressed or gzip-compressed; zstd and
 * non-distributable layers are refused by name.
 */
import { ImageError } from './errors.js';

/** OCI media types. */
export const MEDIA_TYPE = {
  imageIndex: 'application/vnd.oci.image.index.v1+json',
  imageManifest: 'application/vnd.oci.image.manifest.v1+json',
  imageConfig: 'application/vnd.oci.image.config.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** Docker schema-2 media types accepted on import. */
export const DOCKER_MEDIA_TYPE = {
  manifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layerTarGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** How a layer blob is stored. */
export type LayerCompression = 'none' | 'gzip';

/** True for an image index (OCI index or Docker manifest list). */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPE.imageIndex || mediaType === DOCKER_MEDIA_TYPE.manifestList;
}

/** True for an image manifest (OCI or Docker schema 2). */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPE.imageManifest || mediaType === DOCKER_MEDIA_TYPE.manifest;
}

/** True for an image config (OCI or Docker). */
export function isConfigMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.imageConfig || mediaType === DOCKER_MEDIA_TYPE.config;
}

/** The compression of a layer media type, or an ImageError for a layer type the store cannot use. */
export function layerCompression(mediaType: string): LayerCompression {
  switch (mediaType) {
    case MEDIA_TYPE.layerTar:
      return 'none';
    case MEDIA_TYPE.layerTarGzip:
    case DOCKER_MEDIA_TYPE.layerTarGzip:
      return 'gzip';
    default:
      throw new ImageError(`unsupported layer media type '${mediaType}'`);
  }
}
