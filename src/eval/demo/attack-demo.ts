/**
 * The library behind `rcontainer demo`'s attack part: the same victim and the same compromised
 * kernel under `native` and `rcontainer`, side by side (what the attacker obtained, what stopped
 * it), then the GPT views of the rcontainer run and the simulated overhead of the victim's kind of
 * workload. Every outcome is executed on the simulated machine (src/eval/attacks); the text is a
 * function of the seed only.
 */
import type { DesignName } from '../../designs/system.js';
import type { AttemptResult } from '../attacks/attempts.js';
import type { GptSummary } from '../attacks/gpt-summary.js';
import { runKvWorkload, type WorkloadRun } from '../attacks/overhead.js';
import { runAttackScenario } from '../attacks/scenario.js';

/** Options of {@link runAttackDemo}. */
export interface AttackDemoOptions {
  /** Machine seed (keys, the victim's token); default 'rcontainer-demo'. */
  readonly seed?: string | number;
}

/** Everything the demo found. */
export interface AttackDemoResult {
  readonly seed: string;
  /** The attempts under each design, in the same order. */
  readonly designs: { readonly [D in DesignName]: readonly AttemptResult[] };
  /** What the victim and the attacker's process printed under each design. */
  readonly containerOutput: { readonly [D in DesignName]: readonly string[] };
  /** The GPT views of the rcontainer run while both containers ran. */
  readonly gptSummary: GptSummary;
  /** The victim's kind of workload (kv-server + kv-client) under each design. */
  readonly overhead: {
    readonly victimWorkloadSimNs: { readonly [D in DesignName]: number };
    /** rcontainer's simulated time over native's. */
    readonly ratio: number;
    readonly runs: { readonly [D in DesignName]: WorkloadRun };
  };
}

/** Default seed of the demo. */
export const ATTACK_DEMO_SEED = 'rcontainer-demo';

/** Run the scenario under both designs and the workload under both. */
export function runAttackDemo(options: AttackDemoOptions = {}): AttackDemoResult {
  const seed = String(options.seed ?? ATTACK_DEMO_SEED);
  const native = runAttackScenario('native', seed);
  const rcontainer = runAttackScenario('rcontainer', seed);
  if (rcontainer.gpt === undefined) throw new Error('attack demo: no GPT views under rcontainer');
  const runs = { native: runKvWorkload('native', seed), rcontainer: runKvWorkload('rcontainer', seed) };
  return {
    seed,
    designs: { native: native.attempts, rcontainer: rcontainer.attempts },
    containerOutput: { native: native.containerOutput, rcontainer: rcontainer.containerOutput },
    gptSummary: rcontainer.gpt,
    overhead: {
      victimWorkloadSimNs: { native: runs.native.simNs, rcontainer: runs.rcontainer.simNs },
      ratio: runs.rcontainer.simNs / runs.native.simNs,
      runs,
    },
  };
}

/** The demo as text lines (no colour; the CLI may add some). */
export function formatAttackDemo(result: AttackDemoResult): string[] {
  const lines = [
    `Attack demo (seed ${JSON.stringify(result.seed)}): a compromised kernel against a key-value container`,
    '  victim:   container 1 (kv-vault) keeps an API token in its heap, a pipe, an unsynced journal page',
    '            and /vault.db on its disk; it also keeps /balance.db, which it updates',
    '  attacker: container 2, whose exploit gave it the kernel (spec/attacks.md T-K): any EL1 load, store',
    '            or MSR, its page tables, rc_* calls, the block device and its DMA, the raw disk',
    '',
    ...attemptTable(result),
    '',
    'How each attempt went:',
    ...attemptDetails(result),
    '',
    'What the containers printed:',
    ...(['native', 'rcontainer'] as const).flatMap((design) =>
      result.containerOutput[design].map((line) => `  ${design.padEnd(10)}  ${line}`),
    ),
    '',
    ...gptTable(result.gptSummary),
    '',
    ...overheadLines(result),
  ];
  return lines;
}

function cell(attempt: AttemptResult | undefined): string {
  if (attempt === undefined) return '-';
  return attempt.obtained ? 'OBTAINED' : `stopped: ${attempt.mechanism}`;
}

function attemptTable(result: AttackDemoResult): string[] {
  const { native, rcontainer } = result.designs;
  const rows = native.map((attempt) => {
    const other = rcontainer.find((r) => r.id === attempt.id);
    return [attempt.id, attempt.target, attempt.name, cell(attempt), cell(other)];
  });
  const lines = table(['id', 'target', 'attempt', 'native', 'rcontainer'], rows);
  const count = (list: readonly AttemptResult[]): string =>
    `${list.filter((a) => a.obtained).length} of ${list.length} succeeded`;
  lines.push(`totals: native ${count(native)}; rcontainer ${count(rcontainer)}`);
  lines.push(
    'OBTAINED: the token was in what the attacker read, its register value took effect, or the victim',
    'consumed its forged data unawares; stopped: the fault, refusal or sealing that prevented it.',
  );
  return lines;
}

function attemptDetails(result: AttackDemoResult): string[] {
  const out: string[] = [];
  for (const attempt of result.designs.native) {
    const other = result.designs.rcontainer.find((r) => r.id === attempt.id);
    out.push(`  ${attempt.id}  ${attempt.name}`);
    out.push(`      native:     ${attempt.detail}`);
    if (other !== undefined) out.push(`      rcontainer: ${other.detail}`);
  }
  return out;
}

function gptTable(summary: GptSummary): string[] {
  const rows = summary.rows.map((row) => [row.owner, String(row.granules), ...row.open.map(String)]);
  return [
    `GPT views under rcontainer while both containers ran (${summary.granuleBytes / 1024} KiB granules; a view`,
    'column counts the granules it leaves open to Non-secure accesses, from a walk of its tables):',
    ...table(['owner', 'granules', ...summary.views], rows, true),
  ];
}

function overheadLines(result: AttackDemoResult): string[] {
  const { runs, ratio } = result.overhead;
  const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;
  return [
    `Overhead of the victim's kind of workload (kv-server + kv-client, ${runs.native.requests} requests, simulated time):`,
    `  native      ${ms(runs.native.simNs).padStart(10)}   ${runs.native.report}`,
    `  rcontainer  ${ms(runs.rcontainer.simNs).padStart(10)}   ${runs.rcontainer.report}`,
    `  rcontainer / native = ${ratio.toFixed(2)}x`,
  ];
}

/** Columns padded to their widest cell (numbers right-aligned when `numeric`, after the first). */
function table(header: readonly string[], rows: readonly (readonly string[])[], numeric = false): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
