// Untrusted volumes through the daemon's API: copied in at create, written back when the container
// exits (or is force-removed), refused with 400 when the host side is not usable.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const hostDir = (): string => mkdtempSync(join(tmpdir(), 'rcontainer-volume-'));

async function stateOf(id: string): Promise<{ state: string; exitCode: number }> {
  return (await call(daemon, 'GET', `/containers/${id}/json`)).json as { state: string; exitCode: number };
}

async function untilExited(id: string): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const { state, exitCode } = await stateOf(id);
    if (state === 'exited') return exitCode;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

async function create(body: Record<string, unknown>): Promise<string> {
  const created = await call(daemon, 'POST', '/containers/create', { image: 'busybox', ...body });
  expect(created.status).toBe(201);
  return (created.json as { id: string }).id;
}

describe('volumes through the daemon', () => {
  it('reads the host files, writes back on exit, and keeps a read-only volume unchanged', async () => {
    const host = hostDir();
    writeFileSync(join(host, 'in.txt'), 'host data\n');
    const id = await create({
      cmd: ['sh', '-c', 'cat /v/in.txt > /v/copy.txt && mkdir -p /v/sub && echo new > /v/sub/f'],
      volumes: [{ source: host, destination: '/v', readonly: false }],
    });
    expect((await call(daemon, 'POST', `/containers/${id}/start`)).status).toBe(204);
    expect(await untilExited(id)).toBe(0);
    expect(readFileSync(join(host, 'copy.txt'), 'utf8')).toBe('host data\n');
    expect(readFileSync(join(host, 'sub', 'f'), 'utf8')).toBe('new\n');

    const ro = await create({
      cmd: ['sh', '-c', 'echo changed > /v/in.txt'],
      volumes: [{ source: host, destination: '/v', readonly: true }],
    });
    await call(daemon, 'POST', `/containers/${ro}/start`);
    expect(await untilExited(ro)).not.toBe(0);
    expect(readFileSync(join(host, 'in.txt'), 'utf8')).toBe('host data\n');
    expect((await call(daemon, 'GET', `/containers/${ro}/logs`)).text).toContain('Read-only file system');
  });

  it('writes back when a running container is force-removed', async () => {
    const host = hostDir();
    const id = await create({
      cmd: ['sh', '-c', 'echo early > /v/early && sleep 1000'],
      volumes: [{ source: host, destination: '/v', readonly: false }],
    });
    await call(daemon, 'POST', `/containers/${id}/start`);
    for (let i = 0; i < 100 && (await stateOf(id)).state !== 'running'; i++) await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
    expect(readFileSync(join(host, 'early'), 'utf8')).toBe('early\n');
  });

  it('does not write through a symlink the host put in the volume meanwhile', async () => {
    const host = hostDir();
    const outside = hostDir();
    const id = await create({
      cmd: ['sh', '-c', 'mkdir /v/link && echo pwned > /v/link/f'],
      volumes: [{ source: host, destination: '/v', readonly: false }],
    });
    symlinkSync(outside, join(host, 'link'));
    await call(daemon, 'POST', `/containers/${id}/start`);
    expect(await untilExited(id)).toBe(0);
    expect(existsSync(join(outside, 'f'))).toBe(false);
  });

  it('refuses volumes it cannot use with 400, leaving nothing behind', async () => {
    const before = ((await call(daemon, 'GET', '/containers/json?all=1')).json as unknown[]).length;
    const file = join(hostDir(), 'a-file');
    writeFileSync(file, 'x');
    const missing = await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      volumes: [{ source: file, destination: '/v', readonly: false }],
    });
    expect(missing.status).toBe(400);
    expect((missing.json as { message: string }).message).toMatch(/is not a directory$/);

    const relative = await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      volumes: [{ source: hostDir(), destination: 'v', readonly: false }],
    });
    expect(relative.status).toBe(400);

    const withLink = hostDir();
    mkdirSync(join(withLink, 'd'));
    symlinkSync('/etc', join(withLink, 'd', 'etc'));
    const link = await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      volumes: [{ source: withLink, destination: '/v', readonly: false }],
    });
    expect(link.status).toBe(400);
    expect((link.json as { message: string }).message).toMatch(/\/d\/etc is neither a file nor a directory$/);
    const twice = await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      volumes: [
        { source: hostDir(), destination: '/v', readonly: false },
        { source: hostDir(), destination: '/v', readonly: true },
      ],
    });
    expect(twice.status).toBe(400);
    expect((twice.json as { message: string }).message).toBe('Duplicate mount point: /v');
    const onFile = await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      volumes: [{ source: hostDir(), destination: '/etc/passwd/x', readonly: false }],
    });
    expect(onFile.status).toBe(400);
    expect((onFile.json as { message: string }).message).toMatch(
      /cannot mount on \/etc\/passwd\/x: Not a directory$/,
    );
    expect(((await call(daemon, 'GET', '/containers/json?all=1')).json as unknown[]).length).toBe(before);
  });

  it('mounts a volume inside another, and copies volumes in again at a restart', async () => {
    const outer = hostDir();
    const inner = hostDir();
    writeFileSync(join(inner, 'i'), 'inner 1\n');
    const id = await create({
      cmd: ['sh', '-c', 'cat /v/in/i; ls /v'],
      volumes: [
        { source: inner, destination: '/v/in', readonly: true },
        { source: outer, destination: '/v', readonly: false },
      ],
    });
    await call(daemon, 'POST', `/containers/${id}/start`);
    expect(await untilExited(id)).toBe(0);
    expect((await call(daemon, 'GET', `/containers/${id}/logs`)).text).toBe('inner 1\nin\n');
    expect(existsSync(join(outer, 'in'))).toBe(true); // the mount point, made in the outer volume
    writeFileSync(join(inner, 'i'), 'inner 2\n');
    await call(daemon, 'POST', `/containers/${id}/start`);
    expect(await untilExited(id)).toBe(0);
    expect((await call(daemon, 'GET', `/containers/${id}/logs`)).text).toBe('inner 1\nin\ninner 2\nin\n');
  });
});
