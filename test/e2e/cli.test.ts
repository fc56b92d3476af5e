// End-to-end tests of the built CLI (`npm test` builds dist/ first).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/src/cli/main.js');
const VECTORS = join(import.meta.dirname, '../../../shared/vectors');

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rcontainer-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('rcontainer conformance', () => {
  it('passes every shared GPC and MMU vector', () => {
    const { code, stdout } = run('conformance', join(VECTORS, 'gpc.json'), join(VECTORS, 'mmu.json'));
    expect(stdout).toMatch(/^conformance: 1423 passed, 0 failed$/m);
    expect(code).toBe(0);
  });

  it('reports a failing check with expected and actual results and exits non-zero', () => {
    const file = tempFile(
      'wrong.json',
      JSON.stringify({
        format: 'rcontainer-conformance/1',
        suite: 'gpc',
        cases: [
          {
            id: 'wrong-expectation',
            machine: { paRangeBits: 48, dram: [{ base: '0x40000000', size: '0x1000000' }] },
            regs: { GPCCR_EL3: '0x3502', GPTBR_EL3: '0x40000' },
            checks: [
              { pa: '0x40000000', pas: 'NonSecure', state: 'NonSecure', expect: { fault: 'GPF', level: 1 } },
              { pa: '0x40000000', pas: 'Root', state: 'Root', expect: { ok: true } },
            ],
          },
        ],
      }),
    );
    const { code, stdout } = run('conformance', file);
    expect(stdout).toContain('FAIL');
    expect(stdout).toContain('expected: GPF level 1');
    expect(stdout).toContain('actual:   ok');
    expect(stdout).toMatch(/^conformance: 1 passed, 1 failed$/m);
    expect(code).toBe(1);
  });

  it('rejects a malformed file with one line and no stack trace', () => {
    const file = tempFile(
      'bad.json',
      '{"format": "rcontainer-conformance/1", "suite": "gpc", "cases": [{"id": 1}]}',
    );
    const { code, stderr, stdout } = run('conformance', file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('not a rcontainer-conformance/1 file');
    expect(stderr).not.toContain('    at ');
  });

  it('rejects invalid JSON and a missing file clearly', () => {
    const notJson = run('conformance', tempFile('x.json', '{nope'));
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('not valid JSON');
    const missing = run('conformance', '/nonexistent/vectors.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read /nonexistent/vectors.json');
  });

  it('rejects a case whose memory image lies outside its DRAM', () => {
    const file = tempFile(
      'outside.json',
      JSON.stringify({
        format: 'rcontainer-conformance/1',
        suite: 'gpc',
        cases: [
          {
            id: 'outside',
            machine: { paRangeBits: 48, dram: [{ base: '0x40000000', size: '0x1000' }] },
            regs: {},
            memory: [{ pa: '0x50000000', u64: '0x1' }],
            checks: [],
          },
        ],
      }),
    );
    const { code, stderr } = run('conformance', file);
    expect(code).toBe(2);
    expect(stderr).toContain('outside the case');
  });
});

describe('rcontainer demo', () => {
  it('shows a stale GPT permission, then the GPF after TLBI RPALOS, then a GPC exception at EL3 (--tour)', () => {
    const { code, stdout } = run('demo', '--tour');
    expect(code).toBe(0);
    expect(stdout).toContain('load32(0x40000000) = 0x5ec12e7: the TLB still holds the old GPC outcome');
    expect(stdout).toContain('EL1 handler ran: ESR 0x96000028');
    expect(stdout).toContain('EL3 handler ran: ESR 0x7a034028');
  });

  it('boots the platform and shows the GPC stopping a compromised kernel from reading container memory (--tour)', () => {
    const { code, stdout } = run('demo', '--tour');
    expect(code).toBe(0);
    expect(stdout).toContain('rc_create_shim(1) = ok(0)');
    expect(stdout).toContain('trapped to EL1 (EC 0x18)');
    expect(stdout).toMatch(/load32\(0x12345000\) returned 0x0\n\s+ESR_EL1 0x96000028/);
  });

  it('is deterministic', () => {
    expect(run('demo', '--tour').stdout).toBe(run('demo', '--tour').stdout);
    expect(run('demo', '--seed', 'x').stdout).toBe(run('demo', '--seed', 'x').stdout);
  });

  it('shows the attacker obtaining the secret under native and stopped under rcontainer', () => {
    const { code, stdout, stderr } = run('demo');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/totals: native 13 of 13 succeeded; rcontainer 0 of 13 succeeded/);
    expect(stdout).toMatch(/granule protection fault/);
    expect(stdout).toMatch(/rc_open_block refused: EBADMSG/);
    expect(stdout).toMatch(/OS-GPT/);
    expect(stdout).toMatch(/rcontainer \/ native = \d+\.\d+x/);
  });
});

describe('rcontainer command line', () => {
  it('rejects an unknown command with a non-zero exit', () => {
    const { code, stderr } = run('frobnicate');
    expect(code).not.toBe(0);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });

  it('rejects a bad --runs value for bench hw', () => {
    const { code, stderr } = run('bench', 'hw', '--runs', 'many');
    expect(code).toBe(2);
    expect(stderr).toContain('--runs takes a whole number');
  });
});

describe('rcontainer bench hw', () => {
  it('prints the five measurements as JSON', () => {
    const { code, stdout } = run('bench', 'hw', '--json', '--runs', '1');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, number>;
    expect(Object.keys(result).sort()).toEqual([
      'gpcLookupNs',
      'rawReadNs',
      'tlbHitLoadNs',
      'tlbMissLoadNs',
      'tlbMissWalkCachedNs',
      'tlbiPaallNs',
    ]);
    for (const value of Object.values(result)) expect(value).toBeGreaterThan(0);
  });
});

describe('rcontainer tcb', () => {
  it('reports the EL3 service, the mini-OS and EL0 in SLoC next to the paper', () => {
    const { code, stdout } = run('tcb', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { el3: number; el1: number; el0: number; paper: { el3: number } };
    expect(report.el3).toBeGreaterThan(50);
    expect(report.el3).toBeLessThan(200); // the EL3 part stays small
    expect(report.el1).toBeGreaterThan(report.el3);
    expect(report.el0).toBe(0);
    expect(report.paper).toEqual({ el3: 130, el1: 2384, el0: 133 });
  });
});

describe('rcontainer bench gpt-scale', () => {
  it('creates the containers and reports GPT bytes', () => {
    const { code, stdout } = run('bench', 'gpt-scale', '--containers', '20', '--dram-gib', '4', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      containers: number;
      dramBytes: number;
      gptBytes: number;
      gptBytesPerContainer: number;
    };
    expect(result.containers).toBe(20);
    expect(result.dramBytes).toBe(4 * 2 ** 30);
    expect(result.gptBytes).toBeGreaterThan(0);
    // A container costs its L0 table and one 128 KiB L1 table, not a copy of the whole GPT.
    expect(result.gptBytesPerContainer).toBeLessThanOrEqual(4096 + 131072);
  });

  it('rejects a bad container count', () => {
    const { code, stderr } = run('bench', 'gpt-scale', '--containers', 'lots');
    expect(code).toBe(2);
    expect(stderr).toContain('--containers takes a whole number');
  });
});

describe('rcontainer sim', () => {
  it('runs a shell script with pipes in a container: the same output under both designs, different time', () => {
    const script = 'echo hello | cat; ls /bin | grep -c sh; hostname; false || echo fallback';
    const native = run('sim', '--design', 'native', '--json', '--', 'sh', '-c', script);
    const rc = run('sim', '--design', 'rcontainer', '--json', '--', 'sh', '-c', script);
    expect(native.code).toBe(0);
    expect(rc.code).toBe(0);
    const n = JSON.parse(native.stdout) as {
      output: string;
      stats: { simulatedNs: number; smcs: number; rcCalls: object };
    };
    const r = JSON.parse(rc.stdout) as typeof n;
    expect(n.output).toBe('hello\n1\nrcontainer\nfallback\n');
    expect(r.output).toBe(n.output);
    expect(r.stats.simulatedNs).toBeGreaterThan(n.stats.simulatedNs);
    expect(n.stats.smcs).toBe(0);
    expect(r.stats.smcs).toBeGreaterThan(0);
    expect(Object.keys(r.stats.rcCalls)).toContain('rc_switch_to_depriv');
  });

  it('prints the counters with --stats and returns the program exit code', () => {
    const { code, stdout, stderr } = run(
      'sim',
      '--design',
      'rcontainer',
      '--stats',
      '--',
      'sh',
      '-c',
      'echo x; exit 3',
    );
    expect(stdout).toBe('x\n');
    expect(code).toBe(3);
    expect(stderr).toMatch(/\[sim\] design rcontainer, 1 cpu\(s\), simulated time/);
    expect(stderr).toMatch(/\[sim\] page faults \d+ \(fast \d+, slow \d+\)/);
    expect(stderr).toMatch(/\[sim\] rc_\* calls: .*rc_set_pte \d+/);
  });

  it("writes the program's stderr to stderr", () => {
    const { code, stdout, stderr } = run('sim', '--', 'sh', '-c', 'echo out; cat /nope; echo end');
    expect({ code, stdout, stderr }).toEqual({
      code: 0,
      stdout: 'out\nend\n',
      stderr: 'cat: /nope: No such file or directory\n',
    });
  });

  it('refuses bad arguments and unknown programs with one line and exit code 2', () => {
    const design = run('sim', '--design', 'vm', '--', 'true');
    expect(design.code).toBe(2);
    expect(design.stderr.trim()).toBe(
      "rcontainer: sim: --design must be one of native, rcontainer, not 'vm'",
    );
    const cpus = run('sim', '--cpus', '0', '--', 'true');
    expect(cpus.code).toBe(2);
    const missing = run('sim', '--', 'no-such-program');
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('rcontainer: sim: no-such-program: cannot execute: ENOENT');
    expect(missing.stderr).not.toMatch(/at .*\.js/);
  });

  it('runs on several PEs', () => {
    const { code, stdout } = run('sim', '--cpus', '2', '--', 'sh', '-c', 'echo a | cat | cat');
    expect(code).toBe(0);
    expect(stdout).toBe('a\n');
  });
});

describe('rcontainer bench kernel', () => {
  it('reports host and simulated time per design as JSON (quick mode)', () => {
    const { code, stdout } = run('bench', 'kernel', '--quick', '--runs', '1', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as Record<string, Record<string, number>>;
    for (const key of ['nullSyscallHostNs', 'ctxSwitchHostNs', 'nullSyscallSimNs', 'ctxSwitchSimNs']) {
      expect(result[key]!.native).toBeGreaterThan(0);
      expect(result[key]!.rcontainer).toBeGreaterThan(0);
    }
    expect(result.nullSyscallSimNs!.rcontainer).toBeGreaterThan(result.nullSyscallSimNs!.native!);
  });
});

describe('rcontainer run, images, save, load, rmi (no daemon)', () => {
  const state = (): string => mkdtempSync(join(tmpdir(), 'rcontainer-state-'));
  const runIn = (dir: string, ...args: string[]): { code: number; stdout: string; stderr: string } =>
    runWithInput(dir, '', ...args);
  const runWithInput = (
    dir: string,
    input: string,
    ...args: string[]
  ): { code: number; stdout: string; stderr: string } => {
    const result = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      input,
      env: { ...process.env, RCONTAINER_STATE: dir },
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  };

  it('runs busybox echo hello from a fresh state, and gives Docker exit codes', () => {
    const dir = state();
    expect(runIn(dir, 'run', '--rm', 'busybox', 'echo', 'hello')).toMatchObject({
      code: 0,
      stdout: 'hello\n',
    });
    expect(runIn(dir, 'run', '--rm', 'busybox', 'sh', '-c', 'exit 7').code).toBe(7);
    const missing = runIn(dir, 'run', '--rm', 'busybox', 'nosuch');
    expect(missing.code).toBe(127);
    expect(missing.stderr.trim()).toBe('rcontainer: exec: "nosuch": executable file not found');
    const noImage = runIn(dir, 'run', '--rm', 'nope:1', 'true');
    expect(noImage.code).toBe(125);
    expect(noImage.stderr).not.toMatch(/at .*\.js/);
    expect(
      runIn(
        dir,
        'run',
        '--rm',
        '--design',
        'native',
        '-e',
        'X=1',
        '-w',
        '/etc',
        'busybox',
        'sh',
        '-c',
        'echo $X; pwd',
      ).stdout,
    ).toBe('1\n/etc\n');
    expect(runIn(dir, 'run', 'busybox', 'true').code).toBe(125); // no daemon: --rm only
  });

  it('mounts untrusted volumes (-v): read, written back, read-only, noexec; and limits memory', () => {
    const dir = state();
    const host = mkdtempSync(join(tmpdir(), 'rcontainer-vol-'));
    writeFileSync(join(host, 'in.txt'), 'from the host\n');
    const script = 'cat /data/in.txt && echo from the container > /data/out.txt && mkdir /data/d';
    expect(runIn(dir, 'run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', script)).toMatchObject({
      code: 0,
      stdout: 'from the host\n',
    });
    expect(readFileSync(join(host, 'out.txt'), 'utf8')).toBe('from the container\n');
    expect(statSync(join(host, 'd')).isDirectory()).toBe(true);

    const readOnly = runIn(
      dir,
      'run',
      '--rm',
      '-v',
      `${host}:/data:ro`,
      'busybox',
      'sh',
      '-c',
      'echo x > /data/y',
    );
    expect(readOnly.code).not.toBe(0);
    expect(readOnly.stderr).toMatch(/Read-only file system/);
    expect(existsSync(join(host, 'y'))).toBe(false);

    // A volume is noexec: a program copied into it cannot run (Docker's 126).
    const exec = runIn(
      dir,
      'run',
      '--rm',
      '-v',
      `${host}:/data`,
      'busybox',
      'sh',
      '-c',
      'cp /bin/echo /data/e && /data/e hi',
    );
    expect(exec.code).toBe(126);

    const notDir = runIn(dir, 'run', '--rm', '-v', `${join(host, 'in.txt')}:/data`, 'busybox', 'true');
    expect(notDir.code).toBe(125);
    expect(notDir.stderr.trim()).toMatch(/^rcontainer: invalid volume .*in\.txt is not a directory$/);

    // 4 MiB of user memory: touching 8 MiB is OOM-killed (SIGKILL: 137); 16 MiB is enough.
    const touch = ['hackbench', 'lmbench', 'pagefault', '-n', '2048'];
    expect(runIn(dir, 'run', '--rm', '--memory', '4m', ...touch).code).toBe(137);
    expect(runIn(dir, 'run', '--rm', '--memory', '16m', ...touch)).toMatchObject({
      code: 0,
      stdout: /pagefault: /,
    });
    const badSize = runIn(dir, 'run', '--rm', '--memory', 'lots', 'busybox', 'true');
    expect(badSize.code).toBe(125);
    expect(badSize.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });

  it('runs only measured binaries unless --exec-policy allow, which warns', () => {
    const dir = state();
    const script = 'cp /bin/echo /tmp/e && echo >> /tmp/e && /tmp/e unmeasured';
    const measured = runIn(dir, 'run', '--rm', 'busybox', 'sh', '-c', script);
    expect(measured).toMatchObject({ code: 126, stdout: '', stderr: 'sh: /tmp/e: Permission denied\n' });
    const allowed = runIn(dir, 'run', '--rm', '--exec-policy', 'allow', 'busybox', 'sh', '-c', script);
    expect(allowed).toMatchObject({ code: 0, stdout: 'unmeasured\n' });
    expect(allowed.stderr).toMatch(/^rcontainer: warning: exec policy allow: /);
    const bad = runIn(dir, 'run', '--rm', '--exec-policy', 'sometimes', 'busybox', 'true');
    expect(bad).toMatchObject({
      code: 125,
      stderr: "rcontainer: --exec-policy must be one of measuredOnly, allow, deny, not 'sometimes'\n",
    });
  });

  it('pipes standard input into the container with -i, and none without', () => {
    const dir = state();
    expect(runWithInput(dir, 'a\nb\n', 'run', '--rm', '-i', 'busybox', 'wc', '-l').stdout).toBe('2\n');
    expect(runWithInput(dir, 'a\nb\n', 'run', '--rm', 'busybox', 'wc', '-l').stdout).toBe('0\n');
    // -t: a terminal, so the shell prompts (on stderr); without it, it does not.
    expect(runWithInput(dir, 'echo hi\n', 'run', '--rm', '-it', 'busybox', 'sh')).toMatchObject({
      code: 0,
      stdout: 'hi\n',
      stderr: '$ $ ',
    });
    expect(runWithInput(dir, 'echo hi\n', 'run', '--rm', '-i', 'busybox', 'sh').stderr).toBe('');
  });

  it('runs the command under tini with --init (tini is pid 1)', () => {
    const dir = state();
    expect(runIn(dir, 'run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo $$; exit 5')).toMatchObject({
      code: 5,
      stdout: '2\n',
    });
    expect(runIn(dir, 'run', '--rm', 'busybox', 'sh', '-c', 'echo $$').stdout).toBe('1\n');
  });

  it('runs an interactive shell with run -i: each line as it is typed', async () => {
    const dir = state();
    runIn(dir, 'images'); // nothing to make later but the container
    const shell = spawn(process.execPath, [CLI, 'run', '--rm', '-i', 'busybox', 'sh'], {
      env: { ...process.env, RCONTAINER_STATE: dir },
    });
    let out = '';
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => shell.on('exit', resolve));
    shell.stdin.write('echo one\n');
    for (let i = 0; i < 200 && out !== 'one\n'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    // The first command ran while this process still held the input open.
    expect(out).toBe('one\n');
    shell.stdin.end('echo two; exit 4\n');
    expect(await exited).toBe(4);
    expect(out).toBe('one\ntwo\n');
  }, 60_000);

  it('lists, saves, loads and removes images', () => {
    const dir = state();
    expect(runIn(dir, 'images', '--json').stdout.trim()).toBe('[]');
    const archive = join(dir, 'kv.tar');
    expect(runIn(dir, 'save', '-o', archive, 'kv').code).toBe(0);
    const rows = JSON.parse(runIn(dir, 'images', '--json').stdout) as { repository: string; tag: string }[];
    expect(rows.map((r) => `${r.repository}:${r.tag}`)).toEqual(['kv:latest']);
    expect(runIn(dir, 'images', '-q').stdout).toMatch(/^[0-9a-f]{12}\n$/);
    expect(runIn(dir, 'rmi', 'kv').stdout).toMatch(/^Untagged: kv:latest\nDeleted: sha256:/);
    expect(runIn(dir, 'images', '--json').stdout.trim()).toBe('[]');
    expect(runIn(dir, 'load', '-i', archive).stdout.trim()).toBe('Loaded image: kv:latest');
    const bad = runIn(dir, 'load', '-i', tempFile('bad.tar', 'not a tar archive at all'));
    expect(bad.code).toBe(125);
    expect(bad.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    const unwritable = runIn(dir, 'save', '-o', join(dir, 'no', 'such', 'dir', 'kv.tar'), 'kv');
    expect(unwritable.stderr).toMatch(/^rcontainer: save: cannot write .*kv\.tar: ENOENT\n$/);
    expect(unwritable.code).toBe(125);
  });
});

describe('rcontainer bench lifecycle', () => {
  it('prints simulated and host milliseconds per design as JSON', () => {
    const { code, stdout } = run('bench', 'lifecycle', '--runs', '1', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      simulatedMs: Record<string, number>;
      hostMs: Record<string, number>;
    };
    expect(result.simulatedMs.rcontainer).toBeGreaterThan(result.simulatedMs.native!);
    expect(result.hostMs.native).toBeGreaterThan(0);
    expect(run('bench', 'lifecycle', '--runs', '0').code).toBe(2);
  });
});
