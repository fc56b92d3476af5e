/** setns(fd, nstype): join the namespace an open /proc/<pid>/ns/<kind> file refers to. */
import { NS_KINDS } from '../core/ns-handle.js';
import { ProcInode } from '../fs/procfs.js';
import { vfsFileOf } from '../fs/vfs-file.js';
import type { Namespaces, PidNamespace, UserNamespace, UtsNamespace } from '../core/namespaces.js';
import type { TaskContext } from '../core/task-context.js';
import type { MountNamespace } from '../fs/mount-namespace.js';
import type { Kernel } from '../kernel.js';
import type { NetNamespace } from '../net/net-namespace.js';
import { Errno } from '../uapi/errno.js';

export function sysSetns(_kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const file = ctx.task.files.get((args[0] ?? 0) | 0);
  if (file === undefined) return -Errno.EBADF;
  const inode = vfsFileOf(file)?.ref.inode;
  const handle = inode instanceof ProcInode ? inode.namespace() : undefined;
  if (handle === undefined) return -Errno.EINVAL;
  const nstype = (args[1] ?? 0) | 0;
  if (nstype !== 0 && nstype !== NS_KINDS[handle.kind]) return -Errno.EINVAL;
  const task = ctx.task;
  if (task.cred.euid !== 0) return -Errno.EPERM;
  const ns: Namespaces = { ...task.ns };
  switch (handle.kind) {
    case 'mnt':
      ns.mnt = handle.ns as MountNamespace;
      task.fs.enter(ns.mnt);
      break;
    case 'uts':
      ns.uts = handle.ns as UtsNamespace;
      break;
    case 'net':
      ns.net = handle.ns as NetNamespace;
      break;
    case 'user':
      ns.user = handle.ns as UserNamespace;
      break;
    case 'pid':
      // As in Linux, the caller's children are born in the new pid namespace; the caller stays.
      task.childPidNs = handle.ns as PidNamespace;
      return 0;
    case 'ipc':
      return 0;
  }
  task.ns = ns;
  return 0;
}
