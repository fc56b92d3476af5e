/**
 * Image references as the CLI takes them: `name[:tag]`, `name@sha256:<hex>`, `sha256:<hex prefix>`
 * or a bare hex prefix of an image ID. Names follow the Docker grammar (lowercase path components,
 * optional registry host); `docker.io/library/` is dropped so `busybox` and
 * `docker.io/library/busybox:latest` are the same image.
 */
import { isDigest, type Digest } from './digest.js';
import { ImageError } from './errors.js';

/** A parsed image reference. */
export type ImageReference =
  | { readonly kind: 'tag'; readonly name: string; readonly tag: string }
  | { readonly kind: 'pinned'; readonly name: string; readonly digest: Digest }
  | { readonly kind: 'id'; readonly prefix: string };

/** The tag a name without one means. */
export const DEFAULT_TAG = 'latest';
/** Shortest hex prefix accepted as an image ID. */
export const MIN_ID_PREFIX = 4;

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)?';
const NAME_PATTERN = new RegExp(`^${HOST}${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HEX_PREFIX = /^[0-9a-f]+$/;
const FAMILIAR_PREFIXES = [
  'docker.io/library/',
  'index.docker.io/library/',
  'docker.io/',
  'index.docker.io/',
];

/** `name` without a Docker Hub prefix, or an ImageError if it is not a valid repository name. */
export function normaliseName(name: string): string {
  let familiar = name;
  for (const prefix of FAMILIAR_PREFIXES) {
    if (familiar.startsWith(prefix)) {
      familiar = familiar.slice(prefix.length);
      break;
    }
  }
  if (familiar.length > 255 || !NAME_PATTERN.test(familiar)) {
    throw new ImageError(`invalid image name '${name}'`);
  }
  return familiar;
}

/** Split `ref` into name and tag (the tag separator is a ':' after the last '/'). */
function splitTag(ref: string): { name: string; tag: string | undefined } {
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: undefined };
}

/** Parse a `name[:tag]` reference (the form tags and `docker save` RepoTags use). */
export function parseTagReference(ref: string): { name: string; tag: string } {
  const { name, tag } = splitTag(ref);
  if (tag !== undefined && !TAG_PATTERN.test(tag))
    throw new ImageError(`invalid tag in image reference '${ref}'`);
  return { name: normaliseName(name), tag: tag ?? DEFAULT_TAG };
}

/** Parse any image reference accepted by `resolve`. */
export function parseReference(ref: string): ImageReference {
  if (ref.length === 0) throw new ImageError('empty image reference');
  const at = ref.indexOf('@');
  if (at >= 0) {
    const digest = ref.slice(at + 1);
    if (!isDigest(digest)) throw new ImageError(`invalid digest in image reference '${ref}'`);
    return { kind: 'pinned', name: normaliseName(splitTag(ref.slice(0, at)).name), digest };
  }
  const hex = ref.startsWith('sha256:') ? ref.slice('sha256:'.length) : undefined;
  if (hex !== undefined) {
    if (!HEX_PREFIX.test(hex) || hex.length < MIN_ID_PREFIX || hex.length > 64) {
      throw new ImageError(`invalid image ID '${ref}'`);
    }
    return { kind: 'id', prefix: hex };
  }
  return { kind: 'tag', ...parseTagReference(ref) };
}

/** True when `ref` could also be read as an image ID prefix (tried after the name lookup fails). */
export function looksLikeIdPrefix(ref: string): boolean {
  return HEX_PREFIX.test(ref) && ref.length >= MIN_ID_PREFIX && ref.length <= 64;
}

/** The `name:tag` string stored in the index. */
export function formatTag(name: string, tag: string): string {
  return `${name}:${tag}`;
}
