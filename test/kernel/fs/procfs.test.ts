// procfs: self, per-process directories filtered by pid namespace, status, maps, mounts, fd links,
// exe, cwd, and mem.
import { beforeEach, describe, expect, it } from 'vitest';
import { PidNamespace } from '../../../src/kernel/core/namespaces.js';
import { O, PROT } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, USER_BASE, type TestTask } from './harness.js';

let h: FsHarness;
let init: TestTask;

beforeEach(() => {
  h = new FsHarness();
  init = h.task();
  init.comm = 'init';
  init.exePath = '/bin/init';
});

describe('/proc', () => {
  it('lists processes and self links to the caller pid', () => {
    const other = h.task({ uid: 1000 });
    h.task({ tgid: other.tgid });
    expect(h.list(init, '/proc')).toEqual(['self', 'mounts', '1', '2']);
    expect(h.readlink(other, '/proc/self')).toBe('2');
    expect(h.list(init, '/proc/2')).toEqual(
      expect.arrayContaining(['status', 'maps', 'mounts', 'fd', 'exe', 'mem', 'cwd', 'comm']),
    );
    expect(h.stat(init, '/proc/3')).toBe(E('ENOENT'));
    expect(h.stat(init, '/proc/01')).toBe(E('ENOENT'));
  });

  it('a pid namespace sees only its tasks, by their pids there', () => {
    const inner = new PidNamespace(h.rootPidNs);
    const c1 = h.task({ pid: inner, cid: 1 });
    const c2 = h.task({ pid: inner, cid: 1 });
    expect(c1.pidIn(inner)).toBe(1);
    expect(h.list(c2, '/proc')).toEqual(['self', 'mounts', '1', '2']);
    expect(h.readlink(c2, '/proc/self')).toBe('2');
    expect(h.list(init, '/proc')).toEqual(['self', 'mounts', '1', '2', '3']);
    const status = h.readFile(c1, '/proc/1/status') as string;
    expect(status).toContain('Pid:\t1\n');
    expect(status).toContain('PPid:\t0\n');
    const seenFromHost = h.readFile(init, `/proc/${c1.pidIn(h.rootPidNs)}/status`) as string;
    expect(seenFromHost).toContain('NSpid:\t2\t1\n');
  });

  it('status has Name, State, Tgid, Pid, PPid, Uid and Gid lines like Linux', () => {
    const child = h.task({ uid: 1000, gid: 100 });
    child.comm = 'sh';
    child.parentTgid = init.tgid;
    child.state = 'sleeping';
    child.cred.euid = 0;
    const status = h.readFile(init, '/proc/2/status') as string;
    expect(status).toMatch(/^Name:\tsh\n/);
    expect(status).toContain('State:\tS (sleeping)\n');
    expect(status).toContain('Tgid:\t2\n');
    expect(status).toContain('Pid:\t2\n');
    expect(status).toContain('PPid:\t1\n');
    expect(status).toContain('Uid:\t1000\t0\t1000\t0\n');
    expect(status).toContain('Gid:\t100\t100\t100\t100\n');
    expect(status).toContain('Umask:\t0022\n');
  });

  it('maps lists the VMAs in the Linux format', () => {
    init.vmaList = [
      { start: 0x40_0000, end: 0x40_2000, prot: PROT.READ | PROT.EXEC, shared: false, name: '/bin/init' },
      { start: 0x7000_0000, end: 0x7000_1000, prot: PROT.READ | PROT.WRITE, shared: true, name: '' },
    ];
    const maps = h.readFile(init, '/proc/self/maps') as string;
    const [text, anon] = maps.split('\n');
    expect(text).toBe(`00400000-00402000 r-xp 00000000 00:00 0${' '.repeat(34)}/bin/init`);
    expect(text!.indexOf('/bin/init')).toBe(73);
    expect(anon).toBe('70000000-70001000 rw-s 00000000 00:00 0 ');
  });

  it('mounts and /proc/mounts show the mount table relative to the root', () => {
    const mounts = h.readFile(init, '/proc/mounts') as string;
    expect(mounts.split('\n')).toEqual([
      'rootfs / tmpfs rw 0 0',
      'devtmpfs /dev devtmpfs rw,nosuid 0 0',
      'proc /proc proc rw,nosuid,nodev,noexec 0 0',
      '',
    ]);
    expect(h.readlink(init, '/proc/mounts')).toBe('self/mounts');
  });

  it('exe, cwd and fd links; fd links are magic links to the open object', () => {
    h.writeFile(init, '/tmp/data', 'payload');
    const fd = h.open(init, '/tmp/data');
    expect(h.readlink(init, '/proc/self/exe')).toBe('/bin/init');
    h.chdir(init, '/tmp');
    expect(h.readlink(init, '/proc/1/cwd')).toBe('/tmp');
    expect(h.readlink(init, `/proc/self/fd/${fd}`)).toBe('/tmp/data');
    expect(h.list(init, '/proc/self/fd')).toContain(String(fd));
    // Opening the fd link reaches the file even after it was renamed away.
    h.rename(init, '/tmp/data', '/tmp/renamed');
    expect(h.readFile(init, `/proc/self/fd/${fd}`)).toBe('payload');
    h.unlink(init, '/tmp/renamed');
    expect(h.readlink(init, `/proc/self/fd/${fd}`)).toBe('/tmp/data (deleted)');
    expect(h.readlink(init, '/proc/self/fd/77')).toBe(E('ENOENT'));
    expect(h.readFile(init, '/proc/self/cwd/../tmp/..')).toBe(E('EISDIR'));
  });

  it('fd directories and mem are private to the owner; root may read them', () => {
    const alice = h.task({ uid: 1000 });
    const bob = h.task({ uid: 1001 });
    expect(h.list(bob, `/proc/${alice.tid}/fd`)).toBe(E('EACCES'));
    expect(h.open(bob, `/proc/${alice.tid}/mem`)).toBe(E('EACCES'));
    expect(h.open(alice, `/proc/${alice.tid}/mem`)).toBeGreaterThanOrEqual(0);
    expect(h.list(init, `/proc/${alice.tid}/fd`)).toEqual(['0']);
  });

  it('mem reads the task memory at the file offset and fails with EIO on unmapped addresses', () => {
    const secret = h.bytes('in-memory secret');
    const fd = h.open(init, '/proc/self/mem');
    const va = h.alloc(16);
    expect(h.sys(init, Sys.pread64, fd, va, 16, secret)).toBe(16);
    expect(h.text(va, 16)).toBe('in-memory secret');
    expect(h.sys(init, Sys.lseek, fd, secret + 3, 0)).toBe(secret + 3);
    expect(h.readText(init, fd, 6)).toBe('memory');
    expect(h.sys(init, Sys.pread64, fd, va, 16, 0x1000)).toBe(E('EIO'));
    expect(h.sys(init, Sys.lseek, fd, 0, 2)).toBe(E('EINVAL'));
    expect(USER_BASE).toBeGreaterThan(0x1000);
  });

  it('a vanished process: lookups fail and open files read ESRCH', () => {
    const gone = h.task();
    const fd = h.open(init, `/proc/${gone.tid}/status`);
    expect(fd).toBeGreaterThanOrEqual(0);
    h.tasks.delete(gone.tid);
    expect(h.readText(init, fd)).toBe(E('ESRCH'));
    expect(h.stat(init, `/proc/${gone.tid}`)).toBe(E('ENOENT'));
  });

  it('procfs is read-only in practice: no creation, no chmod', () => {
    expect(h.open(init, '/proc/new', O.WRONLY | O.CREAT)).toBe(E('EACCES'));
    expect(h.sys(init, Sys.fchmodat, -100, h.str('/proc/1/status'), 0o777)).toBe(E('EPERM'));
  });
});
