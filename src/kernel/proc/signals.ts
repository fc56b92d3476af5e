/**
 * Signals: kill/tgkill and the dispositions of rt_sigaction. Only default actions and SIG_IGN are
 * delivered (terminate, or ignore for SIGCHLD/SIGCONT).
 * SIMPLIFICATION: user signal handlers are refused (EINVAL): the program model has no way to run a
 * handler on a signal frame, so the kernel does not pretend to install one.
 */
import type { TaskContext } from '../core/task-context.js';
import type { ThreadGroup } from '../core/task.js';
import type { Kernel } from '../kernel.js';
import { Errno } from '../uapi/errno.js';
import { NSIG, SIG, SIG_DFL, SIG_IGN } from '../uapi/flags.js';
import { SIGACTION_BYTES } from '../uapi/structs.js';

/** May the caller signal `target` (same real or effective uid, or root)? */
function maySignal(ctx: TaskContext, target: ThreadGroup): boolean {
  const cred = ctx.task.cred;
  if (cred.euid === 0) return true;
  for (const task of target.threads) {
    const other = task.cred;
    if (
      cred.uid === other.uid ||
      cred.euid === other.uid ||
      cred.uid === other.suid ||
      cred.euid === other.suid
    )
      return true;
  }
  return false;
}

/** kill(pid, sig). */
export function sysKill(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const pid = (args[0] ?? 0) | 0;
  const sig = (args[1] ?? 0) | 0;
  if (sig < 0 || sig > NSIG) return -Errno.EINVAL;
  const ns = ctx.task.ns.pid;
  const visible = [...kernel.allGroups()].filter((g) => !g.zombie && g.pidIn(ns) !== 0);
  let targets: ThreadGroup[];
  if (pid > 0) targets = visible.filter((g) => g.pidIn(ns) === pid);
  else if (pid === -1) targets = visible.filter((g) => g !== ctx.task.group && g.pidIn(ns) !== 1);
  // SIMPLIFICATION: no process groups: pid 0 and pid < -1 mean the caller's own process.
  else targets = [ctx.task.group];
  if (targets.length === 0) return -Errno.ESRCH;
  const allowed = targets.filter((g) => maySignal(ctx, g));
  if (allowed.length === 0) return -Errno.EPERM;
  for (const group of allowed) kernel.signalGroup(group, sig);
  return 0;
}

/** tgkill(tgid, tid, sig): delivered to the whole process (no per-thread signals). */
export function sysTgkill(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  return sysKill(kernel, ctx, [args[0] ?? 0, args[2] ?? 0]);
}

/** rt_sigaction(sig, act, oldact, sigsetsize). */
export function sysRtSigaction(_kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const sig = (args[0] ?? 0) | 0;
  const act = args[1] ?? 0;
  const oldact = args[2] ?? 0;
  if ((args[3] ?? 8) !== 8 || sig < 1 || sig > NSIG) return -Errno.EINVAL;
  const group = ctx.task.group;
  if (act !== 0 && (sig === SIG.KILL || sig === SIG.STOP)) return -Errno.EINVAL;
  let handler: number | undefined;
  if (act !== 0) {
    handler = ctx.readU64(act);
    if (handler === undefined) return -Errno.EFAULT;
    if (handler !== SIG_DFL && handler !== SIG_IGN) return -Errno.EINVAL;
  }
  if (oldact !== 0) {
    const old = new Uint8Array(SIGACTION_BYTES);
    new DataView(old.buffer).setBigUint64(0, BigInt(group.dispositions[sig]!), true);
    if (!ctx.copyOut(oldact, old)) return -Errno.EFAULT;
  }
  if (handler !== undefined) {
    group.dispositions[sig] = handler;
    // Setting SIG_IGN discards a pending instance.
    if (handler === SIG_IGN) group.pendingSignals &= ~(1 << sig);
  }
  return 0;
}

/** rt_sigprocmask(how, set, oldset, sigsetsize): the mask is accepted and reported as empty. */
export function sysRtSigprocmask(_kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  if ((args[3] ?? 8) !== 8) return -Errno.EINVAL;
  // SIMPLIFICATION: blocking signals is not modelled (only fatal default actions exist): the old
  // mask reads as empty and a new mask is not applied.
  const oldset = args[2] ?? 0;
  if (oldset !== 0 && !ctx.writeU64(oldset, 0)) return -Errno.EFAULT;
  return 0;
}
