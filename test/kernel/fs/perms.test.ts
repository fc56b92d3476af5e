// Permission bits, root's override, chmod/chown rules, access(2) with real ids, read-only mounts.
import { beforeEach, describe, expect, it } from 'vitest';
import { AT_FDCWD, MS, O, S } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

const R_OK = 4;
const W_OK = 2;
const X_OK = 1;

let h: FsHarness;
let root: TestTask;
let alice: TestTask;
let bob: TestTask;

beforeEach(() => {
  h = new FsHarness();
  root = h.task();
  alice = h.task({ uid: 1000, gid: 1000 });
  bob = h.task({ uid: 1001, gid: 1000 });
});

function chmod(task: TestTask, path: string, mode: number): number {
  return h.sys(task, Sys.fchmodat, AT_FDCWD, h.str(path), mode);
}

function chown(task: TestTask, path: string, uid: number, gid: number): number {
  return h.sys(task, Sys.fchownat, AT_FDCWD, h.str(path), uid >>> 0, gid >>> 0, 0);
}

describe('permission bits', () => {
  it('owner, group and other bits decide (EACCES)', () => {
    expect(h.writeFile(alice, '/tmp/f', 'secret', 0o640)).toBe(6);
    expect(h.stat(root, '/tmp/f')).toMatchObject({ uid: 1000, gid: 1000 });
    expect(h.readFile(bob, '/tmp/f')).toBe('secret');
    expect(h.open(bob, '/tmp/f', O.WRONLY)).toBe(E('EACCES'));
    const eve = h.task({ uid: 2000 });
    expect(h.open(eve, '/tmp/f')).toBe(E('EACCES'));
    expect(h.open(eve, '/tmp/f', O.RDONLY | O.TRUNC)).toBe(E('EACCES'));
  });

  it('creating needs write and search permission on the directory', () => {
    h.mkdir(root, '/tmp/ro', 0o755);
    expect(h.open(alice, '/tmp/ro/x', O.WRONLY | O.CREAT)).toBe(E('EACCES'));
    expect(h.mkdir(alice, '/tmp/ro/d')).toBe(E('EACCES'));
    h.writeFile(root, '/tmp/ro/f', '');
    expect(h.unlink(alice, '/tmp/ro/f')).toBe(E('EACCES'));
    expect(h.rename(alice, '/tmp/ro/f', '/tmp/g')).toBe(E('EACCES'));
  });

  it('traversal needs x on every directory', () => {
    h.mkdir(root, '/tmp/closed', 0o700);
    h.writeFile(root, '/tmp/closed/f', 'x', 0o644);
    expect(h.readFile(alice, '/tmp/closed/f')).toBe(E('EACCES'));
    expect(h.stat(alice, '/tmp/closed/f')).toBe(E('EACCES'));
    expect(h.chdir(alice, '/tmp/closed')).toBe(E('EACCES'));
    expect(h.list(alice, '/tmp/closed')).toBe(E('EACCES'));
  });

  it('root bypasses read/write bits but needs some x bit to execute', () => {
    h.writeFile(alice, '/tmp/f', 'x', 0o000);
    expect(h.readFile(root, '/tmp/f')).toBe('x');
    expect(h.open(root, '/tmp/f', O.WRONLY)).toBeGreaterThanOrEqual(0);
    expect(h.sys(root, Sys.faccessat, AT_FDCWD, h.str('/tmp/f'), X_OK)).toBe(E('EACCES'));
    chmod(alice, '/tmp/f', 0o001);
    expect(h.sys(root, Sys.faccessat, AT_FDCWD, h.str('/tmp/f'), X_OK)).toBe(0);
  });

  it('access(2) checks the real ids', () => {
    h.writeFile(alice, '/tmp/f', 'x', 0o600);
    const setuid = h.task({ uid: 1001 });
    setuid.cred.euid = 1000;
    expect(h.readFile(setuid, '/tmp/f')).toBe('x');
    expect(h.sys(setuid, Sys.faccessat, AT_FDCWD, h.str('/tmp/f'), R_OK)).toBe(E('EACCES'));
    expect(h.sys(alice, Sys.faccessat, AT_FDCWD, h.str('/tmp/f'), R_OK | W_OK)).toBe(0);
  });
});

describe('chmod and chown', () => {
  it('only the owner or root may chmod', () => {
    h.writeFile(alice, '/tmp/f', '', 0o644);
    expect(chmod(bob, '/tmp/f', 0o777)).toBe(E('EPERM'));
    expect(chmod(alice, '/tmp/f', 0o4755)).toBe(0);
    expect(h.stat(root, '/tmp/f')).toMatchObject({ mode: S.IFREG | 0o4755 });
    expect(chmod(root, '/tmp/f', 0o600)).toBe(0);
    expect(chmod(root, '/tmp/none', 0o600)).toBe(E('ENOENT'));
  });

  it('only root gives files away; owners may change the group to their own; chown clears setuid', () => {
    h.writeFile(alice, '/tmp/f', '', 0o4755);
    expect(chown(alice, '/tmp/f', 1001, -1)).toBe(E('EPERM'));
    expect(chown(alice, '/tmp/f', -1, 1000)).toBe(0);
    expect(chown(alice, '/tmp/f', -1, 0)).toBe(E('EPERM'));
    expect(chown(bob, '/tmp/f', -1, 1000)).toBe(E('EPERM'));
    expect(chown(root, '/tmp/f', 1001, 1001)).toBe(0);
    expect(h.stat(root, '/tmp/f')).toMatchObject({ uid: 1001, gid: 1001, mode: S.IFREG | 0o755 });
    expect(h.sys(root, Sys.fchownat, AT_FDCWD, h.str('/tmp/f'), 0, 0, 0x4)).toBe(E('EINVAL'));
  });
});

describe('read-only mounts', () => {
  it('EROFS for writes, creation and removal; reads and devices still work', () => {
    h.mkdir(root, '/mnt');
    expect(h.mount(root, 'tmpfs', '/mnt', 'tmpfs')).toBe(0);
    h.writeFile(root, '/mnt/f', 'data');
    h.mkdir(root, '/mnt/d');
    expect(h.mount(root, '', '/mnt', '', MS.REMOUNT | MS.BIND | MS.RDONLY)).toBe(0);
    expect(h.readFile(root, '/mnt/f')).toBe('data');
    expect(h.open(root, '/mnt/f', O.WRONLY)).toBe(E('EROFS'));
    expect(h.open(root, '/mnt/f', O.RDONLY | O.TRUNC)).toBe(E('EROFS'));
    expect(h.open(root, '/mnt/g', O.WRONLY | O.CREAT)).toBe(E('EROFS'));
    expect(h.mkdir(root, '/mnt/e')).toBe(E('EROFS'));
    expect(h.mkdir(root, '/mnt/d')).toBe(E('EEXIST'));
    expect(h.unlink(root, '/mnt/f')).toBe(E('EROFS'));
    expect(h.rename(root, '/mnt/f', '/mnt/g')).toBe(E('EROFS'));
    expect(h.symlink(root, 'x', '/mnt/s')).toBe(E('EROFS'));
    expect(chmod(root, '/mnt/f', 0o600)).toBe(E('EROFS'));
    expect(h.sys(root, Sys.faccessat, AT_FDCWD, h.str('/mnt/f'), W_OK)).toBe(E('EROFS'));
    expect(h.mount(root, '', '/mnt', '', MS.REMOUNT | MS.BIND)).toBe(0);
    expect(h.open(root, '/mnt/f', O.WRONLY)).toBeGreaterThanOrEqual(0);
  });
});
