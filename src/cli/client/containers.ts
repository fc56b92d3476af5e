/**
 * `rcontainer create | start | stop | kill | rm | ps | inspect` against the daemon, with Docker's
 * names, columns and habits.
 */
import type { ContainerCommandOptions } from '../container-options.js';
import { parseMemorySize } from '../memory-size.js';
import { parseVolume } from '../volumes.js';
import { parsePort } from '../daemon/ports.js';
import { parseExecPolicy } from '../exec-policy.js';
import { SIG } from '../../kernel/uapi/flags.js';
import { EngineError } from '../errors.js';
import { containerPath, type ContainerInspect, type ContainerSummary, type CreateRequest } from './api.js';
import type { DaemonClient } from './connect.js';
import { withProgress } from './progress.js';
import { eachId, withDaemon, type ClientOptions } from './session.js';
import { printTable } from './table.js';
import { ago } from '../human-duration.js';

/** Options of `create` (and of `run` against the daemon). */
export interface CreateOptions extends ClientOptions, ContainerCommandOptions {}

/** The create request of an image, a command and the options. */
export function createRequest(
  image: string,
  command: readonly string[],
  options: CreateOptions,
  autoRemove = false,
): CreateRequest {
  const execPolicy = parseExecPolicy(options.execPolicy);
  if (options.user !== undefined && !/^\d+(?::\d+)?$/.test(options.user))
    throw new EngineError(`-u takes a numeric uid[:gid], not '${options.user}'`);
  return {
    image,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(command.length > 0 ? { cmd: [...command] } : {}),
    ...(options.env.length > 0 ? { env: options.env } : {}),
    ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.memory !== undefined ? { memory: parseMemorySize(options.memory) } : {}),
    ...(options.volume !== undefined && options.volume.length > 0
      ? { volumes: options.volume.map(parseVolume) }
      : {}),
    ...(execPolicy !== undefined ? { execPolicy } : {}),
    ...(options.interactive === true ? { openStdin: true } : {}),
    ...(options.tty === true ? { tty: true } : {}),
    ...(options.init === true ? { init: true } : {}),
    ...(options.publish !== undefined && options.publish.length > 0
      ? { ports: options.publish.map(parsePort) }
      : {}),
    ...(autoRemove ? { autoRemove: true } : {}),
  };
}

/** Create a container (making a built-in image can take a moment: progress on a terminal). */
export async function createContainer(client: DaemonClient, request: CreateRequest): Promise<string> {
  const created = await withProgress(
    `creating a container from ${request.image}`,
    client.json<{ id: string; name: string; warnings?: string[] }>('POST', '/containers/create', request),
  );
  for (const warning of created.warnings ?? []) console.error(`rcontainer: warning: ${warning}`);
  return created.id;
}

/** `create [options] IMAGE [COMMAND...]`: print the new container's id. */
export async function createCommand(
  image: string,
  command: string[],
  options: CreateOptions,
): Promise<number> {
  const request = createRequest(image, command, options);
  return withDaemon(options, async (client) => {
    console.log(await createContainer(client, request));
    return 0;
  });
}

/** `start ID...`. */
export async function startCommand(ids: string[], options: ClientOptions): Promise<number> {
  return withDaemon(options, (client) =>
    eachId(ids, async (id) => {
      await client.call('POST', containerPath(id, '/start'));
    }),
  );
}

/** `stop [-t N] ID...`: SIGTERM, then SIGKILL after N simulated seconds. */
export async function stopCommand(
  ids: string[],
  options: ClientOptions & { time?: string },
): Promise<number> {
  const query = options.time === undefined ? '' : `?t=${seconds('stop', options.time)}`;
  return withDaemon(options, (client) =>
    eachId(ids, (id) =>
      withProgress(`stopping ${id}`, client.call('POST', containerPath(id, `/stop${query}`))).then(() => {}),
    ),
  );
}

/** `restart [-t SECONDS] ID...`: stop (as `stop` does, if it runs), then start again. */
export async function restartCommand(
  ids: string[],
  options: ClientOptions & { time?: string },
): Promise<number> {
  const query = options.time === undefined ? '' : `?t=${seconds('restart', options.time)}`;
  return withDaemon(options, (client) =>
    eachId(ids, (id) =>
      withProgress(`restarting ${id}`, client.call('POST', containerPath(id, `/restart${query}`))).then(
        () => {},
      ),
    ),
  );
}

/** `wait ID...`: block until each stops and print its exit code (as Docker, exit 0; 125 on errors). */
export async function waitCommand(ids: string[], options: ClientOptions): Promise<number> {
  return withDaemon(options, async (client) => {
    let failed = false;
    for (const id of ids) {
      try {
        const { exitCode } = await client.json<{ exitCode: number }>('POST', containerPath(id, '/wait'));
        console.log(exitCode);
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        console.error(`rcontainer: ${error.message}`);
        failed = true;
      }
    }
    return failed ? 125 : 0;
  });
}

/** `kill [-s SIGNAL] ID...` (a name, with or without SIG, or a number; default KILL). */
export async function killCommand(
  ids: string[],
  options: ClientOptions & { signal?: string },
): Promise<number> {
  const signal = signalNumber(options.signal ?? 'KILL');
  return withDaemon(options, (client) =>
    eachId(ids, async (id) => {
      await client.call('POST', containerPath(id, `/kill?signal=${signal}`));
    }),
  );
}

/** `rm [-f] ID...`. */
export async function rmCommand(
  ids: string[],
  options: ClientOptions & { force?: boolean },
): Promise<number> {
  const query = options.force === true ? '?force=1' : '';
  return withDaemon(options, (client) =>
    eachId(ids, async (id) => {
      await client.call('DELETE', containerPath(id, query));
    }),
  );
}

/** `ps [-a] [-q] [--json]`: CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES (-q: the ids). */
export async function psCommand(
  options: ClientOptions & { all?: boolean; json?: boolean; quiet?: boolean },
): Promise<number> {
  return withDaemon(options, async (client) => {
    const rows = await client.json<ContainerSummary[]>(
      'GET',
      `/containers/json${options.all === true ? '?all=1' : ''}`,
    );
    if (options.json === true) {
      console.log(JSON.stringify(rows, undefined, 2));
      return 0;
    }
    if (options.quiet === true) {
      for (const row of rows) console.log(row.id.slice(0, 12));
      return 0;
    }
    const now = Date.now();
    printTable(
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      rows.map((row) => [
        row.id.slice(0, 12),
        row.image,
        quoteCommand(row.command),
        ago(row.createdAt, now),
        statusOf(row),
        row.ports ?? '',
        row.name,
      ]),
    );
    return 0;
  });
}

/** `inspect ID...`: a JSON array of the containers' details, as `docker inspect` prints. */
export async function inspectCommand(ids: string[], options: ClientOptions): Promise<number> {
  return withDaemon(options, async (client) => {
    const found: ContainerInspect[] = [];
    let failed = false;
    for (const id of ids) {
      try {
        found.push(await client.json<ContainerInspect>('GET', containerPath(id, '/json')));
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        console.error(`rcontainer: ${error.message}`);
        failed = true;
      }
    }
    console.log(JSON.stringify(found, undefined, 4));
    return failed ? 125 : 0;
  });
}

/** Docker's STATUS column: `Up`, `Exited (N)`, `Created`. */
function statusOf(row: ContainerSummary): string {
  if (row.status !== undefined && row.status !== '') return row.status;
  switch (row.state) {
    case 'running':
      return 'Up';
    case 'exited':
      return `Exited (${row.exitCode ?? 0})`;
    case 'created':
      return 'Created';
    default:
      return row.state.charAt(0).toUpperCase() + row.state.slice(1);
  }
}

/** Docker's COMMAND column: quoted, cut to 20 characters with an ellipsis. */
function quoteCommand(command: string | readonly string[]): string {
  const text = typeof command === 'string' ? command : command.join(' ');
  return `"${text.length > 20 ? `${text.slice(0, 19)}…` : text}"`;
}

/** `-t N` of `command`: whole seconds. */
function seconds(command: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new EngineError(`${command}: -t takes whole seconds, not '${text}'`);
  return Number(text);
}

/** A signal by name (`TERM`, `SIGTERM`, any case) or number (1..64). */
export function signalNumber(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = text.toUpperCase().replace(/^SIG/, '');
    if (Object.hasOwn(SIG, name)) return SIG[name as keyof typeof SIG];
  }
  throw new EngineError(`invalid signal: ${text}`);
}
