// The daemon's HTTP API (docs/api.md) end to end on an rcontainer machine: create, start, exec,
// logs, list, inspect, stop, rm, with Docker's statuses and messages for refusals.
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

/** Wait (polling the API) until `check` holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}

describe('daemon API under rcontainer', () => {
  it('answers the ping and info', async () => {
    expect((await call(daemon, 'GET', '/_ping')).text).toBe('OK');
    const info = (await call(daemon, 'GET', '/info')).json as Record<string, unknown>;
    expect(info.design).toBe('rcontainer');
    expect(info.cpus).toBe(1);
    // The attestation trust anchor: the platform key the machine seed derives.
    expect(info.platformKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('runs kv: create, start, exec SET/GET, logs, list, inspect, stop, rm', async () => {
    const created = await call(daemon, 'POST', '/containers/create', { image: 'kv', name: 'kv1' });
    expect(created.status).toBe(201);
    const { id, name } = created.json as { id: string; name: string };
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(name).toBe('kv1');
    expect((await call(daemon, 'POST', '/containers/kv1/start')).status).toBe(204);
    expect((await call(daemon, 'POST', `/containers/${id.slice(0, 12)}/start`)).status).toBe(304);

    await until(async () => (await call(daemon, 'GET', '/containers/kv1/logs')).text.includes('listening'));
    const set = await call(daemon, 'POST', '/containers/kv1/exec', {
      cmd: ['kv-client', '-p', '6379', 'SET', 'k', 'v'],
    });
    expect(set.status).toBe(200);
    expect(set.json).toEqual({ exitCode: 0, output: 'OK\n', stdout: 'OK\n', stderr: '' });
    const get = await call(daemon, 'POST', '/containers/kv1/exec', {
      cmd: ['kv-client', '-p', '6379', 'GET', 'k'],
    });
    expect(get.json).toEqual({ exitCode: 0, output: 'v\n', stdout: 'v\n', stderr: '' });
    // An exec that blocks with nothing left to wake it (a second server, the machine idle) is killed.
    const stuck = await call(daemon, 'POST', '/containers/kv1/exec', { cmd: ['kv-server', '-p', '7000'] });
    expect(stuck.json).toMatchObject({ exitCode: 137, stdout: 'kv-server: listening on port 7000\n' });
    const missing = await call(daemon, 'POST', '/containers/kv1/exec', { cmd: ['no-such-tool'] });
    expect((missing.json as { exitCode: number }).exitCode).toBe(127);

    const streams = await call(daemon, 'POST', '/containers/kv1/exec', {
      cmd: ['sh', '-c', 'echo to-out; cat /missing; echo again'],
    });
    expect(streams.json).toEqual({
      exitCode: 0,
      output: 'to-out\ncat: /missing: No such file or directory\nagain\n',
      stdout: 'to-out\nagain\n',
      stderr: 'cat: /missing: No such file or directory\n',
    });

    // An exec's output is its own (its session), not the container's log.
    const logs = await call(daemon, 'GET', '/containers/kv1/logs');
    expect(logs.text).toBe('kv-server: listening on port 6379\n');
    const since = await call(daemon, 'GET', `/containers/kv1/logs?since=${logs.text.length}`);
    expect(since.text).toBe('');

    const running = (await call(daemon, 'GET', '/containers/json')).json as { name: string; state: string }[];
    expect(running.map((c) => [c.name, c.state])).toEqual([['kv1', 'running']]);
    const inspect = (await call(daemon, 'GET', '/containers/kv1/json')).json as Record<string, unknown>;
    expect(inspect.id).toBe(id);
    expect(inspect.state).toBe('running');
    const measurements = inspect.measurements as {
      imageDigest: string;
      configDigest: string;
      binaries: unknown[];
    };
    expect(measurements.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(measurements.binaries.length).toBeGreaterThan(2);
    expect((inspect.config as { process: { args: string[] } }).process.args[0]).toBe('kv-server');

    // A running container cannot be removed without force.
    const rmRunning = await call(daemon, 'DELETE', '/containers/kv1');
    expect(rmRunning.status).toBe(409);
    expect(rmRunning.json).toEqual({
      message:
        'You cannot remove a running container kv1. Stop the container before attempting removal or force remove',
    });

    expect((await call(daemon, 'POST', '/containers/kv1/stop?t=1')).status).toBe(204);
    expect((await call(daemon, 'POST', '/containers/kv1/stop')).status).toBe(304);
    const stopped = (await call(daemon, 'GET', '/containers/json?all=1')).json as Record<string, unknown>[];
    // kv-server handles SIGTERM: it shuts down cleanly (0), as redis-server does.
    expect(stopped[0]).toMatchObject({ name: 'kv1', state: 'exited', exitCode: 0 });
    expect((stopped[0] as { status: string }).status).toMatch(
      /^Exited \(0\) (Less than a second|\d+ seconds?) ago$/,
    );
    expect((await call(daemon, 'GET', '/containers/kv1/logs')).text).toMatch(
      /kv-server: SIGTERM received, shutting down\n$/,
    );
    expect((await call(daemon, 'GET', '/containers/json')).json).toEqual([]);

    const kill = await call(daemon, 'POST', '/containers/kv1/kill');
    expect(kill.status).toBe(409);
    expect(kill.json).toEqual({ message: 'Container kv1 is not running' });
    const exec = await call(daemon, 'POST', '/containers/kv1/exec', { cmd: ['true'] });
    expect(exec.status).toBe(409);

    expect((await call(daemon, 'DELETE', '/containers/kv1')).status).toBe(204);
    const gone = await call(daemon, 'POST', '/containers/kv1/start');
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ message: 'No such container: kv1' });
  });

  it('runs a short-lived container to its exit code, restarts it with its writable layer, and force-removes a running one', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh', '-c', 'cat /note; echo hi > /note; echo $$; exit 3'],
      })
    ).json as { id: string };
    expect((await call(daemon, 'POST', `/containers/${id}/start`)).status).toBe(204);
    await until(
      async () =>
        ((await call(daemon, 'GET', `/containers/${id}/json`)).json as { state: string }).state === 'exited',
    );
    expect(
      ((await call(daemon, 'GET', `/containers/${id}/json`)).json as { exitCode: number }).exitCode,
    ).toBe(3);
    expect((await call(daemon, 'POST', `/containers/${id}/start`)).status).toBe(204);
    await until(
      async () =>
        ((await call(daemon, 'GET', `/containers/${id}/json`)).json as { state: string }).state === 'exited',
    );
    // The second run sees the file of the first (Docker keeps a container's file system) and is pid 1 again.
    expect((await call(daemon, 'GET', `/containers/${id}/logs`)).text).toBe(
      'cat: /note: No such file or directory\n1\nhi\n1\n',
    );
    expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);

    const sleeper = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        name: 'sleeper',
        cmd: ['sleep', '1000'],
      })
    ).json as { id: string };
    expect((await call(daemon, 'POST', '/containers/sleeper/start')).status).toBe(204);
    expect((await call(daemon, 'DELETE', `/containers/${sleeper.id}?force=1`)).status).toBe(204);
    expect((await call(daemon, 'GET', '/containers/json?all=1')).json).toEqual([]);
  });

  it('streams logs with follow=1 as they are written, ending when the container exits', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh', '-c', 'echo one; sleep 0.2; echo two; sleep 0.2; echo three'],
      })
    ).json as { id: string };
    expect((await call(daemon, 'GET', `/containers/${id}/logs?follow=1`)).text).toBe(''); // not started: ends at once
    await call(daemon, 'POST', `/containers/${id}/start`);
    const response = await fetch(`${daemon.url!}/containers/${id}/logs?follow=1`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const chunks: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(new TextDecoder().decode(value));
    }
    // Each line came as the container wrote it (0.2 s apart), not at the end.
    expect(chunks).toEqual(['one\n', 'two\n', 'three\n']);
    const after = (await call(daemon, 'GET', `/containers/${id}/json`)).json as { state: string };
    expect(after.state).toBe('exited');
    const offset = await call(daemon, 'GET', `/containers/${id}/logs?follow=1&since=4`);
    expect(offset.text).toBe('two\nthree\n');
    expect((await call(daemon, 'GET', `/containers/${id}/logs?since=8`)).text).toBe('three\n');
    expect((await call(daemon, 'GET', '/containers/nope/logs?follow=1')).status).toBe(404);
    expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);
  });

  it("answers logs in Docker's multiplexed framing with multiplex=1, stdout and stderr apart", async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh', '-c', 'echo out; cat /nope; echo end'],
      })
    ).json as { id: string };
    await call(daemon, 'POST', `/containers/${id}/start`);
    const followed = await fetch(`${daemon.url!}/containers/${id}/logs?follow=1&multiplex=1`);
    expect(followed.headers.get('content-type')).toBe('application/vnd.docker.multiplexed-stream');
    const framed = Buffer.from(await followed.arrayBuffer());
    const frames: [number, string][] = [];
    for (let at = 0; at < framed.length;) {
      const length = framed.readUInt32BE(at + 4);
      frames.push([framed[at]!, framed.subarray(at + 8, at + 8 + length).toString('utf8')]);
      at += 8 + length;
    }
    expect(frames).toEqual([
      [1, 'out\n'],
      [2, 'cat: /nope: No such file or directory\n'],
      [1, 'end\n'],
    ]);
    // Plain, both streams in order.
    expect((await call(daemon, 'GET', `/containers/${id}/logs`)).text).toBe(
      'out\ncat: /nope: No such file or directory\nend\n',
    );
    expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);
  });

  it('applies the exec policy: deny refuses exec with 403, allow is created with a warning', async () => {
    const denied = await call(daemon, 'POST', '/containers/create', {
      image: 'busybox',
      name: 'sealed',
      cmd: ['sleep', '1000'],
      execPolicy: 'deny',
    });
    expect(denied.json).toMatchObject({ name: 'sealed', warnings: [] });
    await call(daemon, 'POST', '/containers/sealed/start');
    const exec = await call(daemon, 'POST', '/containers/sealed/exec', { cmd: ['echo', 'x'] });
    expect(exec.status).toBe(403);
    expect(exec.json).toEqual({ message: 'exec into sealed is denied by its exec policy (deny)' });
    const inspect = (await call(daemon, 'GET', '/containers/sealed/json')).json as {
      config: { annotations?: Record<string, string> };
    };
    expect(inspect.config.annotations?.['org.rcontainer.exec-policy']).toBe('deny');
    expect((await call(daemon, 'DELETE', '/containers/sealed?force=1')).status).toBe(204);

    const open = await call(daemon, 'POST', '/containers/create', { image: 'busybox', execPolicy: 'allow' });
    expect((open.json as { warnings: string[] }).warnings).toEqual([
      expect.stringMatching(/^exec policy allow: binaries outside the measured image may run/),
    ]);
    expect((await call(daemon, 'DELETE', `/containers/${(open.json as { id: string }).id}`)).status).toBe(
      204,
    );
    const bad = await call(daemon, 'POST', '/containers/create', { image: 'busybox', execPolicy: 'maybe' });
    expect(bad.status).toBe(400);
  });

  it('paces simulated time to host time: a sleeping container is still up after a moment', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', { image: 'busybox', cmd: ['sleep', '30'] })
    ).json as { id: string };
    await call(daemon, 'POST', `/containers/${id}/start`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Host time bounds simulated time: 30 simulated seconds cannot have passed.
    const info = (await call(daemon, 'GET', '/info')).json as { simulatedNs: number };
    expect(((await call(daemon, 'GET', `/containers/${id}/json`)).json as { state: string }).state).toBe(
      'running',
    );
    expect(info.simulatedNs).toBeLessThan(30e9);
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  });

  it('serves other requests while an exec runs, and answers the exec when it ends', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', { image: 'busybox', cmd: ['sleep', '30'] })
    ).json as { id: string };
    await call(daemon, 'POST', `/containers/${id}/start`);
    let answered = false;
    const exec = call(daemon, 'POST', `/containers/${id}/exec`, {
      cmd: ['sh', '-c', 'echo begin; sleep 0.3; echo end'],
    }).then((answer) => {
      answered = true;
      return answer;
    });
    // The exec sleeps 0.3 s in real time: meanwhile the daemon answers a listing.
    const listed = (await call(daemon, 'GET', '/containers/json')).json as { id: string }[];
    expect(listed.map((c) => c.id)).toContain(id);
    expect(answered).toBe(false);
    expect((await exec).json).toEqual({
      exitCode: 0,
      output: 'begin\nend\n',
      stdout: 'begin\nend\n',
      stderr: '',
    });
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  });

  it('reports what a container holds: memory against its limit, processes (top), granules', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh', '-c', 'sleep 30 & sleep 30'],
        memory: 8 * 2 ** 20,
      })
    ).json as { id: string };
    const before = (await call(daemon, 'GET', `/containers/${id}/stats`)).json as {
      memory: { usage: number; limit: number | null };
      pids: number;
      granules: { ctr: number; shim: number; pt: number };
    };
    expect(before.pids).toBe(0);
    await call(daemon, 'POST', `/containers/${id}/start`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = (await call(daemon, 'GET', `/containers/${id}/stats`)).json as typeof before;
    expect(now.pids).toBe(3); // sh and its two sleeps
    const top = (await call(daemon, 'GET', `/containers/${id}/top`)).json as {
      containerPid: number;
      command: string;
      state: string;
    }[];
    expect(top.map((p) => [p.containerPid, p.command, p.state])).toEqual([
      [1, '/bin/sh', 'S'],
      [2, '/bin/sleep', 'S'],
      [3, '/bin/sleep', 'S'],
    ]);
    expect(now.memory.limit).toBe(8 * 2 ** 20);
    expect(now.memory.usage).toBeGreaterThan(0);
    expect(now.granules.ctr).toBeGreaterThan(0);
    expect(now.granules.shim).toBeGreaterThan(0);
    expect(now.granules.pt).toBeGreaterThan(0);
    expect((await call(daemon, 'GET', '/containers/nope/stats')).status).toBe(404);
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  });

  it('restarts a container (its writable layer kept) and waits for one to stop', async () => {
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh', '-c', 'echo run >> /runs; cat /runs | wc -l; sleep 0.2; exit 4'],
      })
    ).json as { id: string };
    expect((await call(daemon, 'POST', `/containers/${id}/restart`)).status).toBe(204); // from created
    expect((await call(daemon, 'POST', `/containers/${id}/wait`)).json).toEqual({ exitCode: 4 });
    expect((await call(daemon, 'POST', `/containers/${id}/restart`)).status).toBe(204); // from exited
    expect((await call(daemon, 'POST', `/containers/${id}/wait`)).json).toEqual({ exitCode: 4 });
    expect((await call(daemon, 'POST', `/containers/${id}/wait`)).json).toEqual({ exitCode: 4 }); // at once
    expect((await call(daemon, 'GET', `/containers/${id}/logs`)).text).toBe('1\n2\n');
    expect((await call(daemon, 'POST', '/containers/nope/wait')).status).toBe(404);
    expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);
  });

  it('hands standard input to a container (run -i) and to an exec (exec -i); exec as another user and directory', async () => {
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const { id } = (
      await call(daemon, 'POST', '/containers/create', {
        image: 'busybox',
        cmd: ['sh', '-c', 'wc -l; sleep 30'],
        stdin: b64('1\n2\n3\n'),
      })
    ).json as { id: string };
    await call(daemon, 'POST', `/containers/${id}/start`);
    const piped = await call(daemon, 'POST', `/containers/${id}/exec`, {
      cmd: ['cat'],
      stdin: b64('to the exec'),
    });
    expect(piped.json).toMatchObject({ exitCode: 0, stdout: 'to the exec' });
    const as = await call(daemon, 'POST', `/containers/${id}/exec`, {
      cmd: ['sh', '-c', 'id; pwd'],
      user: '1000:1000',
      workdir: '/tmp',
    });
    expect(as.json).toMatchObject({ exitCode: 0, stdout: 'uid=1000 gid=1000\n/tmp\n' });
    const nowhere = await call(daemon, 'POST', `/containers/${id}/exec`, { cmd: ['true'], workdir: '/nope' });
    expect((nowhere.json as { exitCode: number }).exitCode).toBe(126);
    expect(
      (await call(daemon, 'POST', `/containers/${id}/exec`, { cmd: ['true'], workdir: 'tmp' })).status,
    ).toBe(400);
    const none = await call(daemon, 'POST', `/containers/${id}/exec`, { cmd: ['wc', '-c'] });
    expect(none.json).toMatchObject({ exitCode: 0, stdout: '0\n' });
    expect((await call(daemon, 'GET', `/containers/${id}/logs`)).text).toBe('3\n');
    const bad = await call(daemon, 'POST', `/containers/${id}/exec`, { cmd: ['cat'], stdin: 'not base64!' });
    expect(bad.status).toBe(400);
    expect((await call(daemon, 'DELETE', `/containers/${id}?force=1`)).status).toBe(204);
  });

  it('refuses bad requests with Docker statuses', async () => {
    const badJson = await call(daemon, 'POST', '/containers/create', '{not json');
    expect(badJson.status).toBe(400);
    expect(badJson.json).toEqual({ message: 'invalid JSON body' });
    const noImage = await call(daemon, 'POST', '/containers/create', { name: 'x' });
    expect(noImage.status).toBe(400);
    expect((noImage.json as { message: string }).message).toMatch(/^image: /);
    const unknown = await call(daemon, 'POST', '/containers/create', { image: 'nosuchimage' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ message: 'No such image: nosuchimage' });
    const badName = await call(daemon, 'POST', '/containers/create', { image: 'busybox', name: 'a b' });
    expect(badName.status).toBe(400);
    await call(daemon, 'POST', '/containers/create', { image: 'busybox', name: 'dup' });
    const dup = await call(daemon, 'POST', '/containers/create', { image: 'busybox', name: 'dup' });
    expect(dup.status).toBe(409);
    expect((dup.json as { message: string }).message).toMatch(
      /^Conflict. The container name "\/dup" is already in use/,
    );
    expect((await call(daemon, 'DELETE', '/containers/dup')).status).toBe(204);
    expect((await call(daemon, 'GET', '/containers/nope/json')).status).toBe(404);
    const badExec = await call(daemon, 'POST', '/containers/nope/exec', { cmd: [] });
    expect(badExec.status).toBe(400);
  });

  it('gives attestation evidence that verifies, with the measurements of inspect', async () => {
    const { id } = (await call(daemon, 'POST', '/containers/create', { image: 'kv' })).json as { id: string };
    const nonce = 'a1'.repeat(32);
    const answer = await call(daemon, 'GET', `/containers/${id}/attest?nonce=${nonce}`);
    expect(answer.status).toBe(200);
    const { verified, report } = answer.json as { verified: boolean; report: Record<string, unknown> };
    expect(verified).toBe(true);
    expect(report.nonce).toBe(nonce);
    const inspect = (await call(daemon, 'GET', `/containers/${id}/json`)).json as {
      measurements: { imageDigest: string; configDigest: string };
    };
    expect(report.imageDigest).toBe(inspect.measurements.imageDigest);
    expect(report.configDigest).toBe(inspect.measurements.configDigest);
    expect((await call(daemon, 'GET', `/containers/${id}/attest`)).status).toBe(400);
    const gpt = (await call(daemon, 'GET', '/gpt')).json as { views: string[]; owners: unknown[] };
    expect(gpt.views.slice(0, 2)).toEqual(['Priv-GPT', 'OS-GPT']);
    expect(gpt.owners.length).toBeGreaterThan(0);
    expect((await call(daemon, 'DELETE', `/containers/${id}`)).status).toBe(204);
  });
});
