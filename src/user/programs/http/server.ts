/**
 * `httpd [-p PORT] [-d DIR] [-n CONNECTIONS] [-s]`: an HTTP/1.1 file server: GET and HEAD, 200 /
 * 404 / 403 / 405 / 400, Content-Length, persistent connections (keep-alive) with pipelining.
 * Each connection is served by a forked child (default) or, with -s, sequentially by the server
 * process. File data goes from the file to the socket through a heap buffer in user memory.
 * -n stops after that many connections (0: forever).
 */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { O } from '../../../kernel/uapi/flags.js';
import { parseArgs, parseCount } from '../../libc/args.js';
import { Cost } from '../../libc/cost.js';
import { fail } from '../../libc/errors.js';
import { fstat, isDirectory, isRegular, open } from '../../libc/files.js';
import { fork } from '../../libc/fork.js';
import { writeAll, writeString } from '../../libc/io.js';
import { accept, tcpListen } from '../../libc/net.js';
import { normalize } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, read } from '../../libc/sys-fs.js';
import { reapExited, waitpid } from '../../libc/wait.js';
import {
  contentType,
  keepAlive,
  parseRequest,
  REASONS,
  responseHead,
  targetPath,
  type HttpRequest,
} from './http.js';

/** Default port. */
export const HTTP_DEFAULT_PORT = 8080;
const INPUT_BYTES = 8 * 1024;
const FILE_CHUNK_BYTES = 16 * 1024;

/** Send an error response with a short text body. */
function* sendError(p: Proc, conn: number, status: number, head: boolean, persistent: boolean): Call<number> {
  const body = `${status} ${REASONS[status] ?? ''}\n`;
  const text = responseHead(status, [
    ['Content-Type', 'text/plain'],
    ['Content-Length', String(body.length)],
    ['Connection', persistent ? 'keep-alive' : 'close'],
  ]);
  return yield* writeString(p, conn, head ? text : text + body);
}

/** Open the file for `path` (index.html for a directory); fd and size, or an HTTP status. */
function* openTarget(p: Proc, path: string): Call<{ fd: number; size: number; path: string } | number> {
  for (const candidate of [path, `${path}/index.html`]) {
    const fd = yield* open(p, candidate, O.RDONLY);
    if (isError(fd)) return fd === -Errno.EACCES ? 403 : 404;
    const st = yield* fstat(p, fd);
    if (typeof st !== 'number' && isRegular(st.mode)) return { fd, size: st.size, path: candidate };
    yield* close(fd);
    if (typeof st === 'number' || !isDirectory(st.mode)) return 403;
  }
  return 404;
}

/** Answer one request; false when the connection must close. */
function* respond(p: Proc, conn: number, root: string, request: HttpRequest, buffer: number): Call<boolean> {
  p.cpu.compute(Cost.perRequest);
  const persistent = keepAlive(request.version, request.headers);
  const head = request.method === 'HEAD';
  if (request.method !== 'GET' && !head) {
    yield* sendError(p, conn, 405, false, persistent);
    return persistent;
  }
  const path = targetPath(root, request.target);
  if (path === undefined) {
    yield* sendError(p, conn, 400, head, persistent);
    return persistent;
  }
  const target = yield* openTarget(p, path);
  if (typeof target === 'number') {
    yield* sendError(p, conn, target, head, persistent);
    return persistent;
  }
  const text = responseHead(200, [
    ['Content-Type', contentType(target.path)],
    ['Content-Length', String(target.size)],
    ['Connection', persistent ? 'keep-alive' : 'close'],
  ]);
  let ok = !isError(yield* writeString(p, conn, text));
  for (let sent = 0; ok && !head && sent < target.size;) {
    const n = yield* read(target.fd, buffer, Math.min(FILE_CHUNK_BYTES, target.size - sent));
    if (isError(n) || n === 0) {
      ok = false;
      break;
    }
    p.cpu.compute(n * Cost.perCopiedByte);
    ok = (yield* writeAll(conn, buffer, n)) === n;
    sent += n;
  }
  yield* close(target.fd);
  return ok && persistent;
}

/** Serve requests on one connection until it closes. */
function* serveConnection(p: Proc, conn: number, root: string): Call<number> {
  const input = yield* p.heap.malloc(INPUT_BYTES);
  const buffer = yield* p.heap.malloc(FILE_CHUNK_BYTES);
  let pending: Uint8Array = new Uint8Array(0);
  try {
    for (;;) {
      const parsed = parseRequest(pending);
      if (parsed.kind === 'error') {
        yield* sendError(p, conn, 400, false, false);
        return 0;
      }
      if (parsed.kind === 'ok') {
        pending = pending.subarray(parsed.consumed);
        if (!(yield* respond(p, conn, root, parsed.head, buffer))) return 0;
        continue;
      }
      const n = yield* read(conn, input, INPUT_BYTES);
      if (isError(n) || n === 0) return 0;
      const joined = new Uint8Array(pending.length + n);
      joined.set(pending);
      joined.set(p.cpu.readBytes(input, n), pending.length);
      pending = joined;
    }
  } finally {
    yield* p.heap.free(buffer);
    yield* p.heap.free(input);
  }
}

/** The program `httpd`. */
export const httpdMain = defineProgram(function* httpd(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 's', values: 'pdn', long: { port: 'p' } });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const port = parseCount(args.values.get('p') ?? String(HTTP_DEFAULT_PORT));
  const limit = parseCount(args.values.get('n') ?? '0');
  if (port === undefined || port > 65535 || limit === undefined) {
    return yield* fail(p, 'usage: httpd [-p PORT] [-d DIR] [-n CONNECTIONS] [-s]');
  }
  const root = normalize(args.values.get('d') ?? '/var/www');
  const sequential = args.flags.has('s');
  const listener = yield* tcpListen(p, port);
  if (isError(listener)) return yield* fail(p, `bind/listen on port ${port}: ${strerror(listener)}`);
  yield* p.stdout.print(`httpd: serving ${root} on port ${port}\n`);
  yield* p.stdout.flush();
  const children: number[] = [];
  for (let served = 0; limit === 0 || served < limit; served++) {
    const conn = yield* accept(listener);
    if (isError(conn)) return yield* fail(p, `accept: ${strerror(conn)}`);
    if (sequential) {
      yield* serveConnection(p, conn, root);
    } else {
      const pid = yield* fork(p, function* child(cp) {
        yield* close(listener);
        return yield* serveConnection(cp, conn, root);
      });
      if (isError(pid)) yield* serveConnection(p, conn, root);
      else children.push(pid);
      yield* reapExited(p);
    }
    yield* close(conn);
  }
  yield* close(listener);
  for (const pid of children) yield* waitpid(p, pid);
  return 0;
});
