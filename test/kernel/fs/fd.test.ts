// Descriptor calls: dup, dup3, fcntl, ioctl, close-on-exec, and sharing of offsets.
import { beforeEach, describe, expect, it } from 'vitest';
import { F, FD_CLOEXEC, O, SEEK, TCGETS } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

let h: FsHarness;
let t: TestTask;

beforeEach(() => {
  h = new FsHarness();
  t = h.task();
  h.writeFile(t, '/tmp/f', 'abcdef');
});

describe('dup', () => {
  it('dup gives the lowest free fd sharing the offset', () => {
    const fd = h.open(t, '/tmp/f');
    const copy = h.sys(t, Sys.dup, fd);
    expect(copy).toBe(fd + 1);
    expect(h.readText(t, fd, 2)).toBe('ab');
    expect(h.readText(t, copy, 2)).toBe('cd');
    expect(h.sys(t, Sys.dup, 500)).toBe(E('EBADF'));
  });

  it('dup3 replaces the target, sets O_CLOEXEC, and refuses equal fds and bad flags', () => {
    const fd = h.open(t, '/tmp/f');
    const other = h.open(t, '/tmp/f');
    expect(h.sys(t, Sys.dup3, fd, other, O.CLOEXEC)).toBe(other);
    expect(h.sys(t, Sys.fcntl, other, F.GETFD, 0)).toBe(FD_CLOEXEC);
    expect(h.sys(t, Sys.dup3, fd, 10, 0)).toBe(10);
    expect(h.sys(t, Sys.fcntl, 10, F.GETFD, 0)).toBe(0);
    expect(h.sys(t, Sys.dup3, fd, fd, 0)).toBe(E('EINVAL'));
    expect(h.sys(t, Sys.dup3, fd, 11, 1)).toBe(E('EINVAL'));
    expect(h.sys(t, Sys.dup3, 77, 11, 0)).toBe(E('EBADF'));
    expect(h.sys(t, Sys.dup3, fd, 5000, 0)).toBe(E('EBADF'));
    expect(h.sys(t, Sys.dup3, fd, -1, 0)).toBe(E('EBADF'));
  });

  it('closing one descriptor keeps the open file for the others', () => {
    const fd = h.open(t, '/tmp/f');
    const copy = h.sys(t, Sys.dup, fd);
    expect(h.sys(t, Sys.close, fd)).toBe(0);
    expect(h.readText(t, copy)).toBe('abcdef');
  });

  it('EMFILE when the table is full', () => {
    const fd = h.open(t, '/tmp/f');
    expect(h.sys(t, Sys.fcntl, fd, F.DUPFD, 1023)).toBe(1023);
    expect(h.sys(t, Sys.fcntl, fd, F.DUPFD, 1023)).toBe(E('EMFILE'));
    expect(h.sys(t, Sys.fcntl, fd, F.DUPFD, 1024)).toBe(E('EINVAL'));
  });
});

describe('fcntl', () => {
  it('DUPFD and DUPFD_CLOEXEC start at the given fd', () => {
    const fd = h.open(t, '/tmp/f');
    expect(h.sys(t, Sys.fcntl, fd, F.DUPFD, 20)).toBe(20);
    expect(h.sys(t, Sys.fcntl, fd, F.DUPFD_CLOEXEC, 20)).toBe(21);
    expect(h.sys(t, Sys.fcntl, 21, F.GETFD, 0)).toBe(FD_CLOEXEC);
    expect(h.sys(t, Sys.fcntl, 21, F.SETFD, 0)).toBe(0);
    expect(h.sys(t, Sys.fcntl, 21, F.GETFD, 0)).toBe(0);
  });

  it('GETFL / SETFL change only O_APPEND and O_NONBLOCK', () => {
    const fd = h.open(t, '/tmp/f', O.RDWR | O.CREAT | O.CLOEXEC);
    expect(h.sys(t, Sys.fcntl, fd, F.GETFL, 0)).toBe(O.RDWR);
    expect(h.sys(t, Sys.fcntl, fd, F.SETFL, O.APPEND | O.NONBLOCK | O.WRONLY)).toBe(0);
    expect(h.sys(t, Sys.fcntl, fd, F.GETFL, 0)).toBe(O.RDWR | O.APPEND | O.NONBLOCK);
    h.sys(t, Sys.lseek, fd, 0, SEEK.SET);
    h.write(t, fd, 'Z');
    expect(h.readFile(t, '/tmp/f')).toBe('abcdefZ');
    expect(h.sys(t, Sys.fcntl, fd, 999, 0)).toBe(E('EINVAL'));
    expect(h.sys(t, Sys.fcntl, 99, F.GETFL, 0)).toBe(E('EBADF'));
  });

  it('close-on-exec descriptors go away on closeOnExec', () => {
    const keep = h.open(t, '/tmp/f');
    const drop = h.open(t, '/tmp/f', O.RDONLY | O.CLOEXEC);
    t.files.closeOnExec();
    expect(t.files.get(keep)).toBeDefined();
    expect(t.files.get(drop)).toBeUndefined();
  });
});

describe('ioctl', () => {
  it('ENOTTY on regular files, EBADF on bad fds', () => {
    const fd = h.open(t, '/tmp/f');
    expect(h.sys(t, Sys.ioctl, fd, TCGETS, h.alloc(64))).toBe(E('ENOTTY'));
    expect(h.sys(t, Sys.ioctl, 99, TCGETS, h.alloc(64))).toBe(E('EBADF'));
  });

  it('FIOCLEX sets close-on-exec', () => {
    const fd = h.open(t, '/tmp/f');
    expect(h.sys(t, Sys.ioctl, fd, 0x5451, 0)).toBe(0);
    expect(h.sys(t, Sys.fcntl, fd, F.GETFD, 0)).toBe(FD_CLOEXEC);
  });
});
