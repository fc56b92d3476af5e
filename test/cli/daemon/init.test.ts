// stop and --init through the API: a container whose init ignores SIGTERM (a namespace init
// without a handler) ends in SIGKILL after the grace period (137); under tini the command gets
// SIGTERM (143); kv handles it and exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/cli/daemon/index.js';
import { call, daemonOn, tempState } from './helpers.js';

let daemon: Daemon;

beforeAll(async () => {
  daemon = await daemonOn(tempState(), 'rcontainer');
});
afterAll(async () => {
  await daemon.close();
});

/** Create and start, stop with a 1 s grace, and give the exit code and the command it ran. */
async function stopped(body: Record<string, unknown>): Promise<{ exitCode: number; args: string[] }> {
  const { id } = (await call(daemon, 'POST', '/containers/create', body)).json as { id: string };
  expect((await call(daemon, 'POST', `/containers/${id}/start`)).status).toBe(204);
  expect((await call(daemon, 'POST', `/containers/${id}/stop?t=1`)).status).toBe(204);
  const details = (await call(daemon, 'GET', `/containers/${id}/json`)).json as {
    exitCode: number;
    config: { process: { args: string[] } };
  };
  expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);
  return { exitCode: details.exitCode, args: details.config.process.args };
}

describe('stop and --init', () => {
  it('gives 137 for a bare sleep, 143 under tini, 0 for kv', async () => {
    expect(await stopped({ image: 'busybox', cmd: ['sleep', '1000'] })).toEqual({
      exitCode: 137,
      args: ['sleep', '1000'],
    });
    expect(await stopped({ image: 'busybox', cmd: ['sleep', '1000'], init: true })).toEqual({
      exitCode: 143,
      args: ['/bin/tini', '--', 'sleep', '1000'],
    });
    expect((await stopped({ image: 'kv' })).exitCode).toBe(0);
  });
});
