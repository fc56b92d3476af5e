/** `rcontainer logs [-f] ID`, and following a container's console output until it exits. */
import { containerPath, type ContainerInspect } from './api.js';
import type { DaemonClient } from './connect.js';
import { withDaemon, type ClientOptions } from './session.js';

/** Write a container's console output from byte `since` on; returns the new offset. */
export async function writeLogs(client: DaemonClient, id: string, since: number): Promise<number> {
  const response = await client.call('GET', containerPath(id, `/logs?since=${since}`));
  if (response.body.length > 0) process.stdout.write(new Uint8Array(response.body));
  return since + response.body.length;
}

/**
 * Write a container's output as it comes (the daemon streams it) until it stops running; returns
 * its last details.
 */
export async function followLogs(client: DaemonClient, id: string, since = 0): Promise<ContainerInspect> {
  await client.stream('GET', containerPath(id, `/logs?follow=1&since=${since}`), (chunk) =>
    process.stdout.write(new Uint8Array(chunk)),
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
    else await writeLogs(client, id, 0);
    return 0;
  });
}
