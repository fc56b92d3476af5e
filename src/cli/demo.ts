/** `rcontainer demo`: the machine tour (later issues replace it with the container demo). */
import pc from 'picocolors';
import { machineTour } from '../eval/demo/machine-tour.js';

/** Print the tour; returns the exit code. */
export function demoCommand(): number {
  for (const [index, step] of machineTour().entries()) {
    console.log(pc.bold(`${index + 1}. ${step.title}`));
    for (const line of step.lines) console.log(`   ${line}`);
  }
  return 0;
}
