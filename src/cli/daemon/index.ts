/**
 * `rcontainer daemon`: an {@link Engine} behind the HTTP API of docs/api.md on loopback TCP
 * (`127.0.0.1:port`, 0 = a free port) or a UNIX socket, announced in `<state>/daemon.json` for the
 * CLI (removed again on close, SIGINT or SIGTERM).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { DesignName } from '../../designs/system.js';
import { Engine } from './engine.js';
import { createPump } from './pump.js';
import { createApi } from './server.js';

export { Engine, type CreateRequest, type ContainerSummary } from './engine.js';
export type { ExecResult } from './exec-sessions.js';
export { ApiError } from './errors.js';

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  readonly stateDir: string;
  readonly design: DesignName;
  /** TCP port on 127.0.0.1 (default 2375; 0 picks a free one). Ignored with `socket`. */
  readonly port?: number;
  /** Serve on this UNIX socket path instead of TCP. */
  readonly socket?: string;
  readonly seed?: string | number;
  /** Pace simulated time to host time (default true); false runs it as fast as it goes. */
  readonly realtime?: boolean;
  /** Install SIGINT/SIGTERM handlers that close the daemon and exit (default true). */
  readonly handleSignals?: boolean;
  readonly warn?: (message: string) => void;
}

/** A running daemon. */
export interface Daemon {
  readonly url?: string;
  readonly socket?: string;
  readonly engine: Engine;
  /** Stop serving, stop the pump and remove daemon.json. */
  close(): Promise<void>;
}

/** Start a daemon: resolves once it listens and daemon.json is written. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const warn = options.warn ?? ((message: string) => console.error(`rcontainer daemon: ${message}`));
  const engine = new Engine({
    stateDir: options.stateDir,
    design: options.design,
    warn,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const pump = createPump(
    engine,
    (error) => warn(`the machine stopped: ${(error as Error).message}`),
    options.realtime ?? true,
  );
  engine.onWork(pump.wake);
  const app = createApi(engine, { wake: pump.wake });
  const server = createServer(getRequestListener(app.fetch));
  const where = await listen(server, options);
  const announce = join(options.stateDir, 'daemon.json');
  writeFileSync(announce, `${JSON.stringify({ pid: process.pid, ...where })}\n`);
  let closed: Promise<void> | undefined;
  const onSignal = (): void => {
    void close().then(() => process.exit(0));
  };
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      pump.stop();
      engine.shutdown();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rmSync(announce, { force: true });
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closed;
  };
  if (options.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  pump.wake();
  return { ...where, engine, close };
}

/** Listen on the socket or port of `options`: where the daemon is. */
function listen(server: Server, options: DaemonOptions): Promise<{ url: string } | { socket: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (options.socket !== undefined) {
      const socket = options.socket;
      if (existsSync(socket)) rmSync(socket);
      server.listen(socket, () => resolve({ socket }));
      return;
    }
    server.listen(options.port ?? 2375, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('daemon: no TCP address'));
      resolve({ url: `http://127.0.0.1:${address.port}` });
    });
  });
}
