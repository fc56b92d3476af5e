// Path resolution: relative paths and dirfds, "." and "..", symlinks and their limit, name lengths,
// trailing slashes, chdir and getcwd.
import { beforeEach, describe, expect, it } from 'vitest';
import { AT, AT_FDCWD, O } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

let h: FsHarness;
let root: TestTask;

beforeEach(() => {
  h = new FsHarness();
  root = h.task();
  h.mkdir(root, '/tmp/a');
  h.mkdir(root, '/tmp/a/b');
  h.writeFile(root, '/tmp/a/b/f', 'F');
});

describe('relative paths', () => {
  it('resolves from the cwd and from a directory fd', () => {
    expect(h.chdir(root, '/tmp/a')).toBe(0);
    expect(h.readFile(root, 'b/f')).toBe('F');
    expect(h.readFile(root, './b/../b/f')).toBe('F');
    const dirfd = h.open(root, '/tmp/a/b', O.RDONLY | O.DIRECTORY);
    expect(h.sys(root, Sys.openat, dirfd, h.str('f'), O.RDONLY, 0)).toBeGreaterThan(dirfd);
    // Absolute paths ignore the dirfd.
    expect(h.sys(root, Sys.openat, 999, h.str('/tmp/a/b/f'), O.RDONLY, 0)).toBeGreaterThanOrEqual(0);
  });

  it('EBADF for a bad dirfd, ENOTDIR for a dirfd that is a file', () => {
    expect(h.sys(root, Sys.openat, 999, h.str('f'), O.RDONLY, 0)).toBe(E('EBADF'));
    const file = h.open(root, '/tmp/a/b/f');
    expect(h.sys(root, Sys.openat, file, h.str('x'), O.RDONLY, 0)).toBe(E('ENOTDIR'));
  });

  it('ENOENT for an empty path, ENOTDIR through a file', () => {
    expect(h.open(root, '')).toBe(E('ENOENT'));
    expect(h.open(root, '/tmp/a/b/f/x')).toBe(E('ENOTDIR'));
    expect(h.stat(root, '/tmp/a/b/f/')).toBe(E('ENOTDIR'));
  });

  it('".." stops at the root and crosses mount roots to the mountpoint', () => {
    expect(h.readFile(root, '/../../tmp/a/b/f')).toBe('F');
    expect(h.chdir(root, '/proc')).toBe(0);
    expect(h.getcwd(root)).toBe('/proc');
    expect(h.chdir(root, '..')).toBe(0);
    expect(h.getcwd(root)).toBe('/');
    const st = h.stat(root, '/dev/..');
    const rootSt = h.stat(root, '/');
    expect(
      typeof st === 'object' && typeof rootSt === 'object' && st.ino === rootSt.ino && st.dev === rootSt.dev,
    ).toBe(true);
  });

  it('chdir refuses files (ENOTDIR) and missing paths (ENOENT); getcwd ERANGE', () => {
    expect(h.chdir(root, '/tmp/a/b/f')).toBe(E('ENOTDIR'));
    expect(h.chdir(root, '/nope')).toBe(E('ENOENT'));
    expect(h.chdir(root, '/tmp/a/b')).toBe(0);
    expect(h.getcwd(root)).toBe('/tmp/a/b');
    expect(h.sys(root, Sys.getcwd, h.alloc(4), 4)).toBe(E('ERANGE'));
    expect(h.sys(root, Sys.getcwd, 0x10, 100)).toBe(E('EFAULT'));
    expect(h.sys(root, Sys.getcwd, h.alloc(16), 16)).toBe('/tmp/a/b'.length + 1);
  });
});

describe('symlinks', () => {
  it('follows relative and absolute links, nested', () => {
    expect(h.symlink(root, 'a/b', '/tmp/rel')).toBe(0);
    expect(h.symlink(root, '/tmp/rel/f', '/tmp/abs')).toBe(0);
    expect(h.readFile(root, '/tmp/rel/f')).toBe('F');
    expect(h.readFile(root, '/tmp/abs')).toBe('F');
    expect(h.readlink(root, '/tmp/abs')).toBe('/tmp/rel/f');
    expect(h.readlink(root, '/tmp/a')).toBe(E('EINVAL'));
  });

  it('O_NOFOLLOW on a final symlink is ELOOP; lstat sees the link', () => {
    h.symlink(root, '/tmp/a/b/f', '/tmp/l');
    expect(h.open(root, '/tmp/l', O.RDONLY | O.NOFOLLOW)).toBe(E('ELOOP'));
    // Intermediate links are still followed.
    h.symlink(root, '/tmp/a', '/tmp/dirlink');
    expect(h.open(root, '/tmp/dirlink/b/f', O.RDONLY | O.NOFOLLOW)).toBeGreaterThanOrEqual(0);
    const lst = h.stat(root, '/tmp/l', AT.SYMLINK_NOFOLLOW);
    expect(typeof lst === 'object' && lst.size).toBe('/tmp/a/b/f'.length);
  });

  it('allows 40 links in a resolution and fails the 41st with ELOOP', () => {
    h.symlink(root, '/tmp/a/b/f', '/tmp/l0');
    for (let i = 1; i <= 40; i++) h.symlink(root, `/tmp/l${i - 1}`, `/tmp/l${i}`);
    expect(h.readFile(root, '/tmp/l39')).toBe('F');
    expect(h.readFile(root, '/tmp/l40')).toBe(E('ELOOP'));
    h.symlink(root, '/tmp/self', '/tmp/self');
    expect(h.open(root, '/tmp/self')).toBe(E('ELOOP'));
  });

  it('a dangling link opened with O_CREAT creates its target; O_CREAT|O_EXCL on a link is EEXIST', () => {
    h.symlink(root, '/tmp/a/target', '/tmp/dangling');
    expect(h.open(root, '/tmp/dangling')).toBe(E('ENOENT'));
    expect(h.open(root, '/tmp/dangling', O.WRONLY | O.CREAT)).toBeGreaterThanOrEqual(0);
    expect(h.stat(root, '/tmp/a/target')).toMatchObject({ size: 0 });
    expect(h.open(root, '/tmp/dangling', O.WRONLY | O.CREAT | O.EXCL)).toBe(E('EEXIST'));
  });

  it('a trailing slash follows a link to a directory', () => {
    h.symlink(root, '/tmp/a', '/tmp/dl');
    expect(h.open(root, '/tmp/dl/', O.RDONLY)).toBeGreaterThanOrEqual(0);
    expect(h.list(root, '/tmp/dl/')).toEqual(['b']);
  });

  it('symlink with an empty target is ENOENT; readlink bufsiz <= 0 is EINVAL and truncates', () => {
    expect(h.symlink(root, '', '/tmp/e')).toBe(E('ENOENT'));
    h.symlink(root, 'abcdef', '/tmp/s');
    const va = h.alloc(8);
    expect(h.sys(root, Sys.readlinkat, AT_FDCWD, h.str('/tmp/s'), va, 3)).toBe(3);
    expect(h.text(va, 3)).toBe('abc');
    expect(h.sys(root, Sys.readlinkat, AT_FDCWD, h.str('/tmp/s'), va, 0)).toBe(E('EINVAL'));
  });
});

describe('name lengths', () => {
  it('ENAMETOOLONG for a component over 255 bytes', () => {
    expect(h.open(root, '/tmp/' + 'x'.repeat(255), O.WRONLY | O.CREAT)).toBeGreaterThanOrEqual(0);
    expect(h.open(root, '/tmp/' + 'x'.repeat(256), O.WRONLY | O.CREAT)).toBe(E('ENAMETOOLONG'));
  });

  it('ENAMETOOLONG for a path of 4096 bytes or more (PATH_MAX counts the NUL)', () => {
    const longest = '/' + './'.repeat(2045) + 'tmp/';
    expect(longest.length).toBe(4095);
    expect(h.open(root, longest)).toBeGreaterThanOrEqual(0);
    expect(h.open(root, longest + '.')).toBe(E('ENAMETOOLONG'));
  });
});

describe('faccessat', () => {
  it('F_OK and EINVAL for bad modes', () => {
    expect(h.sys(root, Sys.faccessat, AT_FDCWD, h.str('/tmp/a/b/f'), 0)).toBe(0);
    expect(h.sys(root, Sys.faccessat, AT_FDCWD, h.str('/tmp/nope'), 0)).toBe(E('ENOENT'));
    expect(h.sys(root, Sys.faccessat, AT_FDCWD, h.str('/tmp/a/b/f'), 8)).toBe(E('EINVAL'));
  });
});
