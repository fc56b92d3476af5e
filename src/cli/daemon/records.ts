/**
 * What the daemon keeps of a container on disk, under `<state>/containers/<id>/`: `config.json`
 * (the OCI runtime spec), `meta.json` (name, image, state, exit code ...), `console.log` (its
 * console output, appended as it appears) and `console.streams` (which stream each run of it came
 * from: console-log.ts). This is all that survives a daemon restart.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  /** Host times (ISO 8601) of creation, the last start and the last exit: engine records, not the model's. */
  createdAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
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
  writeFileSync(join(dir, 'console.streams'), '');
  writeMeta(stateDir, meta);
}

/** Rewrite meta.json. */
export function writeMeta(stateDir: string, meta: ContainerMeta): void {
  const dir = join(containersDir(stateDir), meta.id);
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, undefined, 2)}\n`);
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
