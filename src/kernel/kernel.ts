/**
 * The deprivileged, untrusted Linux-like kernel (DESIGN.md §2 `src/kernel`). It owns the policy —
 * tasks, scheduling, address spaces, files, IPC — and reaches the machine only through the PE it
 * runs on and the platform hooks of its design (hooks.ts): under `rcontainer` that means the
 * mini-OS's ABI and the gate, never the mini-OS itself.
 *
 * Execution model (DESIGN.md §7): a PE idles in the kernel at KERNEL_IDLE_VA until the scheduler
 * loop (designs/sim.ts) calls {@link Kernel.schedule}, which enters a task at EL0. The task's
 * program runs until it traps: a system call, a fault or a timer IRQ reaches the kernel through the
 * design's entry code and {@link KernelHandlers}; a call that blocks parks the task (the design
 * saves it with the PC rewound to the SVC, so the call is re-executed when it is woken) and the PE
 * goes back to idle.
 */
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import type { Console, KernelServices, SysCtx, TaskInfo } from './core/ctx.js';
import { ConsoleDevice } from './core/console.js';
import { KernelCost, TIME_SLICE_NS } from './core/costs.js';
import { FdTable } from './core/file.js';
import { PidNamespace, UserNamespace, UtsNamespace, type Namespaces } from './core/namespaces.js';
import { emptyKernelStats, type KernelStats } from './core/stats.js';
import type { SyscallFn } from './core/syscall-fn.js';
import { Task, ThreadGroup } from './core/task.js';
import { TaskContext } from './core/task-context.js';
import type { WaitQueue } from './core/wait.js';
import {
  EXEC_DONE,
  FaultOutcome,
  IrqOutcome,
  RESTART_CALL,
  SIGNAL_ENTRY,
  TASK_GONE,
  type HwTask,
  type KernelHandlers,
  type Platform,
  type SignalEntry,
  type UserStart,
} from './hooks.js';
import { FaultResult, Mm, type MmEnv } from './mm/mm.js';
import { MemoryLimits } from './mm/memory-limits.js';
import { nanosleepInterrupted } from './proc/identity.js';
import { PageRefs } from './mm/page-refs.js';
import { RunQueue } from './sched/run-queue.js';
import { ERESTARTSYS, Errno } from './uapi/errno.js';
import { SA, SIG, SIG_DFL, SIG_IGN } from './uapi/flags.js';
import { Sys, SYS_NAMES } from './uapi/syscalls.js';
import type { FsState } from './fs/fs-state.js';
import type { MountNamespace } from './fs/mount-namespace.js';
import { NetNamespace } from './net/net-namespace.js';

/** A system call implemented by the kernel core (it needs more than the SysCtx). */
export type CoreSyscallFn = (kernel: Kernel, ctx: TaskContext, args: readonly number[]) => number;

/** Options of a kernel. */
export interface KernelOptions {
  /** The initial UTS host name. */
  readonly hostname?: string;
  /** Bytes the console returns to readers of /dev/tty, then end of input. */
  readonly consoleInput?: Uint8Array;
  /** Keep a transcript of all console output in `output` (default true; a daemon does not). */
  readonly keepOutput?: boolean;
}

/** What a fault on an EL0 access means for the task. */
const ESR_WNR = 1 << 6;

/** The kernel. */
export class Kernel implements KernelServices, KernelHandlers {
  readonly platform: Platform;
  readonly machine: Machine;
  readonly stats: KernelStats = emptyKernelStats();
  readonly refs = new PageRefs();
  /** Per-container limits of user memory (`--memory`). */
  readonly memory = new MemoryLimits();
  readonly runQueue = new RunQueue();
  /** The console and the per-container logs (core/console.ts). */
  readonly consoleDevice: ConsoleDevice;
  readonly console: Console;
  readonly rootNs: Namespaces;
  private readonly tasksByTid = new Map<number, Task>();
  private readonly groups = new Map<number, ThreadGroup>();
  private readonly current: (Task | undefined)[];
  private readonly contexts: TaskContext[];
  private readonly needResched: boolean[];
  private readonly sliceEnd: number[];
  private readonly syscalls = new Map<number, CoreSyscallFn>();
  private nextTid = 1;
  private readonly execStarts: (UserStart | undefined)[];
  private readonly signalEntries: (SignalEntry | undefined)[];
  /** Cycles per nanosecond of the machine's CPU profile. */
  readonly cyclesPerNs: number;
  /** The mount namespace of the host, set by {@link Kernel.boot}'s file-system setup. */
  private hostMnt: MountNamespace | undefined;

  constructor(platform: Platform, options: KernelOptions = {}) {
    this.platform = platform;
    this.machine = platform.machine;
    const pes = this.machine.pes.length;
    this.current = new Array<Task | undefined>(pes).fill(undefined);
    this.needResched = new Array<boolean>(pes).fill(false);
    this.sliceEnd = new Array<number>(pes).fill(0);
    this.execStarts = new Array<UserStart | undefined>(pes).fill(undefined);
    this.signalEntries = new Array<SignalEntry | undefined>(pes).fill(undefined);
    this.cyclesPerNs = this.machine.profile.hz / 1e9;
    this.consoleDevice = new ConsoleDevice(
      platform,
      options.consoleInput ?? new Uint8Array(0),
      options.keepOutput ?? true,
    );
    this.console = {
      write: (ctx, va, length, tag) => this.consoleDevice.write(ctx, va, length, tag),
      read: (ctx, va, length, tag) => this.consoleDevice.read(ctx, va, length, tag),
      isTerminal: (cid, session) => this.consoleDevice.isTerminal(cid, session),
    };
    const rootPid = new PidNamespace(undefined);
    this.rootNs = {
      // The mount namespace is filled in by boot() once the root file system exists.
      mnt: undefined as unknown as MountNamespace,
      pid: rootPid,
      uts: new UtsNamespace(options.hostname ?? 'rcontainer'),
      user: new UserNamespace(undefined),
      net: new NetNamespace(),
    };
    this.contexts = this.machine.pes.map(
      (pe) =>
        new TaskContext(pe, this, {
          charge: (p, cycles) => p.compute(cycles),
          now: (p) => this.nanoseconds(p),
          park: (task, queue) => this.park(task, queue),
        }),
    );
  }

  // ------------------------------------------------------------------ services (KernelServices)

  get pages(): Platform['pages'] {
    return this.platform.pages;
  }

  get design(): string {
    return this.platform.design;
  }

  sendSignal(tgid: number, sig: number): boolean {
    const group = this.groups.get(tgid);
    if (group === undefined || group.zombie) return false;
    this.signalGroup(group, sig);
    return true;
  }

  tasks(): Iterable<TaskInfo> {
    return this.tasksByTid.values();
  }

  task(tid: number): TaskInfo | undefined {
    return this.tasksByTid.get(tid);
  }

  readTaskMemory(ctx: SysCtx, tid: number, va: number, length: number): Uint8Array | undefined {
    // SIMPLIFICATION: /proc/<pid>/mem reads only the caller's own address space (the kernel would
    // need a temporary mapping of another task's pages, which the model does not provide).
    const task = this.tasksByTid.get(tid);
    if (task === undefined || task.group !== (ctx.task as Task).group) return undefined;
    return ctx.copyIn(va, length);
  }

  // ------------------------------------------------------------------ boot and process creation

  /** Register a system call implemented by the core or a subsystem. */
  registerSyscall(nr: number, fn: CoreSyscallFn): void {
    this.syscalls.set(nr, fn);
  }

  /** Register a table of SysCtx-level handlers. */
  registerSyscalls(table: Readonly<Record<number, SyscallFn>>): void {
    for (const [nr, fn] of Object.entries(table))
      this.syscalls.set(Number(nr), (_k, ctx, args) => fn(ctx, args));
  }

  /** Install the trap handlers on the machine (every PE idles in the kernel afterwards). */
  start(hostMnt: MountNamespace): void {
    this.hostMnt = hostMnt;
    this.rootNs.mnt = hostMnt;
    this.platform.start(this);
  }

  /** The task current on `pe`, if any. */
  currentTask(pe: ProcessingElement): Task | undefined {
    return this.current[pe.id];
  }

  /** The system-call context of `pe` for `task`. */
  contextFor(pe: ProcessingElement, task: Task): TaskContext {
    const ctx = this.contexts[pe.id]!;
    ctx.task = task;
    return ctx;
  }

  /** Allocate a global thread id. */
  allocateTid(): number {
    return this.nextTid++;
  }

  /**
   * A new thread group with one task (no address space yet): the first process of the host or of a
   * container. The caller execs it. Returns the task or -errno.
   */
  createInitialTask(
    pe: ProcessingElement,
    init: {
      cid: number;
      ns: Namespaces;
      fs: FsState;
      parent: ThreadGroup | undefined;
      uid?: number;
      gid?: number;
      /** A task of the running container the new process enters (for the platform's records). */
      sibling?: Task;
    },
  ): Task | number {
    const hw = this.platform.taskCreate(pe, init.cid, init.sibling?.hw, 'init');
    if (typeof hw === 'number') return hw;
    const tid = this.allocateTid();
    const pids = pidsFor(init.ns.pid, tid);
    const group = new ThreadGroup({
      tgid: tid,
      pids,
      parent: init.parent,
      exitSignal: SIG.CHLD,
      cid: init.cid,
      comm: 'init',
      exePath: '',
      mm: new Mm(init.cid),
    });
    const uid = init.uid ?? 0;
    const gid = init.gid ?? 0;
    const task = new Task({
      tid,
      group,
      hw,
      cred: { uid, gid, euid: uid, egid: gid, suid: uid, sgid: gid },
      files: new FdTable(),
      fs: init.fs,
      ns: init.ns,
      tids: new Map(pids),
      onWake: (t) => this.makeRunnable(t, pe.cycles),
    });
    group.threads.add(task);
    init.parent?.children.add(group);
    this.tasksByTid.set(tid, task);
    this.groups.set(tid, group);
    return task;
  }

  /** Register a task created by clone (process.ts). */
  adoptTask(task: Task, cyclesNow: number): void {
    this.tasksByTid.set(task.tid, task);
    if (task.group.tgid === task.tid) this.groups.set(task.tid, task.group);
    this.makeRunnable(task, cyclesNow);
  }

  /** Put a task that has not run yet (or was exec'd from outside) on the run queue. */
  makeRunnable(task: Task, cyclesNow: number): void {
    task.state = 'runnable';
    task.readyAt = cyclesNow;
    this.runQueue.push(task);
  }

  /** The thread group with global id `tgid`. */
  group(tgid: number): ThreadGroup | undefined {
    return this.groups.get(tgid);
  }

  /** Every live thread group. */
  allGroups(): Iterable<ThreadGroup> {
    return this.groups.values();
  }

  /** Forget a reaped group. */
  forgetGroup(group: ThreadGroup): void {
    this.groups.delete(group.tgid);
  }

  /** Forget an exited task. */
  forgetTask(task: Task): void {
    this.tasksByTid.delete(task.tid);
    this.runQueue.remove(task);
  }

  /** The memory environment of `task` on `pe`. */
  mmEnv(pe: ProcessingElement, hw: HwTask): MmEnv {
    return { platform: this.platform, pe, hw, refs: this.refs, memory: this.memory };
  }

  /** Record the registers an exec'd image starts with (the design's entry reads them). */
  setExecStart(pe: ProcessingElement, start: UserStart): void {
    this.execStarts[pe.id] = start;
  }

  // ------------------------------------------------------------------ time

  /** Simulated nanoseconds on `pe`. */
  nanoseconds(pe: ProcessingElement): number {
    return Math.floor(pe.cycles / this.cyclesPerNs);
  }

  /** Cycles for `ns` nanoseconds. */
  cyclesFor(ns: number): number {
    return ns * this.cyclesPerNs;
  }

  // ------------------------------------------------------------------ scheduling

  /**
   * Called by the scheduler loop on an idle PE: enter the next runnable task (control then leaves
   * for EL0). Returns false if nothing is runnable.
   */
  schedule(pe: ProcessingElement): boolean {
    for (;;) {
      const task = this.runQueue.shift();
      if (task === undefined) return false;
      if (task.exited) continue;
      if (task.readyAt > pe.cycles) pe.cycles = task.readyAt;
      // A task with a fatal signal pending never returns to user space.
      if (this.fatalSignalPending(task)) {
        this.exitTaskHere(pe, task, undefined, false);
        continue;
      }
      pe.compute(KernelCost.schedule);
      this.stats.contextSwitches++;
      task.state = 'running';
      this.current[pe.id] = task;
      this.needResched[pe.id] = false;
      this.sliceEnd[pe.id] = pe.cycles + this.cyclesFor(TIME_SLICE_NS);
      this.armTimer(pe);
      const start = task.start;
      task.start = undefined;
      this.platform.enterUser(pe, task.hw, task.tid, start);
      return true;
    }
  }

  /** Earliest cycle at which a timed sleeper wakes, if any. */
  nextTimerCycle(): number | undefined {
    return this.runQueue.nextTimed();
  }

  /** Wake the timed sleepers due at `cycle`. */
  fireTimers(cycle: number): void {
    for (const task of this.runQueue.takeDue(cycle)) {
      task.wakeAt = undefined;
      if (task.state === 'sleeping') {
        task.state = 'runnable';
        for (const queue of task.parkedOn) queue.remove(task);
        task.parkedOn.length = 0;
        this.makeRunnable(task, cycle);
      }
    }
  }

  /** True while some task can still run or wake up. */
  get busy(): boolean {
    return (
      this.runQueue.length > 0 ||
      this.current.some((t) => t !== undefined) ||
      this.nextTimerCycle() !== undefined
    );
  }

  /** Park `task` on `queue` (a blocking call); -ERESTARTSYS. */
  park(task: Task, queue: WaitQueue): number {
    queue.sleep(task);
    task.parkedOn.push(queue);
    task.state = 'sleeping';
    return -ERESTARTSYS;
  }

  /** Park `task` until simulated cycle `wakeAt` (nanosleep). */
  parkUntil(task: Task, wakeAt: number): number {
    task.wakeAt = wakeAt;
    task.state = 'sleeping';
    this.runQueue.addTimed(task);
    return -ERESTARTSYS;
  }

  /** Ask the PE to give up its task at the next return to user space (sched_yield). */
  requestResched(pe: ProcessingElement): void {
    this.needResched[pe.id] = true;
  }

  private armTimer(pe: ProcessingElement): void {
    const timer = this.machine.timers[pe.id];
    if (timer === undefined) return;
    const ticks = Math.ceil(this.sliceEnd[pe.id]! / timer.cyclesPerTick);
    pe.regs.setNumber('CNTP_CVAL_EL0', ticks);
    pe.regs.set('CNTP_CTL_EL0', 1, 0);
    timer.update();
  }

  // ------------------------------------------------------------------ traps (KernelHandlers)

  syscall(pe: ProcessingElement, nr: number, args: readonly number[]): number {
    const task = this.current[pe.id];
    if (task === undefined) return -Errno.ENOSYS;
    this.stats.syscalls++;
    const name = SYS_NAMES[nr] ?? `syscall_${nr}`;
    this.stats.syscallsByName[name] = (this.stats.syscallsByName[name] ?? 0) + 1;
    pe.compute(KernelCost.syscall);
    if (this.fatalSignalPending(task)) return this.exitCurrent(pe, task, undefined);
    // A signal that interrupted this call (or came before it): its handler first.
    if (nr !== Sys.rt_sigreturn && this.enterHandler(pe, task, undefined, { nr, args })) return SIGNAL_ENTRY;
    task.interruptedBySignal = false;
    const fn = this.syscalls.get(nr);
    const ctx = this.contextFor(pe, task);
    const result = fn === undefined ? -Errno.ENOSYS : fn(this, ctx, args);
    if (task.exited) return TASK_GONE;
    if (result === -ERESTARTSYS) {
      this.current[pe.id] = undefined;
      return result;
    }
    if (this.fatalSignalPending(task)) return this.exitCurrent(pe, task, undefined);
    if (result !== EXEC_DONE && result !== RESTART_CALL && this.enterHandler(pe, task, result))
      return SIGNAL_ENTRY;
    return result;
  }

  /** The registers of the image the last execve on `pe` started (consumed). */
  takeExecStart(pe: ProcessingElement): UserStart | undefined {
    const start = this.execStarts[pe.id];
    this.execStarts[pe.id] = undefined;
    return start;
  }

  fault(pe: ProcessingElement, far: number, esr: number, user: boolean): FaultOutcome {
    const task = this.current[pe.id];
    const userAddress = far >= 0 && far < 2 ** 48;
    if (task === undefined || !userAddress) {
      if (!user) return FaultOutcome.Fixup;
      return task === undefined ? FaultOutcome.Fixup : this.killForFault(pe, task);
    }
    this.stats.pageFaults++;
    pe.compute(KernelCost.pageFault);
    const fetch = esr >>> 26 === 0x20 || esr >>> 26 === 0x21;
    const access = fetch ? 'exec' : (esr & ESR_WNR) !== 0 ? 'write' : 'read';
    const mm = task.group.mm;
    const cowBefore = mm.stats.cowCopies;
    const slowBefore = this.platform.slowAllocations();
    const result = mm.fault(this.mmEnv(pe, task.hw), far, access);
    this.stats.cowCopies += mm.stats.cowCopies - cowBefore;
    if (this.platform.slowAllocations() !== slowBefore) this.stats.pageFaultsSlow++;
    else this.stats.pageFaultsFast++;
    if (result === FaultResult.Ok) return FaultOutcome.Retry;
    if (!user) return FaultOutcome.Fixup;
    return this.killForFault(pe, task, result === FaultResult.Oom ? SIG.KILL : SIG.SEGV);
  }

  irq(pe: ProcessingElement): IrqOutcome {
    this.stats.timerTicks++;
    pe.compute(KernelCost.tick);
    const timer = this.machine.timers[pe.id];
    if (timer !== undefined) pe.regs.set('CNTP_CTL_EL0', 0, 0);
    timer?.update();
    if (pe.cycles >= this.sliceEnd[pe.id]! && this.runQueue.length > 0) this.needResched[pe.id] = true;
    else {
      this.sliceEnd[pe.id] = pe.cycles + this.cyclesFor(TIME_SLICE_NS);
      this.armTimer(pe);
    }
    const task = this.current[pe.id];
    if (task === undefined) return IrqOutcome.Resume;
    if (this.fatalSignalPending(task)) {
      this.exitCurrent(pe, task, undefined);
      return IrqOutcome.Gone;
    }
    return this.shouldYield(pe) ? IrqOutcome.Preempt : IrqOutcome.Resume;
  }

  shouldYield(pe: ProcessingElement): boolean {
    const task = this.current[pe.id];
    if (task === undefined) return false;
    // Work of the OS context (the host's side of containers' console output) is runnable too: a
    // PE in a container's context gives way so that it runs, as a kernel worker thread would.
    const hostWork = this.hasHostWork && task.cid !== 0 && this.platform.sealsIpc(task.cid, 0);
    if (!this.needResched[pe.id] && !hostWork) return false;
    this.needResched[pe.id] = false;
    if (this.runQueue.length === 0 && !hostWork) return false;
    this.stats.preemptions++;
    this.current[pe.id] = undefined;
    this.makeRunnable(task, pe.cycles);
    return true;
  }

  // ------------------------------------------------------------------ signals and exit

  /**
   * Send `sig` to `group`: pending until a thread of it returns to EL0, which then dies of it or
   * enters its handler. Sleeping threads are woken (their blocking call is interrupted).
   *
   * `sender` is where a kill(2) comes from (a pid namespace, or `host` for the runtime, which is in
   * every container's ancestor namespace); without it the kernel itself signals (SIGPIPE, SIGCHLD,
   * a fault, the end of a pid namespace) and the signal is forced. A namespace's init gets a sent
   * signal only if it has a handler for it, except SIGKILL and SIGSTOP from an ancestor namespace
   * (pid_namespaces(7)): so `stop` of a container whose init ignores SIGTERM waits its grace period.
   */
  signalGroup(group: ThreadGroup, sig: number, sender?: PidNamespace | 'host'): void {
    if (sig === 0) return;
    const unblockable = sig === SIG.KILL || sig === SIG.STOP;
    const disposition = group.dispositions[sig]!;
    if (sender !== undefined && !hasHandler(disposition)) {
      const own = ownPidNamespace(group);
      if (own !== undefined && group.pidIn(own) === 1 && (sender === own || !unblockable)) return;
    }
    const handled = !unblockable && hasHandler(disposition);
    const ignored = disposition === SIG_IGN && !unblockable;
    // Default actions: SIGCHLD and SIGCONT are ignored, everything else here terminates.
    if (ignored || (!handled && (sig === SIG.CHLD || sig === SIG.CONT))) return;
    group.pendingSignals |= 1 << sig;
    this.stats.signalsDelivered++;
    for (const task of group.threads) {
      if (task.state !== 'sleeping') continue;
      task.interruptedBySignal = true;
      task.wake();
    }
  }

  /** A signal whose action terminates (no handler, or SIGKILL) is pending for the task's group. */
  fatalSignalPending(task: Task): boolean {
    const group = task.group;
    for (let pending = group.pendingSignals, sig = 0; pending !== 0; sig++, pending >>>= 1) {
      if ((pending & 1) === 0) continue;
      if (sig === SIG.KILL || !hasHandler(group.dispositions[sig]!)) return true;
    }
    return false;
  }

  /**
   * On the way back to EL0 from a call whose outcome is `result` (undefined: the call was not run,
   * because a signal interrupted it or came before it): if a signal with a handler is pending and
   * no handler runs yet, take it and set up the handler's entry (takeSignalEntry). The handler's
   * rt_sigreturn then gives the call's outcome: `result`; or, for a call not run, a restart when it
   * was not interrupted in a block or the handler has SA_RESTART, else EINTR (Linux's
   * handle_signal). True when the task enters its handler.
   */
  private enterHandler(
    pe: ProcessingElement,
    task: Task,
    result: number | undefined,
    call?: { readonly nr: number; readonly args: readonly number[] },
  ): boolean {
    if (task.signalFrame !== undefined) return false;
    const group = task.group;
    let sig = 0;
    for (let pending = group.pendingSignals, s = 0; pending !== 0 && sig === 0; s++, pending >>>= 1)
      if ((pending & 1) !== 0 && hasHandler(group.dispositions[s]!)) sig = s;
    if (sig === 0) return false;
    group.pendingSignals &= ~(1 << sig);
    const interrupted = task.interruptedBySignal;
    task.interruptedBySignal = false;
    let outcome = result;
    if (outcome === undefined && interrupted) {
      if (call?.nr === Sys.nanosleep)
        outcome = nanosleepInterrupted(this, this.contextFor(pe, task), call.args);
      else if ((group.sigFlags[sig]! & SA.RESTART) === 0) outcome = -Errno.EINTR;
    }
    task.signalFrame = { result: outcome };
    const restorer = (group.sigFlags[sig]! & SA.RESTORER) !== 0 ? group.sigRestorers[sig]! : 0;
    this.signalEntries[pe.id] = { pc: group.dispositions[sig]!, sig, lr: restorer };
    pe.compute(KernelCost.signalFrame);
    return true;
  }

  /** The handler entry the last SIGNAL_ENTRY on `pe` set up (consumed). */
  takeSignalEntry(pe: ProcessingElement): SignalEntry | undefined {
    const entry = this.signalEntries[pe.id];
    this.signalEntries[pe.id] = undefined;
    return entry;
  }

  /** The lowest pending fatal signal of a group. */
  private pendingFatal(group: ThreadGroup): number {
    for (let sig = 1; sig < 32; sig++) if ((group.pendingSignals & (1 << sig)) !== 0) return sig;
    return 0;
  }

  private killForFault(pe: ProcessingElement, task: Task, sig: number = SIG.SEGV): FaultOutcome {
    task.group.pendingSignals |= 1 << sig;
    this.exitCurrent(pe, task, undefined);
    return FaultOutcome.Gone;
  }

  /**
   * The task current on `pe` ends (exit, exit_group with `status`, or a fatal signal when `status`
   * is undefined). Returns TASK_GONE.
   */
  exitCurrent(pe: ProcessingElement, task: Task, status: number | undefined): number {
    this.current[pe.id] = undefined;
    this.exitTaskHere(pe, task, status, true);
    return TASK_GONE;
  }

  /**
   * Hook for exit.ts: tear a task down (`running`: it trapped on `pe` and its context is loaded
   * there). Set by the exit module to avoid an import cycle.
   */
  exitTaskHere: (pe: ProcessingElement, task: Task, status: number | undefined, running: boolean) => void =
    () => {
      throw new Error('kernel: exit handler not installed');
    };

  /** The wait status a group dies with: its exit code, or the fatal signal pending. */
  deathStatus(group: ThreadGroup, status: number | undefined): number {
    if (status !== undefined) return status;
    return this.pendingFatal(group) & 0x7f;
  }

  // ------------------------------------------------------------------ console

  /** Console output, in order (what the machine's terminal shows). */
  get output(): readonly number[] {
    return this.consoleDevice.output;
  }

  /**
   * Work the kernel does on `pe` idle in the OS context, where the host endpoint speaks: accepting
   * containers' console channels and opening their sealed output. True if there was some.
   */
  runHostWork(pe: ProcessingElement): boolean {
    if (!this.consoleDevice.hasHostWork) return false;
    this.consoleDevice.runHostWork(pe, (kva, n) => pe.readBytes(kva, n));
    return true;
  }

  /** True while the console waits for the OS context (sealed frames, channel consents). */
  get hasHostWork(): boolean {
    return this.consoleDevice.hasHostWork;
  }

  /** The host's mount namespace. */
  get hostMountNamespace(): MountNamespace {
    if (this.hostMnt === undefined) throw new Error('kernel: not started');
    return this.hostMnt;
  }
}

/** pids of a new group/task in `ns` and every ancestor namespace. */
export function pidsFor(ns: PidNamespace, globalId: number): Map<PidNamespace, number> {
  const pids = new Map<PidNamespace, number>();
  for (let at: PidNamespace | undefined = ns; at !== undefined; at = at.parent) {
    pids.set(at, at.parent === undefined ? globalId : at.allocate());
  }
  return pids;
}

/** A disposition that is a handler's address (not SIG_DFL or SIG_IGN). */
function hasHandler(disposition: number): boolean {
  return disposition !== SIG_DFL && disposition !== SIG_IGN;
}

/** The pid namespace `group` lives in: the deepest of those it has a pid in. */
function ownPidNamespace(group: ThreadGroup): PidNamespace | undefined {
  let own: PidNamespace | undefined;
  for (const ns of group.pids.keys()) if (own === undefined || ns.level > own.level) own = ns;
  return own;
}
