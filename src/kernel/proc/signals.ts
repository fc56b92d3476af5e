/**
 * Signals: kill/tgkill, the dispositions of rt_sigaction (default, ignore, or a handler), and
 * rt_sigreturn. A handler is entered on the way back to EL0 from a system call (kernel.ts
 * enterHandler): PC = the handler, x0 = the signal, x30 = sa_restorer; the handler's
 * rt_sigreturn then finishes the interrupted call (its result, EINTR, or a restart with SA_RESTART).
 * SIMPLIFICATION: one handler runs at a time per task (other signals stay pending until its
 * rt_sigreturn), signal masks are not applied, and handlers are entered only at system-call
 * boundaries, as preemption is.
 */
import type { TaskContext } from '../core/task-context.js';
import type { ThreadGroup } from '../core/task.js';
import type { Kernel } from '../kernel.js';
import { Errno } from '../uapi/errno.js';
import { NSIG, SIG, SIG_IGN } from '../uapi/flags.js';
import { SIGACTION_BYTES } from '../uapi/structs.js';
import { RESTART_CALL } from '../hooks.js';

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
  for (const group of allowed) kernel.signalGroup(group, sig, ns);
  return 0;
}

/** tgkill(tgid, tid, sig): delivered to the whole process (no per-thread signals). */
export function sysTgkill(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  return sysKill(kernel, ctx, [args[0] ?? 0, args[2] ?? 0]);
}

/** rt_sigaction(sig, act, oldact, sigsetsize): struct sigaction is handler, flags, restorer, mask. */
export function sysRtSigaction(_kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const sig = (args[0] ?? 0) | 0;
  const act = args[1] ?? 0;
  const oldact = args[2] ?? 0;
  if ((args[3] ?? 8) !== 8 || sig < 1 || sig > NSIG) return -Errno.EINVAL;
  const group = ctx.task.group;
  if (act !== 0 && (sig === SIG.KILL || sig === SIG.STOP)) return -Errno.EINVAL;
  let next: { handler: number; flags: number; restorer: number } | undefined;
  if (act !== 0) {
    const handler = ctx.readU64(act);
    const flags = ctx.readU64(act + 8);
    const restorer = ctx.readU64(act + 16);
    if (handler === undefined || flags === undefined || restorer === undefined) return -Errno.EFAULT;
    next = { handler, flags, restorer };
  }
  if (oldact !== 0) {
    const old = new Uint8Array(SIGACTION_BYTES);
    const view = new DataView(old.buffer);
    view.setBigUint64(0, BigInt(group.dispositions[sig]!), true);
    view.setBigUint64(8, BigInt(group.sigFlags[sig]!), true);
    view.setBigUint64(16, BigInt(group.sigRestorers[sig]!), true);
    if (!ctx.copyOut(oldact, old)) return -Errno.EFAULT;
  }
  if (next !== undefined) {
    group.dispositions[sig] = next.handler;
    group.sigFlags[sig] = next.flags;
    group.sigRestorers[sig] = next.restorer;
    // Setting SIG_IGN discards a pending instance.
    if (next.handler === SIG_IGN) group.pendingSignals &= ~(1 << sig);
  }
  return 0;
}

/**
 * rt_sigreturn(): the end of a signal handler. The interrupted call's outcome comes back (its
 * result or EINTR in x0, or RESTART_CALL to issue it again). Without a handler running, the frame
 * is bad: SIGSEGV, as Linux forces it.
 */
export function sysRtSigreturn(_kernel: Kernel, ctx: TaskContext): number {
  const task = ctx.task;
  const frame = task.signalFrame;
  if (frame === undefined) {
    task.group.pendingSignals |= 1 << SIG.SEGV;
    return -Errno.EFAULT;
  }
  task.signalFrame = undefined;
  return frame.result ?? RESTART_CALL;
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
