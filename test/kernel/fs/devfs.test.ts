// devfs: null, zero, full, urandom (deterministic), tty/console through the machine console.
import { beforeEach, describe, expect, it } from 'vitest';
import { MS, O, S, TCGETS, TIOCGWINSZ } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

let h: FsHarness;
let t: TestTask;

beforeEach(() => {
  h = new FsHarness();
  t = h.task({ uid: 1000 });
});

function readBytes(task: TestTask, fd: number, length: number): Uint8Array | number {
  const va = h.alloc(length);
  const n = h.sys(task, Sys.read, fd, va, length);
  return n < 0 ? n : h.read(va, n);
}

describe('devfs', () => {
  it('lists the device nodes with their types and numbers', () => {
    expect(h.list(t, '/dev')).toEqual(
      expect.arrayContaining(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'fd', 'stdin']),
    );
    expect(h.stat(t, '/dev/null')).toMatchObject({ mode: S.IFCHR | 0o666, rdev: (1 << 8) | 3 });
    expect(h.readlink(t, '/dev/fd')).toBe('/proc/self/fd');
  });

  it('/dev/null swallows writes and reads EOF; /dev/zero reads zeros', () => {
    const fd = h.open(t, '/dev/null', O.RDWR);
    expect(h.write(t, fd, 'discard')).toBe(7);
    expect(h.readText(t, fd)).toBe('');
    const zero = h.open(t, '/dev/zero');
    expect(readBytes(t, zero, 5000)).toEqual(new Uint8Array(5000));
  });

  it('/dev/full reads zeros and refuses writes with ENOSPC', () => {
    const fd = h.open(t, '/dev/full', O.RDWR);
    expect(h.write(t, fd, 'x')).toBe(E('ENOSPC'));
  });

  it('/dev/urandom is a deterministic stream per devfs instance', () => {
    const a = readBytes(t, h.open(t, '/dev/urandom'), 64);
    const other = new FsHarness();
    const u = other.task();
    const va = other.alloc(64);
    other.sys(u, Sys.read, other.open(u, '/dev/urandom'), va, 64);
    expect(other.read(va, 64)).toEqual(a);
    const b = readBytes(t, h.open(t, '/dev/urandom'), 64);
    expect(b).not.toEqual(a);
    expect(new Set(a as Uint8Array).size).toBeGreaterThan(30);
  });

  it('tty and console reach the machine console; TCGETS and TIOCGWINSZ answer', () => {
    const tty = h.open(t, '/dev/tty', O.RDWR);
    expect(h.write(t, tty, 'hi\n')).toBe(3);
    expect(h.console.output).toBe('hi\n');
    h.console.input.push('typed');
    expect(h.readText(t, tty)).toBe('typed');
    const termios = h.alloc(36);
    expect(h.sys(t, Sys.ioctl, tty, TCGETS, termios)).toBe(0);
    expect(h.sys(t, Sys.ioctl, tty, TCGETS, 0x10)).toBe(E('EFAULT'));
    const ws = h.alloc(8);
    expect(h.sys(t, Sys.ioctl, tty, TIOCGWINSZ, ws)).toBe(0);
    expect([...h.read(ws, 4)]).toEqual([24, 0, 80, 0]);
    expect(h.sys(t, Sys.ioctl, tty, 0x1234, 0)).toBe(E('ENOTTY'));
    expect(h.sys(t, Sys.lseek, tty, 0, 0)).toBe(E('ESPIPE'));
    expect(h.sys(t, Sys.pread64, tty, h.alloc(4), 4, 0)).toBe(E('ESPIPE'));
    expect(h.open(t, '/dev/console', O.WRONLY)).toBe(E('EACCES'));
  });

  it('device nodes of a nodev mount cannot be opened', () => {
    const root = h.task();
    h.mkdir(root, '/mnt');
    expect(h.mount(root, '/dev', '/mnt', '', MS.BIND)).toBe(0);
    expect(h.open(root, '/mnt/null', O.RDWR)).toBeGreaterThanOrEqual(0);
    expect(h.mount(root, '', '/mnt', '', MS.REMOUNT | MS.BIND | MS.NODEV)).toBe(0);
    expect(h.open(root, '/mnt/null', O.RDWR)).toBe(E('EACCES'));
  });
});
