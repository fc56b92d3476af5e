/**
 * Stream sockets of the AF_UNIX and AF_INET (loopback TCP) families: the state of one socket and
 * its data path. A connection is a pair of sockets, each receiving into its own byte stream
 * (256 KiB, in kernel pages of the receiving socket's owner); a send appends to the peer's stream.
 *
 * Between contexts under rcontainer (a container and the host or another container), each direction
 * is a SealedStream (ipc/sealed-stream.ts) on the connection's rc_ipc_out channel: the bytes cross
 * as frames sealed by the mini-OS. Every operation on a socket must then run in the context of the
 * socket's owner (its pages and its consent are only reachable there): another context gets EPERM.
 *
 * Blocking follows the restart model of core/wait.ts (decide, then either act or park with no side
 * effect). SIMPLIFICATION: a blocking send larger than the free space sends what fits and returns
 * the short count (Linux sleeps until all is sent); libc's send loop sends the rest.
 */
import type { SysCtx } from '../core/ctx.js';
import { WaitQueue } from '../core/wait.js';
import { crossContextError, STREAM_PAGE_BYTES, type ByteStream } from '../ipc/byte-stream.js';
import { IPC_BYTE_CYCLES } from '../ipc/cost.js';
import { SealedStream, streamBetween, type SealedChannel } from '../ipc/sealed-stream.js';
import { Errno } from '../uapi/errno.js';
import { AF, MSG, SHUT, SIG } from '../uapi/flags.js';
import type { NetNamespace } from './net-namespace.js';
import { UNNAMED, type Family, type SockAddr } from './sockaddr.js';

/** Receive buffer of each direction of a connection. */
export const SOCKET_BUFFER_BYTES = 64 * STREAM_PAGE_BYTES;

/** Where a socket is in its life. */
export type SocketState = 'unconnected' | 'listening' | 'connected' | 'closed';

/** Who created a socket: its namespace, container and credentials. */
export interface SocketOrigin {
  readonly ns: NetNamespace;
  /** Container id of the creating task: its kernel pages hold what the socket receives. */
  readonly owner: number;
  readonly uid: number;
  readonly gid: number;
  readonly ino: number;
  /** Creation time, seconds. */
  readonly time: number;
}

/** A stream socket. */
export class Socket {
  readonly family: Family;
  readonly origin: SocketOrigin;
  state: SocketState = 'unconnected';
  /** Bound (or, for an accepted socket, inherited) local address. */
  local: SockAddr | undefined;
  /** True when `local` is this socket's entry in the namespace (false for accepted sockets). */
  holdsBinding = false;
  /** The other end of the connection. */
  peer: Socket | undefined;
  /** What the peer sent and this socket has not read (connected sockets only). */
  rx: ByteStream | undefined;
  /** shutdown(SHUT_RD) / shutdown(SHUT_WR) done on this socket. */
  readShut = false;
  writeShut = false;
  /** The peer closed its last descriptor. */
  peerClosed = false;
  /** Readers waiting for data or end of file; for a listener, acceptors waiting for a connection. */
  readonly readWait = new WaitQueue();
  /** Senders waiting for space in `rx`; for a listener, connectors waiting for backlog room. */
  readonly writeWait = new WaitQueue();
  /** Listener: connections not accepted yet, and how many may wait beyond the first. */
  readonly pending: Socket[] = [];
  backlog = 0;

  constructor(family: Family, origin: SocketOrigin) {
    this.family = family;
    this.origin = origin;
  }

  /** The socket's namespace. */
  get ns(): NetNamespace {
    return this.origin.ns;
  }

  /** The local address as getsockname reports it. */
  get localAddress(): SockAddr {
    return this.local ?? (this.family === AF.UNIX ? UNNAMED : { family: AF.INET, addr: 0, port: 0 });
  }

  /**
   * Make this socket and `peer` the two ends of a connection (their receive streams start empty).
   * With `channel` (owners in different contexts under sealing) both directions are sealed on it.
   */
  connectTo(ctx: SysCtx, peer: Socket, channel?: SealedChannel): void {
    for (const [socket, other] of [
      [this, peer],
      [peer, this],
    ] as const) {
      socket.state = 'connected';
      socket.peer = other;
      socket.rx = streamBetween(ctx, other.origin.owner, socket.origin.owner, SOCKET_BUFFER_BYTES, channel);
    }
  }

  /**
   * recv: up to `length` bytes into user memory at `va` (MSG_PEEK leaves them queued). 0 at end of
   * file, -EAGAIN when it would block and `nonblocking`, else -ERESTARTSYS after parking.
   */
  recv(ctx: SysCtx, va: number, length: number, flags: number, nonblocking: boolean): number {
    const refused = crossContextError(ctx, ctx.task.cid, this.origin.owner);
    if (refused !== 0) return refused;
    const rx = this.rx;
    if (this.state !== 'connected' || rx === undefined) {
      // unix_stream_read_generic: EINVAL; tcp_recvmsg: ENOTCONN.
      return this.family === AF.UNIX ? -Errno.EINVAL : -Errno.ENOTCONN;
    }
    if (length === 0) return 0;
    if (rx.length > 0) {
      const n = rx.readToUser(ctx, va, length, (flags & MSG.PEEK) !== 0);
      if (n > 0) {
        ctx.charge(n * IPC_BYTE_CYCLES);
        if ((flags & MSG.PEEK) === 0) this.writeWait.wakeAll();
      }
      return n;
    }
    if (this.readShut || this.peerClosed || this.peer?.writeShut === true) {
      // A sealed stream opens what is left (the FIN) and drops the channel once the peer is gone.
      return rx instanceof SealedStream && !this.readShut ? rx.finish(ctx, this.peerClosed) : 0;
    }
    if (nonblocking || (flags & MSG.DONTWAIT) !== 0) return -Errno.EAGAIN;
    return ctx.sleep(this.readWait);
  }

  /**
   * send: up to `length` bytes of user memory at `va` into the peer's stream. -EPIPE (with SIGPIPE
   * to the caller unless MSG_NOSIGNAL) once either side shut the direction down.
   */
  send(ctx: SysCtx, va: number, length: number, flags: number, nonblocking: boolean): number {
    const refused = crossContextError(ctx, ctx.task.cid, this.origin.owner);
    if (refused !== 0) return refused;
    const peer = this.peer;
    if (this.state !== 'connected' || peer === undefined) return -Errno.ENOTCONN;
    // SIMPLIFICATION: TCP keeps queueing to a peer that did SHUT_RD; AF_UNIX fails with EPIPE.
    const peerStopped = this.peerClosed || (this.family === AF.UNIX && peer.readShut);
    if (this.writeShut || peerStopped) {
      if ((flags & MSG.NOSIGNAL) === 0) ctx.kernel.sendSignal(ctx.task.tgid, SIG.PIPE);
      return -Errno.EPIPE;
    }
    if (length === 0) return 0;
    const target = peer.rx!;
    if (target.space === 0) {
      if (nonblocking || (flags & MSG.DONTWAIT) !== 0) return -Errno.EAGAIN;
      return ctx.sleep(peer.writeWait);
    }
    const n = target.writeFromUser(ctx, va, length);
    if (n > 0) {
      ctx.charge(n * IPC_BYTE_CYCLES);
      peer.readWait.wakeAll();
    }
    return n;
  }

  /**
   * shutdown(how); -EINVAL for a bad `how`, -ENOTCONN if not connected. Shutting down the sending
   * side of a sealed direction seals a FIN frame (best effort: the kernel's flag ends it anyway).
   */
  shutdown(ctx: SysCtx, how: number): number {
    if (how !== SHUT.RD && how !== SHUT.WR && how !== SHUT.RDWR) return -Errno.EINVAL;
    if (this.state !== 'connected') return -Errno.ENOTCONN;
    if (how !== SHUT.WR) this.readShut = true;
    if (how !== SHUT.RD) {
      const out = this.peer?.rx;
      if (!this.writeShut && out instanceof SealedStream) out.sealFin(ctx);
      this.writeShut = true;
    }
    this.wakeBothEnds();
    return 0;
  }

  /**
   * The last descriptor is gone: tell the peer, drop queued connections, free the buffer, unbind.
   * Closed by a task of the socket's own context (`ctx`), a sealed outgoing stream gets its FIN
   * (the reader can then tell the end of the stream from a truncation).
   */
  close(ctx?: SysCtx): void {
    if (this.state === 'closed') return;
    const out = this.peer?.rx;
    if (ctx !== undefined && !this.writeShut && out instanceof SealedStream) {
      out.sealFin(ctx);
      this.writeShut = true;
    }
    const wasListening = this.state === 'listening';
    this.state = 'closed';
    if (wasListening) {
      // SIMPLIFICATION: queued connections are closed (their clients see end of file, not a reset).
      for (const queued of this.pending.splice(0)) queued.close();
    }
    if (this.peer !== undefined) this.peer.peerClosed = true;
    this.wakeBothEnds();
    this.rx?.release();
    if (this.holdsBinding && this.local !== undefined) {
      if (this.local.family === AF.UNIX) this.ns.unbindUnix(this.local.name, this);
      else this.ns.unbindPort(this.local.port, this);
      this.holdsBinding = false;
    }
  }

  /** Wake every task waiting on this socket or its peer (a state change both may observe). */
  private wakeBothEnds(): void {
    this.readWait.wakeAll();
    this.writeWait.wakeAll();
    this.peer?.readWait.wakeAll();
    this.peer?.writeWait.wakeAll();
  }
}
