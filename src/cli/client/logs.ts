/** `rcontainer logs [-f] ID`, and following a container's console output until it exits. */
import { containerPath, type ContainerInspect } from './api.js';
import type { DaemonClient } from './connect.js';
import { toTerminal } from './demux.js';
import { withDaemon, type ClientOptions } from './session.js';

/** Write a container's console output (its stdout to stdout, its stderr to stderr). */
export async function writeLogs(client: DaemonClient, id: string): Promise<void> {
  const response = await client.call('GET', containerPath(id, '/logs?multiplex=1'));
  toTerminal().push(response.body);
}

/**
 * Write a container's output as it comes (the daemon streams it) until it stops running; returns
 * its last details.
 */
export async function followLogs(client: DaemonClient, id: string, since = 0): Promise<ContainerInspect> {
  const terminal = toTerminal();
  await client.stream('GET', containerPath(id, `/logs?follow=1&multiplex=1&since=${since}`), (chunk) =>
    terminal.push(chunk),
  );
  return client.json<ContainerInspect>('GET', containerPath(id, '/json'));
}

/** `logs [-f] ID`. */
export async function logsCommand(
  id: string,
  options: ClientOptions & { follow?: boolean },
): Promise<number> {
  return withDaemon(options, async (client) => {
    if (options.follow === true) await followLogs(client, id);
    else await writeLogs(client, id);
    return 0;
  });
}
