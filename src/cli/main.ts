#!/usr/bin/env node
/** The `rcontainer` command. Thin: every subcommand calls the library. */
import { Command, CommanderError } from 'commander';
import { benchGptScaleCommand } from './bench-gpt-scale.js';
import { benchHwCommand } from './bench-hw.js';
import { benchKernelCommand, type BenchKernelOptions } from './bench-kernel.js';
import { benchLifecycleCommand } from './bench-lifecycle.js';
import { daemonCommand, type DaemonCommandOptions } from './client/daemon.js';
import { registerEngineCommands } from './commands-engine.js';
import { conformanceCommand } from './conformance.js';
import { demoCommand, type DemoOptions } from './demo.js';
import { EngineError, UserError } from './errors.js';
import { imagesCommand, loadCommand, rmiCommand, saveCommand } from './images.js';
import { simCommand, type SimCommandOptions } from './sim.js';
import { tcbCommand } from './tcb.js';

const program = new Command();
program
  .name('rcontainer')
  .description('RContainer (NDSS 2025) on a model of Armv9-A CCA: machine, firmware, mini-OS, kernel, engine')
  .version('0.1.0')
  .enablePositionalOptions()
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
    'a compromised kernel against a key-value container under native and rcontainer, side by side; --tour: a walk through the machine model and the platform',
  )
  .option('--seed <seed>', 'machine seed (keys, the victim token)')
  .option('--tour', 'the machine and platform tour instead')
  .action((options: DemoOptions) => {
    exitCode = demoCommand(options);
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

/** Engine commands are async: their exit code is set when they finish. */
let pending: Promise<number> | undefined;

registerEngineCommands(program, (promise) => {
  pending = promise;
});

program
  .command('daemon')
  .description('host a simulated machine and the engine API in the foreground (see docs/api.md)')
  .option('--design <design>', 'native or rcontainer', 'rcontainer')
  .option('--port <n>', 'loopback TCP port (default 2375; 0: any free one)')
  .option('--socket <path>', 'listen on a UNIX socket instead of TCP')
  .option('--seed <seed>', 'machine seed')
  .option('--no-realtime', 'let simulated time run ahead of host time (sleeps end at once)')
  .option('--state-dir <dir>', 'engine state (default $RCONTAINER_STATE or ~/.rcontainer)')
  .action((options: DaemonCommandOptions) => {
    pending = daemonCommand(options);
  });

program
  .command('images')
  .description('list the images of the local store')
  .option('--json', 'print JSON')
  .option('-a, --all', 'make every built-in image first')
  .option('-q, --quiet', 'print only the image ids')
  .option('--state-dir <dir>', 'engine state (default $RCONTAINER_STATE or ~/.rcontainer)')
  .action((options: { json?: boolean; all?: boolean; quiet?: boolean; stateDir?: string }) => {
    pending = imagesCommand(options);
  });

program
  .command('load')
  .description('load images from a docker save tarball or an OCI layout archive')
  .option('-i, --input <file>', 'the archive')
  .option('--state-dir <dir>', 'engine state (default $RCONTAINER_STATE or ~/.rcontainer)')
  .action((options: { input?: string; stateDir?: string }) => {
    pending = loadCommand(options);
  });

program
  .command('save')
  .description('save images to an archive (docker save format, or --format oci)')
  .option('-o, --output <file>', 'the archive to write')
  .option('--format <format>', 'docker or oci', 'docker')
  .option('--state-dir <dir>', 'engine state (default $RCONTAINER_STATE or ~/.rcontainer)')
  .argument('<images...>', 'image references')
  .action((refs: string[], options: { output?: string; format?: string; stateDir?: string }) => {
    pending = saveCommand(refs, options);
  });

program
  .command('rmi')
  .description('remove images')
  .option('-f, --force', 'remove an image with several tags')
  .option('--state-dir <dir>', 'engine state (default $RCONTAINER_STATE or ~/.rcontainer)')
  .argument('<images...>', 'image references')
  .action((refs: string[], options: { force?: boolean; stateDir?: string }) => {
    pending = rmiCommand(refs, options);
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
  .command('lifecycle')
  .description('simulated and host time of create + start + stop + rm of busybox under each design')
  .option('--json', 'print JSON (keys simulatedMs, hostMs, each keyed by design)')
  .option('--runs <n>', 'runs per design (median reported)', '5')
  .action((options: { json?: boolean; runs: string }) => {
    pending = benchLifecycleCommand(options);
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

/** One line for a user's or the engine's error; their exit codes (2, and Docker's 125). */
function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UserError) {
    console.error(`rcontainer: ${error.message}`);
    return 2;
  }
  if (error instanceof EngineError) {
    console.error(`rcontainer: ${error.message}`);
    return 125;
  }
  throw error;
}

try {
  program.parse(process.argv);
  process.exitCode = exitCode;
  if (pending !== undefined)
    pending.then(
      (code) => (process.exitCode = code),
      (error: unknown) => (process.exitCode = report(error)),
    );
} catch (error) {
  process.exitCode = report(error);
}
