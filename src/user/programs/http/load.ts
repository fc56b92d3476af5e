/**
 * `http-load [-p PORT] [-n REQUESTS] [-c CONCURRENCY] [-k] [PATH]`: an HTTP load generator. It
 * forks CONCURRENCY workers that share the requests; each sends GET PATH (a new connection per
 * request, or one persistent connection with -k), reads the response by Content-Length and reports
 * its counts through a pipe. Prints the totals and the simulated time (clock_gettime).
 */
import { strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs, parseCount } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { fork } from '../../libc/fork.js';
import { format } from '../../libc/format.js';
import { pipe, readFull, writeAll, writeString } from '../../libc/io.js';
import { tcpConnectRetry } from '../../libc/net.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, read } from '../../libc/sys-fs.js';
import { clockNs } from '../../libc/time.js';
import { waitpid } from '../../libc/wait.js';
import { keepAlive, parseResponseHead } from './http.js';
import { HTTP_DEFAULT_PORT } from './server.js';

/** Bytes of a worker's report: ok u32, failed u32, body bytes u64. */
const REPORT_BYTES = 16;
const INPUT_BYTES = 16 * 1024;

/** Counts of a worker. */
interface Tally {
  ok: number;
  failed: number;
  bytes: number;
}

/** Requests of worker `index` when `total` are shared by `workers`. */
export function workerShare(total: number, workers: number, index: number): number {
  return Math.floor(total / workers) + (index < total % workers ? 1 : 0);
}

/** A connection with a read buffer. */
class Connection {
  private readonly p: Proc;
  readonly fd: number;
  private readonly buffer: number;
  private pending: Uint8Array = new Uint8Array(0);

  constructor(p: Proc, fd: number, buffer: number) {
    this.p = p;
    this.fd = fd;
    this.buffer = buffer;
  }

  private *fill(): Call<boolean> {
    const n = yield* read(this.fd, this.buffer, INPUT_BYTES);
    if (isError(n) || n === 0) return false;
    const joined = new Uint8Array(this.pending.length + n);
    joined.set(this.pending);
    joined.set(this.p.cpu.readBytes(this.buffer, n), this.pending.length);
    this.pending = joined;
    return true;
  }

  /** Read one response; its status, body length and whether the connection stays open, or undefined. */
  *response(head: boolean): Call<{ status: number; length: number; persistent: boolean } | undefined> {
    for (;;) {
      const parsed = parseResponseHead(this.pending);
      if (parsed.kind === 'error') return undefined;
      if (parsed.kind === 'ok') {
        this.pending = this.pending.subarray(parsed.consumed);
        const length = head ? 0 : Number(parsed.head.headers.get('content-length') ?? '0');
        while (this.pending.length < length) if (!(yield* this.fill())) return undefined;
        this.pending = this.pending.subarray(length);
        return {
          status: parsed.head.status,
          length,
          persistent: keepAlive(parsed.head.version, parsed.head.headers),
        };
      }
      if (!(yield* this.fill())) return undefined;
    }
  }
}

function* worker(
  p: Proc,
  port: number,
  path: string,
  requests: number,
  persistent: boolean,
  report: number,
): Call<number> {
  const tally: Tally = { ok: 0, failed: 0, bytes: 0 };
  const buffer = yield* p.heap.malloc(INPUT_BYTES);
  let conn: Connection | undefined;
  const request = `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: ${persistent ? 'keep-alive' : 'close'}\r\n\r\n`;
  for (let i = 0; i < requests; i++) {
    if (conn === undefined) {
      const fd = yield* tcpConnectRetry(p, port);
      if (isError(fd)) {
        tally.failed++;
        continue;
      }
      conn = new Connection(p, fd, buffer);
    }
    const sent = yield* writeString(p, conn.fd, request);
    const response = isError(sent) ? undefined : yield* conn.response(false);
    if (response === undefined || response.status !== 200) tally.failed++;
    else {
      tally.ok++;
      tally.bytes += response.length;
    }
    if (response === undefined || !response.persistent || !persistent) {
      yield* close(conn.fd);
      conn = undefined;
    }
  }
  if (conn !== undefined) yield* close(conn.fd);
  const out = p.scratch.alloc(REPORT_BYTES);
  p.cpu.store32(out, tally.ok);
  p.cpu.store32(out + 4, tally.failed);
  p.cpu.store64(out + 8, tally.bytes);
  yield* writeAll(report, out, REPORT_BYTES);
  return tally.failed === 0 ? 0 : 1;
}

/** The program `http-load`. */
export const httpLoadMain = defineProgram(function* httpLoad(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'k', values: 'pnc', long: { port: 'p' } });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const port = parseCount(args.values.get('p') ?? String(HTTP_DEFAULT_PORT));
  const total = parseCount(args.values.get('n') ?? '100');
  const concurrency = parseCount(args.values.get('c') ?? '1');
  if (port === undefined || total === undefined || concurrency === undefined || concurrency === 0) {
    return yield* fail(p, 'usage: http-load [-p PORT] [-n REQUESTS] [-c CONCURRENCY] [-k] [PATH]');
  }
  const path = args.operands[0] ?? '/';
  const persistent = args.flags.has('k');
  const fds = yield* pipe(p);
  if (typeof fds === 'number') return yield* fail(p, `pipe: ${strerror(fds)}`);
  const start = yield* clockNs(p);
  const pids: number[] = [];
  for (let i = 0; i < concurrency; i++) {
    const share = workerShare(total, concurrency, i);
    const pid = yield* fork(p, function* child(cp) {
      yield* close(fds[0]);
      return yield* worker(cp, port, path, share, persistent, fds[1]);
    });
    if (isError(pid)) return yield* fail(p, `fork: ${strerror(pid)}`);
    pids.push(pid);
  }
  yield* close(fds[1]);
  const tally: Tally = { ok: 0, failed: 0, bytes: 0 };
  const report = yield* p.heap.malloc(REPORT_BYTES);
  while ((yield* readFull(fds[0], report, REPORT_BYTES)) === REPORT_BYTES) {
    tally.ok += p.cpu.load32(report);
    tally.failed += p.cpu.load32(report + 4);
    tally.bytes += p.cpu.load64(report + 8);
  }
  yield* close(fds[0]);
  for (const pid of pids) yield* waitpid(p, pid);
  const end = yield* clockNs(p);
  const ms = (end - start) / 1e6;
  yield* p.stdout.print(
    format(
      'http-load: %d requests, %d concurrent, %d ok, %d failed, %d bytes\n',
      total,
      concurrency,
      tally.ok,
      tally.failed,
      tally.bytes,
    ),
  );
  yield* p.stdout.print(
    format('http-load: %.3f ms (simulated), %.1f requests/s\n', ms, ms > 0 ? (tally.ok * 1000) / ms : 0),
  );
  return tally.failed === 0 && tally.ok === total ? 0 : 1;
});
