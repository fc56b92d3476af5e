/**
 * `hackbench [-g GROUPS] [-f FDS] [-l LOOPS] [-s DATASIZE] [-p] [-T|-P]` (rt-tests parameters and
 * output). GROUPS groups of FDS senders and FDS receivers; every sender writes LOOPS messages of
 * DATASIZE bytes to each receiver of its group, over AF_UNIX socketpairs (or pipes with -p); tasks
 * are processes (default, -P) or threads (-T). All tasks report ready on a pipe and wait for the
 * parent to close a "wakeup" pipe; the time from the wakeup to the last task's end is printed as
 * "Time: X.XXX" (seconds of simulated CLOCK_MONOTONIC time).
 */
import { Errno, strerror } from '../../kernel/uapi/errno.js';
import { parseArgs, parseCount } from '../libc/args.js';
import { fail } from '../libc/errors.js';
import { fork, spawnThread } from '../libc/fork.js';
import { format } from '../libc/format.js';
import { pipe, readFull, writeAll } from '../libc/io.js';
import { socketPair } from '../libc/net.js';
import { defineProgram } from '../libc/program.js';
import type { Proc } from '../libc/process.js';
import { isError, type Call } from '../libc/syscall.js';
import { close, read } from '../libc/sys-fs.js';
import { clockNs, NS_PER_SECOND } from '../libc/time.js';
import { waitpid } from '../libc/wait.js';

/** hackbench's parameters. */
export interface HackbenchParams {
  readonly groups: number;
  readonly fds: number;
  readonly loops: number;
  readonly datasize: number;
  readonly pipes: boolean;
  readonly threads: boolean;
}

/** The rt-tests defaults. */
export const HACKBENCH_DEFAULTS: HackbenchParams = {
  groups: 10,
  fds: 20,
  loops: 100,
  datasize: 100,
  pipes: false,
  threads: false,
};

/** Parse hackbench's options; the parameters or a usage error. */
export function parseHackbenchArgs(argv: readonly string[]): HackbenchParams | string {
  const args = parseArgs(argv, {
    flags: 'pTP',
    values: 'gfls',
    long: { groups: 'g', fds: 'f', loops: 'l', datasize: 's', pipe: 'p', threads: 'T', process: 'P' },
  });
  if (args.error !== undefined) return args.error;
  const number = (letter: string, fallback: number): number | undefined => {
    const text = args.values.get(letter);
    return text === undefined ? fallback : parseCount(text);
  };
  const groups = number('g', HACKBENCH_DEFAULTS.groups);
  const fds = number('f', HACKBENCH_DEFAULTS.fds);
  const loops = number('l', HACKBENCH_DEFAULTS.loops);
  const datasize = number('s', HACKBENCH_DEFAULTS.datasize);
  if (groups === undefined || groups === 0) return 'invalid number of groups';
  if (fds === undefined || fds === 0) return 'invalid number of file descriptors';
  if (loops === undefined) return 'invalid number of loops';
  if (datasize === undefined || datasize === 0) return 'invalid data size';
  const threads = args.flags.has('T') && !args.flags.has('P');
  return { groups, fds, loops, datasize, pipes: args.flags.has('p'), threads };
}

/** The start-up synchronisation: tasks write to `ready` then block reading `wakeup` until EOF. */
interface Sync {
  readonly ready: readonly [number, number];
  readonly wakeup: readonly [number, number];
}

function* ready(p: Proc, sync: Sync, threads: boolean): Call<void> {
  const mark = p.scratch.mark();
  const byte = p.scratch.alloc(1);
  p.cpu.store8(byte, 0x52);
  // A process drops its copy of the wakeup write end so that the parent's close is the last one.
  if (!threads) yield* close(sync.wakeup[1]);
  yield* writeAll(sync.ready[1], byte, 1);
  yield* read(sync.wakeup[0], byte, 1);
  p.scratch.release(mark);
}

function* sender(p: Proc, params: HackbenchParams, outs: readonly number[], sync: Sync): Call<number> {
  yield* ready(p, sync, params.threads);
  const data = yield* p.heap.malloc(params.datasize);
  p.cpu.fillBytes(data, params.datasize, 0x61);
  for (let i = 0; i < params.loops; i++) {
    for (const fd of outs) {
      const n = yield* writeAll(fd, data, params.datasize);
      if (n !== params.datasize) {
        yield* p.stderr.print(`SENDER: write: ${strerror(isError(n) ? n : -Errno.EIO)}\n`);
        return 1;
      }
    }
  }
  yield* p.heap.free(data);
  return 0;
}

function* receiver(p: Proc, params: HackbenchParams, input: number, sync: Sync): Call<number> {
  yield* ready(p, sync, params.threads);
  const total = params.loops * params.fds * params.datasize;
  const data = yield* p.heap.malloc(params.datasize);
  for (let done = 0; done < total;) {
    const n = yield* read(input, data, Math.min(params.datasize, total - done));
    if (isError(n) || n === 0) {
      yield* p.stderr.print(`SERVER: read: ${isError(n) ? strerror(n) : 'unexpected end of data'}\n`);
      return 1;
    }
    done += n;
  }
  yield* p.heap.free(data);
  return 0;
}

/** Start a task: a forked process or a thread that writes a byte to `done` when it ends. */
function* startTask(
  p: Proc,
  params: HackbenchParams,
  done: number,
  body: (tp: Proc) => Call<number>,
): Call<number> {
  if (!params.threads) return yield* fork(p, body);
  return yield* spawnThread(p, function* thread(tp) {
    const code = yield* body(tp);
    const byte = tp.scratch.alloc(1);
    tp.cpu.store8(byte, code);
    yield* writeAll(done, byte, 1);
    return code;
  });
}

/** The program `hackbench`. */
export const hackbenchMain = defineProgram(function* hackbench(p) {
  const params = parseHackbenchArgs(p.argv.slice(1));
  if (typeof params === 'string') return yield* fail(p, params);
  const tasks = params.groups * params.fds * 2;
  yield* p.stdout.print(
    format(
      'Running in %s mode with %d groups using %d file descriptors each (== %d tasks)\n',
      params.threads ? 'threaded' : 'process',
      params.groups,
      params.fds * 2,
      tasks,
    ),
  );
  yield* p.stdout.print(
    format('Each sender will pass %d messages of %d bytes\n', params.loops, params.datasize),
  );
  const readyPipe = yield* pipe(p);
  const wakeupPipe = yield* pipe(p);
  const donePipe = yield* pipe(p);
  if (typeof readyPipe === 'number' || typeof wakeupPipe === 'number' || typeof donePipe === 'number') {
    return yield* fail(p, 'pipe failed');
  }
  const sync: Sync = { ready: readyPipe, wakeup: wakeupPipe };
  const pids: number[] = [];
  for (let g = 0; g < params.groups; g++) {
    const outs: number[] = [];
    for (let r = 0; r < params.fds; r++) {
      const pair = params.pipes ? yield* pipe(p) : yield* socketPair(p);
      if (typeof pair === 'number')
        return yield* fail(p, `${params.pipes ? 'pipe' : 'socketpair'}: ${strerror(pair)}`);
      const [input, output] = params.pipes ? pair : [pair[0], pair[1]];
      const pid = yield* startTask(p, params, donePipe[1], (tp) => receiver(tp, params, input, sync));
      if (isError(pid)) return yield* fail(p, `fork: ${strerror(pid)}`);
      pids.push(pid);
      outs.push(output);
      // The receiver has its end (a copy, or the shared table for threads).
      if (!params.threads) yield* close(input);
    }
    for (let s = 0; s < params.fds; s++) {
      const pid = yield* startTask(p, params, donePipe[1], (tp) => sender(tp, params, outs, sync));
      if (isError(pid)) return yield* fail(p, `fork: ${strerror(pid)}`);
      pids.push(pid);
    }
    if (!params.threads) for (const fd of outs) yield* close(fd);
  }
  const buffer = yield* p.heap.malloc(Math.max(tasks, 1));
  const readyCount = yield* readFull(sync.ready[0], buffer, tasks);
  if (readyCount !== tasks) return yield* fail(p, `only ${readyCount} of ${tasks} tasks ready`);
  const start = yield* clockNs(p);
  yield* close(sync.wakeup[1]);
  let status = 0;
  if (params.threads) {
    const ended = yield* readFull(donePipe[0], buffer, tasks);
    const codes = ended === tasks ? p.cpu.readBytes(buffer, tasks) : new Uint8Array([1]);
    if (codes.some((code) => code !== 0)) status = 1;
  } else {
    for (const pid of pids) {
      const result = yield* waitpid(p, pid);
      if (typeof result === 'number' || !result.exited || result.code !== 0) status = 1;
    }
  }
  const end = yield* clockNs(p);
  yield* p.stdout.print(format('Time: %.3f\n', (end - start) / NS_PER_SECOND));
  return status;
});
