/**
 * Process identity, credentials, host name and time: getpid and friends (as the caller's pid
 * namespace sees them), the setuid family (ids of the caller's user namespace), uname,
 * sethostname, clock_gettime, nanosleep and sched_yield. Time is the PE's simulated clock.
 */
import { UTSNAME_BYTES, UTSNAME_FIELD, TIMESPEC_BYTES } from '../uapi/structs.js';
import type { TaskContext } from '../core/task-context.js';
import type { Kernel } from '../kernel.js';
import { Errno } from '../uapi/errno.js';
import { CLOCK } from '../uapi/flags.js';

export function sysGetpid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.pidIn(ctx.task.ns.pid);
}

export function sysGetppid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.group.parent?.pidIn(ctx.task.ns.pid) ?? 0;
}

export function sysGettid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.tidIn(ctx.task.ns.pid);
}

export function sysGetuid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.cred.uid;
}
export function sysGeteuid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.cred.euid;
}
export function sysGetgid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.cred.gid;
}
export function sysGetegid(_k: Kernel, ctx: TaskContext): number {
  return ctx.task.cred.egid;
}

/** An id argument: -1 (as u32 0xffffffff) means "unchanged" for the setres* calls. */
function idArg(value: number | undefined): number {
  const v = (value ?? 0) >>> 0;
  return v === 0xffff_ffff ? -1 : v;
}

/** setuid(uid): root sets all three ids; others may set the effective id to the real or saved one. */
export function sysSetuid(_k: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const uid = idArg(args[0]);
  const cred = ctx.task.cred;
  if (uid < 0) return -Errno.EINVAL;
  if (cred.euid === 0) {
    cred.uid = cred.euid = cred.suid = uid;
    return 0;
  }
  if (uid !== cred.uid && uid !== cred.suid) return -Errno.EPERM;
  cred.euid = uid;
  return 0;
}

export function sysSetgid(_k: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const gid = idArg(args[0]);
  const cred = ctx.task.cred;
  if (gid < 0) return -Errno.EINVAL;
  if (cred.euid === 0) {
    cred.gid = cred.egid = cred.sgid = gid;
    return 0;
  }
  if (gid !== cred.gid && gid !== cred.sgid) return -Errno.EPERM;
  cred.egid = gid;
  return 0;
}

/** setresuid(r, e, s): unprivileged callers may only use their current real, effective or saved ids. */
export function sysSetresuid(_k: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const cred = ctx.task.cred;
  const ids = [idArg(args[0]), idArg(args[1]), idArg(args[2])];
  const current = [cred.uid, cred.euid, cred.suid];
  if (cred.euid !== 0 && ids.some((id) => id >= 0 && !current.includes(id))) return -Errno.EPERM;
  if (ids[0]! >= 0) cred.uid = ids[0]!;
  if (ids[1]! >= 0) cred.euid = ids[1]!;
  if (ids[2]! >= 0) cred.suid = ids[2]!;
  return 0;
}

export function sysSetresgid(_k: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const cred = ctx.task.cred;
  const ids = [idArg(args[0]), idArg(args[1]), idArg(args[2])];
  const current = [cred.gid, cred.egid, cred.sgid];
  if (cred.euid !== 0 && ids.some((id) => id >= 0 && !current.includes(id))) return -Errno.EPERM;
  if (ids[0]! >= 0) cred.gid = ids[0]!;
  if (ids[1]! >= 0) cred.egid = ids[1]!;
  if (ids[2]! >= 0) cred.sgid = ids[2]!;
  return 0;
}

/** uname(buf). */
export function sysUname(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const out = new Uint8Array(UTSNAME_BYTES);
  const fields = [
    'Linux',
    ctx.task.ns.uts.hostname,
    `6.1.0-${kernel.design}`,
    '#1 SMP rcontainer model',
    'aarch64',
    ctx.task.ns.uts.domainname,
  ];
  fields.forEach((text, i) =>
    out.set(new TextEncoder().encode(text).subarray(0, UTSNAME_FIELD - 1), i * UTSNAME_FIELD),
  );
  return ctx.copyOut(args[0] ?? 0, out) ? 0 : -Errno.EFAULT;
}

/** sethostname(name, len): root of the UTS namespace only. */
export function sysSethostname(_k: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const length = args[1] ?? 0;
  if (length < 0 || length > 64) return -Errno.EINVAL;
  if (ctx.task.cred.euid !== 0) return -Errno.EPERM;
  const bytes = ctx.copyIn(args[0] ?? 0, length);
  if (bytes === undefined) return -Errno.EFAULT;
  ctx.task.ns.uts.hostname = new TextDecoder().decode(bytes);
  return 0;
}

/** clock_gettime(clock, ts): both clocks count simulated time from boot. */
export function sysClockGettime(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const clock = (args[0] ?? 0) | 0;
  if (clock !== CLOCK.REALTIME && clock !== CLOCK.MONOTONIC && clock !== 4 && clock !== 7)
    return -Errno.EINVAL;
  const ns = kernel.nanoseconds(ctx.pe);
  const ts = new Uint8Array(TIMESPEC_BYTES);
  const view = new DataView(ts.buffer);
  view.setBigUint64(0, BigInt(Math.floor(ns / 1e9)), true);
  view.setBigUint64(8, BigInt(ns % 1e9), true);
  return ctx.copyOut(args[1] ?? 0, ts) ? 0 : -Errno.EFAULT;
}

/** nanosleep(req, rem): parks the task until the simulated deadline (re-executed when woken). */
export function sysNanosleep(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const task = ctx.task;
  if (task.sleepDeadline !== undefined) {
    if (ctx.pe.cycles >= task.sleepDeadline) {
      task.sleepDeadline = undefined;
      return 0;
    }
    return kernel.parkUntil(task, task.sleepDeadline);
  }
  const ts = ctx.copyIn(args[0] ?? 0, TIMESPEC_BYTES);
  if (ts === undefined) return -Errno.EFAULT;
  const view = new DataView(ts.buffer);
  const seconds = Number(view.getBigInt64(0, true));
  const nanos = Number(view.getBigInt64(8, true));
  if (seconds < 0 || nanos < 0 || nanos >= 1e9) return -Errno.EINVAL;
  const deadline = ctx.pe.cycles + kernel.cyclesFor(seconds * 1e9 + nanos);
  if (deadline <= ctx.pe.cycles) return 0;
  task.sleepDeadline = deadline;
  return kernel.parkUntil(task, deadline);
}

/**
 * A nanosleep a signal handler interrupted: -EINTR with the time left in `rem` (args[1], when
 * given), or 0 if the deadline had passed. Linux returns EINTR here whatever SA_RESTART says.
 */
export function nanosleepInterrupted(kernel: Kernel, ctx: TaskContext, args: readonly number[]): number {
  const task = ctx.task;
  const deadline = task.sleepDeadline;
  task.sleepDeadline = undefined;
  if (deadline === undefined || ctx.pe.cycles >= deadline) return 0;
  const rem = args[1] ?? 0;
  if (rem !== 0) {
    const ns = Math.max(0, Math.round((deadline - ctx.pe.cycles) / kernel.cyclesFor(1)));
    const ts = new Uint8Array(TIMESPEC_BYTES);
    const view = new DataView(ts.buffer);
    view.setBigUint64(0, BigInt(Math.floor(ns / 1e9)), true);
    view.setBigUint64(8, BigInt(ns % 1e9), true);
    if (!ctx.copyOut(rem, ts)) return -Errno.EFAULT;
  }
  return -Errno.EINTR;
}

/** sched_yield(): give the PE to another runnable task, if any. */
export function sysSchedYield(kernel: Kernel, ctx: TaskContext): number {
  kernel.requestResched(ctx.pe);
  return 0;
}
