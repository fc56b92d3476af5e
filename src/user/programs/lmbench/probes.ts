/**
 * The lmbench-style probes: each runs its operation `iterations` times between two
 * clock_gettime(CLOCK_MONOTONIC) readings and returns the elapsed simulated nanoseconds and the
 * number of operations timed.
 */
import { O, PROT, MAP } from '../../../kernel/uapi/flags.js';
import { execvp } from '../../libc/exec.js';
import { open } from '../../libc/files.js';
import { fork } from '../../libc/fork.js';
import { pipe, readFull, writeAll } from '../../libc/io.js';
import { socketPair } from '../../libc/net.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, read, write } from '../../libc/sys-fs.js';
import { getppid, mmap, munmap } from '../../libc/sys-proc.js';
import { clockNs } from '../../libc/time.js';
import { waitpid } from '../../libc/wait.js';

/** A measurement: simulated nanoseconds for `operations` operations, or an error message. */
export type Measurement = { readonly ns: number; readonly operations: number } | string;

/** Options of a probe. */
export interface ProbeOptions {
  readonly iterations: number;
  /** File for the `open` probe. */
  readonly file: string;
  /** Processes in the `ctx` ring. */
  readonly processes: number;
}

/** Time `body` (run `iterations` times) after one untimed warm-up run. */
function* timed(p: Proc, iterations: number, body: () => Call<boolean>): Call<Measurement> {
  if (!(yield* body())) return 'operation failed';
  const start = yield* clockNs(p);
  for (let i = 0; i < iterations; i++) if (!(yield* body())) return 'operation failed';
  const end = yield* clockNs(p);
  return { ns: end - start, operations: iterations };
}

/** getppid(2) in a loop. */
export function* probeNull(p: Proc, options: ProbeOptions): Call<Measurement> {
  return yield* timed(p, options.iterations, function* () {
    return !isError(yield* getppid());
  });
}

function* oneByte(p: Proc, options: ProbeOptions, path: string, writing: boolean): Call<Measurement> {
  const fd = yield* open(p, path, writing ? O.WRONLY : O.RDONLY);
  if (isError(fd)) return `${path}: error ${-fd}`;
  const byte = yield* p.heap.malloc(1);
  const result = yield* timed(p, options.iterations, function* () {
    return (yield* writing ? write(fd, byte, 1) : read(fd, byte, 1)) === 1;
  });
  yield* p.heap.free(byte);
  yield* close(fd);
  return result;
}

/** read(2) of one byte from /dev/zero. */
export function probeRead(p: Proc, options: ProbeOptions): Call<Measurement> {
  return oneByte(p, options, '/dev/zero', false);
}

/** write(2) of one byte to /dev/null. */
export function probeWrite(p: Proc, options: ProbeOptions): Call<Measurement> {
  return oneByte(p, options, '/dev/null', true);
}

/** open(2) + close(2) of a file. */
export function* probeOpen(p: Proc, options: ProbeOptions): Call<Measurement> {
  return yield* timed(p, options.iterations, function* () {
    const fd = yield* open(p, options.file, O.RDONLY);
    if (isError(fd)) return false;
    yield* close(fd);
    return true;
  });
}

/** fork + child exit + wait. */
export function* probeFork(p: Proc, options: ProbeOptions): Call<Measurement> {
  return yield* timed(p, options.iterations, function* () {
    const pid = yield* fork(p, function* child() {
      return 0;
    });
    if (isError(pid)) return false;
    const result = yield* waitpid(p, pid);
    return typeof result !== 'number';
  });
}

/** fork + execve of `true` + wait. */
export function* probeExec(p: Proc, options: ProbeOptions): Call<Measurement> {
  return yield* timed(p, options.iterations, function* () {
    const pid = yield* fork(p, function* child(cp) {
      yield* execvp(cp, 'true', ['true']);
      return 127;
    });
    if (isError(pid)) return false;
    const result = yield* waitpid(p, pid);
    return typeof result !== 'number' && result.exited && result.code === 0;
  });
}

/** Page faults: touch each page of a fresh anonymous mapping once (one store per page). */
export function* probePagefault(p: Proc, options: ProbeOptions): Call<Measurement> {
  const PAGE = 4096;
  const pages = options.iterations;
  const length = pages * PAGE;
  const va = yield* mmap(0, length, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  if (isError(va)) return `mmap: error ${-va}`;
  const start = yield* clockNs(p);
  for (let i = 0; i < pages; i++) p.cpu.store8(va + i * PAGE, 1);
  const end = yield* clockNs(p);
  yield* munmap(va, length);
  return { ns: end - start, operations: pages };
}

/**
 * Round trips of one byte between this process and a child that echoes it back, over two pipes
 * (`unix` = false) or one AF_UNIX socketpair.
 */
function* pingPong(p: Proc, options: ProbeOptions, unix: boolean): Call<Measurement> {
  let toChild: [number, number];
  let toParent: [number, number];
  if (unix) {
    const pair = yield* socketPair(p);
    if (typeof pair === 'number') return `socketpair: error ${-pair}`;
    toChild = [pair[1], pair[0]];
    toParent = [pair[0], pair[1]];
  } else {
    const a = yield* pipe(p);
    const b = yield* pipe(p);
    if (typeof a === 'number' || typeof b === 'number') return 'pipe failed';
    toChild = a;
    toParent = b;
  }
  const rounds = options.iterations + 1;
  const pid = yield* fork(p, function* echo(cp) {
    const byte = yield* cp.heap.malloc(1);
    for (let i = 0; i < rounds; i++) {
      if ((yield* readFull(toChild[0], byte, 1)) !== 1) return 1;
      if ((yield* writeAll(toParent[1], byte, 1)) !== 1) return 1;
    }
    return 0;
  });
  if (isError(pid)) return `fork: error ${-pid}`;
  const byte = yield* p.heap.malloc(1);
  const result = yield* timed(p, options.iterations, function* () {
    if ((yield* writeAll(toChild[1], byte, 1)) !== 1) return false;
    return (yield* readFull(toParent[0], byte, 1)) === 1;
  });
  yield* waitpid(p, pid);
  for (const fd of new Set([...toChild, ...toParent])) yield* close(fd);
  yield* p.heap.free(byte);
  return result;
}

/** Pipe round-trip latency between two processes. */
export function probePipe(p: Proc, options: ProbeOptions): Call<Measurement> {
  return pingPong(p, options, false);
}

/** AF_UNIX stream socket round-trip latency between two processes. */
export function probeUnix(p: Proc, options: ProbeOptions): Call<Measurement> {
  return pingPong(p, options, true);
}

/**
 * Context switch: a token passed around a ring of `processes` processes connected by pipes
 * (lat_ctx with a zero working set); the time per hop, each hop being a switch to the next process.
 */
export function* probeCtx(p: Proc, options: ProbeOptions): Call<Measurement> {
  const n = Math.max(2, options.processes);
  const pipes: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const fds = yield* pipe(p);
    if (typeof fds === 'number') return `pipe: error ${-fds}`;
    pipes.push(fds);
  }
  const laps = options.iterations + 1;
  const pids: number[] = [];
  // Process i (1..n-1) reads from pipe i-1 and writes to pipe i; we are process 0.
  for (let i = 1; i < n; i++) {
    const input = pipes[i - 1]![0];
    const output = pipes[i]![1];
    const pid = yield* fork(p, function* member(cp) {
      const byte = yield* cp.heap.malloc(1);
      for (let lap = 0; lap < laps; lap++) {
        if ((yield* readFull(input, byte, 1)) !== 1) return 1;
        if ((yield* writeAll(output, byte, 1)) !== 1) return 1;
      }
      return 0;
    });
    if (isError(pid)) return `fork: error ${-pid}`;
    pids.push(pid);
  }
  const byte = yield* p.heap.malloc(1);
  const first = pipes[0]![1];
  const last = pipes[n - 1]![0];
  const lap = function* (): Call<boolean> {
    if ((yield* writeAll(first, byte, 1)) !== 1) return false;
    return (yield* readFull(last, byte, 1)) === 1;
  };
  const result = yield* timed(p, options.iterations, lap);
  for (const pid of pids) yield* waitpid(p, pid);
  for (const fds of pipes) {
    yield* close(fds[0]);
    yield* close(fds[1]);
  }
  yield* p.heap.free(byte);
  return typeof result === 'string' ? result : { ns: result.ns, operations: result.operations * n };
}
