/**
 * `rcontainer demo [--seed S]`: the main demo (npm start). The same victim key-value container and
 * the same compromised kernel under `native` and `rcontainer`, side by side: what the attacker
 * obtained, and what stopped each attempt; then the GPT views and the simulated overhead of the
 * victim's workload. `--tour` prints the earlier walk through the machine model and the platform.
 */
import pc from 'picocolors';
import { ATTACK_DEMO_SEED, formatAttackDemo, runAttackDemo } from '../eval/demo/attack-demo.js';
import { machineTour } from '../eval/demo/machine-tour.js';
import { platformTour } from '../eval/demo/platform-tour.js';

/** Options of the demo. */
export interface DemoOptions {
  readonly seed?: string;
  readonly tour?: boolean;
}

/** Print the demo; returns the exit code. */
export function demoCommand(options: DemoOptions = {}): number {
  if (options.tour === true) return printTours();
  for (const line of formatAttackDemo(runAttackDemo({ seed: options.seed ?? ATTACK_DEMO_SEED })))
    console.log(line);
  return 0;
}

function printTours(): number {
  const parts = [
    ['The machine: GPT, GPC, MMU and TLB', machineTour()],
    ['The trusted platform: firmware, mini-OS and a container', platformTour()],
  ] as const;
  for (const [heading, steps] of parts) {
    console.log(pc.underline(heading));
    for (const [index, step] of steps.entries()) {
      console.log(pc.bold(`${index + 1}. ${step.title}`));
      for (const line of step.lines) console.log(`   ${line}`);
    }
  }
  return 0;
}
