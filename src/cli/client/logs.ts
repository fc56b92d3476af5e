/** `rcontainer logs [-f] ID`, and following a container's console output until it exits. */
import { containerPath, type ContainerInspect } from './api.js';
import type { DaemonClient } from './connect.js';
import { toTerminal } from './demux.js';
import { EngineError } from '../errors.js';
import { withDaemon, type ClientOptions } from './session.js';

/** Write a container's console output (its stdout to stdout, its stderr to stderr). */
export async function writeLogs(client: DaemonClient, id: string, tail = ''): Promise<void> {
  const response = await client.call('GET', containerPath(id, `/logs?multiplex=1${tail}`));
  toTerminal().push(response.body);
}

/**
 * Write a container's output as it comes (the daemon streams it) until it stops running; returns
 * its last details.
 */
export async function followLogs(
  client: DaemonClient,
  id: string,
  since = 0,
  tail = '',
): Promise<ContainerInspect> {
  const terminal = toTerminal();
  const path = containerPath(id, `/logs?follow=1&multiplex=1&since=${since}${tail}`);
  await client.stream('GET', path, (chunk) => terminal.push(chunk));
  return client.json<ContainerInspect>('GET', containerPath(id, '/json'));
}

/** `logs [-f] ID`. */
export async function logsCommand(
  id: string,
  options: ClientOptions & { follow?: boolean; tail?: string },
): Promise<number> {
  const tail = options.tail === undefined || options.tail === 'all' ? '' : `&tail=${lineCount(options.tail)}`;
  return withDaemon(options, async (client) => {
    if (options.follow === true) await followLogs(client, id, 0, tail);
    else await writeLogs(client, id, tail);
    return 0;
  });
}

/** `--tail N`: a line count. */
function lineCount(text: string): number {
  if (!/^\d+$/.test(text)) throw new EngineError(`--tail takes a number of lines or 'all', not '${text}'`);
  return Number(text);
}
