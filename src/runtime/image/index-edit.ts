/**
 * Edits of the store's index.json, as pure functions. Each image (manifest) appears once per tag,
 * with the tag in the `org.opencontainers.image.ref.name` annotation as `name:tag`, or once without
 * annotation when it has no tag (a dangling image, as after `docker load` moved its tag away).
 * Descriptors are kept sorted (tag, then digest) so the file is a function of its content.
 */
import type { Digest } from './digest.js';
import { MEDIA_TYPE } from './media-types.js';
import type { Descriptor, ImageIndex } from './schema.js';

/** The annotation holding an image's `name:tag` in the store's index. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** The manifest descriptor of an image, without annotations. */
export interface ManifestRef {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

/** The tag a descriptor carries, if any. */
export function tagOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[REF_NAME_ANNOTATION];
}

/** The images of an index: manifest digest → descriptor and tags (sorted). */
export function indexImages(index: ImageIndex): Map<Digest, { ref: ManifestRef; tags: string[] }> {
  const images = new Map<Digest, { ref: ManifestRef; tags: string[] }>();
  for (const descriptor of index.manifests) {
    const ref = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
    const image = images.get(descriptor.digest) ?? { ref, tags: [] };
    const tag = tagOf(descriptor);
    if (tag !== undefined) image.tags.push(tag);
    images.set(descriptor.digest, image);
  }
  for (const image of images.values()) image.tags.sort();
  return images;
}

/** Code-unit order (locale-independent, so the index is the same on every machine). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function descriptorFor(ref: ManifestRef, tag: string | undefined): Descriptor {
  const base = { mediaType: ref.mediaType, digest: ref.digest, size: ref.size };
  return tag === undefined ? base : { ...base, annotations: { [REF_NAME_ANNOTATION]: tag } };
}

/** The index with its descriptors sorted and the images that lost every tag kept as dangling. */
function normalise(before: ImageIndex, manifests: Descriptor[], keep: ReadonlySet<Digest>): ImageIndex {
  const present = new Set(manifests.map((descriptor) => descriptor.digest));
  for (const [digest, image] of indexImages(before)) {
    if (keep.has(digest) && !present.has(digest)) manifests.push(descriptorFor(image.ref, undefined));
  }
  const tagged = new Set(manifests.filter((d) => tagOf(d) !== undefined).map((d) => d.digest));
  const kept = manifests.filter((d) => tagOf(d) !== undefined || !tagged.has(d.digest));
  kept.sort((a, b) => compareStrings(tagOf(a) ?? '', tagOf(b) ?? '') || compareStrings(a.digest, b.digest));
  return { schemaVersion: 2, mediaType: MEDIA_TYPE.imageIndex, manifests: kept };
}

/** `index` with image `ref` present: tagged with each of `tags`, or dangling when `tags` is empty. */
export function withImage(index: ImageIndex, ref: ManifestRef, tags: readonly string[]): ImageIndex {
  const moved = new Set(tags);
  const manifests = index.manifests.filter((d) => !moved.has(tagOf(d) ?? ''));
  for (const tag of tags) manifests.push(descriptorFor(ref, tag));
  if (tags.length === 0) manifests.push(descriptorFor(ref, undefined));
  // An image whose last tag moved to `ref` stays, dangling.
  return normalise(index, manifests, new Set(indexImages(index).keys()));
}

/** `index` without tag `tag`; the image it named is dropped when that was its last tag. */
export function withoutTag(index: ImageIndex, tag: string): ImageIndex {
  return normalise(
    index,
    index.manifests.filter((d) => tagOf(d) !== tag),
    new Set(),
  );
}

/** `index` without image `digest` (every tag of it). */
export function withoutImage(index: ImageIndex, digest: Digest): ImageIndex {
  return normalise(
    index,
    index.manifests.filter((d) => d.digest !== digest),
    new Set(),
  );
}
