/**
 * Pipes and sockets through the whole system, under both designs: a pipe round trip across fork
 * (small messages, end of file, more than the pipe's capacity), socketpair, AF_INET loopback
 * listen/connect/accept and AF_UNIX bind/connect between two processes.
 */
import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/kernel/uapi/errno.js';
import { AF, MSG, SHUT, SOCK, SOCKADDR_IN_BYTES } from '../../../src/kernel/uapi/flags.js';
import { decodeUtf8, encodeUtf8 } from '../../../src/user/libc/cstring.js';
import { fork } from '../../../src/user/libc/fork.js';
import { pipe, readFull, readToEnd, writeAll, writeString } from '../../../src/user/libc/io.js';
import {
  accept,
  decodeSockaddrIn,
  encodeSockaddrIn,
  socketPair,
  tcpConnect,
  tcpConnectRetry,
  tcpListen,
} from '../../../src/user/libc/net.js';
import type { Proc } from '../../../src/user/libc/process.js';
import type { Call } from '../../../src/user/libc/syscall.js';
import { close, read } from '../../../src/user/libc/sys-fs.js';
import {
  bind,
  connect,
  getsockname,
  listen,
  sendto,
  shutdown,
  socket,
} from '../../../src/user/libc/sys-net.js';
import { waitpid } from '../../../src/user/libc/wait.js';
import { DESIGN_NAMES, fields, runProgram, say } from './helpers.js';

/** Read exactly `length` bytes from `fd` as text (fewer at end of file). */
function* readText(p: Proc, fd: number, length: number): Call<string> {
  const buffer = yield* p.heap.malloc(length);
  const n = yield* readFull(fd, buffer, length);
  const out = n < 0 ? String(n) : decodeUtf8(p.cpu.readBytes(buffer, n));
  yield* p.heap.free(buffer);
  return out;
}

/** struct sockaddr_un for a pathname (with its NUL). */
function sockaddrUn(name: string): Uint8Array {
  const path = encodeUtf8(name);
  const out = new Uint8Array(2 + path.length + 1);
  out[0] = AF.UNIX;
  out.set(path, 2);
  return out;
}

/** bind or connect a socket to a UNIX address. */
function* unixAddressCall(p: Proc, call: typeof bind, fd: number, name: string): Call<number> {
  const mark = p.scratch.mark();
  try {
    const addr = sockaddrUn(name);
    return yield* call(fd, p.scratch.bytes(p.cpu, addr, 1), addr.length);
  } finally {
    p.scratch.release(mark);
  }
}

/** A deterministic byte pattern. */
function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

describe.each(DESIGN_NAMES)('pipes and sockets through the system (%s)', (design) => {
  it('carries messages both ways through pipes across fork, then end of file', () => {
    const r = runProgram(design, function* (p) {
      const down = yield* pipe(p);
      const up = yield* pipe(p);
      if (typeof down === 'number' || typeof up === 'number') return 1;
      const child = yield* fork(p, function* (cp) {
        yield* close(down[1]);
        yield* close(up[0]);
        const got = yield* readText(cp, down[0], 4);
        yield* writeString(cp, up[1], `${got}->pong`);
        // The parent closes its write end: read returns 0.
        const buffer = yield* cp.heap.malloc(8);
        yield* say(cp, 'eof', yield* read(down[0], buffer, 8));
        return 0;
      });
      yield* close(down[0]);
      yield* close(up[1]);
      yield* writeString(p, down[1], 'ping');
      yield* say(p, 'reply', yield* readText(p, up[0], 10));
      yield* close(down[1]);
      yield* say(p, 'child', (yield* waitpid(p, child)) !== -1);
      // Every writer is gone now: end of file on the reply pipe too.
      yield* say(p, 'replyEof', (yield* readText(p, up[0], 1)) === '');
      return 0;
    });
    expect(fields(r.output)).toEqual({ reply: 'ping->pong', eof: '0', child: 'true', replyEof: 'true' });
  });

  it('streams more than the pipe capacity between two processes, byte-exact', () => {
    const SIZE = 200 * 1024;
    const r = runProgram(design, function* (p) {
      const fds = yield* pipe(p);
      if (typeof fds === 'number') return 1;
      const child = yield* fork(p, function* (cp) {
        yield* close(fds[0]);
        const data = yield* cp.heap.malloc(SIZE);
        cp.cpu.writeBytes(data, pattern(SIZE));
        yield* say(cp, 'wrote', yield* writeAll(fds[1], data, SIZE));
        return 0;
      });
      yield* close(fds[1]);
      const got = yield* readToEnd(p, fds[0]);
      if (typeof got === 'number') return 2;
      const expected = pattern(SIZE);
      yield* say(p, 'length', got.length);
      yield* say(
        p,
        'same',
        got.every((b, i) => b === expected[i]),
      );
      yield* waitpid(p, child);
      return 0;
    });
    expect(fields(r.output)).toEqual({ wrote: String(SIZE), length: String(SIZE), same: 'true' });
  });

  it('connects a socketpair across fork; shutdown gives end of file; a closed peer EPIPE', () => {
    const r = runProgram(design, function* (p) {
      const pair = yield* socketPair(p);
      if (typeof pair === 'number') return 1;
      const child = yield* fork(p, function* (cp) {
        yield* close(pair[0]);
        const got = yield* readText(cp, pair[1], 5);
        yield* writeString(cp, pair[1], got.toUpperCase());
        yield* say(cp, 'afterShutdown', yield* readText(cp, pair[1], 4));
        return 0;
      });
      yield* close(pair[1]);
      yield* writeString(p, pair[0], 'hello');
      yield* say(p, 'reply', yield* readText(p, pair[0], 5));
      yield* say(p, 'shutdown', yield* shutdown(pair[0], SHUT.WR));
      yield* waitpid(p, child);
      // The peer is closed: MSG_NOSIGNAL turns SIGPIPE off and leaves EPIPE.
      const buffer = yield* p.heap.malloc(4);
      yield* say(p, 'send', yield* sendto(pair[0], buffer, 4, MSG.NOSIGNAL));
      yield* say(p, 'inet', (yield* socketPair(p, AF.INET)) as number);
      return 0;
    });
    expect(fields(r.output)).toEqual({
      reply: 'HELLO',
      shutdown: '0',
      afterShutdown: '',
      send: String(-Errno.EPIPE),
      inet: String(-Errno.EOPNOTSUPP),
    });
  });

  it('accepts an AF_INET loopback connection from another process', () => {
    const PORT = 7070;
    const r = runProgram(design, function* (p) {
      yield* say(p, 'refused', yield* tcpConnect(p, PORT));
      const listener = yield* tcpListen(p, PORT);
      yield* say(p, 'listening', listener >= 0);
      yield* say(p, 'inUse', yield* tcpListen(p, PORT));
      const client = yield* fork(p, function* (cp) {
        yield* close(listener);
        const fd = yield* tcpConnectRetry(cp, PORT);
        yield* writeString(cp, fd, 'GET');
        yield* say(cp, 'response', yield* readText(cp, fd, 8));
        return 0;
      });
      const conn = yield* accept(listener);
      yield* say(p, 'request', yield* readText(p, conn, 3));
      yield* writeString(p, conn, '200 OK;;');
      const mark = p.scratch.mark();
      const addr = p.scratch.alloc(SOCKADDR_IN_BYTES);
      const length = p.scratch.alloc(4);
      p.cpu.store32(length, SOCKADDR_IN_BYTES);
      yield* getsockname(conn, addr, length);
      const local = decodeSockaddrIn(p.cpu.readBytes(addr, SOCKADDR_IN_BYTES));
      p.scratch.release(mark);
      yield* say(p, 'local', `${local.address.toString(16)}:${local.port}`);
      yield* waitpid(p, client);
      yield* say(p, 'unroutable', yield* tcpConnect(p, PORT, 0x0a00_0001));
      return 0;
    });
    expect(fields(r.output)).toEqual({
      refused: String(-Errno.ECONNREFUSED),
      listening: 'true',
      inUse: String(-Errno.EADDRINUSE),
      request: 'GET',
      response: '200 OK;;',
      local: `7f000001:${PORT}`,
      unroutable: '-101',
    });
  });

  it('binds and connects AF_UNIX stream sockets by name between two processes', () => {
    const r = runProgram(design, function* (p) {
      const server = yield* socket(AF.UNIX, SOCK.STREAM, 0);
      yield* say(p, 'bind', yield* unixAddressCall(p, bind, server, '/tmp/server.sock'));
      const again = yield* socket(AF.UNIX, SOCK.STREAM, 0);
      yield* say(p, 'bindTwice', yield* unixAddressCall(p, bind, again, '/tmp/server.sock'));
      yield* say(p, 'notListening', yield* unixAddressCall(p, connect, again, '/tmp/server.sock'));
      yield* say(p, 'listen', yield* listen(server, 4));
      const unbound = yield* socket(AF.UNIX, SOCK.STREAM, 0);
      yield* say(p, 'unknownName', yield* unixAddressCall(p, connect, unbound, '/tmp/none.sock'));
      const client = yield* fork(p, function* (cp) {
        const fd = yield* socket(AF.UNIX, SOCK.STREAM, 0);
        yield* say(cp, 'connect', yield* unixAddressCall(cp, connect, fd, '/tmp/server.sock'));
        yield* writeString(cp, fd, 'over-unix');
        return 0;
      });
      const conn = yield* accept(server);
      yield* say(p, 'message', yield* readText(p, conn, 9));
      yield* waitpid(p, client);
      const inet = yield* socket(AF.INET, SOCK.STREAM, 0);
      const mark = p.scratch.mark();
      const addr = p.scratch.bytes(p.cpu, encodeSockaddrIn(1, 0));
      yield* say(p, 'wrongFamily', yield* bind(server, addr, SOCKADDR_IN_BYTES));
      p.scratch.release(mark);
      yield* say(p, 'datagram', yield* socket(AF.UNIX, SOCK.DGRAM, 0));
      yield* say(p, 'inetOk', inet >= 0);
      return 0;
    });
    expect(fields(r.output)).toEqual({
      bind: '0',
      bindTwice: String(-Errno.EADDRINUSE),
      notListening: String(-Errno.ECONNREFUSED),
      listen: '0',
      unknownName: String(-Errno.ENOENT),
      connect: '0',
      message: 'over-unix',
      wrongFamily: String(-Errno.EINVAL),
      datagram: String(-Errno.EPROTONOSUPPORT),
      inetOk: 'true',
    });
  });
});
