// Directory entries: mkdir, rmdir, unlink, rename, link, symlink, getdents64 and their refusals.
import { beforeEach, describe, expect, it } from 'vitest';
import { AT, AT_FDCWD, DT, O } from '../../../src/kernel/uapi/flags.js';
import { decodeDirents } from '../../../src/kernel/uapi/structs.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

let h: FsHarness;
let root: TestTask;

beforeEach(() => {
  h = new FsHarness();
  root = h.task();
});

describe('mkdir and rmdir', () => {
  it('creates directories; EEXIST for existing names, "." and "/"; ENOENT without parent', () => {
    expect(h.mkdir(root, '/tmp/d')).toBe(0);
    expect(h.mkdir(root, '/tmp/d')).toBe(E('EEXIST'));
    expect(h.mkdir(root, '/tmp/d/.')).toBe(E('EEXIST'));
    expect(h.mkdir(root, '/')).toBe(E('EEXIST'));
    expect(h.mkdir(root, '/tmp/x/y')).toBe(E('ENOENT'));
    expect(h.mkdir(root, '/tmp/e/')).toBe(0);
    h.symlink(root, '/tmp/nowhere', '/tmp/link');
    expect(h.mkdir(root, '/tmp/link')).toBe(E('EEXIST'));
  });

  it('counts links: a directory has 2 plus one per subdirectory', () => {
    h.mkdir(root, '/tmp/d');
    h.mkdir(root, '/tmp/d/s1');
    h.mkdir(root, '/tmp/d/s2');
    h.writeFile(root, '/tmp/d/f', '');
    expect(h.stat(root, '/tmp/d')).toMatchObject({ nlink: 4 });
    h.unlink(root, '/tmp/d/s1', AT.REMOVEDIR);
    expect(h.stat(root, '/tmp/d')).toMatchObject({ nlink: 3 });
  });

  it('rmdir: ENOTEMPTY, ENOTDIR, EINVAL for ".", EBUSY for a mount point', () => {
    h.mkdir(root, '/tmp/d');
    h.writeFile(root, '/tmp/d/f', 'x');
    expect(h.unlink(root, '/tmp/d', AT.REMOVEDIR)).toBe(E('ENOTEMPTY'));
    expect(h.unlink(root, '/tmp/d/f', AT.REMOVEDIR)).toBe(E('ENOTDIR'));
    expect(h.unlink(root, '/tmp/d/.', AT.REMOVEDIR)).toBe(E('EINVAL'));
    expect(h.unlink(root, '/tmp/d/..', AT.REMOVEDIR)).toBe(E('ENOTEMPTY'));
    expect(h.unlink(root, '/proc', AT.REMOVEDIR)).toBe(E('EBUSY'));
    expect(h.unlink(root, '/tmp/d/f')).toBe(0);
    expect(h.unlink(root, '/tmp/d', AT.REMOVEDIR)).toBe(0);
    expect(h.stat(root, '/tmp/d')).toBe(E('ENOENT'));
    expect(h.unlink(root, '/tmp/d', 0x1)).toBe(E('EINVAL'));
  });

  it('unlink: EISDIR for directories, ENOENT for missing names, ENOTDIR with a trailing slash', () => {
    h.mkdir(root, '/tmp/d');
    h.writeFile(root, '/tmp/f', '');
    expect(h.unlink(root, '/tmp/d')).toBe(E('EISDIR'));
    expect(h.unlink(root, '/tmp/none')).toBe(E('ENOENT'));
    expect(h.unlink(root, '/tmp/f/')).toBe(E('ENOTDIR'));
    expect(h.unlink(root, '/tmp/.')).toBe(E('EISDIR'));
  });

  it('a removed cwd: getcwd says (deleted) and creating in it is ENOENT', () => {
    h.mkdir(root, '/tmp/gone');
    h.chdir(root, '/tmp/gone');
    expect(h.unlink(root, '/tmp/gone', AT.REMOVEDIR)).toBe(0);
    expect(h.getcwd(root)).toBe('/tmp/gone (deleted)');
    expect(h.open(root, 'new', O.WRONLY | O.CREAT)).toBe(E('ENOENT'));
  });
});

describe('rename', () => {
  it('moves files and replaces existing files atomically', () => {
    h.writeFile(root, '/tmp/a', 'A');
    h.writeFile(root, '/tmp/b', 'B');
    expect(h.rename(root, '/tmp/a', '/tmp/b')).toBe(0);
    expect(h.readFile(root, '/tmp/b')).toBe('A');
    expect(h.stat(root, '/tmp/a')).toBe(E('ENOENT'));
    expect(h.rename(root, '/tmp/a', '/tmp/c')).toBe(E('ENOENT'));
  });

  it('moves directories and keeps their subtree and the cwd path', () => {
    h.mkdir(root, '/tmp/d');
    h.mkdir(root, '/tmp/d/e');
    h.writeFile(root, '/tmp/d/e/f', 'F');
    h.chdir(root, '/tmp/d/e');
    h.mkdir(root, '/tmp/n');
    expect(h.rename(root, '/tmp/d', '/tmp/n/moved')).toBe(0);
    expect(h.readFile(root, '/tmp/n/moved/e/f')).toBe('F');
    expect(h.getcwd(root)).toBe('/tmp/n/moved/e');
    expect(h.readFile(root, 'f')).toBe('F');
  });

  it('refuses type mismatches, non-empty targets, loops, dots and cross-mount moves', () => {
    h.mkdir(root, '/tmp/d');
    h.mkdir(root, '/tmp/full');
    h.writeFile(root, '/tmp/full/x', '');
    h.mkdir(root, '/tmp/empty');
    h.writeFile(root, '/tmp/f', '');
    expect(h.rename(root, '/tmp/d', '/tmp/f')).toBe(E('ENOTDIR'));
    expect(h.rename(root, '/tmp/f', '/tmp/d')).toBe(E('EISDIR'));
    expect(h.rename(root, '/tmp/d', '/tmp/full')).toBe(E('ENOTEMPTY'));
    expect(h.rename(root, '/tmp/d', '/tmp/empty')).toBe(0);
    expect(h.rename(root, '/tmp/empty', '/tmp/empty/sub')).toBe(E('EINVAL'));
    expect(h.rename(root, '/tmp/.', '/tmp/x')).toBe(E('EBUSY'));
    expect(h.rename(root, '/tmp/f', '/tmp/f/')).toBe(E('ENOTDIR'));
    expect(h.rename(root, '/tmp/f', '/proc/f')).toBe(E('EXDEV'));
    expect(h.rename(root, '/dev/null', '/tmp/null')).toBe(E('EXDEV'));
  });

  it('renaming a file onto a hard link of itself does nothing', () => {
    h.writeFile(root, '/tmp/f', 'x');
    h.link(root, '/tmp/f', '/tmp/g');
    expect(h.rename(root, '/tmp/f', '/tmp/g')).toBe(0);
    expect(h.readFile(root, '/tmp/f')).toBe('x');
  });
});

describe('hard links', () => {
  it('share data and count links; the data goes with the last name', () => {
    h.writeFile(root, '/tmp/f', 'shared');
    expect(h.link(root, '/tmp/f', '/tmp/g')).toBe(0);
    expect(h.stat(root, '/tmp/g')).toMatchObject({ nlink: 2, size: 6 });
    h.writeFile(root, '/tmp/g', 'changed');
    expect(h.readFile(root, '/tmp/f')).toBe('changed');
    const used = h.pages.inUse(0);
    h.unlink(root, '/tmp/f');
    expect(h.stat(root, '/tmp/g')).toMatchObject({ nlink: 1 });
    h.unlink(root, '/tmp/g');
    expect(h.pages.inUse(0)).toBe(used - 1);
  });

  it('EPERM for directories, EEXIST for taken names, EXDEV across mounts', () => {
    h.writeFile(root, '/tmp/f', '');
    h.mkdir(root, '/tmp/d');
    expect(h.link(root, '/tmp/d', '/tmp/d2')).toBe(E('EPERM'));
    expect(h.link(root, '/tmp/f', '/tmp/d')).toBe(E('EEXIST'));
    expect(h.link(root, '/dev/null', '/tmp/n')).toBe(E('EXDEV'));
    expect(h.link(root, '/tmp/none', '/tmp/n')).toBe(E('ENOENT'));
    expect(h.link(root, '/tmp/f', '/tmp/n', 0x1)).toBe(E('EINVAL'));
  });

  it('links the symlink itself unless AT_SYMLINK_FOLLOW', () => {
    h.writeFile(root, '/tmp/f', 'x');
    h.symlink(root, '/tmp/f', '/tmp/s');
    h.link(root, '/tmp/s', '/tmp/s2');
    expect(h.readlink(root, '/tmp/s2')).toBe('/tmp/f');
    h.link(root, '/tmp/s', '/tmp/f2', AT.SYMLINK_FOLLOW);
    expect(h.stat(root, '/tmp/f')).toMatchObject({ nlink: 2 });
  });
});

describe('getdents64', () => {
  it('lists ".", ".." and the entries with types, in pieces when the buffer is small', () => {
    h.mkdir(root, '/tmp/d');
    h.writeFile(root, '/tmp/d/file', '');
    h.mkdir(root, '/tmp/d/sub');
    h.symlink(root, 'x', '/tmp/d/link');
    const fd = h.open(root, '/tmp/d', O.RDONLY | O.DIRECTORY);
    const va = h.alloc(64);
    const seen: { name: string; type: number }[] = [];
    for (;;) {
      const n = h.sys(root, Sys.getdents64, fd, va, 64);
      expect(n).toBeGreaterThanOrEqual(0);
      if (n === 0) break;
      seen.push(...decodeDirents(h.read(va, n)));
    }
    expect(seen.map((d) => [d.name, d.type])).toEqual([
      ['.', DT.DIR],
      ['..', DT.DIR],
      ['file', DT.REG],
      ['sub', DT.DIR],
      ['link', DT.LNK],
    ]);
    expect(h.sys(root, Sys.lseek, fd, 0, 0)).toBe(0);
    expect(h.sys(root, Sys.getdents64, fd, va, 10)).toBe(E('EINVAL'));
    const file = h.open(root, '/tmp/d/file');
    expect(h.sys(root, Sys.getdents64, file, va, 64)).toBe(E('ENOTDIR'));
    expect(h.sys(root, Sys.getdents64, 99, va, 64)).toBe(E('EBADF'));
  });

  it('works with *at calls relative to a directory fd', () => {
    h.mkdir(root, '/tmp/d');
    const dirfd = h.open(root, '/tmp/d', O.RDONLY | O.DIRECTORY);
    expect(h.sys(root, Sys.mkdirat, dirfd, h.str('sub'), 0o755)).toBe(0);
    expect(h.sys(root, Sys.symlinkat, h.str('sub'), dirfd, h.str('ln'))).toBe(0);
    expect(h.sys(root, Sys.renameat, dirfd, h.str('ln'), AT_FDCWD, h.str('/tmp/ln2'))).toBe(0);
    expect(h.sys(root, Sys.unlinkat, dirfd, h.str('sub'), AT.REMOVEDIR)).toBe(0);
    expect(h.list(root, '/tmp/d')).toEqual([]);
  });
});
