// Published ports: a real TCP client on the host talks to a server in a container on the machine,
// through a relay (nsenter + nc) whose bytes cross the container boundary as sealed frames.
import { createConnection, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/cli/daemon/index.js';
import { parsePort, portsText } from '../../../src/cli/daemon/ports.js';
import { EngineError } from '../../../src/cli/errors.js';
import { call, daemonOn, tempState } from './helpers.js';

let daemon: Daemon;

beforeAll(async () => {
  daemon = await daemonOn(tempState(), 'rcontainer');
});
afterAll(async () => {
  await daemon.close();
});

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connect, send each request after the previous answer came, and collect the answers. */
async function converse(port: number, requests: string[]): Promise<string[]> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const answers: string[] = [];
  for (const request of requests) {
    socket.write(request);
    answers.push(
      await new Promise<string>((resolve, reject) => {
        socket.once('data', (chunk) => resolve(chunk.toString('utf8')));
        socket.once('error', reject);
      }),
    );
  }
  socket.end();
  return answers;
}

describe('parsePort', () => {
  it('takes HOST:CONTAINER with an optional 127.0.0.1 and /tcp', () => {
    expect(parsePort('8080:80')).toEqual({ hostPort: 8080, containerPort: 80 });
    expect(parsePort('127.0.0.1:6379:6379/tcp')).toEqual({ hostPort: 6379, containerPort: 6379 });
    expect(portsText([{ hostPort: 8080, containerPort: 80 }])).toBe('127.0.0.1:8080->80/tcp');
  });

  it.each(['80', '0:80', '80:70000', '0.0.0.0:80:80', '80:80/udp', 'a:b'])('refuses %s', (text) => {
    expect(() => parsePort(text)).toThrow(EngineError);
    expect(() => parsePort(text)).toThrow(/^invalid port/);
  });
});

describe('published ports', () => {
  it('relays a host TCP client to kv-server in a container, and closes the port when it stops', async () => {
    const port = await freePort();
    const created = await call(daemon, 'POST', '/containers/create', {
      image: 'kv',
      name: 'published',
      ports: [{ hostPort: port, containerPort: 6379 }],
    });
    expect(created.status).toBe(201);
    expect((await call(daemon, 'POST', '/containers/published/start')).status).toBe(204);
    expect(await converse(port, ['PING\r\n', 'SET k v\r\n', 'GET k\r\n'])).toEqual([
      '+PONG\r\n',
      '+OK\r\n',
      '$1\r\nv\r\n',
    ]);
    // A second connection sees the same server.
    expect(await converse(port, ['GET k\r\n'])).toEqual(['$1\r\nv\r\n']);
    const rows = (await call(daemon, 'GET', '/containers/json')).json as { name: string; ports: string }[];
    expect(rows.find((r) => r.name === 'published')?.ports).toBe(`127.0.0.1:${port}->6379/tcp`);

    // Another container cannot have the same host port while this one runs.
    await call(daemon, 'POST', '/containers/create', {
      image: 'kv',
      name: 'clash',
      ports: [{ hostPort: port, containerPort: 6379 }],
    });
    const clash = await call(daemon, 'POST', '/containers/clash/start');
    expect(clash.status).toBe(500);
    expect(clash.json).toEqual({ message: `Bind for 127.0.0.1:${port} failed: port is already allocated` });
    expect(((await call(daemon, 'GET', '/containers/clash/json')).json as { state: string }).state).toBe(
      'created',
    );

    expect((await call(daemon, 'POST', '/containers/published/stop?t=0')).status).toBe(204);
    await expect(converse(port, ['PING\r\n'])).rejects.toThrow(/ECONNREFUSED/);
    // Free again: the other container can have it now.
    expect((await call(daemon, 'POST', '/containers/clash/start')).status).toBe(204);
    expect(await converse(port, ['PING\r\n'])).toEqual(['+PONG\r\n']);
    for (const name of ['published', 'clash'])
      expect((await call(daemon, 'DELETE', `/containers/${name}?force=1`)).status).toBe(204);
    await expect(converse(port, ['PING\r\n'])).rejects.toThrow(/ECONNREFUSED/);
  });

  it('closes the connection of a port nothing listens on in the container', async () => {
    const port = await freePort();
    await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      name: 'quiet',
      cmd: ['sleep', '1000'],
      ports: [{ hostPort: port, containerPort: 9 }],
    });
    await call(daemon, 'POST', '/containers/quiet/start');
    const socket = createConnection({ port, host: '127.0.0.1' });
    const ended = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (chunk) => (got += chunk.toString()));
      socket.on('close', () => resolve(got));
    });
    expect(ended).toBe('');
    expect((await call(daemon, 'DELETE', '/containers/quiet?force=1')).status).toBe(204);
  });

  it('refuses bad port requests with 400', async () => {
    for (const ports of [
      [{ hostPort: 0, containerPort: 80 }],
      [{ hostPort: 80, containerPort: 65536 }],
      [
        { hostPort: 8080, containerPort: 80 },
        { hostPort: 8080, containerPort: 81 },
      ],
    ]) {
      const answer = await call(daemon, 'POST', '/containers/create', { image: 'busybox', ports });
      expect(answer.status).toBe(400);
      expect((answer.json as { message: string }).message).toMatch(/^ports/);
    }
  });
});
