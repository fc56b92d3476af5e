/**
 * `rcontainer stats [--json] [CONTAINER...]`: what running containers (or the ones named) hold on
 * the daemon's machine now, as `docker stats --no-stream` shows it, with the granules the mini-OS
 * gave each under rcontainer. `rcontainer top CONTAINER`: its processes, as `docker top`.
 */
import type { StatsAnswer as Stats, TopProcess } from '../daemon/stats.js';
import { containerPath, type ContainerSummary } from './api.js';
import { withDaemon, type ClientOptions } from './session.js';
import { printTable } from './table.js';

/** Docker's sizes: 1.5MiB, 64MiB, 812KiB. */
function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1).replace(/\.0+$/, '')}${units[unit]}`;
}

/** `stats [--json] [CONTAINER...]` (running containers when none is named). */
export async function statsCommand(
  ids: string[],
  options: ClientOptions & { json?: boolean },
): Promise<number> {
  return withDaemon(options, async (client) => {
    const refs =
      ids.length > 0
        ? ids
        : (await client.json<ContainerSummary[]>('GET', '/containers/json')).map((c) => c.id);
    const rows: Stats[] = [];
    for (const ref of refs) rows.push(await client.json<Stats>('GET', containerPath(ref, '/stats')));
    if (options.json === true) {
      console.log(JSON.stringify(rows, undefined, 2));
      return 0;
    }
    printTable(
      ['CONTAINER ID', 'NAME', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS', 'GRANULES CTR/SHIM/PT'],
      rows.map((r) => [
        r.id.slice(0, 12),
        r.name,
        `${size(r.memory.usage)} / ${r.memory.limit === null ? 'unlimited' : size(r.memory.limit)}`,
        r.memory.limit === null ? '--' : `${((100 * r.memory.usage) / r.memory.limit).toFixed(2)}%`,
        String(r.pids),
        r.granules === null ? '-- (native)' : `${r.granules.ctr}/${r.granules.shim}/${r.granules.pt}`,
      ]),
    );
    return 0;
  });
}

/** `top [--json] CONTAINER`. */
export async function topCommand(id: string, options: ClientOptions & { json?: boolean }): Promise<number> {
  return withDaemon(options, async (client) => {
    const processes = await client.json<TopProcess[]>('GET', containerPath(id, '/top'));
    if (options.json === true) {
      console.log(JSON.stringify(processes, undefined, 2));
      return 0;
    }
    printTable(
      ['UID', 'PID', 'PPID', 'PID (CONTAINER)', 'THREADS', 'STATE', 'CMD'],
      processes.map((p) => [
        String(p.uid),
        String(p.pid),
        String(p.ppid),
        String(p.containerPid),
        String(p.threads),
        p.state,
        p.command,
      ]),
    );
    return 0;
  });
}
