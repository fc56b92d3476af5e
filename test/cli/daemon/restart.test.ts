// What survives a daemon restart (docs/api.md): a running container is stopped at shutdown and kept with its logs,
// and starting it again re-creates it from its config.json on the new machine. Also the native
// design's refusals (no attestation, no GPT views) and daemon.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, daemonOn, tempState } from './helpers.js';

async function waitForLog(
  daemon: Awaited<ReturnType<typeof daemonOn>>,
  ref: string,
  text: string,
): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await call(daemon, 'GET', `/containers/${ref}/logs`)).text.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no '${text}' in the logs of ${ref}`);
}

describe('daemon restart', () => {
  it('keeps containers and logs across a restart; running ones are stopped at shutdown (SIGTERM)', async () => {
    const state = tempState();
    const first = await daemonOn(state, 'rcontainer');
    expect(JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8'))).toEqual({
      pid: process.pid,
      url: first.url,
    });
    const { id } = (await call(first, 'POST', '/containers/create', { image: 'kv', name: 'kv' })).json as {
      id: string;
    };
    expect((await call(first, 'POST', '/containers/kv/start')).status).toBe(204);
    await waitForLog(first, 'kv', 'listening');
    await first.close();
    expect(existsSync(join(state, 'daemon.json'))).toBe(false);

    const warnings: string[] = [];
    const second = await daemonOn(state, 'rcontainer', (message) => warnings.push(message));
    const listed = (await call(second, 'GET', '/containers/json?all=1')).json as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    // kv-server shuts down cleanly on the SIGTERM of the daemon's shutdown.
    expect(listed[0]).toMatchObject({ id, name: 'kv', state: 'exited', exitCode: 0 });
    const logs = (await call(second, 'GET', '/containers/kv/logs')).text;
    expect(logs).toBe('kv-server: listening on port 6379\nkv-server: SIGTERM received, shutting down\n');
    // Started again: made anew on this machine from its config.json.
    expect((await call(second, 'POST', '/containers/kv/start')).status).toBe(204);
    // What it wrote on the old machine is gone, and the daemon says so.
    expect(warnings).toEqual([
      'kv: made again from its image: what it wrote before the daemon restarted is gone (its disk does not outlive the machine)',
    ]);
    await waitForLog(second, 'kv', 'shutting down\nkv-server: listening');
    const ping = await call(second, 'POST', '/containers/kv/exec', { cmd: ['kv-client', 'PING'] });
    expect(ping.json).toEqual({ exitCode: 0, output: 'PONG\n', stdout: 'PONG\n', stderr: '' });
    // New containers do not collide with the old one's generated name or id.
    const other = (await call(second, 'POST', '/containers/create', { image: 'busybox' })).json as {
      id: string;
      name: string;
    };
    expect(other.id).not.toBe(id);
    expect(other.name).toBe('rc_2');
    await second.close();
  });
});

describe('daemon crash', () => {
  it('finds a container recorded as running exited 137 at the next start', async () => {
    const state = tempState();
    const first = await daemonOn(state, 'rcontainer');
    const { id } = (await call(first, 'POST', '/containers/create', { image: 'busybox' })).json as {
      id: string;
    };
    await first.close();
    // What a daemon killed while the container ran leaves behind.
    const metaPath = join(state, 'containers', id, 'meta.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(metaPath, JSON.stringify({ ...meta, state: 'running' }));
    const second = await daemonOn(state, 'rcontainer');
    const inspect = (await call(second, 'GET', `/containers/${id}/json`)).json as Record<string, unknown>;
    expect(inspect).toMatchObject({ state: 'exited', exitCode: 137 });
    await second.close();
  });
});

describe('daemon under native', () => {
  it('runs containers but refuses attestation and GPT views with 409', async () => {
    const daemon = await daemonOn(tempState(), 'native');
    const { id } = (
      await call(daemon, 'POST', '/containers/create', { image: 'busybox', cmd: ['sh', '-c', 'echo native'] })
    ).json as { id: string };
    const attest = await call(daemon, 'GET', `/containers/${id}/attest?nonce=00`);
    expect(attest.status).toBe(409);
    expect(attest.json).toEqual({
      message: 'attestation needs the rcontainer design; this daemon runs native',
    });
    expect((await call(daemon, 'GET', '/gpt')).status).toBe(409);
    expect((await call(daemon, 'POST', `/containers/${id}/start`)).status).toBe(204);
    await waitForLog(daemon, id, 'native');
    // No mini-OS, no granules of its own.
    expect(
      ((await call(daemon, 'GET', `/containers/${id}/stats`)).json as { granules: unknown }).granules,
    ).toBeNull();
    await daemon.close();
  });
});
