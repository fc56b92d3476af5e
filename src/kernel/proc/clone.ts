/**
 * clone(2): fork (a new process whose address space is a copy-on-write copy) and threads (a new
 * task in the same process), with the namespace flags a container runtime uses.
 */
import { KernelCost } from '../core/costs.js';
import { FdTable } from '../core/file.js';
import { PidNamespace, UserNamespace, type Namespaces } from '../core/namespaces.js';
import { Task, ThreadGroup } from '../core/task.js';
import type { TaskContext } from '../core/task-context.js';
import { FsState } from '../fs/fs-state.js';
import { pidsFor, type Kernel } from '../kernel.js';
import { Mm } from '../mm/mm.js';
import { Errno } from '../uapi/errno.js';
import { CLONE, CSIGNAL } from '../uapi/flags.js';

/** Flags this kernel implements (others are EINVAL, so nothing is silently ignored). */
const SUPPORTED =
  CLONE.VM |
  CLONE.FS |
  CLONE.FILES |
  CLONE.SIGHAND |
  CLONE.THREAD |
  CLONE.VFORK |
  CLONE.SETTLS |
  CLONE.PARENT_SETTID |
  CLONE.CHILD_SETTID |
  CLONE.CHILD_CLEARTID |
  CLONE.NEWNS |
  CLONE.NEWUTS |
  CLONE.NEWIPC |
  CLONE.NEWUSER |
  CLONE.NEWPID |
  CLONE.NEWNET |
  CSIGNAL;

/** Namespaces for a child: copies of the parent's where `flags` asks for new ones. */
export function namespacesFor(parent: Task, flags: number, fs: FsState): Namespaces {
  const ns = parent.ns;
  const pidBase = parent.childPidNs ?? ns.pid;
  const newFlags = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWNET;
  if ((flags & newFlags) === 0 && pidBase === ns.pid) return ns;
  const out: Namespaces = { ...ns, pid: pidBase };
  if ((flags & CLONE.NEWNS) !== 0) {
    out.mnt = ns.mnt.clone();
    fs.rebase(out.mnt);
  }
  if ((flags & CLONE.NEWUTS) !== 0) out.uts = ns.uts.clone();
  if ((flags & CLONE.NEWNET) !== 0) out.net = ns.net.clone();
  if ((flags & CLONE.NEWPID) !== 0) out.pid = new PidNamespace(pidBase);
  if ((flags & CLONE.NEWUSER) !== 0) {
    // SIMPLIFICATION: the new user namespace maps the creator's uid and gid to 0 (`unshare -r`):
    // /proc/<pid>/uid_map is not writable in this kernel.
    const uid = ns.user.toGlobal(parent.cred.euid, 'uid');
    const gid = ns.user.toGlobal(parent.cred.egid, 'gid');
    out.user = new UserNamespace(
      ns.user,
      [{ inside: 0, outside: uid, count: 1 }],
      [{ inside: 0, outside: gid, count: 1 }],
      uid,
    );
  }
  return out;
}

/** clone(flags, newsp, parent_tid, tls, child_tid). */
export function sysClone(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const flags = (args[0] ?? 0) >>> 0;
  const tls = args[3] ?? 0;
  if ((flags & ~SUPPORTED) !== 0) return -Errno.EINVAL;
  const thread = (flags & CLONE.THREAD) !== 0;
  if (thread && (flags & (CLONE.VM | CLONE.SIGHAND)) !== (CLONE.VM | CLONE.SIGHAND)) return -Errno.EINVAL;
  if ((flags & CLONE.VM) !== 0 && !thread) return -Errno.EINVAL; // SIMPLIFICATION: CLONE_VM only for threads
  if (thread && (flags & (CLONE.NEWPID | CLONE.NEWUSER | CLONE.NEWNS)) !== 0) return -Errno.EINVAL;
  const parent = ctx.task;
  const namespaceFlags =
    CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC;
  if (
    (flags & namespaceFlags & ~CLONE.NEWUSER) !== 0 &&
    parent.cred.euid !== 0 &&
    (flags & CLONE.NEWUSER) === 0
  )
    return -Errno.EPERM;
  const pe = ctx.pe;
  ctx.charge(KernelCost.fork);
  const hw = kernel.platform.taskCreate(
    pe,
    parent.cid,
    parent.hw,
    thread ? 'thread' : 'fork',
    (flags & CLONE.SETTLS) !== 0 ? tls : undefined,
  );
  if (typeof hw === 'number') return hw === -12 ? -Errno.ENOMEM : hw === -1 ? -Errno.EAGAIN : hw;
  const fs = (flags & CLONE.FS) !== 0 ? parent.fs : parent.fs.clone();
  const ns = namespacesFor(parent, flags, fs);
  const files = (flags & CLONE.FILES) !== 0 ? parent.files : parent.files.clone();
  const tid = kernel.allocateTid();
  let group: ThreadGroup;
  const tids = pidsFor(ns.pid, tid);
  if (thread) {
    group = parent.group;
    group.mm.users++;
  } else {
    const mm = new Mm(parent.cid);
    const forked = parent.group.mm.forkInto(kernel.mmEnv(pe, parent.hw), mm);
    if (forked < 0) {
      kernel.platform.taskExit(pe, hw);
      mm.release(kernel.mmEnv(pe, hw));
      return -Errno.ENOMEM;
    }
    group = new ThreadGroup({
      tgid: tid,
      pids: tids,
      parent: parent.group,
      exitSignal: flags & CSIGNAL,
      cid: parent.cid,
      comm: parent.group.comm,
      exePath: parent.group.exePath,
      mm,
    });
    group.dispositions.set(parent.group.dispositions);
    group.sigFlags.set(parent.group.sigFlags);
    group.sigRestorers.set(parent.group.sigRestorers);
    parent.group.children.add(group);
    kernel.stats.forks++;
  }
  const child = new Task({
    tid,
    group,
    hw,
    cred:
      (flags & CLONE.NEWUSER) !== 0
        ? { uid: 0, gid: 0, euid: 0, egid: 0, suid: 0, sgid: 0 }
        : { ...parent.cred },
    files,
    fs,
    ns,
    tids,
    onWake: (t) => kernel.makeRunnable(t, pe.cycles),
  });
  group.threads.add(child);
  kernel.adoptTask(child, pe.cycles);
  const visible = child.tidIn(parent.ns.pid);
  if ((flags & CLONE.PARENT_SETTID) !== 0 && !ctx.writeU32(args[2] ?? 0, visible)) return -Errno.EFAULT;
  return visible;
}

/** unshare(flags): new namespaces for the caller. */
export function sysUnshare(_kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const flags = (args[0] ?? 0) >>> 0;
  const allowed =
    CLONE.NEWNS |
    CLONE.NEWUTS |
    CLONE.NEWUSER |
    CLONE.NEWPID |
    CLONE.NEWNET |
    CLONE.NEWIPC |
    CLONE.FS |
    CLONE.FILES;
  if ((flags & ~allowed) !== 0) return -Errno.EINVAL;
  const task = ctx.task;
  if ((flags & CLONE.NEWUSER) === 0 && (flags & ~(CLONE.FS | CLONE.FILES)) !== 0 && task.cred.euid !== 0)
    return -Errno.EPERM;
  if ((flags & CLONE.FILES) !== 0) task.files = task.files.clone();
  if ((flags & CLONE.FS) !== 0) task.fs = task.fs.clone();
  // A new pid namespace applies to children only (pid_ns_for_children).
  const ns = namespacesFor(task, flags & ~CLONE.NEWPID, task.fs);
  if ((flags & CLONE.NEWPID) !== 0) task.childPidNs = new PidNamespace(task.ns.pid);
  task.ns = ns;
  if ((flags & CLONE.NEWUSER) !== 0) {
    task.cred = { uid: 0, gid: 0, euid: 0, egid: 0, suid: 0, sgid: 0 };
  }
  return 0;
}

/** A fresh descriptor table (for tests and spawn). */
export function emptyFiles(): FdTable {
  return new FdTable();
}
