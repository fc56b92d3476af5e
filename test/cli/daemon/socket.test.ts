// The daemon on a UNIX socket, announced as { pid, socket } in daemon.json; and --rm's autoRemove.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startDaemon } from '../../../src/cli/daemon/index.js';
import { tempState } from './helpers.js';

function get(
  socketPath: string,
  path: string,
  method = 'GET',
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, method, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

it('serves on a UNIX socket and removes an autoRemove container when it exits', async () => {
  const state = tempState();
  const socket = join(state, 'engine.sock');
  const daemon = await startDaemon({ stateDir: state, design: 'rcontainer', socket, handleSignals: false });
  expect(JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8'))).toEqual({ pid: process.pid, socket });
  expect((await get(socket, '/_ping')).text).toBe('OK');
  const created = await get(
    socket,
    '/containers/create',
    'POST',
    JSON.stringify({ image: 'busybox', cmd: ['true'], autoRemove: true }),
  );
  const { id } = JSON.parse(created.text) as { id: string };
  expect((await get(socket, `/containers/${id}/start`, 'POST')).status).toBe(204);
  for (let i = 0; i < 200 && (await get(socket, `/containers/${id}/json`)).status !== 404; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect((await get(socket, `/containers/${id}/json`)).status).toBe(404);
  await daemon.close();
});
