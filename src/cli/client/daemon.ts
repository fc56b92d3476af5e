/**
 * `rcontainer daemon [--design D] [--port N | --socket PATH] [--seed S]`: host the engine's
 * machine and its HTTP API (docs/api.md) in the foreground until SIGINT or SIGTERM.
 */
import { DESIGNS, type DesignName } from '../../designs/system.js';
import { startDaemon } from '../daemon/index.js';
import { stateDir } from '../engine-state.js';
import { EngineError } from '../errors.js';
import { findDaemon } from './connect.js';
import type { ClientOptions } from './session.js';

/** Options of `daemon` as commander parses them. */
export interface DaemonCommandOptions extends ClientOptions {
  readonly design: string;
  readonly port?: string;
  readonly socket?: string;
  readonly seed?: string;
  /** false with --no-realtime. */
  readonly realtime?: boolean;
}

/** Run the daemon until a signal ends it; returns the exit code. */
export async function daemonCommand(options: DaemonCommandOptions): Promise<number> {
  if (!DESIGNS.includes(options.design as DesignName))
    throw new EngineError(`daemon: --design must be one of ${DESIGNS.join(', ')}, not '${options.design}'`);
  if (options.port !== undefined && options.socket !== undefined)
    throw new EngineError('daemon: give --port or --socket, not both');
  const port = options.port === undefined ? undefined : portNumber(options.port);
  const state = stateDir(options.stateDir);
  const running = await findDaemon(state);
  if (running !== undefined)
    throw new EngineError(
      `daemon: one is already running for ${state} at ${running.where} (pid ${running.address.pid})`,
    );
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon({
      stateDir: state,
      handleSignals: false,
      design: options.design as DesignName,
      ...(port !== undefined ? { port } : {}),
      ...(options.socket !== undefined ? { socket: options.socket } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      realtime: options.realtime !== false,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || error instanceof EngineError) throw error;
    throw new EngineError(`daemon: cannot listen on ${options.socket ?? `port ${port ?? 2375}`}: ${code}`);
  }
  const where = daemon.url ?? (daemon.socket !== undefined ? `unix://${daemon.socket}` : '?');
  console.log(`rcontainer daemon: listening on ${where} (design ${options.design}, state ${state})`);
  await new Promise<void>((resolvePromise) => {
    process.once('SIGINT', () => resolvePromise());
    process.once('SIGTERM', () => resolvePromise());
  });
  await daemon.close();
  return 0;
}

function portNumber(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new EngineError(`daemon: --port takes a number from 0 to 65535, not '${text}'`);
  return port;
}
