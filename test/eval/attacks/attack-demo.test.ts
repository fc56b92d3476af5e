/**
 * The attack demo end to end (src/eval/demo/attack-demo.ts): under native the compromised kernel
 * obtains the victim's token from its memory, its kernel data and its disk and corrupts its disk
 * unnoticed; under rcontainer every attempt is stopped, each by the mechanism named here (a
 * scenario baseline: change it only on purpose). The text is a function of the seed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttemptResult } from '../../../src/eval/attacks/attempts.js';
import { NOT_STOPPED } from '../../../src/eval/attacks/attempts.js';
import {
  formatAttackDemo,
  runAttackDemo,
  type AttackDemoResult,
} from '../../../src/eval/demo/attack-demo.js';

const SEED = 'attack-test';

/** What stops each attempt under rcontainer. */
const RCONTAINER_MECHANISMS: Readonly<Record<string, string>> = {
  M1: 'translation fault (level 2): not mapped',
  M2: 'granule protection fault (GPF) on the output address',
  M3: 'trapped MSR (EC 0x18): EL1 is deprivileged',
  M4: 'rc_set_pte refused: EPERM',
  M5: 'SMMU granule protection check aborted the DMA',
  S1: 'translation fault (level 2): not mapped',
  S2: 'granule protection fault (GPF) on a table walk (level 3)',
  S3: 'granule protection fault (GPF) on the output address',
  S4: 'SMMU granule protection check aborted the DMA',
  S5: 'trapped MSR (EC 0x18): EL1 is deprivileged',
  D1: 'sealed: AES-256-GCM ciphertext',
  D2: 'rc_open_block refused: EBADMSG',
  D3: 'rc_open_block refused: ESTALE',
};

let demo: AttackDemoResult;
let text: string[];

beforeAll(() => {
  demo = runAttackDemo({ seed: SEED });
  text = formatAttackDemo(demo);
});

function byTarget(list: readonly AttemptResult[], target: AttemptResult['target']): AttemptResult[] {
  return list.filter((a) => a.target === target);
}

describe('the attack demo', () => {
  it('runs the same attempts, in the same order, under both designs', () => {
    const ids = (list: readonly AttemptResult[]): string[] => list.map((a) => a.id);
    expect(ids(demo.designs.native)).toEqual(Object.keys(RCONTAINER_MECHANISMS));
    expect(ids(demo.designs.rcontainer)).toEqual(ids(demo.designs.native));
  });

  it('under native, the kernel obtains the token from memory, kernel data and disk', () => {
    for (const target of ['memory', 'con-shim', 'disk'] as const) {
      const attempts = byTarget(demo.designs.native, target);
      expect(attempts.length).toBeGreaterThan(0);
      for (const attempt of attempts) {
        expect(attempt, `${attempt.id} ${attempt.name}`).toMatchObject({
          obtained: true,
          mechanism: NOT_STOPPED,
        });
      }
    }
    const printed = demo.containerOutput.native.join('\n');
    expect(printed).toContain('kv-vault: read /vault.db: CORRUPTED');
    expect(printed).toContain('kv-vault: read /balance.db: STALE');
    expect(printed).toMatch(/attacker: my buffer holds: api-token=RC-TOKEN-/);
  });

  it('under rcontainer, nothing is obtained and each attempt names what stopped it', () => {
    for (const attempt of demo.designs.rcontainer) {
      expect(attempt.obtained, `${attempt.id} ${attempt.name}`).toBe(false);
      expect(attempt.mechanism, attempt.id).toBe(RCONTAINER_MECHANISMS[attempt.id]);
    }
    const printed = demo.containerOutput.rcontainer.join('\n');
    expect(printed).toContain('kv-vault: read /vault.db: error -5');
    expect(printed).toContain('kv-vault: read /balance.db: error -5');
    expect(printed).toContain('attacker: my buffer holds: nothing');
    expect(printed).not.toContain('RC-TOKEN-');
  });

  it('summarises the GPT views: container granules are open in their own shim-GPT only', () => {
    const { views, rows } = demo.gptSummary;
    expect(views).toEqual(['Priv-GPT', 'OS-GPT', 'shim-GPT(1)', 'shim-GPT(2)']);
    const row = (owner: string) => rows.find((r) => r.owner === owner)!;
    for (const cid of [1, 2]) {
      for (const kind of ['CTR', 'SHIM', 'PT']) {
        const r = row(`${kind}(${cid})`);
        expect(r.granules).toBeGreaterThan(0);
        const own = views.indexOf(`shim-GPT(${cid})`);
        const other = views.indexOf(`shim-GPT(${3 - cid})`);
        expect(r.open[0]).toBe(r.granules); // Priv-GPT
        expect(r.open[1]).toBe(0); // OS-GPT
        expect(r.open[own]).toBe(r.granules);
        expect(r.open[other]).toBe(0);
      }
    }
    expect(row('MINI').open).toEqual([row('MINI').granules, 0, 0, 0]);
    expect(row('ROOT').open).toEqual([0, 0, 0, 0]);
    expect(row('OS').open.every((n) => n === row('OS').granules)).toBe(true);
  });

  it('reports the simulated overhead of the kv workload', () => {
    const { victimWorkloadSimNs, ratio } = demo.overhead;
    expect(victimWorkloadSimNs.native).toBeGreaterThan(0);
    expect(victimWorkloadSimNs.rcontainer).toBeGreaterThan(victimWorkloadSimNs.native);
    expect(ratio).toBeCloseTo(victimWorkloadSimNs.rcontainer / victimWorkloadSimNs.native, 10);
  });

  it('prints a side-by-side table, the GPT views and the overhead, with no stack trace', () => {
    const all = text.join('\n');
    expect(text.find((l) => l.startsWith('M1 '))).toMatch(/OBTAINED +stopped: translation fault/);
    expect(all).toContain('totals: native 13 of 13 succeeded; rcontainer 0 of 13 succeeded');
    expect(all).toMatch(/owner +granules +Priv-GPT +OS-GPT +shim-GPT\(1\) +shim-GPT\(2\)/);
    expect(all).toMatch(/rcontainer \/ native = \d+\.\d\dx/);
    expect(all).not.toMatch(/\bat .+\(.+:\d+:\d+\)|Error:|undefined|NaN/);
  });

  it('is deterministic: the same seed gives the same text, another seed another token', () => {
    expect(formatAttackDemo(runAttackDemo({ seed: SEED }))).toEqual(text);
    const other = formatAttackDemo(runAttackDemo({ seed: `${SEED}-2` }));
    const token = (lines: string[]) => /RC-TOKEN-[0-9a-f]+/.exec(lines.join('\n'))?.[0];
    expect(token(other)).toBeDefined();
    expect(token(other)).not.toBe(token(text));
  });
});
