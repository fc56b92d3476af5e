/**
 * Containers from OCI images in two steps, as the daemon needs them: `create` builds the runtime
 * spec and makes the container on the machine (image tree as its read-only layer, executables and
 * image config measured) without starting anything; `start` starts its init from the spec. The
 * same spec (config.json) re-creates the container on a fresh machine after a daemon restart.
 * (src/designs/image-container.ts runImage does both at once for `run --rm`.)
 */
import { createHash } from 'node:crypto';
import { installImageTree } from '../../designs/image-container.js';
import type { SimSystem } from '../../designs/system.js';
import type { ThreadGroup } from '../../kernel/core/task.js';
import { ExecPolicy } from '../../minios/abi.js';
import { specFromImage, type RunOptions, type RuntimeSpec } from '../../runtime/bundle/spec.js';
import {
  imageRunConfig,
  listExecutables,
  type ImageRecord,
  type ImageStore,
} from '../../runtime/image/index.js';

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
export interface SimContainer {
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
export async function createSimContainer(
  system: SimSystem,
  store: ImageStore,
  image: ImageRecord,
  spec: RuntimeSpec,
): Promise<SimContainer> {
  const tree = await store.unpack(image);
  const executables = listExecutables(tree);
  const binaries = executables.map(
    (e) => new Uint8Array(Buffer.from(e.digest.slice('sha256:'.length), 'hex')),
  );
  const config = store.readBlob(image.configDigest);
  const layer = installImageTree(system, tree);
  const cid = system.createContainer({
    layers: [layer],
    binaries,
    config,
    policy: ExecPolicy.MeasuredOnly,
    ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
  });
  return {
    cid,
    measurements: {
      imageDigest: `sha256:${binaryListDigest(binaries)}`,
      configDigest: `sha256:${createHash('sha256').update(config).digest('hex')}`,
      binaries: executables.map((e) => ({ path: e.path, digest: e.digest })),
    },
  };
}

/** Start the init of container `cid` as `spec.process` says (throws SpawnError if it cannot). */
export function startSimInit(system: SimSystem, cid: number, spec: RuntimeSpec): ThreadGroup {
  return system.startProcess(cid, {
    argv: spec.process.args,
    env: spec.process.env ?? [],
    cwd: spec.process.cwd,
    ...(spec.process.user !== undefined ? { uid: spec.process.user.uid, gid: spec.process.user.gid } : {}),
  });
}

/** SHA-256 (hex) of the binary list as rc_create_container measures it (minios/calls.ts). */
function binaryListDigest(binaries: readonly Uint8Array[]): string {
  const count = Buffer.alloc(4);
  count.writeUInt32LE(binaries.length, 0);
  const hash = createHash('sha256').update(count);
  for (const b of binaries) hash.update(b);
  return hash.digest('hex');
}
