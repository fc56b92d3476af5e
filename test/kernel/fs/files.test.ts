// Regular files: open flags, read/write/lseek/pread/pwrite, truncation, stat, and where the data lives.
import { beforeEach, describe, expect, it } from 'vitest';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { O, S, SEEK } from '../../../src/kernel/uapi/flags.js';
import { E, FsHarness, KPAGES_BASE, type TestTask } from './harness.js';

let h: FsHarness;
let root: TestTask;

beforeEach(() => {
  h = new FsHarness();
  root = h.task();
});

describe('open and create', () => {
  it('creates, writes and reads back a file', () => {
    const fd = h.open(root, '/tmp/a', O.RDWR | O.CREAT, 0o644);
    expect(fd).toBe(0);
    expect(h.write(root, fd, 'hello world')).toBe(11);
    expect(h.sys(root, Sys.lseek, fd, 0, SEEK.SET)).toBe(0);
    expect(h.readText(root, fd)).toBe('hello world');
    expect(h.readText(root, fd)).toBe('');
    expect(h.sys(root, Sys.close, fd)).toBe(0);
    expect(h.readFile(root, '/tmp/a')).toBe('hello world');
  });

  it('fails with ENOENT without O_CREAT and EEXIST with O_CREAT|O_EXCL', () => {
    expect(h.open(root, '/tmp/none')).toBe(E('ENOENT'));
    expect(h.open(root, '/tmp/none/x', O.RDWR | O.CREAT)).toBe(E('ENOENT'));
    h.writeFile(root, '/tmp/f', 'x');
    expect(h.open(root, '/tmp/f', O.WRONLY | O.CREAT | O.EXCL)).toBe(E('EEXIST'));
    expect(h.open(root, '/tmp/f', O.WRONLY | O.CREAT)).toBeGreaterThanOrEqual(0);
  });

  it('applies the umask to the creation mode', () => {
    expect(h.sys(root, Sys.umask, 0o027)).toBe(0o022);
    h.writeFile(root, '/tmp/m', '', 0o777);
    const st = h.stat(root, '/tmp/m');
    expect(typeof st === 'object' && st.mode).toBe(S.IFREG | 0o750);
    expect(h.mkdir(root, '/tmp/d', 0o777)).toBe(0);
    const dir = h.stat(root, '/tmp/d');
    expect(typeof dir === 'object' && dir.mode).toBe(S.IFDIR | 0o750);
  });

  it('O_TRUNC empties the file and O_APPEND writes at the end', () => {
    h.writeFile(root, '/tmp/t', 'abcdef');
    const fd = h.open(root, '/tmp/t', O.WRONLY | O.APPEND);
    expect(h.write(root, fd, 'gh')).toBe(2);
    expect(h.sys(root, Sys.lseek, fd, 0, SEEK.SET)).toBe(0);
    expect(h.write(root, fd, 'ij')).toBe(2);
    expect(h.readFile(root, '/tmp/t')).toBe('abcdefghij');
    const trunc = h.open(root, '/tmp/t', O.WRONLY | O.TRUNC);
    expect(trunc).toBeGreaterThanOrEqual(0);
    expect(h.readFile(root, '/tmp/t')).toBe('');
  });

  it('refuses to open a directory for writing (EISDIR) and a file with O_DIRECTORY (ENOTDIR)', () => {
    expect(h.open(root, '/tmp', O.WRONLY)).toBe(E('EISDIR'));
    expect(h.open(root, '/tmp', O.RDONLY | O.CREAT)).toBe(E('EISDIR'));
    h.writeFile(root, '/tmp/f', 'x');
    expect(h.open(root, '/tmp/f', O.RDONLY | O.DIRECTORY)).toBe(E('ENOTDIR'));
    expect(h.open(root, '/tmp/f/', O.RDONLY)).toBe(E('ENOTDIR'));
    expect(h.open(root, '/tmp/new/', O.RDWR | O.CREAT)).toBe(E('EISDIR'));
  });

  it('reading a directory fd gives EISDIR', () => {
    const fd = h.open(root, '/tmp', O.RDONLY);
    expect(h.readText(root, fd)).toBe(E('EISDIR'));
  });

  it('EFAULT for bad path and buffer pointers', () => {
    expect(h.sys(root, Sys.openat, -100, 0x10, O.RDONLY, 0)).toBe(E('EFAULT'));
    const fd = h.open(root, '/tmp/f', O.RDWR | O.CREAT);
    expect(h.sys(root, Sys.write, fd, 0x10, 4)).toBe(E('EFAULT'));
    h.write(root, fd, 'data');
    h.sys(root, Sys.lseek, fd, 0, SEEK.SET);
    expect(h.sys(root, Sys.read, fd, 0x10, 4)).toBe(E('EFAULT'));
  });

  it('EBADF on closed descriptors and wrong access modes', () => {
    expect(h.sys(root, Sys.read, 42, h.alloc(4), 4)).toBe(E('EBADF'));
    expect(h.sys(root, Sys.close, 42)).toBe(E('EBADF'));
    expect(h.sys(root, Sys.close, -1)).toBe(E('EBADF'));
    h.writeFile(root, '/tmp/f', 'abc');
    const ro = h.open(root, '/tmp/f', O.RDONLY);
    expect(h.write(root, ro, 'x')).toBe(E('EBADF'));
    const wo = h.open(root, '/tmp/f', O.WRONLY);
    expect(h.readText(root, wo)).toBe(E('EBADF'));
  });
});

describe('offsets', () => {
  it('lseek SET/CUR/END, EINVAL for negative results and bad whence', () => {
    h.writeFile(root, '/tmp/f', '0123456789');
    const fd = h.open(root, '/tmp/f');
    expect(h.sys(root, Sys.lseek, fd, 3, SEEK.SET)).toBe(3);
    expect(h.sys(root, Sys.lseek, fd, 2, SEEK.CUR)).toBe(5);
    expect(h.readText(root, fd, 2)).toBe('56');
    expect(h.sys(root, Sys.lseek, fd, -1, SEEK.END)).toBe(9);
    expect(h.readText(root, fd)).toBe('9');
    expect(h.sys(root, Sys.lseek, fd, -20, SEEK.CUR)).toBe(E('EINVAL'));
    expect(h.sys(root, Sys.lseek, fd, 0, 7)).toBe(E('EINVAL'));
  });

  it('pread/pwrite do not move the offset; holes read as zeros', () => {
    const fd = h.open(root, '/tmp/p', O.RDWR | O.CREAT);
    const data = h.bytes('XY');
    expect(h.sys(root, Sys.pwrite64, fd, data, 2, 10_000)).toBe(2);
    expect(h.sys(root, Sys.lseek, fd, 0, SEEK.CUR)).toBe(0);
    const st = h.fstat(root, fd);
    expect(typeof st === 'object' && st.size).toBe(10_002);
    const buf = h.alloc(16);
    expect(h.sys(root, Sys.pread64, fd, buf, 16, 9_995)).toBe(7);
    expect([...h.read(buf, 7)]).toEqual([0, 0, 0, 0, 0, 0x58, 0x59]);
    expect(h.sys(root, Sys.pread64, fd, buf, 4, -1)).toBe(E('EINVAL'));
    // A zero-length write past the end does not extend the file.
    expect(h.sys(root, Sys.pwrite64, fd, data, 0, 50_000)).toBe(0);
    expect(h.fstat(root, fd)).toMatchObject({ size: 10_002 });
    // Only the touched page is allocated (the first two are holes).
    expect(typeof st === 'object' && st.blocks).toBe(8);
  });

  it('writes across page boundaries and large files', () => {
    const big = new Uint8Array(20_000).map((_, i) => (i * 7) & 0xff);
    const fd = h.open(root, '/tmp/big', O.RDWR | O.CREAT);
    expect(h.write(root, fd, big)).toBe(20_000);
    const buf = h.alloc(20_000);
    expect(h.sys(root, Sys.pread64, fd, buf, 20_000, 0)).toBe(20_000);
    expect(h.read(buf, 20_000)).toEqual(big);
  });
});

describe('truncation', () => {
  it('ftruncate shrinks, zeroes the tail and grows with a hole; frees pages', () => {
    const fd = h.open(root, '/tmp/t', O.RDWR | O.CREAT);
    h.write(root, fd, 'x'.repeat(9000));
    const before = h.pages.inUse(0);
    expect(h.sys(root, Sys.ftruncate, fd, 10)).toBe(0);
    expect(h.pages.inUse(0)).toBe(before - 2);
    expect(h.sys(root, Sys.ftruncate, fd, 20)).toBe(0);
    const buf = h.alloc(20);
    expect(h.sys(root, Sys.pread64, fd, buf, 20, 0)).toBe(20);
    expect(h.text(buf, 10)).toBe('x'.repeat(10));
    expect([...h.read(buf + 10, 10)]).toEqual(new Array(10).fill(0));
    expect(h.sys(root, Sys.ftruncate, fd, -1)).toBe(E('EINVAL'));
    const ro = h.open(root, '/tmp/t');
    expect(h.sys(root, Sys.ftruncate, ro, 0)).toBe(E('EINVAL'));
    const dir = h.open(root, '/tmp');
    expect(h.sys(root, Sys.ftruncate, dir, 0)).toBe(E('EINVAL'));
  });

  it('an unlinked file keeps its pages until the last close', () => {
    const fd = h.open(root, '/tmp/u', O.RDWR | O.CREAT);
    h.write(root, fd, 'y'.repeat(5000));
    const used = h.pages.inUse(0);
    expect(h.unlink(root, '/tmp/u')).toBe(0);
    expect(h.pages.inUse(0)).toBe(used);
    h.sys(root, Sys.lseek, fd, 0, SEEK.SET);
    expect(h.readText(root, fd, 3)).toBe('yyy');
    expect(h.sys(root, Sys.close, fd)).toBe(0);
    expect(h.pages.inUse(0)).toBe(used - 2);
  });
});

describe('data placement', () => {
  it('file contents are in kernel pages in simulated memory', () => {
    h.writeFile(root, '/tmp/secret', 'CANARY-1234');
    const found = h.pages.livePages().some((va) => {
      const text = new TextDecoder().decode(h.pe.readBytes(va, 4096)!);
      return text.startsWith('CANARY-1234');
    });
    expect(found).toBe(true);
    expect(Math.min(...h.pages.livePages())).toBeGreaterThanOrEqual(KPAGES_BASE);
  });

  it('pages are owned by the creating container for its tmpfs mounts', () => {
    const c = h.task({ cid: 7 });
    expect(h.mkdir(root, '/mnt')).toBe(0);
    expect(h.mount(c, 'tmpfs', '/mnt', 'tmpfs')).toBe(0);
    expect(h.writeFile(c, '/mnt/f', 'z'.repeat(100))).toBe(100);
    expect(h.pages.inUse(7)).toBe(1);
  });

  it('fstat and newfstatat report type, size, links and owner', () => {
    h.writeFile(root, '/tmp/s', 'abc');
    const st = h.stat(root, '/tmp/s');
    expect(st).toMatchObject({ mode: S.IFREG | 0o644, size: 3, nlink: 1, uid: 0, gid: 0, blksize: 4096 });
    const dir = h.stat(root, '/tmp');
    expect(typeof dir === 'object' && dir.mode).toBe(S.IFDIR | 0o1777);
    expect(h.sys(root, Sys.fstat, 99, h.alloc(128))).toBe(E('EBADF'));
    expect(h.sys(root, Sys.newfstatat, -100, h.str('/tmp/s'), 0x10, 0)).toBe(E('EFAULT'));
    expect(h.sys(root, Sys.newfstatat, -100, h.str('/tmp/s'), h.alloc(128), 0x4)).toBe(E('EINVAL'));
  });

  it('fsync succeeds on files', () => {
    const fd = h.open(root, '/tmp/f', O.WRONLY | O.CREAT);
    expect(h.sys(root, Sys.fsync, fd)).toBe(0);
    expect(h.sys(root, Sys.fsync, 77)).toBe(E('EBADF'));
  });
});
