/** `rcontainer exec ID COMMAND...`: run a command in a running container and exit with its code. */
import { readStdin } from '../stdin.js';
import { EngineError } from '../errors.js';
import { ApiError } from './connect.js';
import { containerPath, type ExecResult } from './api.js';
import { withProgress } from './progress.js';
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
  readonly user?: string;
  readonly workdir?: string;
}

/** `exec [-e NAME=value] [-i] [-u UID[:GID]] [-w DIR] ID COMMAND...`. */
export async function execCommand(id: string, command: string[], options: ExecOptions): Promise<number> {
  if (options.user !== undefined && !/^\d+(?::\d+)?$/.test(options.user))
    throw new EngineError(`-u takes a numeric uid[:gid], not '${options.user}'`);
  const stdin = options.interactive === true ? Buffer.from(readStdin()).toString('base64') : undefined;
  return withDaemon(options, async (client) => {
    const body = {
      cmd: command,
      ...(options.env.length > 0 ? { env: options.env } : {}),
      ...(stdin !== undefined ? { stdin } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
    };
    let result: ExecResult;
    try {
      result = await withProgress(
        `running ${command[0] ?? ''} in ${id}`,
        client.json<ExecResult>('POST', containerPath(id, '/exec'), body),
      );
    } catch (error) {
      const code = error instanceof ApiError ? cannotRunCode(error) : undefined;
      if (code === undefined) throw error;
      console.error(`rcontainer: ${(error as ApiError).message}`);
      return code;
    }
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    return result.exitCode;
  });
}

/** 127 or 126 when an error says the program could not be run; undefined for other errors (125). */
export function cannotRunCode(error: ApiError): number | undefined {
  if (error.status === 404 && /no such container/i.test(error.message)) return undefined;
  if (error.status === 409) return undefined;
  if (NOT_FOUND.test(error.message)) return 127;
  if (NOT_EXECUTABLE.test(error.message) || FAILED_TASK.test(error.message)) return 126;
  return undefined;
}
