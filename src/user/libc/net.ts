/** Socket helpers: sockaddr_in encoding, TCP listen/connect on IPv4, socketpair. */
import { Errno } from '../../kernel/uapi/errno.js';
import { AF, INADDR_LOOPBACK, SOCK, SOCKADDR_IN_BYTES } from '../../kernel/uapi/flags.js';
import type { Proc } from './process.js';
import { isError, type Call } from './syscall.js';
import { close } from './sys-fs.js';
import { accept4, bind, connect, listen, socket, socketpair } from './sys-net.js';
import { nanosleep } from './time.js';

/** INADDR_ANY. */
export const INADDR_ANY = 0;

/** struct sockaddr_in: sin_family u16 (host order), sin_port u16 and sin_addr u32 (network order). */
export function encodeSockaddrIn(port: number, address: number): Uint8Array {
  const out = new Uint8Array(SOCKADDR_IN_BYTES);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF.INET, true);
  view.setUint16(2, port, false);
  view.setUint32(4, address >>> 0, false);
  return out;
}

/** Decode a struct sockaddr_in: port and address (host order). */
export function decodeSockaddrIn(bytes: Uint8Array): { family: number; port: number; address: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    family: view.getUint16(0, true),
    port: view.getUint16(2, false),
    address: view.getUint32(4, false),
  };
}

/** A dotted-quad IPv4 address as a host-order number, or undefined ("localhost" is 127.0.0.1). */
export function parseIpv4(text: string): number | undefined {
  if (text === 'localhost') return INADDR_LOOPBACK;
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let address = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    address = address * 256 + n;
  }
  return address;
}

/** A TCP socket bound to `address:port` and listening; the fd or -errno. */
export function* tcpListen(p: Proc, port: number, address = INADDR_ANY, backlog = 128): Call<number> {
  const fd = yield* socket(AF.INET, SOCK.STREAM, 0);
  if (isError(fd)) return fd;
  const mark = p.scratch.mark();
  try {
    const addr = p.scratch.bytes(p.cpu, encodeSockaddrIn(port, address));
    let result = yield* bind(fd, addr, SOCKADDR_IN_BYTES);
    if (!isError(result)) result = yield* listen(fd, backlog);
    if (isError(result)) {
      yield* close(fd);
      return result;
    }
    return fd;
  } finally {
    p.scratch.release(mark);
  }
}

/** A TCP socket connected to `address:port`; the fd or -errno. */
export function* tcpConnect(p: Proc, port: number, address = INADDR_LOOPBACK): Call<number> {
  const fd = yield* socket(AF.INET, SOCK.STREAM, 0);
  if (isError(fd)) return fd;
  const mark = p.scratch.mark();
  try {
    const addr = p.scratch.bytes(p.cpu, encodeSockaddrIn(port, address));
    const result = yield* connect(fd, addr, SOCKADDR_IN_BYTES);
    if (isError(result)) {
      yield* close(fd);
      return result;
    }
    return fd;
  } finally {
    p.scratch.release(mark);
  }
}

/**
 * tcpConnect, retrying while the connection is refused (the server may not listen yet): up to
 * `attempts` tries, `delayNs` of nanosleep apart. The fd or the last -errno.
 */
export function* tcpConnectRetry(
  p: Proc,
  port: number,
  address = INADDR_LOOPBACK,
  attempts = 100,
  delayNs = 1_000_000,
): Call<number> {
  let result = -Errno.ECONNREFUSED;
  for (let i = 0; i < attempts; i++) {
    result = yield* tcpConnect(p, port, address);
    if (result !== -Errno.ECONNREFUSED) return result;
    yield* nanosleep(p, delayNs);
  }
  return result;
}

/** accept(2) without the peer address; the connected fd or -errno. */
export function accept(fd: number): Call<number> {
  return accept4(fd, 0, 0, 0);
}

/** socketpair(2): the two connected fds or -errno. */
export function* socketPair(
  p: Proc,
  domain: number = AF.UNIX,
  type: number = SOCK.STREAM,
): Call<[number, number] | number> {
  const mark = p.scratch.mark();
  try {
    const fds = p.scratch.alloc(8);
    const result = yield* socketpair(domain, type, 0, fds);
    if (isError(result)) return result;
    return [p.cpu.load32(fds) | 0, p.cpu.load32(fds + 4) | 0];
  } finally {
    p.scratch.release(mark);
  }
}
