/**
 * `kv-server [-p PORT] [-n CONNECTIONS] [-b BUCKETS]`: a Redis-like key-value server over TCP
 * (RESP: PING, ECHO, SET, GET, DEL, EXISTS, INCR, DECR, DBSIZE, QUIT, SHUTDOWN). SIGTERM or SIGINT
 * ends it cleanly (exit 0) once the client it serves is done.
 *
 * Design choice: clients are served **sequentially**, one connection at a time, in the server
 * process, so every client sees the same data (a fork per client would give each a copy-on-write
 * snapshot, and the ABI has no poll/select to multiplex). Other clients wait in the listen backlog.
 * Keys and values live in user memory (store.ts); replies are assembled in a heap buffer and sent
 * when the input is drained (pipelined commands get one write).
 */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { SIG } from '../../../kernel/uapi/flags.js';
import { parseArgs, parseCount } from '../../libc/args.js';
import { decodeUtf8 } from '../../libc/cstring.js';
import { Cost } from '../../libc/cost.js';
import { fail } from '../../libc/errors.js';
import { writeAll } from '../../libc/io.js';
import { copyUserMemory } from '../../libc/malloc.js';
import { accept, tcpListen } from '../../libc/net.js';
import { defineProgram } from '../../libc/program.js';
import { sigaction } from '../../libc/signal.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, read } from '../../libc/sys-fs.js';
import { bulkHeader, encodeBulk, encodeError, encodeInteger, encodeSimple, parseCommand } from './resp.js';
import { KvStore } from './store.js';

/** Default TCP port (Redis's). */
export const KV_DEFAULT_PORT = 6379;
const INPUT_BYTES = 16 * 1024;

/** A growable output buffer in user memory. */
class ReplyBuffer {
  private readonly p: Proc;
  va = 0;
  length = 0;
  private capacity = 0;

  constructor(p: Proc) {
    this.p = p;
  }

  private *reserve(extra: number): Call<boolean> {
    if (this.length + extra <= this.capacity) return true;
    const capacity = Math.max(4096, 2 * (this.length + extra));
    const va = yield* this.p.heap.realloc(this.va, capacity);
    if (va === 0) return false;
    this.va = va;
    this.capacity = capacity;
    return true;
  }

  *append(bytes: Uint8Array): Call<boolean> {
    if (!(yield* this.reserve(bytes.length))) return false;
    this.p.cpu.writeBytes(this.va + this.length, bytes);
    this.length += bytes.length;
    return true;
  }

  /** Append bytes that are already in user memory (a stored value). */
  *appendFrom(va: number, length: number): Call<boolean> {
    if (!(yield* this.reserve(length))) return false;
    copyUserMemory(this.p.cpu, this.va + this.length, va, length);
    this.length += length;
    return true;
  }

  *flush(fd: number): Call<number> {
    const n = this.length === 0 ? 0 : yield* writeAll(fd, this.va, this.length);
    this.length = 0;
    return n;
  }

  *free(): Call<void> {
    yield* this.p.heap.free(this.va);
    this.va = 0;
    this.capacity = 0;
  }
}

/** What the connection loop does after a command. */
type After = 'continue' | 'close' | 'shutdown';

const CRLF = new Uint8Array([0x0d, 0x0a]);

function* execute(store: KvStore, args: readonly Uint8Array[], out: ReplyBuffer): Call<After> {
  const name = decodeUtf8(args[0] ?? new Uint8Array()).toUpperCase();
  const arity = (n: number): boolean => args.length === n;
  const wrongArity = (): Uint8Array =>
    encodeError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
  switch (name) {
    case 'PING':
      yield* out.append(args.length > 1 ? encodeBulk(args[1]) : encodeSimple('PONG'));
      return 'continue';
    case 'ECHO':
      yield* out.append(arity(2) ? encodeBulk(args[1]) : wrongArity());
      return 'continue';
    case 'SET':
      if (!arity(3)) yield* out.append(wrongArity());
      else if (yield* store.set(args[1]!, args[2]!)) yield* out.append(encodeSimple('OK'));
      else yield* out.append(encodeError('OOM command not allowed when used memory > maxmemory'));
      return 'continue';
    case 'GET': {
      if (!arity(2)) {
        yield* out.append(wrongArity());
        return 'continue';
      }
      const value = store.get(args[1]!);
      yield* out.append(bulkHeader(value?.length));
      if (value !== undefined) {
        yield* out.appendFrom(value.va, value.length);
        yield* out.append(CRLF);
      }
      return 'continue';
    }
    case 'DEL':
    case 'EXISTS': {
      if (args.length < 2) {
        yield* out.append(wrongArity());
        return 'continue';
      }
      let count = 0;
      for (const key of args.slice(1)) {
        if (name === 'DEL' ? yield* store.delete(key) : store.get(key) !== undefined) count++;
      }
      yield* out.append(encodeInteger(count));
      return 'continue';
    }
    case 'INCR':
    case 'DECR': {
      if (!arity(2)) {
        yield* out.append(wrongArity());
        return 'continue';
      }
      const key = args[1]!;
      const current = store.get(key);
      const text = current === undefined ? '0' : decodeUtf8(store.readValue(current));
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
        yield* out.append(encodeError('ERR value is not an integer or out of range'));
        return 'continue';
      }
      const value = Number(text) + (name === 'INCR' ? 1 : -1);
      yield* store.set(key, new TextEncoder().encode(String(value)));
      yield* out.append(encodeInteger(value));
      return 'continue';
    }
    case 'DBSIZE':
      yield* out.append(encodeInteger(store.size));
      return 'continue';
    case 'QUIT':
      yield* out.append(encodeSimple('OK'));
      return 'close';
    case 'SHUTDOWN':
      return 'shutdown';
    default:
      yield* out.append(encodeError(`ERR unknown command '${name.toLowerCase()}'`));
      return 'continue';
  }
}

/** Serve one connection until it closes; 'shutdown' when a client asked the server to stop. */
function* serveConnection(p: Proc, store: KvStore, conn: number): Call<After> {
  const input = yield* p.heap.malloc(INPUT_BYTES);
  const out = new ReplyBuffer(p);
  let pending: Uint8Array = new Uint8Array(0);
  let after: After = 'continue';
  try {
    while (after === 'continue') {
      const n = yield* read(conn, input, INPUT_BYTES);
      if (isError(n) || n === 0) break;
      const joined = new Uint8Array(pending.length + n);
      joined.set(pending);
      joined.set(p.cpu.readBytes(input, n), pending.length);
      pending = joined;
      while (after === 'continue') {
        const command = parseCommand(pending);
        if (command.kind === 'incomplete') break;
        if (command.kind === 'error') {
          yield* out.append(encodeError(`ERR Protocol error: ${command.message}`));
          after = 'close';
          break;
        }
        pending = pending.subarray(command.consumed);
        if (command.value.length === 0) continue;
        p.cpu.compute(Cost.perRequest);
        after = yield* execute(store, command.value, out);
      }
      yield* out.flush(conn);
    }
  } finally {
    yield* out.free();
    yield* p.heap.free(input);
  }
  return after;
}

/** The program `kv-server`. */
export const kvServerMain = defineProgram(function* kvServer(p) {
  const args = parseArgs(p.argv.slice(1), { values: 'pnb', long: { port: 'p' } });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const port = parseCount(args.values.get('p') ?? String(KV_DEFAULT_PORT));
  const limit = parseCount(args.values.get('n') ?? '0');
  const buckets = parseCount(args.values.get('b') ?? '1024');
  if (port === undefined || port > 65535 || limit === undefined || buckets === undefined || buckets === 0) {
    return yield* fail(p, 'usage: kv-server [-p PORT] [-n CONNECTIONS] [-b BUCKETS]');
  }
  const store = yield* KvStore.create(p, buckets);
  if (store === undefined) return yield* fail(p, 'out of memory');
  const listener = yield* tcpListen(p, port);
  if (isError(listener)) return yield* fail(p, `bind/listen on port ${port}: ${strerror(listener)}`);
  // SIGTERM (`stop`) or SIGINT: finish the client being served, then exit 0, as redis-server does.
  let stopping = false;
  const onStop = function* (q: Proc, sig: number): Call<void> {
    stopping = true;
    yield* q.stdout.print(`kv-server: ${sig === SIG.INT ? 'SIGINT' : 'SIGTERM'} received, shutting down\n`);
  };
  for (const sig of [SIG.TERM, SIG.INT]) yield* sigaction(p, sig, onStop, { restart: false });
  yield* p.stdout.print(`kv-server: listening on port ${port}\n`);
  yield* p.stdout.flush();
  for (let served = 0; !stopping && (limit === 0 || served < limit); served++) {
    const conn = yield* accept(listener);
    if (conn === -Errno.EINTR && stopping) break;
    if (isError(conn)) return yield* fail(p, `accept: ${strerror(conn)}`);
    const after = yield* serveConnection(p, store, conn);
    yield* close(conn);
    if (after === 'shutdown') break;
  }
  yield* close(listener);
  return 0;
});
