/**
 * Building a layer tar from a list of files, deterministically: every parent directory gets an
 * entry (mode 0755 unless listed), entries are sorted by path so a directory precedes its contents,
 * and mtimes are fixed ({@link writeTar}). The same files give the same bytes and diff_id anywhere.
 */
import { ImageError } from './errors.js';
import { writeTar, type TarWriteEntry } from './tar-write.js';

/** A file to put in a layer (absolute path). */
export type LayerFile =
  | { readonly path: string; readonly type: 'dir'; readonly mode: number }
  | { readonly path: string; readonly type: 'file'; readonly mode: number; readonly content: Uint8Array }
  | { readonly path: string; readonly type: 'symlink'; readonly target: string };

/** The tar of a layer holding `files` (and their parent directories). */
export async function buildLayer(files: readonly LayerFile[]): Promise<Uint8Array> {
  const byPath = new Map<string, LayerFile>();
  for (const file of files) {
    if (!file.path.startsWith('/') || file.path.split('/').some((c) => c === '..' || c === '.')) {
      throw new ImageError(`layer file path '${file.path}' is not a normalised absolute path`);
    }
    const parts = file.path.split('/').filter((c) => c !== '');
    for (let i = 1; i < parts.length; i++) {
      const parent = `/${parts.slice(0, i).join('/')}`;
      if (!byPath.has(parent)) byPath.set(parent, { path: parent, type: 'dir', mode: 0o755 });
    }
    byPath.set(`/${parts.join('/')}`, file);
  }
  const entries = [...byPath.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, file]): TarWriteEntry => {
      const name = path.slice(1);
      switch (file.type) {
        case 'dir':
          return { name: `${name}/`, type: 'directory', mode: file.mode };
        case 'file':
          return { name, type: 'file', mode: file.mode, data: file.content };
        case 'symlink':
          return { name, type: 'symlink', mode: 0o777, linkname: file.target };
      }
    });
  return writeTar(entries);
}
