/**
 * `rcontainer bench lifecycle`: the simulated time of create + start + stop + rm of a busybox
 * container under each design (what the kernel and, under rcontainer, the mini-OS do for it:
 * shim, measured launch, address spaces, task records, teardown and scrubbing), and the host time
 * the simulator took for it. The image is made once, outside the timed part.
 *
 * The stop is `docker stop -t 0`: SIGTERM, then SIGKILL. The container's init is busybox's `sleep`,
 * which has no SIGTERM handler, so as a namespace init it does not get SIGTERM at all
 * (pid_namespaces(7)); with a grace period the stop would only measure the wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installImageTree } from '../../designs/image-container.js';
import { DESIGNS, SimSystem, type DesignName } from '../../designs/system.js';
import { ExecPolicy } from '../../minios/abi.js';
import { ImageStore, listExecutables } from '../../runtime/image/index.js';
import { SIG } from '../../kernel/uapi/flags.js';
import { APPLET_NAMES, PROGRAM_NAMES } from '../../user/programs/index.js';
import { executableImage } from '../../user/program.js';

/** Results per design. */
export interface LifecycleBenchResult {
  /** Simulated milliseconds of create + start + stop + rm (median of the runs). */
  readonly simulatedMs: Readonly<Record<DesignName, number>>;
  /** Host milliseconds the simulator spent on it (median of the runs). */
  readonly hostMs: Readonly<Record<DesignName, number>>;
}

/** Options of the benchmark. */
export interface LifecycleBenchOptions {
  readonly runs: number;
  /** Host clock in nanoseconds (injected: the model never reads a clock). */
  readonly now: () => bigint;
}

/** One lifecycle: returns simulated and host nanoseconds. */
async function lifecycleOnce(
  design: DesignName,
  store: ImageStore,
  now: () => bigint,
): Promise<{ simNs: number; hostNs: number }> {
  const image = store.resolve('busybox');
  const tree = await store.unpack(image);
  const binaries = listExecutables(tree).map((e) => new Uint8Array(Buffer.from(e.digest.slice(7), 'hex')));
  const config = store.readBlob(image.configDigest);
  const system = new SimSystem({ design });
  const layer = installImageTree(system, tree);
  system.run();
  const simStart = system.elapsedNs;
  const hostStart = now();
  const cid = system.createContainer({ layers: [layer], binaries, config, policy: ExecPolicy.MeasuredOnly });
  system.startProcess(cid, { argv: ['sleep', '3600'] });
  system.runFor(1_000_000); // started: sleeping
  if (!system.containerRunning(cid)) throw new Error('bench lifecycle: the container did not start');
  // `-t 0`: no time for SIGTERM to act before SIGKILL.
  system.signalContainer(cid, SIG.TERM);
  if (system.containerRunning(cid)) system.signalContainer(cid, SIG.KILL);
  system.run();
  system.destroyContainer(cid);
  const hostNs = Number(now() - hostStart);
  return { simNs: system.elapsedNs - simStart, hostNs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Run the benchmark under every design. */
export async function runLifecycleBench(options: LifecycleBenchOptions): Promise<LifecycleBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rcontainer-bench-'));
  try {
    const store = ImageStore.open(dir, {
      programs: { executableImage, programNames: PROGRAM_NAMES, appletNames: APPLET_NAMES },
    });
    await store.ensureBuiltin('busybox');
    const simulatedMs = {} as Record<DesignName, number>;
    const hostMs = {} as Record<DesignName, number>;
    for (const design of DESIGNS) {
      const sims: number[] = [];
      const hosts: number[] = [];
      for (let r = 0; r < options.runs; r++) {
        const once = await lifecycleOnce(design, store, options.now);
        sims.push(once.simNs / 1e6);
        hosts.push(once.hostNs / 1e6);
      }
      simulatedMs[design] = median(sims);
      hostMs[design] = median(hosts);
    }
    return { simulatedMs, hostMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
