/**
 * The libc state of a process: its CPU, heap, scratch area, environment, stdio streams and
 * arguments. `startProcess` is crt0: it reads argv and envp from user memory and maps the scratch
 * area and the stdio buffers. A fork copies this state (the child's memory is a copy of the
 * parent's, so the copied VAs stay valid); threads share the heap, environment and streams and get
 * their own scratch area.
 */
import { MAP, PROT } from '../../kernel/uapi/flags.js';
import type { UserCpu } from '../program.js';
import { readStringArray } from './cstring.js';
import { Env } from './env.js';
import { Heap } from './malloc.js';
import { basename } from './path.js';
import { Scratch } from './scratch.js';
import { OutStream } from './stdio.js';
import { isError, type Call } from './syscall.js';
import { mmap } from './sys-proc.js';

/** Sizes of the per-process areas mapped at start. */
export const SCRATCH_BYTES = 64 * 1024;
export const STDOUT_BUFFER_BYTES = 4096;
export const STDERR_BUFFER_BYTES = 1024;
const START_AREA_BYTES = SCRATCH_BYTES + STDOUT_BUFFER_BYTES + STDERR_BUFFER_BYTES;

/** Exit code of a process whose start-up failed (no memory for the libc areas). */
export const START_FAILED = 127;

/** The parts of a {@link Proc}. */
export interface ProcParts {
  readonly cpu: UserCpu;
  readonly heap: Heap;
  readonly scratch: Scratch;
  readonly env: Env;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly argv: readonly string[];
  /** Signal handlers by signal (shared by threads, copied by fork; a new image has none). */
  readonly handlers?: Map<number, SignalHandler>;
}

/** A signal handler: runs on the interrupted thread (its libc state), then returns. */
export type SignalHandler = (p: Proc, sig: number) => Call<void>;

/** The libc state of one process (or thread). */
export class Proc {
  readonly cpu: UserCpu;
  readonly heap: Heap;
  readonly scratch: Scratch;
  readonly env: Env;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly argv: readonly string[];
  /** The program's signal handlers (libc/signal.ts sigaction). */
  readonly handlers: Map<number, SignalHandler>;

  constructor(parts: ProcParts) {
    this.cpu = parts.cpu;
    this.heap = parts.heap;
    this.scratch = parts.scratch;
    this.env = parts.env;
    this.stdout = parts.stdout;
    this.stderr = parts.stderr;
    this.argv = parts.argv;
    this.handlers = parts.handlers ?? new Map();
  }

  /** The program name for messages (basename of argv[0]). */
  get name(): string {
    return basename(this.argv[0] ?? '') || 'program';
  }

  /** The state of a forked child: an independent copy. */
  forkCopy(): Proc {
    return new Proc({
      cpu: this.cpu,
      heap: this.heap.clone(),
      scratch: this.scratch.clone(),
      env: this.env.clone(),
      stdout: this.stdout.clone(),
      stderr: this.stderr.clone(),
      argv: this.argv,
      handlers: new Map(this.handlers),
    });
  }

  /** The state of a new thread: shared heap, environment and streams, its own scratch area. */
  threadCopy(scratch: Scratch): Proc {
    return new Proc({ ...this.partsForThread(), scratch });
  }

  private partsForThread(): Omit<ProcParts, 'scratch'> {
    return {
      cpu: this.cpu,
      heap: this.heap,
      env: this.env,
      stdout: this.stdout,
      stderr: this.stderr,
      argv: this.argv,
      handlers: this.handlers,
    };
  }
}

/**
 * crt0: build the libc state from the initial registers (x0 = argc, x1 = argv, x2 = envp).
 * Returns the state, or an exit code when the start-up areas cannot be mapped.
 */
export function* startProcess(
  cpu: UserCpu,
  argc: number,
  argvVa: number,
  envpVa: number,
): Call<Proc | number> {
  const argv = readStringArray(cpu, argvVa).slice(0, Math.max(0, argc));
  const env = Env.fromStrings(readStringArray(cpu, envpVa));
  const area = yield* mmap(0, START_AREA_BYTES, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  if (isError(area)) return START_FAILED;
  const heap = yield* Heap.create(cpu);
  const stdoutBase = area + SCRATCH_BYTES;
  const stderrBase = stdoutBase + STDOUT_BUFFER_BYTES;
  return new Proc({
    cpu,
    heap,
    scratch: new Scratch(area, SCRATCH_BYTES),
    env,
    stdout: new OutStream(cpu, 1, stdoutBase, STDOUT_BUFFER_BYTES, false),
    stderr: new OutStream(cpu, 2, stderrBase, STDERR_BUFFER_BYTES, true),
    argv,
  });
}

/** Flush stdout and stderr (before exit, fork and exec). */
export function* flushStdio(p: Proc): Call<void> {
  yield* p.stdout.flush();
  yield* p.stderr.flush();
}
