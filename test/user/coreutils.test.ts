/** End-to-end tests of the busybox-style applets on the fake kernel, and their pure helpers. */
import { describe, expect, it } from 'vitest';
import { echoEscapes } from '../../src/user/programs/coreutils/echo.js';
import { basicToJs } from '../../src/user/programs/coreutils/grep.js';
import { formatId } from '../../src/user/programs/coreutils/id.js';
import { civilFromDays, lsDate, modeString } from '../../src/user/programs/coreutils/ls.js';
import { pathPrefixes } from '../../src/user/programs/coreutils/mkdir.js';
import { parseMountOptions } from '../../src/user/programs/coreutils/mount.js';
import { parseIdFile } from '../../src/user/programs/coreutils/names.js';
import { statusField } from '../../src/user/programs/coreutils/ps.js';
import { parseDuration } from '../../src/user/programs/coreutils/sleep.js';
import { formatCounts, WordCounter } from '../../src/user/programs/coreutils/wc.js';
import { parseSignal } from '../../src/user/programs/coreutils/kill.js';
import { MS } from '../../src/kernel/uapi/flags.js';
import { makeSystem, run, sh } from './fake/host.js';

describe('applet helpers', () => {
  it('echo escapes', () => {
    expect(echoEscapes('a\\tb\\n\\\\\\0101')).toEqual({ text: 'a\tb\n\\A', stop: false });
    expect(echoEscapes('x\\cy')).toEqual({ text: 'x', stop: true });
  });
  it('ls modes and dates', () => {
    expect(modeString(0o40755)).toBe('drwxr-xr-x');
    expect(modeString(0o100644)).toBe('-rw-r--r--');
    expect(modeString(0o104755)).toBe('-rwsr-xr-x');
    expect(modeString(0o41777)).toBe('drwxrwxrwt');
    expect(modeString(0o120777)).toBe('lrwxrwxrwx');
    expect(civilFromDays(0)).toEqual({ year: 1970, month: 1, day: 1 });
    expect(civilFromDays(19723)).toEqual({ year: 2024, month: 1, day: 1 });
    expect(civilFromDays(11016)).toEqual({ year: 2000, month: 2, day: 29 });
    expect(lsDate(1_700_000_000, 1_700_000_100)).toBe('Nov 14 22:13');
    expect(lsDate(1_600_000_000, 1_700_000_000)).toBe('Sep 13  2020');
  });
  it('wc counting and formatting', () => {
    const counter = new WordCounter();
    counter.add(new TextEncoder().encode('one two\nthr'));
    counter.add(new TextEncoder().encode('ee four\n'));
    expect(counter.counts).toEqual({ lines: 2, words: 4, bytes: 19 });
    expect(formatCounts(counter.counts, ['lines'], 'f')).toBe('2 f\n');
    expect(formatCounts(counter.counts, ['lines', 'words', 'bytes'], undefined)).toBe(
      '      2       4      19\n',
    );
  });
  it('grep basic regular expressions', () => {
    expect(basicToJs('a\\(b\\|c\\)+')).toBe('a(b|c)\\+');
    expect(basicToJs('x{2}')).toBe('x\\{2\\}');
  });
  it('other helpers', () => {
    expect(pathPrefixes('/a/b/../c')).toEqual(['/a', '/a/c']);
    expect(pathPrefixes('x/y')).toEqual(['x', 'x/y']);
    expect(parseMountOptions('ro,nosuid,size=1m,mode=755')).toEqual({
      flags: MS.RDONLY | MS.NOSUID,
      data: 'size=1m,mode=755',
    });
    expect(statusField('Name:\tsh\nPid:\t7\n', 'Pid')).toBe('7');
    expect(parseDuration('1.5')).toBe(1.5);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('x')).toBeUndefined();
    expect(parseIdFile('root:x:0:0::/:/bin/sh\nbad\n')).toEqual(new Map([[0, 'root']]));
    expect(formatId(0, 5, new Map([[0, 'root']]), new Map())).toBe('uid=0(root) gid=5');
    expect([parseSignal('9'), parseSignal('KILL'), parseSignal('sigterm'), parseSignal('NOPE')]).toEqual([
      9,
      9,
      15,
      undefined,
    ]);
  });
});

describe('applets', () => {
  it('echo -n and -e', () => {
    expect(run(['echo', '-n', 'a', 'b']).stdout).toBe('a b');
    expect(run(['echo', '-e', 'a\\tb']).stdout).toBe('a\tb\n');
    expect(run(['echo']).stdout).toBe('\n');
  });

  it('cat concatenates files and stdin, and reports errors busybox-style', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/tmp/a', 'A\n');
    const r = run(['cat', '/tmp/a', '-', '/x', '/tmp/a'], { kernel, stdin: 'IN\n' });
    expect(r.stdout).toBe('A\nIN\nA\n');
    expect(r.stderr).toBe('cat: /x: No such file or directory\n');
    expect(r.status).toBe(1);
  });

  it('cat copies a large file intact', () => {
    const kernel = makeSystem();
    const big = 'x'.repeat(100_000) + 'END\n';
    kernel.fs.writeFile('/tmp/big', big);
    expect(sh('cat /tmp/big > /tmp/copy', { kernel }).status).toBe(0);
    expect(kernel.fs.readText('/tmp/copy')).toBe(big);
  });

  it('ls lists sorted names, hides dot files without -a, and prints -l lines', () => {
    const kernel = makeSystem();
    sh('mkdir /d; echo hi > /d/b; echo x > /d/a; echo h > /d/.hidden; mkdir /d/sub; ln -s b /d/link', {
      kernel,
    });
    expect(run(['ls', '/d'], { kernel }).stdout).toBe('a\nb\nlink\nsub\n');
    expect(run(['ls', '-a', '/d'], { kernel }).stdout).toBe('.\n..\n.hidden\na\nb\nlink\nsub\n');
    const long = run(['ls', '-l', '/d'], { kernel }).stdout.split('\n');
    expect(long[0]).toBe('total 0');
    expect(long[1]).toMatch(/^-rw-r--r-- +1 root +root +2 \w{3} [ \d]\d [ \d]\d:\d\d a$/);
    expect(long[3]).toMatch(/^lrwxrwxrwx .* link -> b$/);
    expect(long[4]).toMatch(/^drwxr-xr-x .* sub$/);
    const two = run(['ls', '/d/sub', '/d/a'], { kernel });
    expect(two.stdout).toBe('/d/a\n\n/d/sub:\n');
    expect(run(['ls', '/none'], { kernel }).stderr).toBe('ls: /none: No such file or directory\n');
  });

  it('cp, mv, rm and mkdir manage files and trees', () => {
    const kernel = makeSystem();
    const r = sh(
      [
        'mkdir -p /w/src/deep',
        'echo data > /w/src/deep/f',
        'cp /w/src/deep/f /w/g',
        'cp -r /w/src /w/dst',
        'mv /w/g /w/h',
        'mkdir /w/into',
        'mv /w/h /w/into',
        'cp /w/src /w/nope',
        'rm /w/src',
        'rm -r /w/src',
        'rm -f /w/missing',
        'rm /w/missing',
        'mkdir /w/into',
        'ls /w /w/into /w/dst/deep',
      ].join('; '),
      { kernel },
    );
    expect(r.stderr).toBe(
      [
        "cp: omitting directory '/w/src'",
        "rm: can't remove '/w/src': Is a directory",
        "rm: can't remove '/w/missing': No such file or directory",
        "mkdir: can't create directory '/w/into': File exists",
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('/w:\ndst\ninto\n\n/w/dst/deep:\nf\n\n/w/into:\nh\n');
    expect(kernel.fs.readText('/w/into/h')).toBe('data\n');
    expect(kernel.fs.readText('/w/dst/deep/f')).toBe('data\n');
  });

  it('ln makes hard and symbolic links', () => {
    const kernel = makeSystem();
    const r = sh(
      'cd /tmp; echo t > t; ln t hard; ln -s t soft; cat hard soft; ln -s t soft; ln -sf u soft; ls -l soft',
      { kernel },
    );
    expect(r.stdout).toMatch(/^t\nt\nlrwxrwxrwx .* soft -> u\n$/);
    expect(r.stderr).toBe('ln: soft: File exists\n');
  });

  it('wc, grep and head filter text', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/t', 'alpha beta\nGamma\ndelta alpha\n\nomega\n');
    expect(run(['wc', '/t'], { kernel }).stdout).toBe('      5       6      36 /t\n');
    expect(run(['wc', '-l'], { kernel, stdin: 'a\nb\n' }).stdout).toBe('2\n');
    expect(run(['grep', 'alpha', '/t'], { kernel }).stdout).toBe('alpha beta\ndelta alpha\n');
    expect(run(['grep', '-c', '-v', 'alpha', '/t'], { kernel }).stdout).toBe('3\n');
    expect(run(['grep', '-i', '-n', 'gamma', '/t'], { kernel }).stdout).toBe('2:Gamma\n');
    expect(run(['grep', '^d.*a$', '/t'], { kernel }).stdout).toBe('delta alpha\n');
    expect(run(['grep', '-E', 'beta|omega', '/t'], { kernel }).stdout).toBe('alpha beta\nomega\n');
    expect(run(['grep', '-F', '.', '/t'], { kernel }).status).toBe(1);
    expect(run(['grep', 'x', '/nope'], { kernel })).toMatchObject({
      status: 2,
      stderr: 'grep: /nope: No such file or directory\n',
    });
    expect(run(['head', '-n', '2', '/t'], { kernel }).stdout).toBe('alpha beta\nGamma\n');
    expect(run(['head', '-1', '/t', '/t'], { kernel }).stdout).toBe(
      '==> /t <==\nalpha beta\n\n==> /t <==\nalpha beta\n',
    );
  });

  it('ps lists processes from /proc', () => {
    const r = sh('ps');
    expect(r.stdout).toBe('  PID CMD\n    1 sh\n    2 ps\n');
  });

  it('env prints, modifies and runs', () => {
    const r = run(['env', '-i', 'A=1', 'B=2'], { env: ['PATH=/bin', 'X=y'] });
    expect(r.stdout).toBe('A=1\nB=2\n');
    expect(run(['env', 'A=5', 'sh', '-c', 'echo $A'], { env: ['PATH=/bin'] }).stdout).toBe('5\n');
    const missing = run(['env', 'nosuch']);
    expect(missing).toMatchObject({
      status: 127,
      stderr: "env: can't execute 'nosuch': No such file or directory\n",
    });
  });

  it('sleep advances simulated time', () => {
    const r = run(['sleep', '0.25']);
    expect(r.status).toBe(0);
    expect(r.kernel.now).toBeGreaterThanOrEqual(250_000_000);
    expect(run(['sleep', 'abc']).stderr).toBe("sleep: invalid number 'abc'\n");
  });

  it('true, false, id, hostname', () => {
    expect(run(['true']).status).toBe(0);
    expect(run(['false']).status).toBe(1);
    expect(run(['id']).stdout).toBe('uid=0(root) gid=0(root)\n');
    const kernel = makeSystem();
    kernel.fs.writeFile('/etc/passwd', '');
    kernel.fs.writeFile('/etc/group', '');
    expect(run(['id'], { kernel }).stdout).toBe('uid=0 gid=0\n');
    expect(sh('hostname; hostname box; hostname', { kernel }).stdout).toBe('fake\nbox\n');
  });

  it('mount lists and mounts tmpfs, umount unmounts', () => {
    const kernel = makeSystem();
    kernel.fs.writeFile('/mnt/old', 'x');
    const r = sh('mount -t tmpfs none /mnt; ls /mnt; echo new > /mnt/n; mount; umount /mnt; ls /mnt', {
      kernel,
    });
    expect(r.stdout).toBe('rootfs / rootfs rw 0 0\nnone /mnt tmpfs rw 0 0\nold\n');
    const bad = sh('mount -t tmpfs none /nowhere', { kernel });
    expect(bad.stderr).toBe('mount: mounting none on /nowhere failed: No such file or directory\n');
  });

  it('kill ends a process', () => {
    const r = sh('sleep 100 & kill -9 $!; wait $!; echo $?');
    expect(r.stdout).toBe('137\n');
    expect(r.kernel.now).toBeLessThan(1e9);
  });
});
