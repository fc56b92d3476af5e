/**
 * The run parameters of an image config, with Docker's defaults filled in (null or missing lists
 * are empty, the working directory defaults to `/`, the user to root), as the engine needs them to
 * start a container's first process.
 */
import type { ImageConfig } from './schema.js';

/** How an image says its first process runs. */
export interface ImageRunConfig {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  /** `user[:group]` as written in the config, '' for root. */
  readonly user: string;
  /** e.g. `8080/tcp`, sorted. */
  readonly exposedPorts: readonly string[];
}

/** The run parameters of `config`. */
export function imageRunConfig(config: ImageConfig): ImageRunConfig {
  const run = config.config ?? {};
  return {
    entrypoint: run.Entrypoint ?? [],
    cmd: run.Cmd ?? [],
    env: run.Env ?? [],
    workingDir: run.WorkingDir === undefined || run.WorkingDir === '' ? '/' : run.WorkingDir,
    user: run.User ?? '',
    exposedPorts: Object.keys(run.ExposedPorts ?? {}).sort(),
  };
}
