// Boot-time population and the execve helpers: resolveExecutable, filePage, releaseFile.
import { beforeEach, describe, expect, it } from 'vitest';
import { populate, releaseFile, resolveExecutable, filePage } from '../../../src/kernel/fs/vfs.js';
import { MS, S } from '../../../src/kernel/uapi/flags.js';
import { E, FsHarness, type TestTask } from './harness.js';

const image = (name: string, padding = 0): Uint8Array => {
  const header = new TextEncoder().encode(`\x7fRCX ${name}\n`);
  const out = new Uint8Array(header.length + padding);
  out.set(header);
  return out;
};

let h: FsHarness;
let root: TestTask;

beforeEach(() => {
  h = new FsHarness();
  root = h.task();
  const ctx = h.fsCtx();
  expect(populate(ctx, h.hostNs, '/bin/sh', image('sh', 10_000), 0o755)).toBe(0);
  expect(populate(ctx, h.hostNs, '/bin/ls', image('ls'), 0o755)).toBe(0);
  expect(populate(ctx, h.hostNs, '/usr/bin/env', image('env'), 0o755)).toBe(0);
  expect(populate(ctx, h.hostNs, '/bin/busybox-link', new Uint8Array(), 0, { symlink: 'sh' })).toBe(0);
  expect(populate(ctx, h.hostNs, '/etc/motd', new TextEncoder().encode('hi'), 0o644)).toBe(0);
});

describe('populate', () => {
  it('writes files with parents, replaces existing ones, refuses bad paths', () => {
    expect(h.stat(root, '/usr/bin')).toMatchObject({ mode: S.IFDIR | 0o755 });
    expect(h.stat(root, '/bin/sh')).toMatchObject({ mode: S.IFREG | 0o755, size: 10_000 + 8 });
    expect(populate(h.fsCtx(), h.hostNs, '/etc/motd', new TextEncoder().encode('bye'), 0o600)).toBe(0);
    expect(h.readFile(root, '/etc/motd')).toBe('bye');
    expect(populate(h.fsCtx(), h.hostNs, '/etc', new Uint8Array(), 0o644)).toBe(E('EISDIR'));
    expect(populate(h.fsCtx(), h.hostNs, '/etc/motd/x', new Uint8Array(), 0o644)).toBe(E('ENOTDIR'));
    expect(populate(h.fsCtx(), h.hostNs, '/', new Uint8Array(), 0o644)).toBe(E('EINVAL'));
    // Through mounts: /dev is devtmpfs.
    expect(populate(h.fsCtx(), h.hostNs, '/dev/extra', new Uint8Array([1]), 0o644)).toBe(0);
    expect(h.list(root, '/dev')).toContain('extra');
  });
});

describe('resolveExecutable', () => {
  it('returns the open file, the header and the path, following symlinks', () => {
    const ctx = h.ctx(root);
    const exec = resolveExecutable(ctx, '/bin/busybox-link');
    if (typeof exec === 'number') throw new Error(`errno ${exec}`);
    expect(exec.exePath).toBe('/bin/sh');
    expect(exec.header.length).toBe(256);
    expect(new TextDecoder().decode(exec.header.subarray(0, 8))).toBe('\x7fRCX sh\n');
    const page = filePage(ctx, exec.file, 0, false);
    expect(page).toBeDefined();
    expect(h.pe.readBytes(page!, 4)).toEqual(new Uint8Array([0x7f, 0x52, 0x43, 0x58]));
    expect(filePage(ctx, exec.file, 5, false)).toBeUndefined();
    releaseFile(exec.file);
    const small = resolveExecutable(ctx, 'bin/ls');
    expect(typeof small === 'object' && small.header.length).toBe(8);
  });

  it('relative to the cwd; exePath as the task sees it', () => {
    h.chdir(root, '/usr');
    const exec = resolveExecutable(h.ctx(root), 'bin/env');
    expect(typeof exec === 'object' && exec.exePath).toBe('/usr/bin/env');
  });

  it('EACCES without x, for directories, devices and noexec mounts; ENOENT; ENOTDIR', () => {
    const ctx = h.ctx(root);
    expect(resolveExecutable(ctx, '/etc/motd')).toBe(E('EACCES'));
    expect(resolveExecutable(ctx, '/bin')).toBe(E('EACCES'));
    expect(resolveExecutable(ctx, '/dev/null')).toBe(E('EACCES'));
    expect(resolveExecutable(ctx, '/bin/none')).toBe(E('ENOENT'));
    expect(resolveExecutable(ctx, '/etc/motd/x')).toBe(E('ENOTDIR'));
    const user = h.task({ uid: 1000 });
    populate(h.fsCtx(), h.hostNs, '/bin/private', image('p'), 0o700);
    expect(resolveExecutable(h.ctx(user), '/bin/private')).toBe(E('EACCES'));
    h.mkdir(root, '/mnt');
    h.mount(root, '/bin', '/mnt', '', MS.BIND);
    expect(typeof resolveExecutable(ctx, '/mnt/sh')).toBe('object');
    h.mount(root, '', '/mnt', '', MS.REMOUNT | MS.BIND | MS.NOEXEC);
    expect(resolveExecutable(ctx, '/mnt/sh')).toBe(E('EACCES'));
  });
});
