/**
 * The files of an image archive, by normalised path. Directories are skipped; symlinks are followed
 * inside the archive (legacy `docker save` links identical layers as `<id>/layer.tar ->
 * ../<other>/layer.tar`); any other entry type is refused, and so is a name or link leaving the
 * archive.
 */
import { ImageError } from './errors.js';
import { ARCHIVE_LIMITS, DEFAULT_UNPACK_LIMITS } from './limits.js';
import { entryComponents, quote } from './paths.js';
import { readTar } from './tar-read.js';
import { maybeGunzip } from './compression.js';

const MAX_LINK_HOPS = 8;

/** The regular files of an archive, symlinks resolved. */
export class ArchiveFiles {
  private readonly files = new Map<string, Uint8Array>();
  private readonly links = new Map<string, string>();

  private constructor() {}

  /** Read `bytes` (a tar archive, possibly gzip-compressed). */
  static async read(bytes: Uint8Array): Promise<ArchiveFiles> {
    const tar = maybeGunzip(bytes, ARCHIVE_LIMITS.maxTotalBytes, 'archive');
    const archive = new ArchiveFiles();
    const maxPath = DEFAULT_UNPACK_LIMITS.maxPathLength;
    for (const entry of await readTar(tar, ARCHIVE_LIMITS, 'archive')) {
      const components = entryComponents(entry.name, maxPath, 'archive');
      const name = components.join('/');
      switch (entry.type) {
        case 'directory':
          break;
        case 'file':
        case 'contiguous-file':
          archive.files.set(name, entry.data);
          break;
        case 'symlink': {
          if (entry.linkname.startsWith('/')) {
            throw new ImageError(`archive: symlink ${quote(name)} -> ${quote(entry.linkname)} is absolute`);
          }
          const base = components.slice(0, -1).join('/');
          archive.links.set(name, base === '' ? entry.linkname : `${base}/${entry.linkname}`);
          break;
        }
        default:
          throw new ImageError(
            `archive: entry ${quote(entry.name)} has unsupported type '${String(entry.type)}'`,
          );
      }
    }
    return archive;
  }

  /** True when `name` names a file (or a link to one). */
  has(name: string): boolean {
    return this.lookup(name) !== undefined;
  }

  /** The content of file `name` (following links), or undefined. */
  lookup(name: string): Uint8Array | undefined {
    let current = name;
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const components: string[] = [];
      for (const component of current.split('/')) {
        if (component === '' || component === '.') continue;
        if (component === '..') {
          if (components.pop() === undefined)
            throw new ImageError(`archive: ${quote(name)} leads outside the archive`);
        } else components.push(component);
      }
      const normalised = components.join('/');
      const file = this.files.get(normalised);
      if (file !== undefined) return file;
      const link = this.links.get(normalised);
      if (link === undefined) return undefined;
      current = link;
    }
    throw new ImageError(`archive: too many levels of symbolic links at ${quote(name)}`);
  }

  /** The content of file `name`, or an ImageError saying that `what` names a missing file. */
  get(name: string, what: string): Uint8Array {
    const file = this.lookup(name);
    if (file === undefined)
      throw new ImageError(`archive: ${what} names ${quote(name)}, which is not in the archive`);
    return file;
  }
}
