// Bad requests never break the daemon: whatever JSON (or non-JSON) a client sends to create, exec
// and the input endpoints, the answer is Docker's status with a one-line message, never a 500 or a
// stack trace.
import fc from 'fast-check';
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

/** Values of the wrong kind and of the right kind, for any field. */
const value = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 2 ** 31 }),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('busybox', 'kv', '/tmp', '0:0', 'rw', 'deny', 'allow', 'aGk=', '../x'),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 3 }),
  fc.record({
    source: fc.string({ maxLength: 8 }),
    destination: fc.string({ maxLength: 8 }),
    readonly: fc.boolean(),
  }),
  fc.array(
    fc.record({
      hostPort: fc.integer({ min: -1, max: 70_000 }),
      containerPort: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.string({ maxLength: 4 })),
    }),
    { maxLength: 2 },
  ),
);
const createFields = [
  'image',
  'name',
  'cmd',
  'env',
  'workdir',
  'user',
  'hostname',
  'memory',
  'volumes',
  'execPolicy',
  'stdin',
  'openStdin',
  'tty',
  'ports',
  'autoRemove',
  'extra',
];
const execFields = ['cmd', 'env', 'stdin', 'user', 'workdir', 'stream', 'openStdin', 'tty', 'extra'];
const inputFields = ['data', 'close', 'extra'];
const bodyOf = (fields: string[]) =>
  fc.oneof(
    fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 5 }),
    fc.string({ maxLength: 20 }),
    fc.constant('{"image":'),
  );

function checkAnswer(answer: { status: number; json: unknown }, allowed: number[]): void {
  expect(allowed).toContain(answer.status);
  if (answer.status >= 400) {
    const message = (answer.json as { message?: unknown }).message;
    expect(typeof message).toBe('string');
    expect(message as string).not.toMatch(/\n|    at /);
  }
}

describe('daemon API against malformed requests', () => {
  it('answers every create body with 201 or a 4xx', async () => {
    const created: string[] = [];
    await fc.assert(
      fc.asyncProperty(bodyOf(createFields), async (body) => {
        const answer = await call(daemon, 'POST', '/containers/create', body);
        checkAnswer(answer, [201, 400, 404, 409]);
        if (answer.status === 201) created.push((answer.json as { id: string }).id);
      }),
      { numRuns: 60, seed: 7 },
    );
    for (const id of created)
      expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  }, 60_000);

  it('answers every exec body with 200 or a 4xx', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', { image: 'busybox', cmd: ['sleep', '60'] })
    ).json as { id: string };
    await call(daemon, 'POST', `/containers/${id}/start`);
    await fc.assert(
      fc.asyncProperty(bodyOf(execFields), async (body) => {
        checkAnswer(await call(daemon, 'POST', `/containers/${id}/exec`, body), [200, 201, 400, 403]);
      }),
      { numRuns: 60, seed: 11 },
    );
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  }, 60_000);

  it('answers every input body, to a container and to an exec, with 204 or a 4xx', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', { image: 'busybox', cmd: ['cat'], openStdin: true })
    ).json as { id: string };
    await call(daemon, 'POST', `/containers/${id}/start`);
    const exec = (
      await call(daemon, 'POST', `/containers/${id}/exec`, { cmd: ['cat'], stream: true, openStdin: true })
    ).json as { id: string };
    await fc.assert(
      fc.asyncProperty(
        bodyOf(inputFields),
        fc.constantFrom(`/containers/${id}/input`, `/exec/${exec.id}/input`, '/exec/nope/input'),
        async (body, path) => {
          checkAnswer(await call(daemon, 'POST', path, body), [204, 400, 404, 409]);
        },
      ),
      { numRuns: 80, seed: 13 },
    );
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  }, 60_000);
});
