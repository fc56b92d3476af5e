/**
 * The simulated cost of the victim's kind of workload under a design: a key-value server and a
 * client in one container (kv-server, kv-client -n), run to completion on a fresh system. Only
 * simulated time is reported (DESIGN.md §6): the same workload and seed under each design.
 */
import { SimSystem, type DesignName } from '../../designs/system.js';

/** Requests the workload's client sends (alternating SET and GET). */
export const KV_WORKLOAD_REQUESTS = 200;
/** Bytes of each value. */
export const KV_WORKLOAD_VALUE_BYTES = 64;

/** What one run of the workload took. */
export interface WorkloadRun {
  readonly design: DesignName;
  /** Simulated nanoseconds from the container's start to the end of both processes. */
  readonly simNs: number;
  readonly requests: number;
  /** The client's own report line. */
  readonly report: string;
}

/** Run the kv workload in a container of a fresh `design` system. */
export function runKvWorkload(design: DesignName, seed: string | number): WorkloadRun {
  const system = new SimSystem({ design, seed });
  const port = 6379;
  const script = [
    `kv-server -p ${port} -n 1 &`,
    `kv-client -p ${port} -n ${KV_WORKLOAD_REQUESTS} -d ${KV_WORKLOAD_VALUE_BYTES};`,
    'wait',
  ].join(' ');
  const start = system.elapsedNs;
  const group = system.spawn({ argv: ['sh', '-c', script], hostname: 'kv' });
  const end = system.run();
  const output = system.outputText();
  const report = /kv-client: .*/.exec(output)?.[0];
  if (end !== 'idle' || group.exitStatus !== 0 || report === undefined || !report.endsWith(' 0 errors'))
    throw new Error(`kv workload under ${design} did not complete: ${JSON.stringify(output)}`);
  return { design, simNs: system.elapsedNs - start, requests: KV_WORKLOAD_REQUESTS, report };
}
