/**
 * `rcontainer exec ID COMMAND...`: run a command in a running container as a streamed exec of the
 * daemon (docs/api.md): its output is written as it comes, with `-i` this process's standard input
 * is pushed as it arrives (typed lines, or a pipe until its end), and the exit code is the
 * command's.
 */
import { EngineError } from '../errors.js';
import { ApiError, type DaemonClient } from './connect.js';
import { containerPath } from './api.js';
import { toTerminal } from './demux.js';
import { forwardStdin } from './stdin-forward.js';
import { withDaemon, type ClientOptions } from './session.js';

/** Docker's exit codes when a command cannot be run: 127 not found, 126 not executable. */
const NOT_FOUND = /executable file not found|no such file/i;
const NOT_EXECUTABLE = /permission denied|not executable|exec policy|not permitted|cannot execute/i;
/** The daemon's (and Docker's) words for a container whose program could not be started. */
const FAILED_TASK = /^failed to create task for container: exec:/;

/** Options of `exec`. */
export interface ExecOptions extends ClientOptions {
  readonly env: string[];
  readonly interactive?: boolean;
  readonly tty?: boolean;
  readonly user?: string;
  readonly workdir?: string;
}

/** `exec [-e NAME=value] [-i] [-t] [-u UID[:GID]] [-w DIR] ID COMMAND...`. */
export async function execCommand(id: string, command: string[], options: ExecOptions): Promise<number> {
  if (options.user !== undefined && !/^\d+(?::\d+)?$/.test(options.user))
    throw new EngineError(`-u takes a numeric uid[:gid], not '${options.user}'`);
  return withDaemon(options, async (client) => {
    const body = {
      cmd: command,
      ...(options.env.length > 0 ? { env: options.env } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
      stream: true,
      ...(options.interactive === true ? { openStdin: true } : {}),
      ...(options.tty === true ? { tty: true } : {}),
    };
    let execId: string;
    try {
      ({ id: execId } = await client.json<{ id: string }>('POST', containerPath(id, '/exec'), body));
    } catch (error) {
      const code = error instanceof ApiError ? cannotRunCode(error) : undefined;
      if (code === undefined) throw error;
      console.error(`rcontainer: ${(error as ApiError).message}`);
      return code;
    }
    return runExec(client, execId, options.interactive === true);
  });
}

/** Stream exec `execId`'s output (and, if `interactive`, this process's input) until it ends. */
async function runExec(client: DaemonClient, execId: string, interactive: boolean): Promise<number> {
  const terminal = toTerminal();
  const input = interactive ? forwardStdin(client, `/exec/${execId}/input`) : undefined;
  try {
    await client.stream('GET', `/exec/${execId}/output`, (chunk) => terminal.push(chunk));
  } finally {
    input?.stop();
  }
  const { exitCode } = await client.json<{ exitCode: number | null }>('GET', `/exec/${execId}/json`);
  if (exitCode === null) throw new EngineError(`exec ${execId.slice(0, 12)}: its output ended before it did`);
  return exitCode;
}

/** 127 or 126 when an error says the program could not be run; undefined for other errors (125). */
export function cannotRunCode(error: ApiError): number | undefined {
  if (error.status === 404 && /no such container/i.test(error.message)) return undefined;
  if (error.status === 409) return undefined;
  if (NOT_FOUND.test(error.message)) return 127;
  if (NOT_EXECUTABLE.test(error.message) || FAILED_TASK.test(error.message)) return 126;
  return undefined;
}
