/**
 * Task exit, zombies and wait4: the last thread of a process takes its address space and files
 * down; its parent is told (SIGCHLD, a wake-up of wait4) and reaps the wait status; orphans are
 * adopted by the init of their pid namespace; when a pid namespace's init dies, the kernel kills
 * every other process of that namespace (zap_pid_ns_processes).
 */
import type { ProcessingElement } from '../../hw/pe.js';
import { KernelCost } from '../core/costs.js';
import type { Task, ThreadGroup } from '../core/task.js';
import type { TaskContext } from '../core/task-context.js';
import type { Kernel } from '../kernel.js';
import { Errno } from '../uapi/errno.js';
import { SIG, SIG_IGN, WNOHANG, wExited } from '../uapi/flags.js';

/**
 * The wait status a dying multi-threaded process ends with (Linux's signal->group_exit_code): set by
 * the first thread that takes the whole group down, by exit_group or by a fatal signal, before the
 * SIGKILL that ends the other threads is queued, so that the status is not that SIGKILL.
 */
const groupExitStatus = new WeakMap<ThreadGroup, number>();

/** Install the kernel's exit path. */
export function installExit(kernel: Kernel): void {
  kernel.exitTaskHere = (pe, task, status, running) => exitTask(kernel, pe, task, status, running);
}

/**
 * Tear `task` down: it trapped on `pe` (`running`: its context is still loaded there), or it is
 * not running at all.
 */
function exitTask(
  kernel: Kernel,
  pe: ProcessingElement,
  task: Task,
  status: number | undefined,
  running: boolean,
): void {
  if (task.exited) return;
  task.exited = true;
  pe.compute(KernelCost.exit);
  for (const queue of task.parkedOn) queue.remove(task);
  task.parkedOn.length = 0;
  const group = task.group;
  // The last thread closes the files while still in its own context, so that a socket to another
  // context can seal its end of stream (exit_files); otherwise they close from the OS context.
  if (running && group.threads.size === 1) task.files.closeAll(kernel.contextFor(pe, task));
  if (group.mm.users === 1) group.mm.detachShared(kernel.mmEnv(pe, task.hw));
  kernel.platform.taskExit(pe, task.hw);
  kernel.forgetTask(task);
  group.threads.delete(task);
  group.mm.users--;
  if (group.threads.size > 0) {
    // exit_group (or a fatal signal) takes the other threads too; plain exit only this one.
    if (status === undefined || task.exitGroup) {
      if (!groupExitStatus.has(group)) groupExitStatus.set(group, kernel.deathStatus(group, status));
      group.pendingSignals |= 1 << SIG.KILL;
    }
    for (const other of group.threads) if (other.state === 'sleeping') other.wake();
    return;
  }
  kernel.stats.exits++;
  if (group.mm.users === 0) group.mm.release(kernel.mmEnv(pe, task.hw));
  task.files.closeAll();
  group.exitStatus = groupExitStatus.get(group) ?? kernel.deathStatus(group, status);
  group.pendingSignals = 0;
  reparentChildren(kernel, group);
  // Before the parent bookkeeping: an init the runtime started has no parent, and its namespace
  // must end all the same.
  killNamespaceIfInit(kernel, group);
  const parent = group.parent;
  if (parent === undefined || parent.zombie) {
    kernel.forgetGroup(group);
    return;
  }
  // A parent that ignores SIGCHLD never sees zombies (they are reaped at once).
  if (parent.dispositions[SIG.CHLD] === SIG_IGN) {
    parent.children.delete(group);
    kernel.forgetGroup(group);
  } else if (group.exitSignal !== 0) kernel.signalGroup(parent, group.exitSignal);
  parent.childEvents.wakeAll();
}

/** Children of a dying process go to the init of their pid namespace (or are reaped if none). */
function reparentChildren(kernel: Kernel, group: ThreadGroup): void {
  for (const child of group.children) {
    const reaper = reaperFor(kernel, child, group);
    child.parent = reaper;
    if (reaper === undefined) {
      if (child.zombie) kernel.forgetGroup(child);
      continue;
    }
    reaper.children.add(child);
    if (child.zombie) reaper.childEvents.wakeAll();
  }
  group.children.clear();
}

/** pid 1 of the child's innermost namespace that is alive and not `dying`. */
function reaperFor(kernel: Kernel, child: ThreadGroup, dying: ThreadGroup): ThreadGroup | undefined {
  const namespaces = [...child.pids.keys()].sort((a, b) => b.level - a.level);
  for (const ns of namespaces) {
    for (const candidate of kernel.allGroups()) {
      if (candidate !== dying && !candidate.zombie && candidate.pids.get(ns) === 1) return candidate;
    }
  }
  return undefined;
}

/** When the init of a non-initial pid namespace exits, SIGKILL every process in it. */
function killNamespaceIfInit(kernel: Kernel, group: ThreadGroup): void {
  for (const [ns, pid] of group.pids) {
    if (pid !== 1 || ns.parent === undefined) continue;
    for (const other of kernel.allGroups()) {
      if (other !== group && other.pids.has(ns) && !other.zombie) kernel.signalGroup(other, SIG.KILL);
    }
  }
}

/** exit(status): this thread only. */
export function sysExit(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  return kernel.exitCurrent(ctx.pe, ctx.task, wExited(args[0] ?? 0));
}

/** exit_group(status): the whole process. */
export function sysExitGroup(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  ctx.task.exitGroup = true;
  return kernel.exitCurrent(ctx.pe, ctx.task, wExited(args[0] ?? 0));
}

/** wait4(pid, wstatus, options, rusage). */
export function sysWait4(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const pid = (args[0] ?? 0) | 0;
  const statusVa = args[1] ?? 0;
  const options = (args[2] ?? 0) | 0;
  if ((options & ~(WNOHANG | 0x4000_0000 | 0x8000_0000)) !== 0) return -Errno.EINVAL;
  const self = ctx.task.group;
  const ns = ctx.task.ns.pid;
  // SIMPLIFICATION: process groups are not modelled: pid 0 and pid < -1 wait for any child.
  const candidates = [...self.children].filter((child) => pid <= 0 || child.pidIn(ns) === pid);
  if (candidates.length === 0) return -Errno.ECHILD;
  const zombie = candidates.find((child) => child.zombie);
  if (zombie === undefined) {
    if ((options & WNOHANG) !== 0) return 0;
    return ctx.sleep(self.childEvents);
  }
  if (statusVa !== 0 && !ctx.writeU32(statusVa, zombie.exitStatus!)) return -Errno.EFAULT;
  const reaped = zombie.pidIn(ns);
  self.children.delete(zombie);
  kernel.forgetGroup(zombie);
  return reaped;
}
