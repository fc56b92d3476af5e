/**
 * fork and threads. A child is described by a generator: clone returns the child's pid in the
 * parent, and the kernel starts the child generator (where clone "returned 0") in the new task.
 *
 * The child's libc state is copied in the parent at the time of the fork, as its memory is, and
 * the child body is instantiated at once (so state a caller clones in `makeChild` is a snapshot).
 */
import { CLONE, MAP, PROT, SIG } from '../../kernel/uapi/flags.js';
import { Sys } from '../../kernel/uapi/syscalls.js';
import { withSignalHandlers, type ProgramRun } from '../program.js';
import { flushStdio, type Proc } from './process.js';
import { Scratch } from './scratch.js';
import { handlerRun } from './signal.js';
import { isError, type Call } from './syscall.js';
import { exitThread, mmap } from './sys-proc.js';

/** What a forked child or a thread runs: gets its libc state, returns its exit code. */
export type ChildBody = (p: Proc) => Call<number>;

/** Flags of a thread (pthread_create's clone flags, less the futex-based ones). */
export const THREAD_CLONE_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD;
/** Scratch area of a thread (also its stack region). */
const THREAD_AREA_BYTES = 64 * 1024;

function* finishChild(p: Proc, body: Call<number>): ProgramRun {
  const code = yield* body;
  yield* flushStdio(p);
  return code & 0xff;
}

/**
 * fork(2) as clone(SIGCHLD): flushes stdio first (so buffered output is not duplicated), then
 * returns the child's pid (or -errno) in the parent; the child runs `makeChild(copy)` and exits
 * with its return value.
 */
export function* fork(p: Proc, makeChild: ChildBody): Call<number> {
  yield* flushStdio(p);
  const copy = p.forkCopy();
  const run = withSignalHandlers(finishChild(copy, makeChild(copy)), (sig) => handlerRun(copy, sig));
  return yield { nr: Sys.clone, args: [SIG.CHLD, 0, 0, 0, 0, 0], child: () => run };
}

function* finishThread(p: Proc, body: Call<number>): ProgramRun {
  const code = yield* body;
  yield* p.stdout.flush();
  return yield* exitThread(code & 0xff);
}

/**
 * Start a thread running `makeThread` (clone with CLONE_VM|FS|FILES|SIGHAND|THREAD). The thread
 * shares the process's heap, environment and streams and gets its own scratch area; when its body
 * returns it calls exit(2) (only the thread ends). There is no futex: join a thread by having it
 * write to a pipe. Returns the thread id or -errno.
 */
export function* spawnThread(p: Proc, makeThread: ChildBody): Call<number> {
  const area = yield* mmap(0, THREAD_AREA_BYTES, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  if (isError(area)) return area;
  const threadProc = p.threadCopy(new Scratch(area, THREAD_AREA_BYTES));
  const run = withSignalHandlers(finishThread(threadProc, makeThread(threadProc)), (sig) =>
    handlerRun(threadProc, sig),
  );
  const stackTop = area + THREAD_AREA_BYTES;
  return yield { nr: Sys.clone, args: [THREAD_CLONE_FLAGS, stackTop, 0, 0, 0, 0], child: () => run };
}
