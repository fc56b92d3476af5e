/**
 * The socket system calls (net/socket.c): argument checks, descriptor handling and address copies
 * around the socket operations of socket.ts and connection.ts.
 */
import type { SysCtx } from '../core/ctx.js';
import type { SyscallFn } from '../core/syscall-fn.js';
import { IPC_CALL_CYCLES, IPC_CREATE_CYCLES } from '../ipc/cost.js';
import { installFile, installPair } from '../ipc/install.js';
import { Errno } from '../uapi/errno.js';
import { AF, O, SOCK } from '../uapi/flags.js';
import { Sys } from '../uapi/syscalls.js';
import { acceptSocket, bindSocket, connectSocket, listenSocket, requeueConnection } from './connection.js';
import type { Family } from './sockaddr.js';
import { newSocket, socketFile, socketOf } from './socket-file.js';
import { readSockAddr, readSockLen, writeSockAddr } from './user-sockaddr.js';

/** Flags that may accompany the socket type (and accept4's flags). */
const SOCK_FLAGS = SOCK.NONBLOCK | SOCK.CLOEXEC;
/** Bits of the socket type proper (SOCK_TYPE_MASK). */
const SOCK_TYPE_MASK = 0xf;
/** Protocol numbers accepted besides 0 (PF_UNIX for AF_UNIX, IPPROTO_TCP for AF_INET). */
const PF_UNIX = 1;
const IPPROTO_TCP = 6;

/** Argument `i` (0 when absent). */
function arg(args: readonly number[], i: number): number {
  return args[i] ?? 0;
}

/** A length argument (size_t): the value, or -EINVAL when it is not one. */
function lengthArg(args: readonly number[], i: number): number {
  const length = arg(args, i);
  return Number.isSafeInteger(length) && length >= 0 ? length : -Errno.EINVAL;
}

/** Validate socket()/socketpair() arguments: the family and the SOCK_* flags, or an errno. */
function checkSocketArgs(
  domain: number,
  type: number,
  protocol: number,
): { family: Family; flags: number } | number {
  if ((type & (SOCK_FLAGS | SOCK_TYPE_MASK)) !== type) return -Errno.EINVAL;
  if (domain !== AF.UNIX && domain !== AF.INET) return -Errno.EAFNOSUPPORT;
  // SIMPLIFICATION: stream sockets only (no datagrams, no raw sockets).
  if ((type & SOCK_TYPE_MASK) !== SOCK.STREAM) return -Errno.EPROTONOSUPPORT;
  const protocolOk = protocol === 0 || protocol === (domain === AF.UNIX ? PF_UNIX : IPPROTO_TCP);
  if (!protocolOk) return -Errno.EPROTONOSUPPORT;
  return { family: domain, flags: type & SOCK_FLAGS };
}

/** socket(domain, type, protocol). */
function sysSocket(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const checked = checkSocketArgs(arg(args, 0), arg(args, 1), arg(args, 2));
  if (typeof checked === 'number') return checked;
  ctx.charge(IPC_CREATE_CYCLES);
  const file = socketFile(newSocket(ctx, checked.family), (checked.flags & SOCK.NONBLOCK) !== 0);
  return installFile(ctx, file, (checked.flags & SOCK.CLOEXEC) !== 0);
}

/** socketpair(domain, type, protocol, int sv[2]): two connected AF_UNIX sockets. */
function sysSocketpair(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const checked = checkSocketArgs(arg(args, 0), arg(args, 1), arg(args, 2));
  if (typeof checked === 'number') return checked;
  if (checked.family !== AF.UNIX) return -Errno.EOPNOTSUPP;
  ctx.charge(IPC_CREATE_CYCLES);
  const first = newSocket(ctx, AF.UNIX);
  const second = newSocket(ctx, AF.UNIX);
  first.connectTo(ctx, second);
  const nonblocking = (checked.flags & SOCK.NONBLOCK) !== 0;
  const cloexec = (checked.flags & SOCK.CLOEXEC) !== 0;
  return installPair(
    ctx,
    socketFile(first, nonblocking),
    socketFile(second, nonblocking),
    arg(args, 3),
    cloexec,
  );
}

/** bind(fd, addr, addrlen). */
function sysBind(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  const address = readSockAddr(ctx, found.socket.family, arg(args, 1), arg(args, 2));
  if (typeof address === 'number') return address;
  return bindSocket(found.socket, address);
}

/** listen(fd, backlog). */
function sysListen(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  return listenSocket(found.socket, arg(args, 1));
}

/** connect(fd, addr, addrlen). */
function sysConnect(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  const address = readSockAddr(ctx, found.socket.family, arg(args, 1), arg(args, 2));
  if (typeof address === 'number') return address;
  const nonblocking = (found.file.flags & O.NONBLOCK) !== 0;
  return connectSocket(ctx, found.socket, address, nonblocking);
}

/** accept4(fd, addr, addrlen, flags); accept is accept4 with flags 0. */
function sysAccept4(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  const flags = arg(args, 3);
  if ((flags & SOCK_FLAGS) !== flags) return -Errno.EINVAL;
  const addressVa = arg(args, 1);
  const lengthVa = arg(args, 2);
  const room = readSockLen(ctx, addressVa, lengthVa);
  if (room < 0) return room;
  const listener = found.socket;
  const connection = acceptSocket(ctx, listener, (found.file.flags & O.NONBLOCK) !== 0);
  if (typeof connection === 'number') return connection;
  const fd = ctx.task.files.install(
    socketFile(connection, (flags & SOCK.NONBLOCK) !== 0),
    (flags & SOCK.CLOEXEC) !== 0,
  );
  if (fd < 0) {
    requeueConnection(listener, connection);
    return fd;
  }
  ctx.charge(IPC_CREATE_CYCLES);
  const peerAddress = connection.peer!.localAddress;
  const stored = writeSockAddr(ctx, peerAddress, addressVa, lengthVa, room);
  if (stored < 0) {
    // As Linux: the connection is consumed and closed when its address cannot be stored.
    ctx.task.files.close(fd);
    return stored;
  }
  return fd;
}

/** getsockname(fd, addr, addrlen). */
function sysGetsockname(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  const addressVa = arg(args, 1);
  const lengthVa = arg(args, 2);
  if (addressVa === 0) return -Errno.EFAULT;
  const room = readSockLen(ctx, addressVa, lengthVa);
  if (room < 0) return room;
  return writeSockAddr(ctx, found.socket.localAddress, addressVa, lengthVa, room);
}

/** sendto(fd, buf, len, flags, dest_addr, addrlen): the address is ignored on a stream socket. */
function sysSendto(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  const length = lengthArg(args, 2);
  if (length < 0) return length;
  const nonblocking = (found.file.flags & O.NONBLOCK) !== 0;
  return found.socket.send(ctx, arg(args, 1), length, arg(args, 3), nonblocking);
}

/**
 * recvfrom(fd, buf, len, flags, src_addr, addrlen). SIMPLIFICATION: a stream socket reports no
 * source address (*addrlen = 0, as TCP does; AF_UNIX would give the peer's name).
 */
function sysRecvfrom(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  const length = lengthArg(args, 2);
  if (length < 0) return length;
  const lengthVa = arg(args, 5);
  if (arg(args, 4) !== 0 && lengthVa !== 0 && ctx.readU32(lengthVa) === undefined) return -Errno.EFAULT;
  const nonblocking = (found.file.flags & O.NONBLOCK) !== 0;
  const n = found.socket.recv(ctx, arg(args, 1), length, arg(args, 3), nonblocking);
  if (n >= 0 && arg(args, 4) !== 0 && lengthVa !== 0 && !ctx.writeU32(lengthVa, 0)) return -Errno.EFAULT;
  return n;
}

/** shutdown(fd, how). */
function sysShutdown(ctx: SysCtx, args: readonly number[]): number {
  ctx.charge(IPC_CALL_CYCLES);
  const found = socketOf(ctx, arg(args, 0));
  if (typeof found === 'number') return found;
  return found.socket.shutdown(ctx, arg(args, 1));
}

/** Socket system calls by number. */
export const NET_SYSCALLS: Readonly<Record<number, SyscallFn>> = {
  [Sys.socket]: sysSocket,
  [Sys.socketpair]: sysSocketpair,
  [Sys.bind]: sysBind,
  [Sys.listen]: sysListen,
  [Sys.accept]: (ctx, args) => sysAccept4(ctx, [arg(args, 0), arg(args, 1), arg(args, 2), 0]),
  [Sys.accept4]: sysAccept4,
  [Sys.connect]: sysConnect,
  [Sys.getsockname]: sysGetsockname,
  [Sys.sendto]: sysSendto,
  [Sys.recvfrom]: sysRecvfrom,
  [Sys.shutdown]: sysShutdown,
};
