/**
 * Naming and connecting stream sockets: bind, listen, connect and accept on the socket's network
 * namespace. Connections go only through this host's loopback, so connect completes at once: it
 * creates the server's end and queues it on the listener for accept.
 *
 * A connection between contexts under rcontainer (say a container's client and a host service in
 * the container's network namespace, `nsenter -n`) is sealed (ipc/sealed-stream.ts): connect, in the
 * client's context, offers an rc_ipc_out channel to the listener's context; accept, in the
 * listener's context, accepts it. Both must therefore run in the context of the socket they act on.
 */
import type { SysCtx } from '../core/ctx.js';
import { anonInode } from '../ipc/anon-inode.js';
import { crossContextError } from '../ipc/byte-stream.js';
import { crossingOf, SealedChannel, SealedStream } from '../ipc/sealed-stream.js';
import { Errno } from '../uapi/errno.js';
import { AF, INADDR_LOOPBACK } from '../uapi/flags.js';
import { isAbstract, isLoopback, type SockAddr } from './sockaddr.js';
import { Socket } from './socket.js';

/** ENETUNREACH (not in uapi/errno.ts yet): the destination is not this host. */
export const ENETUNREACH = 101;
/** Largest backlog (net.core.somaxconn). */
export const SOMAXCONN = 4096;

/** bind(socket, address). */
export function bindSocket(socket: Socket, address: SockAddr): number {
  if (socket.local !== undefined || socket.state !== 'unconnected') return -Errno.EINVAL;
  if (address.family === AF.UNIX) {
    // SIMPLIFICATION: no autobind to an abstract name for an empty address.
    if (address.name.length === 0 || (isAbstract(address) && address.name.length === 1)) {
      return -Errno.EINVAL;
    }
    if (!socket.ns.bindUnix(address.name, socket)) return -Errno.EADDRINUSE;
    socket.local = address;
  } else {
    if (!isLoopback(address.addr)) return -Errno.EADDRNOTAVAIL;
    // SIMPLIFICATION: ports below 1024 need no privilege (no CAP_NET_BIND_SERVICE check).
    let port = address.port;
    if (port === 0) {
      const free = socket.ns.freeEphemeralPort();
      if (free === undefined) return -Errno.EADDRINUSE;
      port = free;
    }
    if (!socket.ns.bindPort(port, socket)) return -Errno.EADDRINUSE;
    socket.local = { family: AF.INET, addr: address.addr, port };
  }
  socket.holdsBinding = true;
  return 0;
}

/** listen(socket, backlog): an INET socket without a port gets an ephemeral one. */
export function listenSocket(socket: Socket, backlog: number): number {
  if (socket.state === 'listening') {
    socket.backlog = clampBacklog(backlog);
    return 0;
  }
  if (socket.state !== 'unconnected') return -Errno.EINVAL;
  if (socket.local === undefined) {
    if (socket.family === AF.UNIX) return -Errno.EINVAL;
    const bound = bindSocket(socket, { family: AF.INET, addr: 0, port: 0 });
    if (bound !== 0) return bound;
  }
  socket.state = 'listening';
  socket.backlog = clampBacklog(backlog);
  return 0;
}

/**
 * connect(socket, address): 0 once connected, or an error; -EAGAIN / -ERESTARTSYS while the
 * listener's queue is full (AF_UNIX semantics; SIMPLIFICATION: TCP would retry its SYN, and a
 * non-blocking TCP connect would say EINPROGRESS even on loopback).
 */
export function connectSocket(ctx: SysCtx, socket: Socket, address: SockAddr, nonblocking: boolean): number {
  if (socket.state === 'connected') return -Errno.EISCONN;
  if (socket.state !== 'unconnected') return -Errno.EINVAL;
  const listener = findListener(socket, address);
  if (typeof listener === 'number') return listener;
  const refused = crossContextError(ctx, ctx.task.cid, socket.origin.owner);
  if (refused !== 0) return refused;
  const crossing = crossingOf(ctx, socket.origin.owner, listener.origin.owner);
  if (typeof crossing === 'number') return crossing;
  // The accept queue holds backlog + 1 connections (sk_acceptq_is_full).
  if (listener.pending.length > listener.backlog) {
    if (nonblocking) return -Errno.EAGAIN;
    return ctx.sleep(listener.writeWait);
  }
  if (socket.family === AF.INET && socket.local === undefined) {
    const port = socket.ns.freeEphemeralPort();
    if (port === undefined) return -Errno.EADDRNOTAVAIL;
    socket.ns.bindPort(port, socket);
    socket.local = { family: AF.INET, addr: INADDR_LOOPBACK, port };
    socket.holdsBinding = true;
  }
  let channel: SealedChannel | undefined;
  if (crossing === 'sealed') {
    const offered = SealedChannel.offer(ctx, socket.origin.owner, listener.origin.owner);
    if (typeof offered === 'number') return offered;
    channel = offered;
  }
  const server = new Socket(listener.family, {
    ...listener.origin,
    ino: anonInode(ctx.kernel),
    time: Math.floor(ctx.now() / 1e9),
  });
  server.local = serverLocalAddress(listener);
  socket.connectTo(ctx, server, channel);
  listener.pending.push(server);
  listener.readWait.wakeAll();
  return 0;
}

/**
 * accept: the next queued connection, -EINVAL if not listening, -EAGAIN / -ERESTARTSYS if none.
 * A sealed connection gets the listener's consent here; if the mini-OS refuses it (the client's
 * container is gone), the connection is closed and accept fails with -ECONNABORTED.
 */
export function acceptSocket(ctx: SysCtx, listener: Socket, nonblocking: boolean): Socket | number {
  if (listener.state !== 'listening') return -Errno.EINVAL;
  const refused = crossContextError(ctx, ctx.task.cid, listener.origin.owner);
  if (refused !== 0) return refused;
  const next = listener.pending.shift();
  if (next === undefined) return nonblocking ? -Errno.EAGAIN : ctx.sleep(listener.readWait);
  listener.writeWait.wakeAll();
  if (next.rx instanceof SealedStream) {
    if (next.rx.channel.accept(ctx) < 0) {
      next.close();
      return -Errno.ECONNABORTED;
    }
    // Senders of both ends wait for the consent as for buffer space.
    next.writeWait.wakeAll();
    next.peer?.writeWait.wakeAll();
  }
  return next;
}

/** Put a connection taken by accept back at the head of the queue (its descriptor could not be made). */
export function requeueConnection(listener: Socket, connection: Socket): void {
  listener.pending.unshift(connection);
  listener.readWait.wakeAll();
}

/** The listening socket `address` names in the socket's namespace, or the connect error. */
function findListener(socket: Socket, address: SockAddr): Socket | number {
  let target: Socket | undefined;
  if (address.family === AF.UNIX) {
    if (address.name.length === 0) return -Errno.EINVAL;
    target = socket.ns.unixSocket(address.name);
    if (target === undefined) return -Errno.ENOENT;
  } else {
    if (!isLoopback(address.addr)) return -ENETUNREACH;
    target = address.port === 0 ? undefined : socket.ns.portSocket(address.port);
  }
  if (target?.state !== 'listening' || target.family !== socket.family) return -Errno.ECONNREFUSED;
  return target;
}

/** The local address of a connection accepted on `listener` (INADDR_ANY becomes 127.0.0.1). */
function serverLocalAddress(listener: Socket): SockAddr {
  const local = listener.localAddress;
  return local.family === AF.INET ? { family: AF.INET, addr: INADDR_LOOPBACK, port: local.port } : local;
}

function clampBacklog(backlog: number): number {
  // Linux compares as unsigned: a negative backlog means "as many as allowed".
  return backlog < 0 || backlog > SOMAXCONN ? SOMAXCONN : Math.floor(backlog);
}
