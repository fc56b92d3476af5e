// Mounts: new file systems, bind mounts, umount2, pivot_root, and mount-namespace copies.
import { beforeEach, describe, expect, it } from 'vitest';
import { MNT_DETACH, MS, O } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import { E, FsHarness, type TestTask } from './harness.js';

let h: FsHarness;
let root: TestTask;

beforeEach(() => {
  h = new FsHarness();
  root = h.task();
  h.mkdir(root, '/mnt');
});

function umount(task: TestTask, path: string, flags = 0): number {
  return h.sys(task, Sys.umount2, h.str(path), flags);
}

describe('mount', () => {
  it('mounts a tmpfs that hides the directory below until unmounted', () => {
    h.writeFile(root, '/mnt/under', 'u');
    expect(h.mount(root, 'tmpfs', '/mnt', 'tmpfs', 0, 'mode=755')).toBe(0);
    expect(h.list(root, '/mnt')).toEqual([]);
    expect(h.stat(root, '/mnt')).toMatchObject({ mode: 0o40755 });
    h.writeFile(root, '/mnt/over', 'o');
    expect(umount(root, '/mnt')).toBe(0);
    expect(h.list(root, '/mnt')).toEqual(['under']);
  });

  it('refusals: EPERM for non-root, ENODEV for unknown types, ENOTDIR, ENOENT, EINVAL options', () => {
    const user = h.task({ uid: 1000 });
    expect(h.mount(user, 'tmpfs', '/mnt', 'tmpfs')).toBe(E('EPERM'));
    expect(h.mount(root, 'x', '/mnt', 'ext4')).toBe(E('ENODEV'));
    h.writeFile(root, '/tmp/f', '');
    expect(h.mount(root, 'tmpfs', '/tmp/f', 'tmpfs')).toBe(E('ENOTDIR'));
    expect(h.mount(root, 'tmpfs', '/nope', 'tmpfs')).toBe(E('ENOENT'));
    expect(h.mount(root, 'tmpfs', '/mnt', 'tmpfs', 0, 'mode=zz')).toBe(E('EINVAL'));
    expect(h.sys(root, Sys.mount, 0, 0x10, 0, 0, 0)).toBe(E('EFAULT'));
  });

  it('bind mounts show the same files; MS_REC carries submounts', () => {
    h.mkdir(root, '/tmp/src');
    h.writeFile(root, '/tmp/src/f', 'same');
    expect(h.mount(root, '/tmp/src', '/mnt', '', MS.BIND)).toBe(0);
    expect(h.readFile(root, '/mnt/f')).toBe('same');
    h.writeFile(root, '/mnt/g', 'new');
    expect(h.readFile(root, '/tmp/src/g')).toBe('new');
    // A bind of "/" without MS_REC does not carry /proc; with MS_REC it does.
    h.mkdir(root, '/tmp/r1');
    h.mkdir(root, '/tmp/r2');
    expect(h.mount(root, '/', '/tmp/r1', '', MS.BIND)).toBe(0);
    expect(h.list(root, '/tmp/r1/proc')).toEqual([]);
    expect(h.mount(root, '/', '/tmp/r2', '', MS.BIND | MS.REC)).toBe(0);
    expect(h.list(root, '/tmp/r2/proc')).toContain('self');
    // Cross-mount rename and link between two binds of the same file system: EXDEV.
    expect(h.rename(root, '/mnt/f', '/tmp/src/f2')).toBe(E('EXDEV'));
    expect(h.link(root, '/mnt/f', '/tmp/src/f3')).toBe(E('EXDEV'));
  });

  it('binds a file over a file; ENOTDIR for a file over a directory', () => {
    h.writeFile(root, '/tmp/a', 'A');
    h.writeFile(root, '/tmp/b', 'B');
    expect(h.mount(root, '/tmp/a', '/tmp/b', '', MS.BIND)).toBe(0);
    expect(h.readFile(root, '/tmp/b')).toBe('A');
    expect(h.unlink(root, '/tmp/b')).toBe(E('EBUSY'));
    expect(h.mount(root, '/tmp/a', '/mnt', '', MS.BIND)).toBe(E('ENOTDIR'));
  });

  it('propagation flags are accepted; remount needs a mount root', () => {
    expect(h.mount(root, '', '/', '', (1 << 18) | MS.REC)).toBe(0);
    expect(h.mount(root, '', '/tmp', '', MS.REMOUNT | MS.RDONLY)).toBe(E('EINVAL'));
  });

  it('mounts an overlay from tmpfs directories', () => {
    h.mkdir(root, '/tmp/lower');
    h.mkdir(root, '/tmp/upper');
    h.writeFile(root, '/tmp/lower/f', 'lower');
    expect(h.mount(root, 'overlay', '/mnt', 'overlay', 0, 'lowerdir=/tmp/lower,upperdir=/tmp/upper')).toBe(0);
    expect(h.readFile(root, '/mnt/f')).toBe('lower');
    h.writeFile(root, '/mnt/f', 'upper');
    expect(h.readFile(root, '/tmp/upper/f')).toBe('upper');
    expect(h.readFile(root, '/tmp/lower/f')).toBe('lower');
    expect(h.mount(root, 'overlay', '/mnt', 'overlay', 0, 'lowerdir=/tmp/lower')).toBe(E('EINVAL'));
    expect(h.mount(root, 'overlay', '/mnt', 'overlay', 0, 'lowerdir=/proc,upperdir=/tmp/upper')).toBe(
      E('EINVAL'),
    );
  });
});

describe('umount2', () => {
  it('EINVAL when not a mount point, EBUSY with submounts unless MNT_DETACH', () => {
    expect(umount(root, '/tmp')).toBe(E('EINVAL'));
    expect(h.mount(root, 'tmpfs', '/mnt', 'tmpfs')).toBe(0);
    h.mkdir(root, '/mnt/inner');
    expect(h.mount(root, 'tmpfs', '/mnt/inner', 'tmpfs')).toBe(0);
    expect(umount(root, '/mnt')).toBe(E('EBUSY'));
    expect(umount(root, '/mnt', MNT_DETACH)).toBe(0);
    expect(h.stat(root, '/mnt/inner')).toBe(E('ENOENT'));
    expect(umount(root, '/')).toBe(E('EINVAL'));
    expect(umount(root, '/proc', 0x100)).toBe(E('EINVAL'));
    expect(umount(h.task({ uid: 1 }), '/proc')).toBe(E('EPERM'));
  });
});

describe('mount namespaces', () => {
  it('a cloned namespace has independent mounts; FsState.rebase moves root and cwd into it', () => {
    const task = h.task();
    h.chdir(task, '/proc');
    const copy = task.ns.mnt.clone();
    task.ns.mnt = copy;
    task.fs.rebase(copy);
    expect(h.getcwd(task)).toBe('/proc');
    expect(h.mount(task, 'tmpfs', '/mnt', 'tmpfs')).toBe(0);
    h.writeFile(task, '/mnt/private', 'p');
    expect(h.list(root, '/mnt')).toEqual([]);
    expect(umount(task, '/proc')).toBe(0);
    expect(h.list(root, '/proc')).toContain('self');
    expect(h.list(task, '/proc')).toEqual([]);
    // Files are shared (same file systems): a file written in / is seen in both.
    h.writeFile(root, '/tmp/shared', 's');
    expect(h.readFile(task, '/tmp/shared')).toBe('s');
  });

  it('pivot_root makes a mount the root and puts the old root under it', () => {
    const task = h.task();
    task.ns.mnt = task.ns.mnt.clone();
    task.fs.rebase(task.ns.mnt);
    h.mkdir(task, '/tmp/newroot');
    expect(h.mount(task, 'tmpfs', '/tmp/newroot', 'tmpfs')).toBe(0);
    h.mkdir(task, '/tmp/newroot/old');
    h.writeFile(task, '/tmp/newroot/hello', 'from new root');
    expect(h.sys(task, Sys.pivot_root, h.str('/tmp/newroot'), h.str('/tmp/newroot/old'))).toBe(0);
    expect(h.readFile(task, '/hello')).toBe('from new root');
    expect(h.list(task, '/old/tmp')).toContain('newroot');
    expect(h.getcwd(task)).toBe('/');
    expect(umount(task, '/old', MNT_DETACH)).toBe(0);
    expect(h.list(task, '/')).toEqual(['old', 'hello']);
    expect(h.readFile(task, '/../../hello')).toBe('from new root');
    // The host namespace is unaffected.
    expect(h.list(root, '/')).toContain('proc');
  });

  it('pivot_root refusals in Linux order: EBUSY on the root mount, EINVAL when not a mount point', () => {
    h.mkdir(root, '/tmp/nr');
    expect(h.sys(root, Sys.pivot_root, h.str('/tmp/nr'), h.str('/tmp/nr'))).toBe(E('EBUSY'));
    expect(h.sys(root, Sys.pivot_root, h.str('/'), h.str('/tmp'))).toBe(E('EBUSY'));
    h.mount(root, 'tmpfs', '/mnt', 'tmpfs');
    h.mkdir(root, '/mnt/sub');
    expect(h.sys(root, Sys.pivot_root, h.str('/mnt'), h.str('/tmp'))).toBe(E('EBUSY'));
    expect(h.sys(root, Sys.pivot_root, h.str('/mnt/sub'), h.str('/mnt/sub'))).toBe(E('EINVAL'));
    h.mkdir(root, '/tmp/elsewhere');
    h.mkdir(root, '/tmp/elsewhere/x');
    h.mount(root, 'tmpfs', '/tmp/elsewhere/x', 'tmpfs');
    expect(h.sys(root, Sys.pivot_root, h.str('/mnt'), h.str('/tmp/elsewhere/x'))).toBe(E('EINVAL'));
    expect(h.sys(h.task({ uid: 5 }), Sys.pivot_root, h.str('/mnt'), h.str('/mnt'))).toBe(E('EPERM'));
  });

  it('setns-style entry: FsState.enter puts root and cwd at the namespace root', () => {
    const ns = h.vfs.createContainerRoot(h.fsCtx(), [], 3);
    const task = h.task({ cid: 3 });
    task.ns.mnt = ns;
    task.fs.enter(ns);
    expect(h.list(task, '/')).toEqual(expect.arrayContaining(['dev', 'proc', 'tmp']));
    expect(h.open(task, '/tmp/x', O.WRONLY | O.CREAT)).toBeGreaterThanOrEqual(0);
    expect(h.pages.inUse(3)).toBe(0);
  });
});
