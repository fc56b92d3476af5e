/**
 * `canary SECRET [-r ROUNDS] [-t NANOSECONDS] [-d DIR]`: plants SECRET where an attacker would look
 * for a container's data, for the security tests (DESIGN.md §3): in its heap, in a file
 * DIR/canary-<pid> (default DIR /tmp), through a pipe to a forked child (which keeps a copy in its
 * heap; one more copy stays unread in the pipe), and through an AF_UNIX socketpair (the child reads
 * one copy; one stays unread in the socket buffer). Prints "canary: ready pid=P child=C" and then
 * both processes sleep ROUNDS nanosleeps of -t ns (default 1 ms; ROUNDS 0 = until killed).
 */
import { Errno, strerror } from '../../kernel/uapi/errno.js';
import { parseArgs, parseCount } from '../libc/args.js';
import { encodeUtf8 } from '../libc/cstring.js';
import { fail } from '../libc/errors.js';
import { writeFile } from '../libc/files.js';
import { fork } from '../libc/fork.js';
import { pipe, readFull, writeAll } from '../libc/io.js';
import { socketPair } from '../libc/net.js';
import { defineProgram } from '../libc/program.js';
import type { Proc } from '../libc/process.js';
import type { Call } from '../libc/syscall.js';
import { isError } from '../libc/syscall.js';
import { close } from '../libc/sys-fs.js';
import { getpid } from '../libc/sys-proc.js';
import { nanosleep } from '../libc/time.js';
import { waitpid } from '../libc/wait.js';

function* idle(p: Proc, rounds: number, ns: number): Call<void> {
  for (let i = 0; rounds === 0 || i < rounds; i++) yield* nanosleep(p, ns);
}

/** The program `canary`. */
export const canaryMain = defineProgram(function* canary(p) {
  const args = parseArgs(p.argv.slice(1), { values: 'rtd' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const secretText = args.operands[0];
  const rounds = parseCount(args.values.get('r') ?? '0');
  const sleepNs = parseCount(args.values.get('t') ?? '1000000');
  if (secretText === undefined || secretText === '' || rounds === undefined || sleepNs === undefined) {
    return yield* fail(p, 'usage: canary SECRET [-r ROUNDS] [-t NANOSECONDS] [-d DIR]');
  }
  const secret = encodeUtf8(secretText);
  const length = secret.length;

  // 1. Heap.
  const heapCopy = yield* p.heap.malloc(length);
  if (heapCopy === 0) return yield* fail(p, 'out of memory');
  p.cpu.writeBytes(heapCopy, secret);

  // 2. A file.
  const pid = yield* getpid();
  const file = `${args.values.get('d') ?? '/tmp'}/canary-${pid}`;
  const written = yield* writeFile(p, file, secret, 0o600);
  if (written !== length) return yield* fail(p, `${file}: ${strerror(written < 0 ? written : -Errno.EIO)}`);

  // 3 and 4. A pipe and a socketpair to a child.
  const pipeFds = yield* pipe(p);
  const pair = yield* socketPair(p);
  if (typeof pipeFds === 'number') return yield* fail(p, `pipe: ${strerror(pipeFds)}`);
  if (typeof pair === 'number') return yield* fail(p, `socketpair: ${strerror(pair)}`);
  const child = yield* fork(p, function* keeper(cp) {
    yield* close(pipeFds[1]);
    yield* close(pair[0]);
    const fromPipe = yield* cp.heap.malloc(length);
    const fromSocket = yield* cp.heap.malloc(length);
    if ((yield* readFull(pipeFds[0], fromPipe, length)) !== length) return 1;
    if ((yield* readFull(pair[1], fromSocket, length)) !== length) return 1;
    yield* idle(cp, rounds, sleepNs);
    return 0;
  });
  if (isError(child)) return yield* fail(p, `fork: ${strerror(child)}`);
  yield* close(pipeFds[0]);
  yield* close(pair[1]);
  for (let copy = 0; copy < 2; copy++) {
    if ((yield* writeAll(pipeFds[1], heapCopy, length)) !== length)
      return yield* fail(p, 'pipe write failed');
    if ((yield* writeAll(pair[0], heapCopy, length)) !== length) return yield* fail(p, 'socket write failed');
  }
  yield* p.stdout.print(`canary: ready pid=${pid} child=${child}\n`);
  yield* p.stdout.flush();
  yield* idle(p, rounds, sleepNs);
  const result = yield* waitpid(p, child);
  return typeof result !== 'number' && result.exited && result.code === 0 ? 0 : 1;
});
