/**
 * The EL0 side of the CPU (DESIGN.md §7): runs the program coroutines of the threads the kernel
 * puts on the PEs. Which thread a PE runs is read from the machine, never asked of the kernel:
 * TPIDRRO_EL0 holds the thread id the kernel loaded, TPIDR_EL0 the TLS value a new thread was
 * cloned with, and a PC at the image's first byte marks a freshly exec'd image, whose program the
 * runner "decodes" from the executable's header in user memory.
 *
 * System calls are issued from a fixed stub address: `SVC #0` at SYSCALL_STUB_VA, so a call that
 * completed resumes at SYSCALL_STUB_VA + 4 with its result in x0, and a call the kernel restarts
 * (its PC rewound) resumes at SYSCALL_STUB_VA and is issued again.
 *
 * Any other PC is a signal handler the kernel entered (x0 = the signal): the thread's coroutine is
 * set aside with its pending call, and the handler's coroutine (program.ts signalHandlerRun) runs
 * until its rt_sigreturn; when that call comes back (at the stub: the interrupted call restarts,
 * or at stub + 4 with the interrupted call's result), the interrupted coroutine continues.
 */
import type { Machine } from '../hw/machine.js';
import type { ProcessingElement } from '../hw/pe.js';
import { ARG_BLOCK_VA } from '../kernel/hooks.js';
import { TEXT_BASE } from '../kernel/mm/layout.js';
import { CLONE, SIG } from '../kernel/uapi/flags.js';
import { Sys } from '../kernel/uapi/syscalls.js';
import {
  MAX_PROGRAM_NAME,
  parseExecutable,
  signalHandlerRun,
  type ProgramRegistry,
  type ProgramRun,
  type SyscallRequest,
  type UserCpu,
} from '../user/program.js';

/** Address of the system-call stub of every image (inside its first page, after the header). */
export const SYSCALL_STUB_VA = TEXT_BASE + 0x80;

/** Thrown through a program when its thread no longer runs (killed by a fault). */
class ThreadGone extends Error {
  constructor() {
    super('thread gone');
  }
}

/**
 * The CPU view programs use: the PE the running thread is on, at EL0. One object serves every
 * thread (a forked child's program keeps the object its parent was given), so the runner points it
 * at the thread it resumes.
 */
class ThreadCpu implements UserCpu {
  pe: ProcessingElement;
  tid = 0;

  constructor(pe: ProcessingElement) {
    this.pe = pe;
  }

  /** After a failed access: the kernel killed the thread (SIGSEGV), or moved the PE on. */
  private gone(): never {
    throw new ThreadGone();
  }

  private check(): void {
    if (this.pe.lastFault !== 0 || this.pe.el !== 0 || this.pe.regs.number('TPIDRRO_EL0') !== this.tid)
      this.gone();
  }

  load8(va: number): number {
    const v = this.pe.load8(va);
    this.check();
    return v;
  }
  load32(va: number): number {
    const v = this.pe.load32(va);
    if (this.pe.lastFault !== 0) this.check();
    return v;
  }
  load64(va: number): number {
    const v = this.pe.load64(va);
    if (this.pe.lastFault !== 0) this.check();
    return v;
  }
  store8(va: number, value: number): void {
    if (!this.pe.store8(va, value)) this.gone();
  }
  store32(va: number, value: number): void {
    if (!this.pe.store32(va, value)) this.gone();
  }
  store64(va: number, value: number): void {
    const v = value < 0 ? value + 2 ** 64 : value;
    const high = Math.floor(v / 2 ** 32);
    if (!this.pe.store64(va, (v - high * 2 ** 32) >>> 0, high >>> 0)) this.gone();
  }
  readBytes(va: number, length: number): Uint8Array {
    const out = this.pe.readBytes(va, length);
    if (out === undefined) this.gone();
    return out;
  }
  writeBytes(va: number, data: Uint8Array): void {
    if (!this.pe.writeBytes(va, data)) this.gone();
  }
  fillBytes(va: number, length: number, value: number): void {
    if (!this.pe.fillBytes(va, length, value)) this.gone();
  }
  compute(cycles: number): void {
    this.pe.compute(cycles);
  }
}

/** A thread's program as the runner drives it. */
interface Thread {
  run: ProgramRun;
  /** The request issued (or to issue) at the stub; its result is x0 at stub + 4. */
  pending: SyscallRequest | undefined;
  started: boolean;
  /** Coroutines a signal handler interrupted (innermost last), with their pending calls. */
  readonly interrupted: { run: ProgramRun; pending: SyscallRequest | undefined; started: boolean }[];
  /** A handler's rt_sigreturn is in flight: its return resumes the interrupted coroutine. */
  returning: boolean;
}

/** Counters of the runner. */
export interface RunnerStats {
  steps: number;
  programsStarted: number;
  /** Images whose header named no program the runner knows (they get exit code 126). */
  unknownImages: number;
}

/** Runs EL0 programs on the machine's PEs. */
export class UserRunner {
  readonly stats: RunnerStats = { steps: 0, programsStarted: 0, unknownImages: 0 };
  private readonly threads = new Map<number, Thread>();
  private readonly forks = new Map<number, () => ProgramRun>();
  private nextToken = 1;
  private readonly machine: Machine;
  private readonly registry: ProgramRegistry;
  private readonly cpu: ThreadCpu;

  constructor(machine: Machine, registry: ProgramRegistry) {
    this.machine = machine;
    this.registry = registry;
    this.cpu = new ThreadCpu(machine.pes[0]!);
  }

  /**
   * Run the thread on `pe` (at EL0) until it issues its next system call (or takes an IRQ, or
   * dies). Control is back in the kernel, or at EL0 in some thread, when this returns.
   */
  step(pe: ProcessingElement): void {
    this.stats.steps++;
    const tid = pe.regs.number('TPIDRRO_EL0');
    let thread = this.threads.get(tid);
    if (pe.pc === TEXT_BASE || thread === undefined) {
      thread = this.startThread(pe, tid);
      if (thread === undefined) return;
    }
    this.cpu.pe = pe;
    this.cpu.tid = tid;
    try {
      const atStub = pe.pc === SYSCALL_STUB_VA || pe.pc === SYSCALL_STUB_VA + 4;
      // A handler's rt_sigreturn came back (to the call, or straight into the next handler).
      if (thread.returning) this.resumeInterrupted(thread);
      if (!atStub && !this.enterHandler(pe, thread)) return;
      if (pe.pc === SYSCALL_STUB_VA && thread.pending !== undefined) return this.issue(pe, thread.pending);
      let next: IteratorResult<SyscallRequest, number>;
      if (!thread.started) {
        thread.started = true;
        next = thread.run.next(0);
      } else if (pe.pc === SYSCALL_STUB_VA + 4 && thread.pending !== undefined) {
        thread.pending = undefined;
        next = thread.run.next(pe.x[0]!);
      } else if (thread.pending === undefined) next = thread.run.next(0);
      else throw new Error(`runner: thread ${tid} resumed at 0x${pe.pc.toString(16)} with a call pending`);
      const request = next.done === true ? { nr: Sys.exit_group, args: [next.value & 0xff] } : next.value;
      thread.pending = this.prepare(request);
      if (request.nr === Sys.rt_sigreturn && thread.interrupted.length > 0) thread.returning = true;
      pe.branch(SYSCALL_STUB_VA);
      // An instruction boundary: a pending timer interrupt is taken before the SVC.
      this.machine.timers[pe.id]?.update();
      if (pe.pollInterrupts()) return;
      this.issue(pe, thread.pending);
    } catch (error) {
      if (!(error instanceof ThreadGone)) throw error;
      this.threads.delete(tid);
    }
  }

  /** Forget threads that no longer exist (the kernel killed them while they were not running). */
  prune(alive: (tid: number) => boolean): void {
    for (const tid of [...this.threads.keys()]) if (!alive(tid)) this.threads.delete(tid);
  }

  /** Threads with a program. */
  get threadCount(): number {
    return this.threads.size;
  }

  /**
   * The kernel sent the thread to a signal handler (PC elsewhere than the stub, x0 = the signal):
   * set its coroutine aside and run the handler's. False when its program has no handler for the
   * signal: the thread ends as an undefined instruction would end it (SIGILL's exit code).
   */
  private enterHandler(pe: ProcessingElement, thread: Thread): boolean {
    const sig = pe.x[0]!;
    const handler = signalHandlerRun(thread.run, sig);
    if (handler === undefined) {
      this.issue(pe, { nr: Sys.exit_group, args: [128 + SIG.ILL] });
      return false;
    }
    thread.interrupted.push({ run: thread.run, pending: thread.pending, started: thread.started });
    thread.run = handler;
    thread.pending = undefined;
    thread.started = false;
    return true;
  }

  /** The handler's rt_sigreturn came back: the interrupted coroutine goes on with its call. */
  private resumeInterrupted(thread: Thread): void {
    const frame = thread.interrupted.pop()!;
    thread.run = frame.run;
    thread.pending = frame.pending;
    thread.started = frame.started;
    thread.returning = false;
  }

  /** A clone with a child program: pass a token as the child's TLS so that it can be found. */
  private prepare(request: SyscallRequest): SyscallRequest {
    if (request.nr !== Sys.clone || request.child === undefined) return request;
    const token = this.nextToken++;
    this.forks.set(token, request.child);
    const args = [...request.args];
    while (args.length < 6) args.push(0);
    args[0] = (args[0]! | CLONE.SETTLS) >>> 0;
    args[3] = token;
    return { nr: request.nr, args };
  }

  private issue(pe: ProcessingElement, request: SyscallRequest): void {
    pe.x[8] = request.nr;
    for (let i = 0; i < 6; i++) pe.x[i] = request.args[i] ?? 0;
    pe.branch(SYSCALL_STUB_VA);
    pe.svc(0);
  }

  /** A thread seen for the first time, or a new image: find its program. */
  private startThread(pe: ProcessingElement, tid: number): Thread | undefined {
    const cpu = this.cpu;
    cpu.pe = pe;
    cpu.tid = tid;
    let run: ProgramRun;
    if (pe.pc === TEXT_BASE) {
      const header = pe.readBytes(TEXT_BASE, 6 + MAX_PROGRAM_NAME + 1);
      const name = header === undefined ? undefined : parseExecutable(header);
      const main = name === undefined ? undefined : this.registry.get(name);
      if (main === undefined) {
        // The CPU cannot decode this image: the thread exits as an undefined instruction would kill it.
        this.stats.unknownImages++;
        this.threads.delete(tid);
        this.issue(pe, { nr: Sys.exit_group, args: [126] });
        return undefined;
      }
      const argc = pe.load64(ARG_BLOCK_VA);
      const argv = pe.load64(ARG_BLOCK_VA + 8);
      const envp = pe.load64(ARG_BLOCK_VA + 16);
      run = main(cpu, argc, argv, envp);
      this.stats.programsStarted++;
    } else {
      const token = pe.regs.number('TPIDR_EL0');
      const child = this.forks.get(token);
      if (child === undefined) throw new Error(`runner: thread ${tid} has no program (TLS ${token})`);
      this.forks.delete(token);
      run = child();
    }
    const thread: Thread = { run, pending: undefined, started: false, interrupted: [], returning: false };
    this.threads.set(tid, thread);
    pe.branch(SYSCALL_STUB_VA + 4);
    return thread;
  }
}
