/** What every client command shares: its options, finding the daemon, and per-id error reports. */
import { stateDir } from '../engine-state.js';
import { EngineError } from '../errors.js';
import { needDaemon, type DaemonClient } from './connect.js';

/** Options every client command takes. */
export interface ClientOptions {
  readonly stateDir?: string;
}

/** Run `body` against the daemon of the options' state directory (exit 125 when none runs). */
export async function withDaemon(
  options: ClientOptions,
  body: (client: DaemonClient) => Promise<number>,
): Promise<number> {
  return body(await needDaemon(stateDir(options.stateDir)));
}

/**
 * Apply `action` to each id in turn, as Docker does for `start`, `stop`, `rm`...: print the id on
 * success, one error line per failure, and carry on; 125 when any failed.
 */
export async function eachId(ids: readonly string[], action: (id: string) => Promise<void>): Promise<number> {
  let failed = false;
  for (const id of ids) {
    try {
      await action(id);
      console.log(id);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      console.error(`rcontainer: ${error.message}`);
      failed = true;
    }
  }
  return failed ? 125 : 0;
}
