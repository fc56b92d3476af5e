/**
 * The commander wiring of the container engine's commands (Docker's names and habits): `run`
 * (through the daemon, or in this process with --rm when none runs), and `create`, `start`,
 * `exec`, `ps`, `logs`, `stop`, `kill`, `rm`, `inspect`, `attest`, `gpt`, `stats`, `top`, which need the
 * daemon.
 */
import type { Command } from 'commander';
import { attestCommand } from './client/attest.js';
import { cpCommand } from './client/cp.js';
import type { ReferenceOptions } from './client/attest-reference.js';
import {
  createCommand,
  inspectCommand,
  killCommand,
  psCommand,
  rmCommand,
  startCommand,
  restartCommand,
  stopCommand,
  waitCommand,
  type CreateOptions,
} from './client/containers.js';
import { execCommand, type ExecOptions } from './client/exec.js';
import { gptCommand } from './client/gpt.js';
import { logsCommand } from './client/logs.js';
import { statsCommand, topCommand } from './client/stats.js';
import { runDispatch } from './client/run.js';
import type { ClientOptions } from './client/session.js';
import type { RunCommandOptions } from './run.js';

/** Collect repeated options (-e A -e B). */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

const STATE_DIR_HELP = 'engine state (default $RCONTAINER_STATE or ~/.rcontainer)';

/** Register the engine commands; `setPending` receives each async action's exit code promise. */
export function registerEngineCommands(
  program: Command,
  setPending: (pending: Promise<number>) => void,
): void {
  const withContainerOptions = (command: Command): Command =>
    command
      .option('--name <name>', 'container name (also its default hostname)')
      .option('-e, --env <NAME=value>', 'set an environment variable', collect, [])
      .option('-w, --workdir <dir>', 'working directory inside the container')
      .option('-u, --user <uid[:gid]>', 'numeric user and group')
      .option('-t, --tty', 'its standard streams are a terminal (a shell prompts)')
      .option('--init', "run the command under the image's tini (forwards signals, reaps orphans)")
      .option(
        '-p, --publish <[127.0.0.1:]host:container>',
        "publish a container TCP port on the host's loopback (needs the daemon)",
        collect,
        [],
      )
      .option('--hostname <name>', 'container host name')
      .option('-m, --memory <size>', 'limit of user memory (e.g. 64m): over it a process is OOM-killed')
      .option(
        '-v, --volume <host:container[:ro]>',
        'an untrusted volume (noexec): a host directory',
        collect,
        [],
      )
      .option(
        '--exec-policy <policy>',
        "what may run in it: measuredOnly (the image's binaries), deny (the same, and no exec into it) or allow (anything)",
      );

  withContainerOptions(
    program
      .command('run')
      .description(
        'create a container from an image and run it: through the daemon when one runs, else in this process (--rm)',
      )
      .option('--rm', 'remove the container when it exits')
      .option('-d, --detach', 'run in the background and print the container id (needs the daemon)')
      .option('-i, --interactive', 'give the container this standard input, as it arrives'),
  )
    .option('--design <design>', 'native or rcontainer (without a daemon)', 'rcontainer')
    .option('--seed <seed>', 'machine seed (without a daemon)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<image>', 'image reference (built-in: busybox, kv, httpd, hackbench, build)')
    .argument('[command...]', 'command and arguments (default: the image Cmd)')
    .passThroughOptions()
    .action((image: string, command: string[], options: RunCommandOptions, cmd: Command) => {
      const designGiven = cmd.getOptionValueSource('design') === 'cli';
      setPending(runDispatch(image, command, { ...options, designGiven }));
    });

  withContainerOptions(program.command('create').description('create a container and print its id'))
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<image>', 'image reference')
    .argument('[command...]', 'command and arguments (default: the image Cmd)')
    .passThroughOptions()
    .action((image: string, command: string[], options: CreateOptions) => {
      setPending(createCommand(image, command, options));
    });

  program
    .command('start')
    .description('start created or stopped containers')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions) => {
      setPending(startCommand(ids, options));
    });

  program
    .command('exec')
    .description("run a command in a running container; exit with the command's code")
    .option('-e, --env <NAME=value>', 'set an environment variable', collect, [])
    .option('-i, --interactive', 'give the command this standard input, as it arrives')
    .option('-t, --tty', 'its standard streams are a terminal (a shell prompts)')
    .option('-u, --user <uid[:gid]>', "numeric user and group (default the container's)")
    .option('-w, --workdir <dir>', "working directory (default the container's)")
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<container>', 'container id, id prefix or name')
    .argument('<command...>', 'command and arguments')
    .passThroughOptions()
    .action((id: string, command: string[], options: ExecOptions) => {
      setPending(execCommand(id, command, options));
    });

  program
    .command('cp')
    .description('copy a file between the host and a running container (CONTAINER:PATH on one side)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<src>', 'a host file, or CONTAINER:/path')
    .argument('<dest>', 'a host path, or CONTAINER:/path (ending in / for a directory)')
    .action((src: string, dest: string, options: ClientOptions) => {
      setPending(cpCommand(src, dest, options));
    });

  program
    .command('ps')
    .description('list containers (running ones unless -a)')
    .option('-a, --all', 'show every container')
    .option('-q, --quiet', 'print only the container ids')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action((options: ClientOptions & { all?: boolean; json?: boolean; quiet?: boolean }) => {
      setPending(psCommand(options));
    });

  program
    .command('logs')
    .description("print a container's console output")
    .option('-f, --follow', 'keep printing until the container stops')
    .option('-n, --tail <lines>', "only the last lines ('all' for every line)", 'all')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<container>', 'container id, id prefix or name')
    .action((id: string, options: ClientOptions & { follow?: boolean; tail?: string }) => {
      setPending(logsCommand(id, options));
    });

  program
    .command('stop')
    .description('stop running containers: SIGTERM, then SIGKILL after a grace period')
    .option('-t, --time <seconds>', 'simulated seconds to wait before SIGKILL (default 10)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions & { time?: string }) => {
      setPending(stopCommand(ids, options));
    });

  program
    .command('restart')
    .description('stop containers (SIGTERM, then SIGKILL after a grace period) and start them again')
    .option('-t, --time <seconds>', 'simulated seconds to wait before SIGKILL (default 10)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions & { time?: string }) => {
      setPending(restartCommand(ids, options));
    });

  program
    .command('wait')
    .description('block until containers stop, then print their exit codes')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions) => {
      setPending(waitCommand(ids, options));
    });

  program
    .command('kill')
    .description('send a signal to running containers (default KILL)')
    .option('-s, --signal <signal>', 'signal name or number', 'KILL')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions & { signal?: string }) => {
      setPending(killCommand(ids, options));
    });

  program
    .command('rm')
    .description('remove containers')
    .option('-f, --force', 'kill and remove a running container')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions & { force?: boolean }) => {
      setPending(rmCommand(ids, options));
    });

  program
    .command('inspect')
    .description('print the details of containers as JSON (config, state, measurements)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<containers...>', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions) => {
      setPending(inspectCommand(ids, options));
    });

  program
    .command('attest')
    .description(
      "appraise a container's attestation evidence against your references (rcontainer); exit 1 if a check fails",
    )
    .option('--nonce <hex>', 'challenge, 1 to 64 bytes in hex (default: 32 random bytes)')
    .option(
      '--platform-key <hex>',
      "the platform's public key to trust (default: as the daemon publishes it)",
    )
    .option('--image <ref>', 'the image the container must have been made from (default: its own)')
    .option('--exec-policy <policy>', 'the exec policy it must have (default: as it was created)')
    .option('--json', 'print JSON (verified, checks, references, report, evidence)')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<container>', 'container id, id prefix or name')
    .action((id: string, options: ClientOptions & ReferenceOptions & { nonce?: string; json?: boolean }) => {
      setPending(attestCommand(id, options));
    });

  program
    .command('gpt')
    .description("granule counts per owner and view of the daemon's machine, and the per-container map")
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .action((options: ClientOptions & { json?: boolean }) => {
      setPending(gptCommand(options));
    });

  program
    .command('top')
    .description("a running container's processes as its kernel schedules them")
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('<container>', 'container id, id prefix or name')
    .action((id: string, options: ClientOptions & { json?: boolean }) => {
      setPending(topCommand(id, options));
    });

  program
    .command('stats')
    .description('memory, processes and granules of running containers (or those named), now')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .argument('[containers...]', 'container ids, id prefixes or names')
    .action((ids: string[], options: ClientOptions & { json?: boolean }) => {
      setPending(statsCommand(ids, options));
    });
}
