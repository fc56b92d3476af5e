/**
 * `rcontainer cp SRC DEST`: copy one file between the host and a running container, where one side
 * is `CONTAINER:PATH`, as `docker cp` does for a file. It goes through the container's own
 * programs as execs (its exec policy applies; `deny` refuses it): `cat PATH` to copy out, `sh -c
 * 'cat > "$1"'` with the file as standard input to copy in. So a copy out reveals the file to the
 * host exactly as any exec's output does (DESIGN.md §5: what leaves through exec is the owner's
 * choice), and a copy in is written by the container itself into its sealed disk.
 *
 * SIMPLIFICATION: single regular files (at most 16 MiB in); no directories (the images have no
 * tar), no ownership or mode copied (a copy in gets the container's umask).
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EngineError } from '../errors.js';
import { containerPath } from './api.js';
import { ApiError, type DaemonClient } from './connect.js';
import { Demultiplexer } from './demux.js';
import { withDaemon, type ClientOptions } from './session.js';

/** Largest file copied into a container (the exec's input is sent whole). */
const MAX_COPY_IN_BYTES = 16 * 2 ** 20;

/** One side of a copy: a host path, or a path in a container. */
type Side = { readonly container: string; readonly path: string } | { readonly host: string };

/** `CONTAINER:PATH` (an absolute path) or a host path. */
function sideOf(text: string): Side {
  const colon = text.indexOf(':');
  // A host path with a colon can be given as ./name:x, as with Docker.
  if (colon <= 0 || text.startsWith('.') || text.startsWith('/')) return { host: text };
  const path = text.slice(colon + 1);
  if (!path.startsWith('/'))
    throw new EngineError(`cp: the path in ${text} must be absolute (CONTAINER:/path)`);
  return { container: text.slice(0, colon), path };
}

/** `cp SRC DEST`; 0 when the file was copied. */
export async function cpCommand(src: string, dest: string, options: ClientOptions): Promise<number> {
  const from = sideOf(src);
  const to = sideOf(dest);
  if ('container' in from && 'container' in to)
    throw new EngineError('cp: copying between two containers is not supported; copy through the host');
  if ('host' in from && 'host' in to) throw new EngineError('cp: one side must be CONTAINER:PATH');
  return withDaemon(options, async (client) => {
    if ('container' in from && 'host' in to) await copyOut(client, from, to.host);
    else if ('host' in from && 'container' in to) await copyIn(client, from.host, to);
    return 0;
  });
}

/** The output, error text and exit code of `cmd` run in `container` with `stdin`. */
async function run(
  client: DaemonClient,
  container: string,
  cmd: string[],
  stdin?: Uint8Array,
): Promise<{ stdout: Buffer; stderr: string; exitCode: number | null }> {
  const body = {
    cmd,
    stream: true,
    ...(stdin !== undefined ? { stdin: Buffer.from(stdin).toString('base64') } : {}),
  };
  const { id } = await client.json<{ id: string }>('POST', containerPath(container, '/exec'), body);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const demux = new Demultiplexer((stream, bytes) => (stream === 2 ? err : out).push(Buffer.from(bytes)));
  await client.stream('GET', `/exec/${id}/output`, (chunk) => demux.push(chunk));
  const { exitCode } = await client.json<{ exitCode: number | null }>('GET', `/exec/${id}/json`);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8').trim(), exitCode };
}

/** The first line of what a failed exec said, for a one-line error. */
function reason(result: { stderr: string; exitCode: number | null }): string {
  const line = result.stderr.split('\n')[0];
  return line !== undefined && line !== '' ? line : `exit code ${result.exitCode ?? 'unknown'}`;
}

async function copyOut(
  client: DaemonClient,
  from: { container: string; path: string },
  host: string,
): Promise<void> {
  const result = await run(client, from.container, ['cat', from.path]).catch(denied);
  if (result.exitCode !== 0) throw new EngineError(`cp: ${from.container}:${from.path}: ${reason(result)}`);
  let target = host;
  if (isHostDirectory(host)) target = join(host, basename(from.path));
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, result.stdout);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new EngineError(`cp: cannot write ${target}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

async function copyIn(
  client: DaemonClient,
  host: string,
  to: { container: string; path: string },
): Promise<void> {
  let bytes: Buffer;
  try {
    if (statSync(host).isDirectory())
      throw new EngineError(`cp: ${host} is a directory; cp copies single files`);
    bytes = readFileSync(host);
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError(`cp: cannot read ${host}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  if (bytes.length > MAX_COPY_IN_BYTES)
    throw new EngineError(`cp: ${host} is larger than ${MAX_COPY_IN_BYTES} bytes`);
  // A destination ending in / is a directory: the file keeps its name there, as with Docker.
  const path = to.path.endsWith('/') ? `${to.path}${basename(host)}` : to.path;
  const result = await run(client, to.container, ['sh', '-c', 'cat > "$1"', 'sh', path], bytes).catch(denied);
  if (result.exitCode !== 0) throw new EngineError(`cp: ${to.container}:${path}: ${reason(result)}`);
}

function isHostDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** An exec the daemon refused (not running, its policy denies exec): cp's one-line error. */
function denied(error: unknown): never {
  if (error instanceof ApiError) throw new EngineError(`cp: ${error.message}`);
  throw error;
}
