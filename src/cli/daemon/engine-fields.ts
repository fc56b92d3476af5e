/**
 * The engine's translations between requests, records and Docker's words: exit codes, STATUS,
 * users, environments and volumes of a create request.
 */
import { ContainerState } from '../../runtime/engine/lifecycle.js';
import type { RuntimeSpec } from '../../runtime/bundle/spec.js';
import { wExitStatus, wIfSignaled, wTermSig } from '../../kernel/uapi/flags.js';
import { EngineError } from '../errors.js';
import { ago, humanDuration } from '../human-duration.js';
import { parseVolume, type VolumeSpec } from '../volumes.js';
import { ApiError } from './errors.js';
import type { ContainerMeta } from './records.js';

/** Docker's exit code of a wait status: 128 + N for signal N. */
export function exitCodeOf(status: number): number {
  return wIfSignaled(status) ? 128 + wTermSig(status) : wExitStatus(status);
}

/** Docker's STATUS: "Up 5 seconds", "Exited (0) 2 minutes ago", "Created" (host time `now`). */
export function statusOf(meta: ContainerMeta, now: number): string {
  const since = (iso: string | undefined): number =>
    iso === undefined ? 0 : Math.max(0, now - Date.parse(iso));
  switch (meta.state) {
    case ContainerState.Created:
      return 'Created';
    case ContainerState.Running:
      return meta.startedAt === undefined ? 'Up' : `Up ${humanDuration(since(meta.startedAt))}`;
    case ContainerState.Exited:
      return meta.finishedAt === undefined
        ? `Exited (${meta.exitCode})`
        : `Exited (${meta.exitCode}) ${ago(meta.finishedAt, now)}`;
    case ContainerState.Removed:
      return 'Removed';
  }
}

/** `uid[:gid]`, numeric only. */
export function parseUser(user: string | undefined): { uid: number; gid: number } | undefined {
  if (user === undefined) return undefined;
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) throw new ApiError(`user must be a numeric uid[:gid], not '${user}'`, 400);
  const uid = Number(match[1]);
  return { uid, gid: match[2] === undefined ? uid : Number(match[2]) };
}

/** The container's environment with `extra` entries overriding by name. */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const entry of [...base, ...extra]) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ApiError(`environment entry '${entry}' is not NAME=value`, 400);
    out.set(entry.slice(0, eq), entry);
  }
  return [...out.values()];
}

/** The untrusted volumes of a spec (its bind mounts). */
export function volumesOf(spec: RuntimeSpec): VolumeSpec[] {
  return (spec.mounts ?? [])
    .filter((m) => m.type === 'bind' && m.source !== undefined)
    .map((m) => ({
      source: m.source!,
      destination: m.destination,
      readonly: (m.options ?? []).includes('ro'),
    }));
}

/** A volume of a create request, checked as `-v` checks it (400 when it is not usable). */
export function checkVolume(volume: { source: string; destination: string; readonly: boolean }): VolumeSpec {
  try {
    return parseVolume(`${volume.source}:${volume.destination}:${volume.readonly ? 'ro' : 'rw'}`);
  } catch (error) {
    if (error instanceof EngineError) throw new ApiError(error.message, 400);
    throw error;
  }
}
