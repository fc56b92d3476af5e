// Stream sockets: creation errors, AF_UNIX and loopback AF_INET connections, blocking accept and
// recv with restart, backlog, shutdown, close, SIGPIPE, MSG_* flags, fstat.
import { describe, expect, it } from 'vitest';
import { EPHEMERAL_FIRST } from '../../../src/kernel/net/net-namespace.js';
import { SOCKET_BUFFER_BYTES } from '../../../src/kernel/net/socket.js';
import { ERESTARTSYS, Errno } from '../../../src/kernel/uapi/errno.js';
import { AF, INADDR_LOOPBACK, MSG, O, S, SHUT, SIG, SOCK } from '../../../src/kernel/uapi/flags.js';
import { Sys } from '../../../src/kernel/uapi/syscalls.js';
import {
  ascii,
  close,
  findInObjectGraph,
  fstat,
  Harness,
  lseek,
  pattern,
  read,
  sockaddrIn,
  sockaddrUn,
  sys,
  USER_BASE,
  write,
  type FakeTask,
} from './harness.js';

const ADDR = USER_BASE;
const LEN = USER_BASE + 0x200;
const FDS = USER_BASE + 0x300;
const SRC = USER_BASE + 0x1000;
const DST = USER_BASE + 0x10_0000;
const BAD = 0x10;

/** socket(family, SOCK_STREAM | flags). */
function socket(t: FakeTask, family: number, flags = 0): number {
  const fd = sys(t, Sys.socket, family, SOCK.STREAM | flags, 0);
  expect(fd).toBeGreaterThanOrEqual(0);
  return fd;
}

/** Put `address` in user memory and call bind/connect with it. */
function withAddress(h: Harness, t: FakeTask, nr: number, fd: number, address: Uint8Array): number {
  h.poke(ADDR, address);
  return sys(t, nr, fd, ADDR, address.length);
}

/** A UNIX listener bound to `path`. */
function unixListener(h: Harness, t: FakeTask, path: string, backlog = 8): number {
  const fd = socket(t, AF.UNIX);
  expect(withAddress(h, t, Sys.bind, fd, sockaddrUn(path))).toBe(0);
  expect(sys(t, Sys.listen, fd, backlog)).toBe(0);
  return fd;
}

/** An INET listener on 0.0.0.0:`port`. */
function inetListener(h: Harness, t: FakeTask, port: number, backlog = 8): number {
  const fd = socket(t, AF.INET);
  expect(withAddress(h, t, Sys.bind, fd, sockaddrIn(0, port))).toBe(0);
  expect(sys(t, Sys.listen, fd, backlog)).toBe(0);
  return fd;
}

/** Connect a new socket of `family` to `address`; its fd. */
function connected(h: Harness, t: FakeTask, family: number, address: Uint8Array): number {
  const fd = socket(t, family);
  expect(withAddress(h, t, Sys.connect, fd, address)).toBe(0);
  return fd;
}

/** A connected pair through a listener: [client fd, server fd]. */
function connection(h: Harness, t: FakeTask, family: number): [number, number] {
  const listener = family === AF.UNIX ? unixListener(h, t, '/tmp/s') : inetListener(h, t, 7000);
  const client = connected(
    h,
    t,
    family,
    family === AF.UNIX ? sockaddrUn('/tmp/s') : sockaddrIn(INADDR_LOOPBACK, 7000),
  );
  const server = sys(t, Sys.accept, listener, 0, 0);
  expect(server).toBeGreaterThanOrEqual(0);
  return [client, server];
}

/** send `text` on fd with flags. */
function send(h: Harness, t: FakeTask, fd: number, text: string, flags = 0): number {
  h.poke(SRC, ascii(text));
  return sys(t, Sys.sendto, fd, SRC, text.length, flags, 0, 0);
}

/** recv up to `length` bytes; the text or the error. */
function recv(h: Harness, t: FakeTask, fd: number, length: number, flags = 0): string | number {
  const n = sys(t, Sys.recvfrom, fd, DST, length, flags, 0, 0);
  return n < 0 ? n : new TextDecoder().decode(h.peek(DST, n));
}

/** getsockname as raw bytes. */
function sockname(h: Harness, t: FakeTask, fd: number): Uint8Array {
  h.poke(LEN, new Uint8Array([128, 0, 0, 0]));
  expect(sys(t, Sys.getsockname, fd, ADDR, LEN)).toBe(0);
  return h.peek(ADDR, h.peekU32(LEN));
}

describe('socket creation', () => {
  it('refuses unknown families, types, protocols and flags', () => {
    const h = new Harness();
    const t = h.task();
    expect(sys(t, Sys.socket, 10, SOCK.STREAM, 0)).toBe(-Errno.EAFNOSUPPORT);
    expect(sys(t, Sys.socket, AF.INET, SOCK.DGRAM, 0)).toBe(-Errno.EPROTONOSUPPORT);
    expect(sys(t, Sys.socket, AF.INET, SOCK.STREAM, 17)).toBe(-Errno.EPROTONOSUPPORT);
    expect(sys(t, Sys.socket, AF.UNIX, SOCK.STREAM, 6)).toBe(-Errno.EPROTONOSUPPORT);
    expect(sys(t, Sys.socket, AF.INET, SOCK.STREAM | 0x100, 0)).toBe(-Errno.EINVAL);
    expect(sys(t, Sys.socket, AF.INET, SOCK.STREAM, 6)).toBe(0);
  });

  it('applies SOCK_NONBLOCK and SOCK_CLOEXEC and reports S_IFSOCK', () => {
    const h = new Harness();
    const t = h.task();
    const fd = socket(t, AF.UNIX, SOCK.NONBLOCK | SOCK.CLOEXEC);
    expect(t.files.isCloexec(fd)).toBe(true);
    expect(t.files.get(fd)!.flags & O.NONBLOCK).toBe(O.NONBLOCK);
    const st = fstat(t, fd);
    expect(typeof st === 'number' ? st : st.mode & S.IFMT).toBe(S.IFSOCK);
    expect(lseek(t, fd, 0, 0)).toBe(-Errno.ESPIPE);
  });

  it('gives EBADF for a closed fd and ENOTSOCK for a pipe', () => {
    const h = new Harness();
    const t = h.task();
    expect(sys(t, Sys.listen, 5, 1)).toBe(-Errno.EBADF);
    expect(sys(t, Sys.pipe2, FDS, 0)).toBe(0);
    const pipeFd = h.peekU32(FDS);
    for (const nr of [Sys.bind, Sys.listen, Sys.connect, Sys.accept, Sys.getsockname, Sys.shutdown]) {
      expect(sys(t, nr, pipeFd, ADDR, 16, 0)).toBe(-Errno.ENOTSOCK);
    }
    expect(sys(t, Sys.sendto, pipeFd, SRC, 1, 0, 0, 0)).toBe(-Errno.ENOTSOCK);
    expect(sys(t, Sys.recvfrom, pipeFd, DST, 1, 0, 0, 0)).toBe(-Errno.ENOTSOCK);
  });
});

describe.each([
  ['AF_UNIX', AF.UNIX],
  ['AF_INET', AF.INET],
])('%s connections', (_name, family) => {
  it('carry data both ways, through read/write and sendto/recvfrom', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    expect(send(h, t, client, 'ping')).toBe(4);
    expect(recv(h, t, server, 100)).toBe('ping');
    h.poke(SRC, ascii('pong!'));
    expect(write(t, server, SRC, 5)).toBe(5);
    expect(read(t, client, DST, 100)).toBe(5);
    expect(new TextDecoder().decode(h.peek(DST, 5))).toBe('pong!');
    expect(h.pages.total).toBe(0);
  });

  it('block accept until a connect, which wakes the acceptor', () => {
    const h = new Harness();
    const t = h.task();
    const listener = family === AF.UNIX ? unixListener(h, t, '/a') : inetListener(h, t, 80);
    expect(sys(t, Sys.accept4, listener, 0, 0, 0)).toBe(-ERESTARTSYS);
    expect(t.parkedOn.length).toBe(1);
    connected(h, t, family, family === AF.UNIX ? sockaddrUn('/a') : sockaddrIn(INADDR_LOOPBACK, 80));
    expect(t.woken).toBe(1);
    const fd = sys(t, Sys.accept4, listener, 0, 0, SOCK.CLOEXEC);
    expect(fd).toBeGreaterThan(0);
    expect(t.files.isCloexec(fd)).toBe(true);
    expect(sys(t, Sys.accept4, listener, 0, 0, 0x1)).toBe(-Errno.EINVAL);
  });

  it('block recv until data arrives, then the restarted recv reads it', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    expect(recv(h, t, server, 10)).toBe(-ERESTARTSYS);
    expect(recv(h, t, server, 10, MSG.DONTWAIT)).toBe(-Errno.EAGAIN);
    expect(send(h, t, client, 'late')).toBe(4);
    expect(t.woken).toBe(1);
    expect(recv(h, t, server, 10)).toBe('late');
  });

  it('leave data queued on MSG_PEEK', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    send(h, t, client, 'abcdef');
    expect(recv(h, t, server, 3, MSG.PEEK)).toBe('abc');
    expect(recv(h, t, server, 100)).toBe('abcdef');
  });

  it('give end of file after SHUT_WR, and EPIPE with SIGPIPE to the writer', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    send(h, t, client, 'last');
    expect(sys(t, Sys.shutdown, client, SHUT.WR)).toBe(0);
    expect(recv(h, t, server, 100)).toBe('last');
    expect(recv(h, t, server, 100)).toBe('');
    expect(send(h, t, client, 'more', MSG.NOSIGNAL)).toBe(-Errno.EPIPE);
    expect(h.signals).toEqual([]);
    expect(send(h, t, client, 'more')).toBe(-Errno.EPIPE);
    expect(h.signals).toEqual([{ tgid: t.info.tgid, sig: SIG.PIPE }]);
    // The other direction still works.
    expect(send(h, t, server, 'back')).toBe(4);
    expect(recv(h, t, client, 100)).toBe('back');
    expect(sys(t, Sys.shutdown, client, 7)).toBe(-Errno.EINVAL);
  });

  it('give end of file after SHUT_RD on the reading side', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    expect(sys(t, Sys.shutdown, server, SHUT.RD)).toBe(0);
    expect(recv(h, t, server, 10)).toBe('');
    expect(send(h, t, client, 'x', MSG.NOSIGNAL)).toBe(family === AF.UNIX ? -Errno.EPIPE : 1);
  });

  it('wake a blocked reader when the peer closes; it reads the rest then end of file', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    expect(recv(h, t, server, 10)).toBe(-ERESTARTSYS);
    send(h, t, client, 'bye');
    close(t, client);
    expect(recv(h, t, server, 10)).toBe('bye');
    expect(recv(h, t, server, 10)).toBe('');
    expect(send(h, t, server, 'x')).toBe(-Errno.EPIPE);
    close(t, server);
    expect(h.pages.total).toBe(0);
  });

  it('fill a 256 KiB buffer, then EAGAIN or block the sender until the reader drains', () => {
    const h = new Harness();
    const t = h.task();
    const [client, server] = connection(h, t, family);
    h.poke(SRC, pattern(SOCKET_BUFFER_BYTES + 10));
    const n = sys(t, Sys.sendto, client, SRC, SOCKET_BUFFER_BYTES + 10, 0, 0, 0);
    expect(n).toBe(SOCKET_BUFFER_BYTES);
    expect(sys(t, Sys.sendto, client, SRC, 1, MSG.DONTWAIT, 0, 0)).toBe(-Errno.EAGAIN);
    expect(sys(t, Sys.sendto, client, SRC, 1, 0, 0, 0)).toBe(-ERESTARTSYS);
    expect(sys(t, Sys.recvfrom, server, DST, 1000, 0, 0, 0)).toBe(1000);
    expect(t.woken).toBe(1);
    expect(h.peek(DST, 1000)).toEqual(pattern(1000));
    expect(sys(t, Sys.sendto, client, SRC, 1, 0, 0, 0)).toBe(1);
  });

  it('refuse a second connect (EISCONN) and calls on unconnected sockets', () => {
    const h = new Harness();
    const t = h.task();
    const [client] = connection(h, t, family);
    const address = family === AF.UNIX ? sockaddrUn('/tmp/s') : sockaddrIn(INADDR_LOOPBACK, 7000);
    expect(withAddress(h, t, Sys.connect, client, address)).toBe(-Errno.EISCONN);
    const lone = socket(t, family);
    expect(send(h, t, lone, 'x')).toBe(-Errno.ENOTCONN);
    expect(sys(t, Sys.shutdown, lone, SHUT.RDWR)).toBe(-Errno.ENOTCONN);
    expect(sys(t, Sys.accept, lone, 0, 0)).toBe(-Errno.EINVAL);
  });

  it('keep no JS copy of the payload in kernel objects', () => {
    const h = new Harness();
    const t = h.task();
    const [client] = connection(h, t, family);
    const canary = 'CANARY-91ab-secret-in-a-socket';
    expect(send(h, t, client, canary)).toBe(canary.length);
    expect(findInObjectGraph([t.files, h.net], ascii(canary), [h.machine])).toEqual([]);
  });
});

describe('AF_UNIX names', () => {
  it('report the bound path through getsockname and the peer (unnamed) through accept', () => {
    const h = new Harness();
    const t = h.task();
    const listener = unixListener(h, t, '/run/app.sock');
    expect(sockname(h, t, listener)).toEqual(sockaddrUn('/run/app.sock'));
    connected(h, t, AF.UNIX, sockaddrUn('/run/app.sock'));
    h.poke(LEN, new Uint8Array([110, 0, 0, 0]));
    const fd = sys(t, Sys.accept, listener, ADDR, LEN);
    expect(fd).toBeGreaterThan(0);
    expect(h.peekU32(LEN)).toBe(2);
    expect(sockname(h, t, fd)).toEqual(sockaddrUn('/run/app.sock'));
  });

  it('fail with ENOENT, ECONNREFUSED, EADDRINUSE and EINVAL as Linux does', () => {
    const h = new Harness();
    const t = h.task();
    const a = socket(t, AF.UNIX);
    expect(withAddress(h, t, Sys.connect, a, sockaddrUn('/nowhere'))).toBe(-Errno.ENOENT);
    expect(withAddress(h, t, Sys.bind, a, sockaddrUn('/x'))).toBe(0);
    expect(withAddress(h, t, Sys.bind, a, sockaddrUn('/y'))).toBe(-Errno.EINVAL);
    const b = socket(t, AF.UNIX);
    expect(withAddress(h, t, Sys.bind, b, sockaddrUn('/x'))).toBe(-Errno.EADDRINUSE);
    expect(withAddress(h, t, Sys.connect, b, sockaddrUn('/x'))).toBe(-Errno.ECONNREFUSED);
    expect(sys(t, Sys.listen, b, 1)).toBe(-Errno.EINVAL);
    expect(withAddress(h, t, Sys.bind, b, sockaddrIn(0, 80))).toBe(-Errno.EINVAL);
    expect(sys(t, Sys.bind, b, BAD, 10)).toBe(-Errno.EFAULT);
    expect(sys(t, Sys.bind, b, ADDR, 200)).toBe(-Errno.EINVAL);
    // The name is free again once its socket closes.
    close(t, a);
    expect(withAddress(h, t, Sys.bind, b, sockaddrUn('/x'))).toBe(0);
  });

  it('make connected pairs with socketpair, but not for AF_INET', () => {
    const h = new Harness();
    const t = h.task();
    expect(sys(t, Sys.socketpair, AF.UNIX, SOCK.STREAM, 0, FDS)).toBe(0);
    const [a, b] = [h.peekU32(FDS), h.peekU32(FDS + 4)];
    expect(send(h, t, a, 'to b')).toBe(4);
    expect(recv(h, t, b, 10)).toBe('to b');
    expect(send(h, t, b, 'to a')).toBe(4);
    expect(recv(h, t, a, 10)).toBe('to a');
    expect(sys(t, Sys.socketpair, AF.INET, SOCK.STREAM, 0, FDS)).toBe(-Errno.EOPNOTSUPP);
    expect(sys(t, Sys.socketpair, AF.UNIX, SOCK.STREAM, 0, BAD)).toBe(-Errno.EFAULT);
    expect(t.files.entries().length).toBe(2);
  });
});

describe('AF_INET loopback', () => {
  it('gives a bind-less client an ephemeral port, seen by accept and getsockname', () => {
    const h = new Harness();
    const t = h.task();
    const listener = inetListener(h, t, 8080);
    expect(sockname(h, t, listener)).toEqual(sockaddrIn(0, 8080));
    const client = connected(h, t, AF.INET, sockaddrIn(INADDR_LOOPBACK, 8080));
    expect(sockname(h, t, client)).toEqual(sockaddrIn(INADDR_LOOPBACK, EPHEMERAL_FIRST));
    h.poke(LEN, new Uint8Array([16, 0, 0, 0]));
    const server = sys(t, Sys.accept, listener, ADDR, LEN);
    expect(h.peek(ADDR, 16)).toEqual(sockaddrIn(INADDR_LOOPBACK, EPHEMERAL_FIRST));
    expect(sockname(h, t, server)).toEqual(sockaddrIn(INADDR_LOOPBACK, 8080));
  });

  it('refuses connections with no listener, to other hosts, and busy ports', () => {
    const h = new Harness();
    const t = h.task();
    inetListener(h, t, 8080);
    const s = socket(t, AF.INET);
    expect(withAddress(h, t, Sys.connect, s, sockaddrIn(INADDR_LOOPBACK, 9))).toBe(-Errno.ECONNREFUSED);
    expect(withAddress(h, t, Sys.connect, s, sockaddrIn(0x0a00_0001, 8080))).toBe(-101);
    expect(withAddress(h, t, Sys.connect, s, sockaddrUn('/a/long/unix/path'))).toBe(-Errno.EAFNOSUPPORT);
    expect(withAddress(h, t, Sys.connect, s, sockaddrUn('/x'))).toBe(-Errno.EINVAL);
    expect(withAddress(h, t, Sys.bind, s, sockaddrIn(INADDR_LOOPBACK, 8080))).toBe(-Errno.EADDRINUSE);
    expect(withAddress(h, t, Sys.bind, s, sockaddrIn(0x0a00_0001, 1))).toBe(-Errno.EADDRNOTAVAIL);
    expect(sys(t, Sys.bind, s, ADDR, 8)).toBe(-Errno.EINVAL);
  });

  it('binds an ephemeral port on listen without bind', () => {
    const h = new Harness();
    const t = h.task();
    const s = socket(t, AF.INET);
    expect(sys(t, Sys.listen, s, 4)).toBe(0);
    expect(sockname(h, t, s)).toEqual(sockaddrIn(0, EPHEMERAL_FIRST));
  });

  it('queues backlog + 1 connections, then EAGAIN or blocks the connector until accept', () => {
    const h = new Harness();
    const t = h.task();
    const listener = inetListener(h, t, 5000, 0);
    connected(h, t, AF.INET, sockaddrIn(INADDR_LOOPBACK, 5000));
    const waiting = socket(t, AF.INET, SOCK.NONBLOCK);
    expect(withAddress(h, t, Sys.connect, waiting, sockaddrIn(INADDR_LOOPBACK, 5000))).toBe(-Errno.EAGAIN);
    const blocking = socket(t, AF.INET);
    expect(withAddress(h, t, Sys.connect, blocking, sockaddrIn(INADDR_LOOPBACK, 5000))).toBe(-ERESTARTSYS);
    expect(sys(t, Sys.accept, listener, 0, 0)).toBeGreaterThan(0);
    expect(t.woken).toBe(1);
    expect(withAddress(h, t, Sys.connect, blocking, sockaddrIn(INADDR_LOOPBACK, 5000))).toBe(0);
  });

  it('does not lose a connection when accept cannot read the address length', () => {
    const h = new Harness();
    const t = h.task();
    const listener = inetListener(h, t, 5001);
    connected(h, t, AF.INET, sockaddrIn(INADDR_LOOPBACK, 5001));
    expect(sys(t, Sys.accept, listener, ADDR, BAD)).toBe(-Errno.EFAULT);
    expect(sys(t, Sys.accept, listener, 0, 0)).toBeGreaterThan(0);
  });

  it('closing a listener ends its queued connections and frees its port', () => {
    const h = new Harness();
    const t = h.task();
    const listener = inetListener(h, t, 5002);
    const client = connected(h, t, AF.INET, sockaddrIn(INADDR_LOOPBACK, 5002));
    close(t, listener);
    expect(recv(h, t, client, 10)).toBe('');
    inetListener(h, t, 5002);
  });
});

describe('network namespaces', () => {
  it('isolate UNIX names and ports', () => {
    const h = new Harness();
    const host = h.task();
    const inner = h.task({ net: h.net.clone() });
    unixListener(h, host, '/shared/name');
    inetListener(h, host, 443);
    const u = socket(inner, AF.UNIX);
    expect(withAddress(h, inner, Sys.connect, u, sockaddrUn('/shared/name'))).toBe(-Errno.ENOENT);
    const i = socket(inner, AF.INET);
    expect(withAddress(h, inner, Sys.connect, i, sockaddrIn(INADDR_LOOPBACK, 443))).toBe(-Errno.ECONNREFUSED);
    // The same name and port are free in the new namespace.
    unixListener(h, inner, '/shared/name');
    inetListener(h, inner, 443);
    expect(h.net.bindings).toBe(2);
  });

  it('clone() gives a fresh empty namespace', () => {
    const h = new Harness();
    const t = h.task();
    unixListener(h, t, '/n');
    const fresh = h.net.clone();
    expect(fresh).not.toBe(h.net);
    expect(fresh.bindings).toBe(0);
  });
});

describe('sockets across contexts', () => {
  it('refuse a connection between containers under rcontainer, allow it under native', () => {
    for (const design of ['rcontainer', 'native'] as const) {
      const h = new Harness(design);
      const server = h.task({ cid: 1 });
      const client = h.task({ cid: 2 });
      unixListener(h, server, '/srv');
      const fd = socket(client, AF.UNIX);
      const result = withAddress(h, client, Sys.connect, fd, sockaddrUn('/srv'));
      expect(result).toBe(design === 'rcontainer' ? -Errno.EPERM : 0);
    }
  });

  it('refuse a read by another container of a socket it did not create, under rcontainer', () => {
    const h = new Harness('rcontainer');
    const owner = h.task({ cid: 1 });
    const other = h.task({ cid: 2 });
    expect(sys(owner, Sys.socketpair, AF.UNIX, SOCK.STREAM, 0, FDS)).toBe(0);
    const [a, b] = [h.peekU32(FDS), h.peekU32(FDS + 4)];
    send(h, owner, a, 'x');
    const fd = other.files.install(owner.files.get(b)!);
    expect(recv(h, other, fd, 10)).toBe(-Errno.EPERM);
    expect(recv(h, owner, b, 10)).toBe('x');
  });

  it('put received bytes in pages of the receiving socket owner', () => {
    const h = new Harness();
    const server = h.task({ cid: 1 });
    const client = h.task({ cid: 2 });
    const listener = unixListener(h, server, '/srv');
    const c = connected(h, client, AF.UNIX, sockaddrUn('/srv'));
    const s = sys(server, Sys.accept, listener, 0, 0);
    send(h, client, c, 'to server');
    expect([h.pages.inUse(1), h.pages.inUse(2)]).toEqual([1, 0]);
    send(h, server, s, 'to client');
    expect([h.pages.inUse(1), h.pages.inUse(2)]).toEqual([1, 1]);
    close(server, s);
    close(client, c);
    expect(h.pages.total).toBe(0);
  });
});
