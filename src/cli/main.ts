#!/usr/bin/env node
/** The `rcontainer` command. Thin: every subcommand calls the library. */
import { Command, CommanderError } from 'commander';
import { benchGptScaleCommand } from './bench-gpt-scale.js';
import { benchHwCommand } from './bench-hw.js';
import { benchKernelCommand, type BenchKernelOptions } from './bench-kernel.js';
import { conformanceCommand } from './conformance.js';
import { demoCommand } from './demo.js';
import { UserError } from './errors.js';
import { simCommand, type SimCommandOptions } from './sim.js';
import { tcbCommand } from './tcb.js';

const program = new Command();
program
  .name('rcontainer')
  .description('RContainer (NDSS 2025) on a model of Armv9-A CCA: machine, firmware, mini-OS, kernel, engine')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

let exitCode = 0;

program
  .command('conformance')
  .description('run conformance vector files (format rcontainer-conformance/1) through the machine model')
  .argument('<files...>', 'vector files, e.g. ../shared/vectors/gpc.json')
  .option('-q, --quiet', 'print only the summary line')
  .action((files: string[], options: { quiet?: boolean }) => {
    exitCode = conformanceCommand(files, options);
  });

program
  .command('demo')
  .description(
    'a short tour: the machine (GPT, GPC, MMU, TLB, a stale TLB entry), then the trusted platform (measured boot, GPT views, a container and a compromised kernel)',
  )
  .action(() => {
    exitCode = demoCommand();
  });

program
  .command('tcb')
  .description(
    'trusted computing base in SLoC by privilege level (EL3 service, mini-OS, EL0), next to the paper',
  )
  .option('--json', 'print JSON (keys el3, el1, el0)')
  .action((options: { json?: boolean }) => {
    exitCode = tcbCommand(options);
  });

program
  .command('sim')
  .description('boot a machine under a design and run a program as the init of a container')
  .option('--design <design>', 'native or rcontainer', 'rcontainer')
  .option('--cpus <n>', 'number of PEs', '1')
  .option('--stats', 'print simulated time and event counters (on stderr)')
  .option('--json', 'print output and counters as JSON')
  .option('--seed <seed>', 'machine seed', 'rcontainer-sim')
  .option('--max-steps <n>', 'give up after this many thread steps')
  .argument('<program...>', 'the program and its arguments (after --)')
  .action((argv: string[], options: SimCommandOptions) => {
    exitCode = simCommand(argv, options);
  });

const bench = program.command('bench').description('measure the simulator itself (host time)');
bench
  .command('hw')
  .description('host ns per TLB-hit load, TLB-miss load, GPT lookup, TLBI PAALL and a raw typed-array read')
  .option('--json', 'print JSON')
  .option('--runs <n>', 'timed runs per benchmark (median reported)', '7')
  .action((options: { json?: boolean; runs: string }) => {
    exitCode = benchHwCommand(options);
  });

bench
  .command('kernel')
  .description(
    'host time per simulated null syscall and context switch, and of a default hackbench run, under each design',
  )
  .option('--json', 'print JSON (keys nullSyscallHostNs, ctxSwitchHostNs, hackbenchHostSeconds, ...)')
  .option('--runs <n>', 'timed runs of the syscall and switch probes (median reported)', '3')
  .option('--quick', 'small iteration counts and no hackbench (for a smoke test)')
  .action((options: BenchKernelOptions) => {
    exitCode = benchKernelCommand(options);
  });

bench
  .command('gpt-scale')
  .description('create N containers with their con-shims and report the GPT memory of all views')
  .requiredOption('--containers <n>', 'number of containers')
  .option('--dram-gib <g>', 'GiB of DRAM in the machine', '64')
  .option('--json', 'print JSON (keys containers, dramBytes, gptBytes, ...)')
  .action((options: { containers: string; dramGib: string; json?: boolean }) => {
    exitCode = benchGptScaleCommand(options);
  });

try {
  program.parse(process.argv);
  process.exitCode = exitCode;
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof UserError) {
    console.error(`rcontainer: ${error.message}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
