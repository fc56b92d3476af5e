/**
 * Containers from OCI images on a simulated system: the image's unpacked tree becomes a read-only
 * lower layer (a tmpfs owned by the host: image files are not secret, they are measured), every
 * executable's SHA-256 goes into the container's measured launch data (the mini-OS's measuredOnly
 * exec policy then admits exactly those binaries), the image configuration is the measured config,
 * and the process comes from the OCI runtime spec built from the image and the run options.
 */
import { createHash } from 'node:crypto';
import type { ThreadGroup } from '../kernel/core/task.js';
import { fsCtxFor, populate } from '../kernel/fs/vfs.js';
import type { Inode } from '../kernel/fs/inode.js';
import type { Mount } from '../kernel/fs/mount.js';
import type { TmpfsSuperBlock } from '../kernel/fs/tmpfs.js';
import { Errno } from '../kernel/uapi/errno.js';
import { MS, S } from '../kernel/uapi/flags.js';
import {
  EXEC_POLICY_CODES,
  execPolicyOf,
  specFromImage,
  type RunOptions,
  type RuntimeSpec,
} from '../runtime/bundle/spec.js';
import {
  imageRunConfig,
  listExecutables,
  measuredBinaryListDigest,
  type ImageRecord,
  type ImageStore,
  type ImageTree,
  type TreeEntry,
} from '../runtime/image/index.js';
import type { SimSystem } from './system.js';

/** A container made from an image and started. */
export interface ImageContainer {
  readonly cid: number;
  readonly image: ImageRecord;
  readonly spec: RuntimeSpec;
  /** What the mini-OS measured (the image's executables among them). */
  readonly measurements: ContainerMeasurements;
}

/** Install an unpacked image as a read-only layer (files, directories, links with their modes). */
export function installImageTree(system: SimSystem, tree: ImageTree): TmpfsSuperBlock {
  const pe = system.machine.pes[0]!;
  const ctx = fsCtxFor(pe, system.kernel, () => system.kernel.nanoseconds(pe));
  const layer = system.vfs.createLayer(ctx, 0);
  for (const entry of tree.entries) {
    if (entry.path === '/') continue;
    const owner = { uid: entry.uid, gid: entry.gid };
    let result = 0;
    if (entry.type === 'dir') result = makeDirectory(ctx, layer.root, entry.path, entry.mode, owner);
    else if (entry.type === 'symlink')
      result = populate(ctx, layer.root, entry.path, new Uint8Array(0), 0o777, {
        ...owner,
        symlink: entry.target,
      });
    else result = populate(ctx, layer.root, entry.path, entry.content, entry.mode, owner);
    if (result < 0) throw new Error(`image: cannot install ${entry.path} (${result})`);
  }
  return layer;
}

/** Create the directory `path` under `root` with `mode` (its parents as 0755). */
function makeDirectory(
  ctx: Parameters<typeof populate>[0],
  root: Inode,
  path: string,
  mode: number,
  owner: { uid: number; gid: number },
): number {
  let dir = root;
  const parts = path.split('/').filter((p) => p !== '');
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    let child = dir.lookup?.(ctx, part);
    if (child === undefined) {
      const made = dir.create?.(ctx, part, { mode: S.IFDIR | (last ? mode : 0o755), ...owner });
      if (made === undefined || typeof made === 'number') return made ?? -20;
      child = made;
    } else if ((child.mode & S.IFMT) !== S.IFDIR) return -Errno.ENOTDIR;
    dir = child;
  }
  return 0;
}

/**
 * Create a container on `system` from image `ref` of `store` and start its process as the spec
 * built from the image and `run` says (what `run --rm` does; the daemon uses the two steps).
 */
export async function runImage(
  system: SimSystem,
  store: ImageStore,
  ref: string,
  run: RunOptions,
): Promise<ImageContainer> {
  const image = store.resolve(ref);
  const spec = specForImage(image, run);
  const created = await createImageContainer(system, store, image, spec);
  startImageInit(system, created.cid, spec);
  return { cid: created.cid, image, spec, measurements: created.measurements };
}

/** What the mini-OS measures for a container (hex SHA-256 digests, `sha256:` prefixed). */
export interface ContainerMeasurements {
  /** SHA-256 of the measured binary list (u32 count, then each binary's digest), as the report has it. */
  readonly imageDigest: string;
  /** SHA-256 of the image configuration blob (the measured config). */
  readonly configDigest: string;
  /** Every executable of the image with its digest, in path order. */
  readonly binaries: readonly { readonly path: string; readonly digest: string }[];
}

/** A container made on the machine, not started yet. */
export interface ImageContainerCreated {
  readonly cid: number;
  readonly measurements: ContainerMeasurements;
}

/** The OCI runtime spec of a container from `image` and the create options. */
export function specForImage(image: ImageRecord, run: RunOptions): RuntimeSpec {
  const config = imageRunConfig(image.config);
  return specFromImage(
    {
      Entrypoint: config.entrypoint,
      Cmd: config.cmd,
      Env: config.env,
      WorkingDir: config.workingDir,
      User: config.user,
    },
    run,
  );
}

/** Make a container for `spec` from `image` on `system` (measured, nothing started). */
export async function createImageContainer(
  system: SimSystem,
  store: ImageStore,
  image: ImageRecord,
  spec: RuntimeSpec,
): Promise<ImageContainerCreated> {
  const tree = await store.unpack(image);
  const executables = listExecutables(tree);
  const binaries = executables.map(
    (e) => new Uint8Array(Buffer.from(e.digest.slice('sha256:'.length), 'hex')),
  );
  const config = store.readBlob(image.configDigest);
  const memory = spec.linux?.resources?.memory?.limit;
  const layer = installImageTree(system, tree);
  const cid = system.createContainer({
    layers: [layer],
    binaries,
    config,
    policy: EXEC_POLICY_CODES[execPolicyOf(spec)],
    ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
    ...(memory !== undefined ? { memoryLimitBytes: memory } : {}),
  });
  return {
    cid,
    measurements: {
      imageDigest: `sha256:${measuredBinaryListDigest(executables)}`,
      configDigest: `sha256:${createHash('sha256').update(config).digest('hex')}`,
      binaries: executables.map((e) => ({ path: e.path, digest: e.digest })),
    },
  };
}

/** Start the init of container `cid` as `spec.process` says (throws SpawnError if it cannot). */
export function startImageInit(system: SimSystem, cid: number, spec: RuntimeSpec): ThreadGroup {
  return system.startProcess(cid, {
    argv: spec.process.args,
    env: spec.process.env ?? [],
    cwd: spec.process.cwd,
    ...(spec.process.user !== undefined ? { uid: spec.process.user.uid, gid: spec.process.user.gid } : {}),
  });
}

/**
 * Mount `layer` (a host tmpfs made with installImageTree from a host directory) at `path` below
 * `parent` (a mount of container `cid`'s namespace; its root mount when undefined), as an untrusted
 * volume (DESIGN.md §5): its pages are the host's, so it is mounted `noexec` (never mapped
 * executable), and read-only with `readonly`; those flags are locked against remounts. Missing directories of `path` are made, as runc
 * makes mount points. Returns the mount, or -ENOTDIR when a component of `path` is not a directory.
 */
export function mountVolume(
  system: SimSystem,
  cid: number,
  layer: TmpfsSuperBlock,
  parent: Mount | undefined,
  path: string,
  readonly: boolean,
): Mount | number {
  const ns = system.mountNamespace(cid);
  const pe = system.machine.pes[0]!;
  const ctx = fsCtxFor(pe, system.kernel, () => system.kernel.nanoseconds(pe));
  const on = parent ?? ns.root;
  const made = makeDirectory(ctx, on.root, path, 0o755, { uid: 0, gid: 0 });
  if (made < 0) return made;
  let point: Inode = on.root;
  for (const part of path.split('/').filter((p) => p !== '')) point = point.lookup!(ctx, part)!;
  const flags = MS.NOEXEC | MS.NOSUID | MS.NODEV | (readonly ? MS.RDONLY : 0);
  const mount = ns.newMount(layer, layer.root, 'volume', flags);
  mount.lockedFlags = flags; // the container cannot remount it exec (or rw)
  on.attach(mount, point);
  return mount;
}

/**
 * Empty a volume's layer: its pages go back to the kernel (at once, or when the last open file
 * of one closes).
 */
export function discardLayer(system: SimSystem, layer: TmpfsSuperBlock): void {
  const pe = system.machine.pes[0]!;
  const ctx = fsCtxFor(pe, system.kernel, () => system.kernel.nanoseconds(pe));
  const empty = (dir: Inode): void => {
    for (const entry of dir.readdir?.(ctx) ?? []) {
      const child = dir.lookup?.(ctx, entry.name);
      if (child !== undefined && (child.mode & S.IFMT) === S.IFDIR) empty(child);
      dir.remove?.(ctx, entry.name);
    }
  };
  empty(layer.root);
}

/** The files and directories of a volume (for writing it back to the host directory). */
export function readVolume(system: SimSystem, layer: TmpfsSuperBlock): TreeEntry[] {
  const pe = system.machine.pes[0]!;
  const ctx = fsCtxFor(pe, system.kernel, () => system.kernel.nanoseconds(pe));
  const out: TreeEntry[] = [];
  const walk = (dir: Inode, path: string): void => {
    for (const entry of dir.readdir?.(ctx) ?? []) {
      const child = dir.lookup?.(ctx, entry.name);
      if (child === undefined) continue;
      const childPath = `${path}/${entry.name}`;
      const base = { path: childPath, mode: child.mode & 0o7777, uid: child.uid, gid: child.gid };
      const type = child.mode & S.IFMT;
      if (type === S.IFDIR) {
        out.push({ ...base, type: 'dir' });
        walk(child, childPath);
      } else if (type === S.IFREG) {
        const content = child.readKernel?.(ctx, 0, child.size) ?? new Uint8Array(0);
        out.push({ ...base, type: 'file', content });
      } else if (type === S.IFLNK)
        out.push({ ...base, type: 'symlink', target: child.readlink?.(ctx) ?? '' });
    }
  };
  walk(layer.root, '');
  return out;
}
