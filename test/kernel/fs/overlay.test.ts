// Container roots: overlay of read-only image layers under a writable upper tmpfs owned by the
// container: reads through, copy-up on write, whiteouts, opaque directories, EXDEV on merged dirs.
import { beforeEach, describe, expect, it } from 'vitest';
import type { MountNamespace } from '../../../src/kernel/fs/mount-namespace.js';
import type { TmpfsSuperBlock } from '../../../src/kernel/fs/tmpfs.js';
import { populate } from '../../../src/kernel/fs/vfs.js';
import { AT, O, S } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

const CID = 5;
let h: FsHarness;
let base: TmpfsSuperBlock;
let app: TmpfsSuperBlock;
let ns: MountNamespace;
let c: TestTask;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

beforeEach(() => {
  h = new FsHarness();
  const ctx = h.fsCtx();
  base = h.vfs.createLayer(ctx);
  populate(ctx, base.root, '/etc/os-release', text('base'), 0o644);
  populate(ctx, base.root, '/etc/hosts', text('127.0.0.1 localhost'), 0o644);
  populate(ctx, base.root, '/bin/sh', text('\x7fRCX sh\n'), 0o755);
  populate(ctx, base.root, '/usr/share/doc/readme', text('doc'), 0o644);
  populate(ctx, base.root, '/usr/lib/libc.so', text('libc'), 0o644);
  app = h.vfs.createLayer(ctx);
  populate(ctx, app.root, '/etc/os-release', text('app'), 0o644);
  populate(ctx, app.root, '/app/server', text('\x7fRCX server\n'), 0o755);
  ns = h.vfs.createContainerRoot(ctx, [app, base], CID);
  c = h.task({ cid: CID, mnt: ns });
});

describe('overlay reads', () => {
  it('merges the layers: the upper layer wins, directories merge', () => {
    expect(h.readFile(c, '/etc/os-release')).toBe('app');
    expect(h.readFile(c, '/etc/hosts')).toBe('127.0.0.1 localhost');
    expect(h.list(c, '/')).toEqual(
      expect.arrayContaining(['etc', 'bin', 'usr', 'app', 'dev', 'proc', 'tmp']),
    );
    // Upper entries first, then each lower layer's new names, topmost first.
    expect(h.list(c, '/etc')).toEqual(['os-release', 'hosts']);
    expect(h.stat(c, '/bin/sh')).toMatchObject({ mode: S.IFREG | 0o755 });
  });

  it('mounts devfs and procfs inside the container', () => {
    expect(h.open(c, '/dev/null', O.RDWR)).toBeGreaterThanOrEqual(0);
    expect(h.readlink(c, '/proc/self')).toBe(String(c.tid));
    const mounts = h.readFile(c, '/proc/mounts') as string;
    expect(mounts).toMatch(/^overlay \/ overlay rw 0 0\n/);
  });
});

describe('copy-up', () => {
  it('a write copies the file up into pages owned by the container; layers stay unchanged', () => {
    expect(h.pages.inUse(CID)).toBe(0);
    const fd = h.open(c, '/etc/hosts', O.WRONLY | O.APPEND);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(h.write(c, fd, '\n10.0.0.1 db')).toBe(12);
    expect(h.readFile(c, '/etc/hosts')).toBe('127.0.0.1 localhost\n10.0.0.1 db');
    expect(h.pages.inUse(CID)).toBe(1);
    // The image layer is untouched: a second container sees the original.
    const other = h.task({ cid: 6, mnt: h.vfs.createContainerRoot(h.fsCtx(), [app, base], 6) });
    expect(h.readFile(other, '/etc/hosts')).toBe('127.0.0.1 localhost');
  });

  it('a read-only open does not copy up; chmod does, without data loss', () => {
    expect(h.readFile(c, '/usr/share/doc/readme')).toBe('doc');
    expect(h.pages.inUse(CID)).toBe(0);
    expect(h.sys(c, Sys.fchmodat, -100, h.str('/usr/share/doc/readme'), 0o600)).toBe(0);
    expect(h.stat(c, '/usr/share/doc/readme')).toMatchObject({ mode: S.IFREG | 0o600, size: 3 });
    expect(h.readFile(c, '/usr/share/doc/readme')).toBe('doc');
    expect(h.stat(h.task(), '/proc')).toMatchObject({ mode: S.IFDIR | 0o555 });
  });

  it('O_TRUNC on a lower file gives an empty upper file', () => {
    expect(h.writeFile(c, '/etc/os-release', 'mine')).toBe(4);
    expect(h.readFile(c, '/etc/os-release')).toBe('mine');
    expect(h.stat(c, '/etc/os-release')).toMatchObject({ size: 4 });
  });

  it('hard links to lower files copy them up first', () => {
    expect(h.link(c, '/etc/hosts', '/etc/hosts2')).toBe(0);
    expect(h.readFile(c, '/etc/hosts2')).toBe('127.0.0.1 localhost');
    expect(h.stat(c, '/etc/hosts')).toMatchObject({ nlink: 2 });
  });
});

describe('whiteouts', () => {
  it('unlinking a lower file hides it; recreating it works', () => {
    expect(h.unlink(c, '/etc/hosts')).toBe(0);
    expect(h.stat(c, '/etc/hosts')).toBe(E('ENOENT'));
    expect(h.list(c, '/etc')).toEqual(['os-release']);
    expect(h.writeFile(c, '/etc/hosts', 'new')).toBe(3);
    expect(h.readFile(c, '/etc/hosts')).toBe('new');
  });

  it('rmdir of a merged directory needs it empty in the merged view, then hides it', () => {
    expect(h.unlink(c, '/usr/share/doc', AT.REMOVEDIR)).toBe(E('ENOTEMPTY'));
    expect(h.unlink(c, '/usr/share/doc/readme')).toBe(0);
    expect(h.list(c, '/usr/share/doc')).toEqual([]);
    expect(h.unlink(c, '/usr/share/doc', AT.REMOVEDIR)).toBe(0);
    expect(h.stat(c, '/usr/share/doc')).toBe(E('ENOENT'));
    expect(h.mkdir(c, '/usr/share/doc')).toBe(0);
    // The new directory is opaque: the lower one's entries stay hidden.
    expect(h.list(c, '/usr/share/doc')).toEqual([]);
  });

  it('rename of a lower file: the old name is whited out, the data moves', () => {
    expect(h.rename(c, '/etc/hosts', '/tmp/hosts')).toBe(0);
    expect(h.stat(c, '/etc/hosts')).toBe(E('ENOENT'));
    expect(h.readFile(c, '/tmp/hosts')).toBe('127.0.0.1 localhost');
    expect(h.rename(c, '/tmp/hosts', '/etc/hosts')).toBe(0);
    expect(h.readFile(c, '/etc/hosts')).toBe('127.0.0.1 localhost');
    expect(h.unlink(c, '/etc/hosts')).toBe(0);
    expect(h.stat(c, '/etc/hosts')).toBe(E('ENOENT'));
  });

  it('renaming a directory with lower content is EXDEV; an upper-only directory moves', () => {
    expect(h.rename(c, '/usr/share', '/usr/share2')).toBe(E('EXDEV'));
    h.mkdir(c, '/data');
    h.writeFile(c, '/data/f', 'x');
    expect(h.rename(c, '/data', '/usr/data')).toBe(0);
    expect(h.readFile(c, '/usr/data/f')).toBe('x');
    // Moving it over a lower directory that was emptied: it must stay opaque.
    h.unlink(c, '/usr/lib/libc.so');
    expect(h.rename(c, '/usr/data', '/usr/lib')).toBe(0);
    expect(h.list(c, '/usr/lib')).toEqual(['f']);
  });
});

describe('isolation of the upper layer', () => {
  it('new files are owned by the container: pages counted for its cid', () => {
    h.writeFile(c, '/tmp/big', 'q'.repeat(3 * 4096));
    expect(h.pages.inUse(CID)).toBe(3);
    expect(h.unlink(c, '/tmp/big')).toBe(0);
    expect(h.pages.inUse(CID)).toBe(0);
  });
});
