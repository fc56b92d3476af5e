/**
 * One run of the attack scenario under one design: boot, start the victim and the attacker's
 * container, let the compromised kernel attack while they sleep (phase 1), roll the victim's disk
 * back after its update (phase 2), let both finish, and judge every attempt (attempts.ts).
 * Deterministic for a design and seed: simulated time only, no wall clock.
 */
import type { DesignName } from '../../designs/system.js';
import { RcontainerPlatform } from '../../designs/rcontainer.js';
import { AttackCampaign, type AttemptResult } from './attempts.js';
import { gptSummary, type GptSummary } from './gpt-summary.js';
import { READY } from './programs.js';
import { bootScenario, locateSecret, runUntil } from './victim.js';

/** What one design's run produced. */
export interface ScenarioResult {
  readonly design: DesignName;
  readonly attempts: readonly AttemptResult[];
  /** The lines the victim and the attacker's process printed (the victim's view of the attack). */
  readonly containerOutput: readonly string[];
  /** The GPT views while both containers ran (rcontainer only). */
  readonly gpt: GptSummary | undefined;
  /** Simulated nanoseconds of the whole scenario. */
  readonly simNs: number;
}

/** Run the scenario under `design` with `seed`. */
export function runAttackScenario(design: DesignName, seed: string | number): ScenarioResult {
  const scenario = bootScenario(design, seed);
  const { system } = scenario;
  const printed = (line: string): boolean => system.outputText().includes(line);
  runUntil(system, 'both containers ready', () => printed(READY.victim) && printed(READY.attacker));
  const platform = system.platform;
  const gpt = platform instanceof RcontainerPlatform ? gptSummary(platform) : undefined;
  const campaign = new AttackCampaign(scenario);
  campaign.phase1(locateSecret(scenario));
  runUntil(system, 'the victim updated its balance', () => printed(READY.updated));
  campaign.phase2(locateSecret(scenario));
  const end = system.run();
  if (end !== 'idle')
    throw new Error(`attack scenario under ${design}: the containers did not finish (${end})`);
  const output = system.outputText();
  return {
    design,
    attempts: campaign.finish(output),
    containerOutput: output.split('\n').filter((line) => line !== ''),
    gpt,
    simNs: system.elapsedNs,
  };
}
