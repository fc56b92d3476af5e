/**
 * `rcontainer run`: through the daemon when one runs (`-d` prints the id; otherwise attach: start,
 * follow the output, exit with the container's code), else in this process (`run --rm`, ../run.ts).
 */
import { stateDir } from '../engine-state.js';
import { EngineError } from '../errors.js';
import { runCommand, type RunCommandOptions } from '../run.js';
import { containerPath } from './api.js';
import { ApiError, findDaemon, type DaemonClient } from './connect.js';
import { createContainer, createRequest } from './containers.js';
import { cannotRunCode } from './exec.js';
import { followLogs } from './logs.js';
import { forwardStdin } from './stdin-forward.js';

/** Options of `run`, and whether `--design` was given on the command line. */
export interface RunOptions extends RunCommandOptions {
  readonly designGiven?: boolean;
}

/** `run [options] IMAGE [COMMAND...]`; returns the exit code. */
export async function runDispatch(image: string, command: string[], options: RunOptions): Promise<number> {
  const client = await findDaemon(stateDir(options.stateDir));
  if (client === undefined) return runCommand(image, command, options);
  if (options.designGiven === true) {
    const info = await client.json<{ design: string }>('GET', '/info');
    if (info.design !== options.design)
      throw new EngineError(
        `run: the daemon runs design ${info.design}; --design ${options.design} applies only without a daemon`,
      );
  }
  return options.detach === true
    ? runDetached(client, image, command, options)
    : runAttached(client, image, command, options);
}

async function runDetached(
  client: DaemonClient,
  image: string,
  command: string[],
  options: RunOptions,
): Promise<number> {
  const id = await createContainer(client, createRequest(image, command, options, options.rm === true));
  const code = await start(client, id);
  if (code !== 0) return code;
  console.log(id);
  return 0;
}

async function runAttached(
  client: DaemonClient,
  image: string,
  command: string[],
  options: RunOptions,
): Promise<number> {
  // --rm is done here rather than by the daemon, so the exit code can still be read.
  const id = await createContainer(client, createRequest(image, command, options));
  const remove = async (): Promise<void> => {
    if (options.rm === true) await client.call('DELETE', containerPath(id, '?force=1'));
  };
  let code: number;
  try {
    code = await start(client, id);
  } catch (error) {
    await remove().catch(() => {});
    throw error;
  }
  if (code !== 0) {
    await remove();
    return code;
  }
  const stopProxy = proxySignals(client, id);
  const input = options.interactive === true ? forwardStdin(client, containerPath(id, '/input')) : undefined;
  try {
    const details = await followLogs(client, id);
    await remove();
    return details.exitCode ?? 125;
  } finally {
    input?.stop();
    stopProxy();
  }
}

/** Start a created container: 0, or Docker's 127/126 when its program cannot be run. */
async function start(client: DaemonClient, id: string): Promise<number> {
  try {
    await client.call('POST', containerPath(id, '/start'));
    return 0;
  } catch (error) {
    const code = error instanceof ApiError ? cannotRunCode(error) : undefined;
    if (code === undefined) throw error;
    console.error(`rcontainer: ${(error as ApiError).message}`);
    return code;
  }
}

/** Forward SIGINT and SIGTERM to the attached container (Docker's --sig-proxy); returns the undo. */
function proxySignals(client: DaemonClient, id: string): () => void {
  const forward = (signal: number) => (): void => {
    client.call('POST', containerPath(id, `/kill?signal=${signal}`)).catch(() => {});
  };
  const onInt = forward(2);
  const onTerm = forward(15);
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}
