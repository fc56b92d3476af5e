/** `rcontainer demo`: the machine tour (later issues replace it with the container demo). */
import pc from 'picocolors';
import { machineTour } from '../eval/demo/machine-tour.js';
import { platformTour } from '../eval/demo/platform-tour.js';

/** Print the tours; returns the exit code. */
export function demoCommand(): number {
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
