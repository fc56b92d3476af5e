// End-to-end tests of the engine daemon and its client commands, driving the built CLI as
// subprocesses (`npm test` builds dist/ first).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const STATE = mkdtempSync(join(tmpdir(), 'rcontainer-engine-'));

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI against this test's state directory. */
function cli(...args: string[]): Result {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, RCONTAINER_STATE: STATE },
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

let daemon: ChildProcess | undefined;
let daemonOutput = '';

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return condition();
}

beforeAll(async () => {
  daemon = spawn(process.execPath, [CLI, 'daemon', '--port', '0', '--state-dir', STATE], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout?.on('data', (chunk: Buffer) => (daemonOutput += chunk.toString()));
  daemon.stderr?.on('data', (chunk: Buffer) => (daemonOutput += chunk.toString()));
  const ready = await waitFor(() => existsSync(join(STATE, 'daemon.json')), 30_000);
  if (!ready) throw new Error(`the daemon did not write daemon.json: ${daemonOutput}`);
}, 40_000);

afterAll(() => {
  daemon?.kill();
});

describe('rcontainer daemon and client', () => {
  it('prints where it listens', () => {
    expect(daemonOutput).toMatch(/127\.0\.0\.1:\d+/);
  });

  it('runs a key-value container through its life cycle', () => {
    const run = cli('run', '-d', 'kv');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{12,64}$/);

    const set = cli('exec', id, 'kv-client', '-p', '6379', 'SET', 'a', '1');
    expect(set.code).toBe(0);
    expect(set.stdout.trim()).toBe('OK');
    const get = cli('exec', id, 'kv-client', '-p', '6379', 'GET', 'a');
    expect(get.code).toBe(0);
    expect(get.stdout.trim()).toBe('1');

    expect(cli('logs', id).stdout).toContain('listening');

    const ps = cli('ps');
    expect(ps.code).toBe(0);
    expect(ps.stdout).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/m);
    expect(ps.stdout).toMatch(/ ago\s+Up (Less than a second|\d+ seconds?)\s+/);
    expect(ps.stdout).toContain(id.slice(0, 12));
    const running = JSON.parse(cli('ps', '--json').stdout) as { id: string; state: string }[];
    expect(running.find((c) => c.id === id)?.state).toBe('running');

    const inspect = cli('inspect', id);
    expect(inspect.code).toBe(0);
    const [details] = JSON.parse(inspect.stdout) as { measurements?: { imageDigest?: string } }[];
    expect(details?.measurements?.imageDigest).toMatch(/^sha256:/);

    const stats = cli('stats', id);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(
      /^CONTAINER ID\s+NAME\s+MEM USAGE \/ LIMIT\s+MEM %\s+PIDS\s+GRANULES CTR\/SHIM\/PT$/m,
    );
    expect(stats.stdout).toMatch(/ unlimited\s+--\s+1\s+\d+\/\d+\/\d+$/m);

    expect(cli('top', id).stdout).toMatch(/^0\s+\d+\s+0\s+1\s+1\s+S\s+\/bin\/kv-server$/m);

    const attest = cli('attest', id, '--nonce', '00112233');
    expect(attest.stdout).toMatch(/^verified:\s+yes$/m);
    expect(attest.stdout).toMatch(/^platform token\s+pass\s+the platform key \w+… endorses mini-OS key/m);
    expect(attest.stdout).toMatch(/^image\s+pass\s+measured binary list sha256:/m);
    expect(attest.code).toBe(0);
    // The owner's references decide: another image, another policy or another anchor fail.
    const wrongImage = cli('attest', id, '--image', 'busybox');
    expect(wrongImage.stdout).toMatch(/^verified:\s+NO \(image: measured binary list sha256:\w+, expected/m);
    expect(wrongImage.code).toBe(1);
    expect(cli('attest', id, '--exec-policy', 'deny').code).toBe(1);
    const wrongKey = cli('attest', id, '--platform-key', 'ab'.repeat(32));
    expect(wrongKey.stdout).toMatch(/^platform token\s+fail\s+the platform key abab/m);
    expect(wrongKey.code).toBe(1);
    const badKey = cli('attest', id, '--platform-key', 'zz');
    expect(badKey.stderr.trim()).toBe("rcontainer: attest: --platform-key takes 32 bytes in hex, not 'zz'");
    expect(badKey.code).toBe(125);

    const stop = cli('stop', id);
    expect(stop.code).toBe(0);
    expect(stop.stdout.trim()).toBe(id);
    expect(cli('ps').stdout).not.toContain(id.slice(0, 12));
    const all = cli('ps', '-a');
    expect(all.stdout).toContain(id.slice(0, 12));
    expect(all.stdout).toMatch(/Exited \(\d+\)/);

    expect(cli('rm', id).code).toBe(0);
    const none = cli('ps', '-a', '--json');
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('runs a container attached and exits with its code', () => {
    const ok = cli('run', '--rm', 'busybox', 'echo', 'hello');
    expect(ok.stdout).toBe('hello\n');
    expect(ok.code).toBe(0);
    // The container's stderr comes out on stderr, attached and in logs.
    const split = cli('run', '--name', 'split', 'busybox', 'sh', '-c', 'echo to-out; cat /none');
    expect(split).toMatchObject({
      code: 1,
      stdout: 'to-out\n',
      stderr: 'cat: /none: No such file or directory\n',
    });
    expect(cli('logs', 'split')).toMatchObject({
      stdout: 'to-out\n',
      stderr: 'cat: /none: No such file or directory\n',
    });
    expect(cli('logs', '--tail', '1', 'split').stderr).toBe('cat: /none: No such file or directory\n');
    expect(cli('logs', '-n', '1', 'split').stdout).toBe('');
    expect(cli('ps', '-aq').stdout.trim().split('\n')).toContain(
      (JSON.parse(cli('inspect', 'split').stdout) as { id: string }[])[0]!.id.slice(0, 12),
    );
    expect(cli('rm', 'split').code).toBe(0);
    const failing = cli('run', '--rm', 'busybox', 'sh', '-c', 'exit 3');
    expect(failing.code).toBe(3);
    // -i: this process's input reaches the container's, through the daemon.
    const piped = spawnSync(process.execPath, [CLI, 'run', '--rm', '-i', 'busybox', 'wc', '-l'], {
      encoding: 'utf8',
      env: { ...process.env, RCONTAINER_STATE: STATE },
      input: 'a\nb\nc\n',
      timeout: 60_000,
    });
    expect(piped).toMatchObject({ status: 0, stdout: '3\n' });
    expect(JSON.parse(cli('ps', '-a', '--json').stdout)).toEqual([]);
  });

  it('follows logs until the container exits, and mounts volumes', () => {
    const host = mkdtempSync(join(tmpdir(), 'rcontainer-e2e-vol-'));
    writeFileSync(join(host, 'greeting'), 'hi from the host\n');
    const run = cli(
      'run',
      '-d',
      '-v',
      `${host}:/mnt/v`,
      'busybox',
      'sh',
      '-c',
      'cat /mnt/v/greeting; sleep 0.2; echo done > /mnt/v/out; echo bye',
    );
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(cli('logs', '-f', id)).toMatchObject({ code: 0, stdout: 'hi from the host\nbye\n' });
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('done\n');
    expect(cli('rm', id).code).toBe(0);
  });

  it("copies files in and out with cp, byte for byte, through the container's own programs", () => {
    const dir = mkdtempSync(join(tmpdir(), 'rcontainer-e2e-cp-'));
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 131 + 7) & 0xff); // not UTF-8
    writeFileSync(join(dir, 'blob'), bytes);
    const id = cli('run', '-d', 'busybox', 'sleep', '1000').stdout.trim();
    expect(cli('cp', join(dir, 'blob'), `${id}:/tmp/`)).toMatchObject({ code: 0, stderr: '' });
    expect(cli('exec', id, 'wc', '-c', '/tmp/blob').stdout).toBe('70000 /tmp/blob\n');
    expect(cli('cp', `${id}:/tmp/blob`, join(dir, 'back')).code).toBe(0);
    expect(new Uint8Array(readFileSync(join(dir, 'back')))).toEqual(bytes);
    expect(cli('cp', `${id}:/nope`, dir)).toMatchObject({
      code: 125,
      stderr: `rcontainer: cp: ${id}:/nope: cat: /nope: No such file or directory\n`,
    });
    expect(cli('cp', dir, `${id}:/x`).stderr).toBe(
      `rcontainer: cp: ${dir} is a directory; cp copies single files\n`,
    );
    expect(cli('rm', '-f', id).code).toBe(0);
    // Its exec policy applies: nothing goes in or out of a container that denies exec.
    const sealed = cli('run', '-d', '--exec-policy', 'deny', 'busybox', 'sleep', '1000').stdout.trim();
    const refused = cli('cp', join(dir, 'blob'), `${sealed}:/tmp/blob`);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toMatch(/^rcontainer: cp: exec into \S+ is denied by its exec policy \(deny\)\n$/);
    expect(cli('rm', '-f', sealed).code).toBe(0);
  });

  it('refuses exec into a container whose exec policy is deny (126)', () => {
    const id = cli('run', '-d', '--exec-policy', 'deny', 'busybox', 'sleep', '1000').stdout.trim();
    const exec = cli('exec', id, 'echo', 'in');
    expect(exec.code).toBe(126);
    expect(exec.stderr).toMatch(/denied by its exec policy \(deny\)/);
    expect(cli('rm', '-f', id).code).toBe(0);
  });

  it('waits for a container and restarts it', () => {
    const id = cli('run', '-d', 'busybox', 'sh', '-c', 'sleep 0.2; exit 3').stdout.trim();
    expect(cli('wait', id)).toMatchObject({ code: 0, stdout: '3\n' });
    expect(cli('restart', id)).toMatchObject({ code: 0, stdout: `${id}\n` });
    expect(cli('wait', id, 'nope')).toMatchObject({
      code: 125,
      stdout: '3\n',
      stderr: 'rcontainer: No such container: nope\n',
    });
    expect(cli('rm', id).code).toBe(0);
  });

  it('runs an interactive shell with exec -i: each line as it is typed', async () => {
    const id = cli('run', '-d', 'busybox', 'sleep', '1000').stdout.trim();
    const shell = spawn(process.execPath, [CLI, 'exec', '-i', id, 'sh'], {
      env: { ...process.env, RCONTAINER_STATE: STATE },
    });
    let out = '';
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => shell.on('exit', resolve));
    shell.stdin.write('echo one\n');
    // The first command's output comes while the client still holds its input open.
    expect(await waitFor(() => out === 'one\n', 20_000)).toBe(true);
    shell.stdin.end('echo two; exit 4\n');
    expect(await exited).toBe(4);
    expect(out).toBe('one\ntwo\n');
    // -t makes the session a terminal: the shell prompts on stderr.
    const tty = spawnSync(process.execPath, [CLI, 'exec', '-it', id, 'sh'], {
      encoding: 'utf8',
      env: { ...process.env, RCONTAINER_STATE: STATE },
      input: 'echo hi\n',
      timeout: 60_000,
    });
    expect(tty).toMatchObject({ status: 0, stdout: 'hi\n', stderr: '$ $ ' });
    expect(cli('rm', '-f', id).code).toBe(0);
  }, 60_000);

  it('publishes a container port on the host loopback (-p)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const id = cli('run', '-d', '-p', `${port}:6379`, 'kv').stdout.trim();
    expect(cli('ps').stdout).toContain(`127.0.0.1:${port}->6379/tcp`);
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.write('PING\r\n');
    const answer = await new Promise<string>((resolve, reject) => {
      socket.once('data', (chunk) => resolve(chunk.toString()));
      socket.once('error', reject);
    });
    socket.end();
    expect(answer).toBe('+PONG\r\n');
    expect(cli('rm', '-f', id).code).toBe(0);
    expect(cli('run', '-d', '-p', 'x:1', 'kv')).toMatchObject({
      code: 125,
      stderr:
        "rcontainer: invalid port 'x:1': use [127.0.0.1:]HOST_PORT:CONTAINER_PORT with ports 1 to 65535 (TCP only)\n",
    });
  }, 60_000);

  it('gives 127 for a command that does not exist in exec', () => {
    const id = cli('run', '-d', 'kv').stdout.trim();
    const missing = cli('exec', id, 'no-such-program');
    expect(missing.code).toBe(127);
    expect(cli('rm', '-f', id).code).toBe(0);
  });

  it('shows the granule protection tables', () => {
    const gpt = cli('gpt', '--json');
    expect(gpt.code).toBe(0);
    expect(JSON.parse(gpt.stdout)).toHaveProperty('views');
  });

  it("answers Docker's errors with exit code 125", () => {
    const start = cli('start', 'nope');
    expect(start.code).toBe(125);
    expect(start.stderr).toContain('No such container: nope');
    expect(start.stderr).not.toContain('    at ');

    const id = cli('run', '-d', '--name', 'busy', 'kv').stdout.trim();
    const rm = cli('rm', 'busy');
    expect(rm.code).toBe(125);
    expect(rm.stderr).toContain('You cannot remove a running container');
    expect(cli('rm', '-f', 'busy').code).toBe(0);
    expect(cli('inspect', id).code).toBe(125);
  });
});

describe('rcontainer without a daemon', () => {
  it('refuses commands that need one with one line and exit 125', () => {
    const empty = mkdtempSync(join(tmpdir(), 'rcontainer-nodaemon-'));
    const result = spawnSync(process.execPath, [CLI, 'ps', '--state-dir', empty], { encoding: 'utf8' });
    expect(result.status).toBe(125);
    expect(result.stderr).toBe('rcontainer: no daemon is running (start one with `rcontainer daemon`)\n');
  });
});
