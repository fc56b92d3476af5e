/** `rcontainer logs [-f] ID`, and following a container's console output until it exits. */
import { containerPath, isRunning, type ContainerInspect } from './api.js';
import type { DaemonClient } from './connect.js';
import { sleep, withDaemon, type ClientOptions } from './session.js';

/** Host time between two polls of a followed container. */
const POLL_MS = 50;

/** Write a container's console output from byte `since` on; returns the new offset. */
export async function writeLogs(client: DaemonClient, id: string, since: number): Promise<number> {
  const response = await client.call('GET', containerPath(id, `/logs?since=${since}`));
  if (response.body.length > 0) process.stdout.write(new Uint8Array(response.body));
  return since + response.body.length;
}

/**
 * Write a container's output as it comes until it stops running (polling; the API has no
 * stream); returns its last details.
 */
export async function followLogs(client: DaemonClient, id: string, since = 0): Promise<ContainerInspect> {
  let offset = since;
  for (;;) {
    const details = await client.json<ContainerInspect>('GET', containerPath(id, '/json'));
    offset = await writeLogs(client, id, offset);
    if (!isRunning(details.state)) return details;
    await sleep(POLL_MS);
  }
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
