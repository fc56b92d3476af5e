/**
 * The path rules of layer extraction. Entry names are read relative to the image root: a leading
 * '/' is dropped (as GNU tar and Docker do), '.' and empty components are dropped, and a '..'
 * component is refused outright, so no entry can name anything outside the root. Symlink targets
 * must be relative and must stay inside the root when resolved from the link's own directory.
 */
import { ImageError } from './errors.js';

/** Longest single path component (NAME_MAX). */
export const MAX_COMPONENT_LENGTH = 255;

/** The components of the entry name `name` (empty for the root), or an ImageError naming it. */
export function entryComponents(name: string, maxLength: number, what: string): string[] {
  if (name.length > maxLength)
    throw new ImageError(`${what}: entry name is longer than ${maxLength} characters`);
  if (name.includes('\0')) throw new ImageError(`${what}: entry ${quote(name)} has a NUL byte in its name`);
  const components: string[] = [];
  for (const component of name.split('/')) {
    if (component === '' || component === '.') continue;
    if (component === '..')
      throw new ImageError(`${what}: entry ${quote(name)} escapes the image root ('..' in its path)`);
    if (component.length > MAX_COMPONENT_LENGTH) {
      throw new ImageError(
        `${what}: entry ${quote(name)} has a component longer than ${MAX_COMPONENT_LENGTH} characters`,
      );
    }
    components.push(component);
  }
  return components;
}

/** The absolute path (`/a/b`, `/` for the root) of entry components. */
export function joinPath(components: readonly string[]): string {
  return `/${components.join('/')}`;
}

/**
 * Check the target of the symlink at `components`: refused when empty, absolute, or escaping the
 * root when its '..' components are applied to the link's directory.
 */
export function checkSymlinkTarget(
  components: readonly string[],
  target: string,
  maxLength: number,
  what: string,
): void {
  const link = quote(joinPath(components));
  if (target.length === 0) throw new ImageError(`${what}: symlink ${link} has an empty target`);
  if (target.length > maxLength)
    throw new ImageError(`${what}: symlink ${link} has a target longer than ${maxLength} characters`);
  if (target.includes('\0')) throw new ImageError(`${what}: symlink ${link} has a NUL byte in its target`);
  if (target.startsWith('/'))
    throw new ImageError(`${what}: symlink ${link} -> ${quote(target)} is absolute`);
  let depth = components.length - 1;
  for (const component of target.split('/')) {
    if (component === '' || component === '.') continue;
    depth += component === '..' ? -1 : 1;
    if (depth < 0)
      throw new ImageError(`${what}: symlink ${link} -> ${quote(target)} escapes the image root`);
  }
}

/** `text` in single quotes with control characters escaped, so a message stays on one line. */
export function quote(text: string): string {
  const escaped = text.replace(
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return `'${escaped}'`;
}
