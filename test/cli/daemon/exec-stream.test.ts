// Streamed execs (docs/api.md): output as it comes, input pushed as the client types, the exit code
// at the end; a process waiting for input is not killed as stuck, and a client that goes away
// ends the exec's input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Demultiplexer } from '../../../src/cli/client/demux.js';
import type { Daemon } from '../../../src/cli/daemon/index.js';
import { call, daemonOn, tempState } from './helpers.js';

let daemon: Daemon;
let container: string;

beforeAll(async () => {
  daemon = await daemonOn(tempState(), 'rcontainer');
  const created = await call(daemon, 'POST', '/containers/create', {
    image: 'busybox',
    cmd: ['sleep', '1000'],
  });
  container = (created.json as { id: string }).id;
  await call(daemon, 'POST', `/containers/${container}/start`);
});
afterAll(async () => {
  await daemon.close();
});

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** Start a streamed exec; its id. */
async function startExec(body: Record<string, unknown>): Promise<string> {
  const answer = await call(daemon, 'POST', `/containers/${container}/exec`, { ...body, stream: true });
  expect(answer.status).toBe(201);
  return (answer.json as { id: string }).id;
}

/** Read an exec's output stream in the background: what came so far per stream, and its end. */
function readOutput(id: string, signal?: AbortSignal): { out: string[]; err: string[]; done: Promise<void> } {
  const out: string[] = [];
  const err: string[] = [];
  const demux = new Demultiplexer((stream, bytes) => (stream === 2 ? err : out).push(bytes.toString('utf8')));
  const done = (async () => {
    const response = await fetch(`${daemon.url!}/exec/${id}/output`, signal ? { signal } : {});
    expect(response.headers.get('content-type')).toBe('application/vnd.docker.multiplexed-stream');
    const reader = response.body!.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) return;
      demux.push(Buffer.from(value));
    }
  })();
  return { out, err, done };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('streamed execs', () => {
  it('runs a shell line by line as input arrives, then answers its exit code', async () => {
    const id = await startExec({ cmd: ['sh'], openStdin: true });
    const output = readOutput(id);
    expect((await call(daemon, 'GET', `/exec/${id}/json`)).json).toEqual({
      id,
      containerId: container,
      running: true,
      exitCode: null,
    });
    expect((await call(daemon, 'POST', `/exec/${id}/input`, { data: b64('echo one\n') })).status).toBe(204);
    // The first line ran before the second was typed.
    await until(() => output.out.join('') === 'one\n');
    await call(daemon, 'POST', `/exec/${id}/input`, { data: b64('echo two >&2; exit 7\n'), close: true });
    await output.done;
    expect(output.out.join('')).toBe('one\n');
    expect(output.err.join('')).toBe('two\n');
    expect((await call(daemon, 'GET', `/exec/${id}/json`)).json).toMatchObject({
      running: false,
      exitCode: 7,
    });
    const late = await call(daemon, 'POST', `/exec/${id}/input`, { data: b64('x') });
    expect(late.status).toBe(409);
  });

  it('keeps an exec that waits for its input instead of killing it as stuck', async () => {
    const id = await startExec({ cmd: ['cat'], openStdin: true });
    const output = readOutput(id);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the machine is idle meanwhile
    expect((await call(daemon, 'GET', `/exec/${id}/json`)).json).toMatchObject({ running: true });
    await call(daemon, 'POST', `/exec/${id}/input`, { data: b64('late words'), close: true });
    await output.done;
    expect(output.out.join('')).toBe('late words');
    expect((await call(daemon, 'GET', `/exec/${id}/json`)).json).toMatchObject({ exitCode: 0 });
  });

  it('ends the input of an exec whose client went away', async () => {
    const id = await startExec({ cmd: ['cat'], openStdin: true });
    const abort = new AbortController();
    const output = readOutput(id, abort.signal);
    await call(daemon, 'POST', `/exec/${id}/input`, { data: b64('hello') });
    await until(() => output.out.join('') === 'hello');
    abort.abort();
    await output.done.catch(() => {});
    let answer: { running: boolean; exitCode: number | null } = { running: true, exitCode: null };
    for (let i = 0; i < 300 && answer.running; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      answer = (await call(daemon, 'GET', `/exec/${id}/json`)).json as typeof answer;
    }
    expect(answer).toMatchObject({ running: false, exitCode: 0 });
  });

  it('makes the session a terminal with tty (a shell prompts) and not without', async () => {
    for (const [tty, prompts] of [
      [true, '$ $ '],
      [false, ''],
    ] as const) {
      const id = await startExec({ cmd: ['sh'], stdin: b64('echo hi\n'), tty });
      const output = readOutput(id);
      await output.done;
      expect(output.out.join('')).toBe('hi\n');
      expect(output.err.join('')).toBe(prompts);
    }
  });

  it('gives a command that cannot start as an exec that ended (127), and refuses bad requests', async () => {
    const id = await startExec({ cmd: ['no-such-tool'] });
    const output = readOutput(id);
    await output.done;
    expect(output.err.join('')).toBe('exec: "no-such-tool": executable file not found in $PATH\n');
    expect((await call(daemon, 'GET', `/exec/${id}/json`)).json).toMatchObject({
      running: false,
      exitCode: 127,
    });
    const noStream = await call(daemon, 'POST', `/containers/${container}/exec`, {
      cmd: ['cat'],
      openStdin: true,
    });
    expect(noStream.status).toBe(400);
    expect(noStream.json).toEqual({ message: 'openStdin: needs "stream": true' });
    const nope = 'f'.repeat(64);
    for (const [method, path, body] of [
      ['GET', `/exec/${nope}/json`, undefined],
      ['GET', `/exec/${nope}/output`, undefined],
      ['POST', `/exec/${nope}/input`, { close: true }],
    ] as const) {
      const answer = await call(daemon, method, path, body);
      expect(answer.status).toBe(404);
      expect(answer.json).toEqual({ message: `No such exec instance: ${nope}` });
    }
    const badInput = await call(daemon, 'POST', `/exec/${id}/input`, { data: 'not base64!' });
    expect(badInput.status).toBe(400);
    // Without openStdin, input is not taken.
    const closed = await startExec({ cmd: ['sleep', '1'] });
    const refused = await call(daemon, 'POST', `/exec/${closed}/input`, { data: b64('x') });
    expect(refused.status).toBe(409);
    expect((refused.json as { message: string }).message).toMatch(/takes no input/);
  });
});

describe("a container's own open input (run -i)", () => {
  it('takes input pushed while it runs, and refuses it where none is open', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh'],
        openStdin: true,
        tty: true,
      })
    ).json as { id: string };
    const early = await call(daemon, 'POST', `/containers/${id}/input`, { data: b64('echo x\n') });
    expect(early.status).toBe(409); // not running yet
    await call(daemon, 'POST', `/containers/${id}/start`);
    await call(daemon, 'POST', `/containers/${id}/input`, { data: b64('echo one\n') });
    const logs = async (): Promise<string> => (await call(daemon, 'GET', `/containers/${id}/logs`)).text;
    // A terminal (tty): the shell prompts, and each line runs as it comes.
    for (let i = 0; i < 300 && !(await logs()).includes('one'); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await logs()).toBe('$ one\n$ ');
    await call(daemon, 'POST', `/containers/${id}/input`, { data: b64('exit 6\n'), close: true });
    expect((await call(daemon, 'POST', `/containers/${id}/wait`)).json).toEqual({ exitCode: 6 });
    const none = await call(daemon, 'POST', `/containers/${container}/input`, { data: b64('x') });
    expect(none.status).toBe(409);
    expect((none.json as { message: string }).message).toMatch(/takes no input/);
    expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);
  });
});
