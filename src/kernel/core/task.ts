/**
 * Tasks (threads) and thread groups (processes). The kernel keeps their bookkeeping here; their
 * registers and memory are the platform's (HwTask) and the machine's.
 */
import type { HwTask, UserStart } from '../hooks.js';
import type { Mm } from '../mm/mm.js';
import type { FsState } from '../fs/fs-state.js';
import type { Cred, TaskInfo, VmaInfo } from './ctx.js';
import type { FdTable } from './file.js';
import type { Namespaces, PidNamespace } from './namespaces.js';
import { WaitQueue, type Sleeper } from './wait.js';
import { NSIG, SIG_DFL } from '../uapi/flags.js';

/** Scheduling state of a task. */
export type TaskState = 'running' | 'runnable' | 'sleeping' | 'zombie';

/** A process: threads sharing an address space, signal dispositions and a pid. */
export class ThreadGroup {
  readonly tgid: number;
  /** The group's pid in each pid namespace it is visible in (its own and every ancestor). */
  readonly pids: Map<PidNamespace, number>;
  parent: ThreadGroup | undefined;
  readonly children = new Set<ThreadGroup>();
  readonly threads = new Set<Task>();
  /** Wait status once the last thread exited (a zombie until reaped). */
  exitStatus: number | undefined;
  /** Parents sleep here in wait4. */
  readonly childEvents = new WaitQueue();
  /** sa_handler per signal: SIG_DFL, SIG_IGN or a handler's address. */
  readonly dispositions = new Float64Array(NSIG + 1).fill(SIG_DFL);
  /** sa_flags and sa_restorer per signal (for a handler). */
  readonly sigFlags = new Float64Array(NSIG + 1);
  readonly sigRestorers = new Float64Array(NSIG + 1);
  /** Pending signals for the group (bit per signal, numbers ≤ 31 only). */
  pendingSignals = 0;
  /** Signal the parent gets when the group exits (clone's CSIGNAL, normally SIGCHLD). */
  exitSignal: number;
  readonly cid: number;
  comm: string;
  exePath: string;
  mm: Mm;

  constructor(init: {
    tgid: number;
    pids: Map<PidNamespace, number>;
    parent: ThreadGroup | undefined;
    exitSignal: number;
    cid: number;
    comm: string;
    exePath: string;
    mm: Mm;
  }) {
    this.tgid = init.tgid;
    this.pids = init.pids;
    this.parent = init.parent;
    this.exitSignal = init.exitSignal;
    this.cid = init.cid;
    this.comm = init.comm;
    this.exePath = init.exePath;
    this.mm = init.mm;
  }

  get zombie(): boolean {
    return this.exitStatus !== undefined;
  }

  /** The group's pid as seen from `ns` (0 if not visible there). */
  pidIn(ns: PidNamespace): number {
    return this.pids.get(ns) ?? 0;
  }
}

/** A schedulable thread. */
export class Task implements TaskInfo, Sleeper {
  readonly tid: number;
  readonly group: ThreadGroup;
  hw: HwTask;
  state: TaskState = 'runnable';
  cred: Cred;
  files: FdTable;
  fs: FsState;
  ns: Namespaces;
  /** Thread ids in each pid namespace (the thread-group leader's equal the group's pids). */
  readonly tids: Map<PidNamespace, number>;
  /** pid namespace of the task's future children (unshare(CLONE_NEWPID)), if not its own. */
  childPidNs: PidNamespace | undefined;
  /** Registers for the first entry after exec, when the task has never run this image. */
  start: UserStart | undefined;
  /** The queues the task is parked on. */
  readonly parkedOn: WaitQueue[] = [];
  /** Simulated cycle at which the task became runnable (an idle PE cannot run it earlier). */
  readyAt = 0;
  /** Absolute cycle at which a timed sleep ends (nanosleep), or undefined. */
  wakeAt: number | undefined;
  /** The deadline of a nanosleep in progress (kept across its restarts). */
  sleepDeadline: number | undefined;
  /** Set once the task has exited (its hardware context is gone). */
  exited = false;
  /** The task called exit_group: its whole process goes. */
  exitGroup = false;
  /**
   * While a signal handler runs: the outcome of the call it interrupted, for rt_sigreturn (a
   * result, or undefined to issue the call again). SIMPLIFICATION: Linux keeps the interrupted
   * registers in a frame on the user stack; SP_EL0 is not modelled, so the kernel keeps this, and
   * only x0 and the PC are restored (a program's other state is its coroutine's).
   */
  signalFrame: { readonly result: number | undefined } | undefined;
  /** A signal woke the task from a blocking call (the call then follows SA_RESTART). */
  interruptedBySignal = false;
  /** Called by wake(): the kernel's hook to put the task on a run queue. */
  private readonly onWake: (task: Task) => void;

  constructor(init: {
    tid: number;
    group: ThreadGroup;
    hw: HwTask;
    cred: Cred;
    files: FdTable;
    fs: FsState;
    ns: Namespaces;
    tids: Map<PidNamespace, number>;
    onWake: (task: Task) => void;
  }) {
    this.tid = init.tid;
    this.group = init.group;
    this.hw = init.hw;
    this.cred = init.cred;
    this.files = init.files;
    this.fs = init.fs;
    this.ns = init.ns;
    this.tids = init.tids;
    this.onWake = init.onWake;
  }

  // ---------------------------------------------------------------- TaskInfo

  get tgid(): number {
    return this.group.tgid;
  }
  get cid(): number {
    return this.group.cid;
  }
  get comm(): string {
    return this.group.comm;
  }
  get exePath(): string {
    return this.group.exePath;
  }
  get parentTgid(): number {
    return this.group.parent?.tgid ?? 0;
  }

  vmas(): readonly VmaInfo[] {
    return this.group.mm.vmas.all.map((v) => ({
      start: v.start,
      end: v.end,
      prot: v.prot,
      shared: v.shared,
      name: v.name,
    }));
  }

  pidIn(ns: PidNamespace): number {
    return this.group.pidIn(ns);
  }

  /** Thread id as seen from `ns`. */
  tidIn(ns: PidNamespace): number {
    return this.tids.get(ns) ?? 0;
  }

  // ---------------------------------------------------------------- Sleeper

  wake(): void {
    if (this.state !== 'sleeping') return;
    for (const queue of this.parkedOn) queue.remove(this);
    this.parkedOn.length = 0;
    this.wakeAt = undefined;
    this.state = 'runnable';
    this.onWake(this);
  }
}
