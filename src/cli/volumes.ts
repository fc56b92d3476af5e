/**
 * `-v HOST_DIR:CONTAINER_DIR[:ro]`: untrusted volumes (DESIGN.md §5). The host directory's files
 * are copied into a host file system of the simulated machine (host pages: the OS can read them),
 * bind-mounted `noexec` into the container, and, unless read-only, written back to the host
 * directory when the container ends.
 * SIMPLIFICATION: the copy is made each time the container starts and written back when it exits
 * (added and changed files and directories; files deleted in the container stay on the host), not
 * shared live as a bind mount is.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { discardLayer, installImageTree, mountVolume, readVolume } from '../designs/image-container.js';
import type { SimSystem } from '../designs/system.js';
import type { Mount } from '../kernel/fs/mount.js';
import type { TmpfsSuperBlock } from '../kernel/fs/tmpfs.js';
import { strerror } from '../kernel/uapi/errno.js';
import type { TreeEntry } from '../runtime/image/index.js';
import { EngineError } from './errors.js';

/** A parsed `-v` option. */
export interface VolumeSpec {
  readonly source: string;
  readonly destination: string;
  readonly readonly: boolean;
}

/** A volume mounted in a container. */
export interface MountedVolume extends VolumeSpec {
  readonly layer: TmpfsSuperBlock;
  readonly mount: Mount;
}

/** Largest volume the engine copies in (files, bytes). */
const MAX_ENTRIES = 4096;
const MAX_BYTES = 64 * 2 ** 20;

/** Parse `SRC:DST[:ro|rw]`: SRC a directory (made if missing), DST an absolute path. */
export function parseVolume(text: string): VolumeSpec {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3)
    throw new EngineError(`invalid volume '${text}': use HOST_DIR:CONTAINER_DIR[:ro]`);
  const [source = '', destination = '', mode = 'rw'] = parts;
  if (mode !== 'ro' && mode !== 'rw')
    throw new EngineError(`invalid volume mode '${mode}' in '${text}': ro or rw`);
  if (!isAbsolute(destination) || destination === '/' || destination.split('/').includes('..'))
    throw new EngineError(
      `invalid volume '${text}': the container path must be absolute, not / and without ..`,
    );
  if (['/proc', '/dev'].some((p) => destination === p || destination.startsWith(`${p}/`)))
    throw new EngineError(`invalid volume '${text}': ${destination} is a mount of the container itself`);
  // Docker reads a bare name as a named volume, which the engine does not have; a host path is
  // absolute or starts with ./ or ../ (resolved against the working directory, as Docker 23+ does).
  if (!isAbsolute(source) && !/^\.\.?(?:\/|$)/.test(source))
    throw new EngineError(
      `invalid volume '${text}': named volumes are not supported; give the host directory as an absolute or ./relative path`,
    );
  const path = resolve(source);
  // As Docker's -v does, a host directory that does not exist is made.
  if (!existsSync(path)) {
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new EngineError(`invalid volume '${text}': cannot make ${path} (${reason})`);
    }
  }
  if (!statSync(path).isDirectory())
    throw new EngineError(`invalid volume '${text}': ${path} is not a directory`);
  return { source: path, destination, readonly: mode === 'ro' };
}

/** The host directory as tree entries (files and directories; other kinds are refused). */
export function readHostDirectory(root: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let bytes = 0;
  const walk = (dir: string, path: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const info = lstatSync(full);
      const at = `${path}/${name}`;
      const base = { path: at, mode: info.mode & 0o7777, uid: 0, gid: 0 };
      if (entries.length >= MAX_ENTRIES)
        throw new EngineError(`volume ${root}: more than ${MAX_ENTRIES} entries`);
      if (info.isDirectory()) {
        entries.push({ ...base, type: 'dir' });
        walk(full, at);
      } else if (info.isFile()) {
        bytes += info.size;
        if (bytes > MAX_BYTES) throw new EngineError(`volume ${root}: more than ${MAX_BYTES} bytes`);
        entries.push({ ...base, type: 'file', content: new Uint8Array(readFileSync(full)) });
      } else throw new EngineError(`volume ${root}: ${at} is neither a file nor a directory`);
    }
  };
  walk(root, '');
  return entries;
}

/**
 * Copy each volume into the machine and mount it in container `cid`, parents before the volumes
 * nested in them (as Docker orders mounts). Throws EngineError for a duplicate mount point or a
 * container path that cannot be a mount point; the layers made so far are released then.
 */
export function mountVolumes(
  system: SimSystem,
  cid: number,
  volumes: readonly VolumeSpec[],
): MountedVolume[] {
  const seen = new Set<string>();
  for (const volume of volumes) {
    if (seen.has(volume.destination)) throw new EngineError(`Duplicate mount point: ${volume.destination}`);
    seen.add(volume.destination);
  }
  const depth = (path: string): number => path.split('/').length;
  const ordered = [...volumes].sort((a, b) => depth(a.destination) - depth(b.destination));
  const mounted: MountedVolume[] = [];
  try {
    for (const volume of ordered) {
      const entries = readHostDirectory(volume.source);
      const parent = mounted
        .filter((m) => volume.destination.startsWith(`${m.destination}/`))
        .reduce<MountedVolume | undefined>(
          (a, b) => (a === undefined || depth(b.destination) > depth(a.destination) ? b : a),
          undefined,
        );
      const path =
        parent === undefined ? volume.destination : volume.destination.slice(parent.destination.length);
      const layer = installImageTree(system, { entries, fileBytes: 0 });
      const mount = mountVolume(system, cid, layer, parent?.mount, path, volume.readonly);
      if (typeof mount === 'number') {
        discardLayer(system, layer);
        throw new EngineError(
          `invalid volume ${volume.source}:${volume.destination}: cannot mount on ${volume.destination}: ${strerror(-mount)}`,
        );
      }
      mounted.push({ ...volume, layer, mount });
    }
  } catch (error) {
    releaseVolumes(system, mounted);
    throw error;
  }
  return mounted;
}

/** Unmount volumes and give their host pages back (the container is gone or restarts). */
export function releaseVolumes(system: SimSystem, volumes: readonly MountedVolume[]): void {
  for (const volume of [...volumes].reverse()) {
    volume.mount.detach();
    discardLayer(system, volume.layer);
  }
}

/**
 * Write the read-write volumes back to their host directories; returns one line per path that
 * could not be written (the rest is written). A path that is a symlink on the host is skipped with
 * its subtree: the container's view never follows host symlinks, and write-back must not either
 * (it would write outside the directory).
 */
export function writeBackVolumes(system: SimSystem, volumes: readonly MountedVolume[]): string[] {
  const problems: string[] = [];
  for (const volume of volumes) {
    if (volume.readonly) continue;
    const skipped: string[] = [];
    for (const entry of readVolume(system, volume.layer)) {
      if (skipped.some((prefix) => entry.path.startsWith(`${prefix}/`))) continue;
      const target = join(volume.source, entry.path);
      try {
        if (isSymlink(target)) throw new Error('a symlink on the host');
        if (entry.type === 'dir') mkdirSync(target, { recursive: true });
        else if (entry.type === 'file') writeFileSync(target, entry.content, { mode: entry.mode });
      } catch (error) {
        skipped.push(entry.path);
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        problems.push(`volume ${volume.source}: ${entry.path} not written back (${reason})`);
      }
    }
  }
  return problems;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
