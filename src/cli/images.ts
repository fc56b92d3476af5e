/** `rcontainer images | load | save | rmi`: the local image store (Docker's names and habits). */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { BUILTIN_IMAGE_NAMES, ImageError, shortDigest, type ImageRecord } from '../runtime/image/index.js';
import { openImages, stateDir } from './engine-state.js';
import { EngineError } from './errors.js';

/** Options every engine command takes. */
export interface EngineOptions {
  readonly stateDir?: string;
}

function images(options: EngineOptions): ReturnType<typeof openImages> {
  return openImages(stateDir(options.stateDir));
}

/** Run `body`, turning the store's errors into engine errors (exit 125). */
export async function engine<T>(body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof ImageError) throw new EngineError(error.message);
    throw error;
  }
}

/** `images [--json]`: REPOSITORY, TAG, IMAGE ID, SIZE; built-in images appear once pulled (made). */
export async function imagesCommand(
  options: EngineOptions & { json?: boolean; all?: boolean; quiet?: boolean },
): Promise<number> {
  return engine(async () => {
    const store = images(options);
    if (options.all === true) for (const name of BUILTIN_IMAGE_NAMES) await store.ensureBuiltin(name);
    const rows = store.list().flatMap((image) => rowsOf(image));
    if (options.json) {
      console.log(JSON.stringify(rows, undefined, 2));
      return 0;
    }
    if (options.quiet === true) {
      for (const id of new Set(rows.map((r) => r.id))) console.log(id);
      return 0;
    }
    console.log(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'].map((h, i) => h.padEnd([20, 10, 14, 0][i]!)).join(''),
    );
    for (const r of rows)
      console.log(`${r.repository.padEnd(20)}${r.tag.padEnd(10)}${r.id.padEnd(14)}${r.size}`);
    return 0;
  });
}

interface ImageRow {
  readonly repository: string;
  readonly tag: string;
  readonly id: string;
  readonly digest: string;
  readonly size: number;
}

function rowsOf(image: ImageRecord): ImageRow[] {
  const id = shortDigest(image.id);
  const tags = image.tags.length > 0 ? image.tags : ['<none>:<none>'];
  return tags.map((t) => {
    const colon = t.lastIndexOf(':');
    return {
      repository: t.slice(0, colon),
      tag: t.slice(colon + 1),
      id,
      digest: image.manifestDigest,
      size: image.size,
    };
  });
}

/** `load -i FILE`: a `docker save` tarball or an OCI layout archive. */
export async function loadCommand(options: EngineOptions & { input?: string }): Promise<number> {
  if (options.input === undefined) throw new EngineError('load: give the archive with -i FILE');
  const bytes = readArchive(options.input);
  return engine(async () => {
    const loaded = await images(options).import(bytes);
    for (const image of loaded) console.log(`Loaded image: ${image.tags[0] ?? image.id}`);
    return 0;
  });
}

/** `save -o FILE IMAGE...` (Docker's format by default, `--format oci` for an OCI layout). */
export async function saveCommand(
  refs: string[],
  options: EngineOptions & { output?: string; format?: string },
): Promise<number> {
  if (options.output === undefined) throw new EngineError('save: give the output file with -o FILE');
  if (options.format !== undefined && options.format !== 'docker' && options.format !== 'oci')
    throw new EngineError(`save: --format must be docker or oci, not '${options.format}'`);
  const format = options.format === 'oci' ? 'oci' : 'docker';
  return engine(async () => {
    const store = images(options);
    for (const ref of refs) if (isBuiltin(ref) && !store.has(ref)) await store.ensureBuiltin(ref);
    const archive = await store.export(refs, { format });
    writeWhole(options.output!, archive);
    return 0;
  });
}

/**
 * Write `bytes` to `path` whole or not at all: into a temporary file beside it, then renamed, so a
 * failed save never leaves a truncated archive. A host error is one line naming the file.
 */
function writeWhole(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new EngineError(`save: cannot write ${path}: ${reason}`);
  }
}

/** `rmi IMAGE...`. */
export async function rmiCommand(
  refs: string[],
  options: EngineOptions & { force?: boolean },
): Promise<number> {
  return engine(() => {
    const store = images(options);
    for (const ref of refs) {
      const result = store.remove(ref, options.force === true ? { force: true } : {});
      for (const tag of result.untagged) console.log(`Untagged: ${tag}`);
      if (result.deleted !== undefined) console.log(`Deleted: ${result.deleted}`);
    }
    return 0;
  });
}

/** True for the name of a built-in image (`busybox`, `kv:latest` ...). */
export function isBuiltin(ref: string): boolean {
  const name = ref.replace(/:latest$/, '');
  return (BUILTIN_IMAGE_NAMES as readonly string[]).includes(name);
}

function readArchive(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new EngineError(`load: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
