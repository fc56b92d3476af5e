/**
 * GET /containers/{id}/top: its processes as the kernel sees them (`docker top`).
 * GET /containers/{id}/stats: what a container holds on the machine now, as `docker stats
 * --no-stream` shows it: user memory charged to it against its limit, its processes, and under
 * rcontainer the granules the mini-OS has given it (CTR: its memory, SHIM: its con-shim and the
 * kernel's data for it, PT: its page tables), which no other view can reach.
 */
import { RcontainerPlatform } from '../../designs/rcontainer.js';
import { Owner } from '../../minios/abi.js';
import type { Engine } from './engine.js';

/** The answer of GET /containers/{id}/stats. */
export interface StatsAnswer {
  readonly id: string;
  readonly name: string;
  readonly memory: { readonly usage: number; readonly limit: number | null };
  readonly pids: number;
  /** Granules owned by the container (rcontainer; null under native). */
  readonly granules: { readonly ctr: number; readonly shim: number; readonly pt: number } | null;
}

/** The stats of container `ref` (zeros when it has no state on the machine). */
export function statsOf(engine: Engine, ref: string): StatsAnswer {
  const { meta, live } = engine.find(ref);
  const system = engine.system;
  const cid = live?.cid;
  let pids = 0;
  if (cid !== undefined)
    for (const group of system.kernel.allGroups()) if (group.cid === cid && !group.zombie) pids++;
  const platform = system.platform;
  const ownership = platform instanceof RcontainerPlatform ? platform.trusted.minios.ownership : undefined;
  return {
    id: meta.id,
    name: meta.name,
    memory: {
      usage: cid === undefined ? 0 : system.kernel.memory.usageOf(cid),
      limit: cid === undefined ? null : (system.kernel.memory.limitOf(cid) ?? null),
    },
    pids,
    granules:
      ownership === undefined
        ? null
        : {
            ctr: cid === undefined ? 0 : ownership.count(Owner.Ctr, cid),
            shim: cid === undefined ? 0 : ownership.count(Owner.Shim, cid),
            pt: cid === undefined ? 0 : ownership.count(Owner.Pt, cid),
          },
  };
}

/** One process of GET /containers/{id}/top. */
export interface TopProcess {
  /** Pid on the machine (the host's pid namespace). */
  readonly pid: number;
  /** Pid in the container's pid namespace. */
  readonly containerPid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly threads: number;
  /** R (running or runnable) or S (sleeping). */
  readonly state: string;
  readonly command: string;
}

/** The live processes of container `ref` (`docker top`): what its kernel schedules, oldest first. */
export function topOf(engine: Engine, ref: string): TopProcess[] {
  const { live } = engine.find(ref);
  if (live === undefined) return [];
  const kernel = engine.system.kernel;
  const rootPid = kernel.rootNs.pid;
  const out: TopProcess[] = [];
  for (const group of kernel.allGroups()) {
    if (group.cid !== live.cid || group.zombie) continue;
    const threads = [...group.threads];
    const leader = threads[0];
    const inner = leader?.ns.pid;
    out.push({
      pid: group.pidIn(rootPid),
      containerPid: inner === undefined ? 0 : group.pidIn(inner),
      ppid: group.parent?.pidIn(rootPid) ?? 0,
      uid: leader?.cred.euid ?? 0,
      threads: threads.length,
      state: threads.some((t) => t.state === 'running' || t.state === 'runnable') ? 'R' : 'S',
      command: group.exePath === '' ? group.comm : group.exePath,
    });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
