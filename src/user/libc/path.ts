/** Path helpers (pure): POSIX semantics of dirname(1), basename(1), and lexical normalisation. */

/** Collapse `.`, `..` and repeated slashes lexically ("a//b/../c/." → "a/c"; "" → "."). */
export function normalize(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** Join path pieces with `/` and normalise; an absolute piece restarts the path. */
export function join(...parts: string[]): string {
  let path = '';
  for (const part of parts) {
    if (part === '') continue;
    path = part.startsWith('/') || path === '' ? part : `${path}/${part}`;
  }
  return normalize(path);
}

/** The directory part of `path` (dirname(1): "/a/b" → "/a", "a" → ".", "/" → "/"). */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return path.startsWith('/') ? '/' : '.';
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return '.';
  const dir = trimmed.slice(0, slash).replace(/\/+$/, '');
  return dir === '' ? '/' : dir;
}

/** The last component of `path` (basename(1): "/a/b/" → "b", "/" → "/"). */
export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return path.startsWith('/') ? '/' : '';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** `path` made absolute against `cwd` and normalised. */
export function resolve(cwd: string, path: string): string {
  return normalize(path.startsWith('/') ? path : `${cwd}/${path}`);
}

/** True when `path` is `root` or inside it (both normalised absolute paths). */
export function isWithin(root: string, path: string): boolean {
  if (root === '/') return path.startsWith('/');
  return path === root || path.startsWith(`${root}/`);
}
