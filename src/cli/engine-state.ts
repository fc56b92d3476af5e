/**
 * Where the engine keeps its state (images, and later containers and logs): `--state-dir`, else
 * `RCONTAINER_STATE`, else `~/.rcontainer`; and the image store opened on it with the programs
 * the built-in images are made of.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ImageStore } from '../runtime/image/index.js';
import { APPLET_NAMES, PROGRAM_NAMES } from '../user/programs/index.js';
import { executableImage } from '../user/program.js';

/** The state directory for these options (created if missing). */
export function stateDir(option: string | undefined): string {
  const dir = resolve(option ?? process.env.RCONTAINER_STATE ?? join(homedir(), '.rcontainer'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The image store of a state directory. */
export function openImages(dir: string): ImageStore {
  return ImageStore.open(dir, {
    programs: { executableImage, programNames: PROGRAM_NAMES, appletNames: APPLET_NAMES },
  });
}
