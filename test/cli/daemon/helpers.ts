// Helpers of the daemon tests: a daemon on an ephemeral port in a temporary state directory, and a
// small JSON client over fetch.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesignName } from '../../../src/designs/system.js';
import { startDaemon, type Daemon } from '../../../src/cli/daemon/index.js';

/** An HTTP answer: status, and the body as JSON (undefined if empty) and text. */
export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
}

/** A fresh state directory. */
export function tempState(): string {
  return mkdtempSync(join(tmpdir(), 'rcontainer-daemon-'));
}

/** Start a daemon on 127.0.0.1:0 (no signal handlers); its warnings go to `warn` (dropped by default). */
export function daemonOn(
  stateDir: string,
  design: DesignName,
  warn: (message: string) => void = () => {},
): Promise<Daemon> {
  return startDaemon({ stateDir, design, port: 0, handleSignals: false, warn });
}

/** `method path` on `daemon` with an optional JSON (or raw string) body. */
export async function call(daemon: Daemon, method: string, path: string, body?: unknown): Promise<Answer> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(`${daemon.url!}${path}`, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}
