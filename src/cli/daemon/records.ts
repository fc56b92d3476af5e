/**
 * What the daemon keeps of a container on disk, under `<state>/containers/<id>/`: `config.json`
 * (the OCI runtime spec), `meta.json` (name, image, state, exit code ...) and `console.log` (its
 * console output, appended as it appears). This is all that survives a daemon restart.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseRuntimeSpec, type RuntimeSpec } from '../../runtime/bundle/spec.js';
import { ContainerState } from '../../runtime/engine/lifecycle.js';

const metaSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().min(1),
  serial: z.number().int().min(0),
  image: z.string(),
  imageId: z.string(),
  imageDigest: z.string(),
  state: z.enum(Object.values(ContainerState) as [ContainerState, ...ContainerState[]]),
  exitCode: z.number().int(),
  createdNs: z.number().min(0),
  /** The container id on the machine (the mini-OS's cid); undefined once the machine restarted. */
  cid: z.number().int().optional(),
  autoRemove: z.boolean(),
  measurements: z.object({
    imageDigest: z.string(),
    configDigest: z.string(),
    binaries: z.array(z.object({ path: z.string(), digest: z.string() })),
  }),
});

/** meta.json of a container. */
export type ContainerMeta = z.output<typeof metaSchema>;

/** A container's directory, config and meta as read back from disk. */
export interface StoredContainer {
  readonly meta: ContainerMeta;
  readonly spec: RuntimeSpec;
}

/** The containers directory of a state directory. */
export function containersDir(stateDir: string): string {
  return join(stateDir, 'containers');
}

/** Write config.json and meta.json of a new container (and an empty console.log). */
export function writeContainer(stateDir: string, meta: ContainerMeta, spec: RuntimeSpec): void {
  const dir = join(containersDir(stateDir), meta.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(spec, undefined, 2)}\n`);
  writeFileSync(join(dir, 'console.log'), '');
  writeMeta(stateDir, meta);
}

/** Rewrite meta.json. */
export function writeMeta(stateDir: string, meta: ContainerMeta): void {
  const dir = join(containersDir(stateDir), meta.id);
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, undefined, 2)}\n`);
}

/** Append console output to console.log. */
export function appendConsole(stateDir: string, id: string, bytes: Uint8Array): void {
  appendFileSync(join(containersDir(stateDir), id, 'console.log'), bytes);
}

/** console.log from byte `since` on (empty if there is none). */
export function readConsole(stateDir: string, id: string, since = 0): Uint8Array {
  const path = join(containersDir(stateDir), id, 'console.log');
  if (!existsSync(path)) return new Uint8Array(0);
  // Only the part asked for is read: a followed log asks for its tail again and again.
  const fd = openSync(path, 'r');
  try {
    const length = Math.max(0, fstatSync(fd).size - since);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, since + done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Delete a container's directory. */
export function deleteContainer(stateDir: string, id: string): void {
  rmSync(join(containersDir(stateDir), id), { recursive: true, force: true });
}

/** Every container stored under `stateDir`, by serial; unreadable entries are reported and skipped. */
export function loadContainers(stateDir: string, warn: (message: string) => void): StoredContainer[] {
  const root = containersDir(stateDir);
  if (!existsSync(root)) return [];
  const out: StoredContainer[] = [];
  for (const entry of readdirSync(root)) {
    const dir = join(root, entry);
    if (!statSync(dir).isDirectory()) continue;
    try {
      const meta = metaSchema.parse(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')));
      const spec = parseRuntimeSpec(readFileSync(join(dir, 'config.json'), 'utf8'));
      out.push({ meta, spec });
    } catch (error) {
      warn(`skipping container ${entry}: ${(error as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  return out.sort((a, b) => a.meta.serial - b.meta.serial);
}
