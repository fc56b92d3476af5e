/**
 * Sockets as open files: read, write and close through the descriptor (FileOps), fstat as
 * S_IFSOCK, and the lookup every socket call starts with.
 */
import type { SysCtx } from '../core/ctx.js';
import { OpenFile, type FileOps } from '../core/file.js';
import { anonInode } from '../ipc/anon-inode.js';
import { IPC_CALL_CYCLES } from '../ipc/cost.js';
import { Errno } from '../uapi/errno.js';
import { O, S } from '../uapi/flags.js';
import type { Stat } from '../uapi/structs.js';
import type { Family } from './sockaddr.js';
import { Socket, SOCKET_BUFFER_BYTES } from './socket.js';

/** st_dev of sockets (sockfs). */
const SOCKFS_DEV = 0x08;

function socketRead(ctx: SysCtx, file: OpenFile, va: number, length: number, offset?: number): number {
  ctx.charge(IPC_CALL_CYCLES);
  if (offset !== undefined) return -Errno.ESPIPE;
  if (!(length >= 0) || !Number.isSafeInteger(length)) return -Errno.EINVAL;
  return (file.data as Socket).recv(ctx, va, length, 0, (file.flags & O.NONBLOCK) !== 0);
}

function socketWrite(ctx: SysCtx, file: OpenFile, va: number, length: number, offset?: number): number {
  ctx.charge(IPC_CALL_CYCLES);
  if (offset !== undefined) return -Errno.ESPIPE;
  if (!(length >= 0) || !Number.isSafeInteger(length)) return -Errno.EINVAL;
  return (file.data as Socket).send(ctx, va, length, 0, (file.flags & O.NONBLOCK) !== 0);
}

function socketStat(_ctx: SysCtx, file: OpenFile): Stat {
  const { origin } = file.data as Socket;
  return {
    dev: SOCKFS_DEV,
    ino: origin.ino,
    mode: S.IFSOCK | 0o777,
    nlink: 1,
    uid: origin.uid,
    gid: origin.gid,
    rdev: 0,
    size: 0,
    blksize: SOCKET_BUFFER_BYTES,
    blocks: 0,
    atime: origin.time,
    mtime: origin.time,
    ctime: origin.time,
  };
}

/** File operations of a socket. */
export const SOCKET_OPS: FileOps = {
  read: socketRead,
  write: socketWrite,
  lseek: () => -Errno.ESPIPE,
  stat: socketStat,
  release: (file, ctx) => (file.data as Socket).close(ctx),
};

/** A new unconnected socket created by the calling task, in its network namespace. */
export function newSocket(ctx: SysCtx, family: Family): Socket {
  return new Socket(family, {
    ns: ctx.task.ns.net,
    owner: ctx.task.cid,
    uid: ctx.task.cred.euid,
    gid: ctx.task.cred.egid,
    ino: anonInode(ctx.kernel),
    time: Math.floor(ctx.now() / 1e9),
  });
}

/** An open file for `socket` (`nonblocking`: O_NONBLOCK, from SOCK_NONBLOCK). */
export function socketFile(socket: Socket, nonblocking: boolean): OpenFile {
  return new OpenFile(SOCKET_OPS, O.RDWR | (nonblocking ? O.NONBLOCK : 0), socket);
}

/** The socket and open file behind `fd`: -EBADF if it is not open, -ENOTSOCK if not a socket. */
export function socketOf(ctx: SysCtx, fd: number): { socket: Socket; file: OpenFile } | number {
  const file = ctx.task.files.get(fd);
  if (file === undefined) return -Errno.EBADF;
  if (file.ops !== SOCKET_OPS) return -Errno.ENOTSOCK;
  return { socket: file.data as Socket, file };
}
