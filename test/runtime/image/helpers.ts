// Helpers of the image-store tests: fresh state directories, the real program catalogue, tar
// archives built with tar-stream (hostile ones included), and a snapshot of a directory tree.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pack, type Header } from 'tar-stream';
import type { ProgramCatalog } from '../../../src/runtime/image/builtin.js';
import { ImageStore, type ImageStoreOptions } from '../../../src/runtime/image/store.js';
import { executableImage } from '../../../src/user/program.js';
import { APPLET_NAMES, PROGRAM_NAMES } from '../../../src/user/programs/index.js';

/** The programs of the user layer, as the CLI will wire them. */
export const CATALOG: ProgramCatalog = {
  executableImage,
  programNames: PROGRAM_NAMES,
  appletNames: APPLET_NAMES,
};

/** A fresh state directory. */
export function tempStateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rcontainer-images-'));
}

/** A store in a fresh state directory, with the program catalogue. */
export function freshStore(options: ImageStoreOptions = {}): { store: ImageStore; stateDir: string } {
  const stateDir = tempStateDir();
  return { store: ImageStore.open(stateDir, { programs: CATALOG, ...options }), stateDir };
}

/** UTF-8 bytes. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `sha256:<hex>` of bytes. */
export function sha256(bytes: Uint8Array): `sha256:${string}` {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A tar entry for {@link tarOf}: a header (name and type at least) and file content. */
export interface RawEntry {
  readonly name: string;
  readonly type?: Header['type'];
  readonly mode?: number;
  readonly linkname?: string;
  readonly content?: Uint8Array | string;
  readonly size?: number;
}

/** A tar archive of `entries` in this order, written by tar-stream with no checks at all. */
export async function tarOf(entries: readonly RawEntry[]): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    archive.on('end', () => resolve());
    archive.on('error', reject);
  });
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (type === 'file') {
        const content =
          typeof entry.content === 'string' ? utf8(entry.content) : (entry.content ?? new Uint8Array(0));
        archive.entry(header, Buffer.from(content), cb);
      } else {
        archive.entry(header, cb);
      }
    });
  }
  archive.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/** JSON bytes as the store writes them. */
export function json(value: unknown): Uint8Array {
  return utf8(JSON.stringify(value));
}

/** A minimal arm64 config for `layers` (uncompressed tars) running `cmd`. */
export function configFor(layers: readonly Uint8Array[], cmd: string[] = ['sh']): Uint8Array {
  return json({
    architecture: 'arm64',
    os: 'linux',
    config: { Cmd: cmd, Env: ['PATH=/bin'], Entrypoint: null },
    rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
  });
}

/** A legacy `docker save` archive (`<id>.json`, `<id>/layer.tar`, manifest.json, repositories). */
export async function legacyDockerSave(
  layers: readonly Uint8Array[],
  repoTags: string[],
  config: Uint8Array = configFor(layers),
): Promise<Uint8Array> {
  const configName = `${sha256(config).slice(7)}.json`;
  const layerIds = layers.map((layer, i) => sha256(utf8(`${i}:${sha256(layer)}`)).slice(7));
  const entries: RawEntry[] = [];
  layers.forEach((layer, i) => {
    entries.push({ name: `${layerIds[i]}/`, type: 'directory' });
    entries.push({ name: `${layerIds[i]}/VERSION`, content: '1.0' });
    entries.push({ name: `${layerIds[i]}/layer.tar`, content: layer });
  });
  entries.push({ name: configName, content: config });
  const manifest = [
    { Config: configName, RepoTags: repoTags, Layers: layerIds.map((id) => `${id}/layer.tar`) },
  ];
  entries.push({ name: 'manifest.json', content: json(manifest) });
  entries.push({ name: 'repositories', content: json({}) });
  return tarOf(entries);
}

/** The OCI manifest of `config` and `layers` (uncompressed). */
export function manifestFor(config: Uint8Array, layers: readonly Uint8Array[]): Uint8Array {
  return json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(config),
      size: config.length,
    },
    layers: layers.map((layer) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: sha256(layer),
      size: layer.length,
    })),
  });
}

/** An OCI layout archive of `blobs` with index.json `index`. */
export async function ociArchive(blobs: readonly Uint8Array[], index: unknown): Promise<Uint8Array> {
  const entries: RawEntry[] = [
    { name: 'oci-layout', content: json({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', content: json(index) },
    ...blobs.map((blob) => ({ name: `blobs/sha256/${sha256(blob).slice(7)}`, content: blob })),
  ];
  return tarOf(entries);
}

/** Every file and directory under `root` with a hash of each file's content: equal snapshots, equal trees. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      if (fs.statSync(full).isDirectory()) {
        out[`${rel}/`] = 'dir';
        walk(full);
      } else {
        out[rel] = sha256(fs.readFileSync(full));
      }
    }
  };
  walk(root);
  return out;
}
