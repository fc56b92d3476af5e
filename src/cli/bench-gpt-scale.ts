/** `rcontainer bench gpt-scale --containers N [--dram-gib G] [--json]`. */
import { runGptScale } from '../eval/bench/gpt-scale.js';
import { UserError } from './errors.js';

function wholeNumber(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UserError(`bench gpt-scale: ${flag} takes a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Run and print; returns the exit code. */
export function benchGptScaleCommand(options: {
  containers: string;
  dramGib: string;
  json?: boolean;
}): number {
  const containers = wholeNumber(options.containers, '--containers', 0, 20_000);
  const dramGib = wholeNumber(options.dramGib, '--dram-gib', 1, 1024);
  const start = process.hrtime.bigint();
  const result = runGptScale({ containers, dramGib });
  const hostSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (options.json) {
    console.log(JSON.stringify({ ...result, hostSeconds }, undefined, 2));
    return 0;
  }
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  console.log(`bench gpt-scale: ${containers} containers on ${dramGib} GiB of DRAM`);
  console.log(`  GPT memory at boot        ${mib(result.gptBytesAtBoot)}`);
  console.log(
    `  GPT memory now            ${mib(result.gptBytes)} (${(100 * result.gptFractionOfDram).toFixed(3)} % of DRAM, goal <= 2 %)`,
  );
  console.log(`  per container             ${(result.gptBytesPerContainer / 1024).toFixed(1)} KiB`);
  console.log(`  host time                 ${hostSeconds.toFixed(2)} s`);
  return 0;
}
