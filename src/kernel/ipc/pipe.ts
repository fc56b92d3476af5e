/**
 * Pipes (Linux fs/pipe.c): a byte stream with a read end and a write end, 64 KiB of buffer.
 *
 * Blocking follows the restart model of core/wait.ts: an operation that cannot proceed parks the
 * task and returns -ERESTARTSYS before it changes anything, and runs again from the start when woken.
 * SIMPLIFICATION: a blocking write larger than the free space writes what fits and returns that
 * short count instead of sleeping half-done (Linux sleeps until all is written unless a signal
 * comes); libc's write loop sends the rest. Writes of at most PIPE_BUF bytes stay atomic.
 */
import type { SysCtx } from '../core/ctx.js';
import type { FileOps, OpenFile } from '../core/file.js';
import { WaitQueue } from '../core/wait.js';
import { Errno } from '../uapi/errno.js';
import { O, S, SIG } from '../uapi/flags.js';
import type { Stat } from '../uapi/structs.js';
import { anonInode } from './anon-inode.js';
import { crossContextError, newByteStream, type ByteStream, STREAM_PAGE_BYTES } from './byte-stream.js';
import { IPC_BYTE_CYCLES, IPC_CALL_CYCLES } from './cost.js';

/** Buffer of a pipe (Linux's default pipe size: 16 pages). */
export const PIPE_CAPACITY = 16 * STREAM_PAGE_BYTES;
/** Writes of at most this many bytes are atomic (POSIX PIPE_BUF; Linux: one page). */
export const PIPE_BUF = 4096;
/** st_dev of pipes (pipefs). */
const PIPEFS_DEV = 0x0c;

/** The shared state of a pipe. */
export class Pipe {
  readonly stream: ByteStream;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  /** Creation time, seconds (st_atime, st_mtime, st_ctime). */
  readonly time: number;
  /** Open read and write ends (open file descriptions, not descriptors). */
  readers = 0;
  writers = 0;
  /** Tasks waiting for data or end of file. */
  readonly readWait = new WaitQueue();
  /** Tasks waiting for buffer space or for the last reader to go. */
  readonly writeWait = new WaitQueue();

  /** A pipe owned by the calling task's container. */
  constructor(ctx: SysCtx) {
    this.stream = newByteStream(ctx, ctx.task.cid, PIPE_CAPACITY);
    this.ino = anonInode(ctx.kernel);
    this.uid = ctx.task.cred.euid;
    this.gid = ctx.task.cred.egid;
    this.time = Math.floor(ctx.now() / 1e9);
  }

  /** Container whose pages hold the pipe's bytes. */
  get owner(): number {
    return this.stream.owner;
  }

  /** One end of the pipe is gone: wake both sides; free the buffer once no reader is left. */
  endClosed(): void {
    if (this.readers === 0) this.stream.release();
    this.readWait.wakeAll();
    this.writeWait.wakeAll();
  }
}

/** The private data of a pipe's open file: which end it is. */
export interface PipeEnd {
  readonly pipe: Pipe;
  readonly end: 'read' | 'write';
}

/** The pipe end of an open file, or undefined if it is not a pipe. */
export function pipeEndOf(file: OpenFile): PipeEnd | undefined {
  return file.ops === PIPE_OPS ? (file.data as PipeEnd) : undefined;
}

/** Open a new end of `pipe` (counted until its file is released). */
export function openPipeEnd(pipe: Pipe, end: PipeEnd['end']): PipeEnd {
  if (end === 'read') pipe.readers++;
  else pipe.writers++;
  return { pipe, end };
}

function pipeRead(ctx: SysCtx, file: OpenFile, va: number, length: number, offset?: number): number {
  ctx.charge(IPC_CALL_CYCLES);
  if (offset !== undefined) return -Errno.ESPIPE;
  const { pipe, end } = file.data as PipeEnd;
  if (end !== 'read') return -Errno.EBADF;
  const refused = crossContextError(ctx, ctx.task.cid, pipe.owner);
  if (refused !== 0) return refused;
  if (!(length >= 0) || !Number.isSafeInteger(length)) return -Errno.EINVAL;
  if (length === 0) return 0;
  if (pipe.stream.length > 0) {
    const n = pipe.stream.readToUser(ctx, va, length, false);
    if (n > 0) {
      ctx.charge(n * IPC_BYTE_CYCLES);
      pipe.writeWait.wakeAll();
    }
    return n;
  }
  // Empty: end of file once every writer is gone.
  if (pipe.writers === 0) return 0;
  if ((file.flags & O.NONBLOCK) !== 0) return -Errno.EAGAIN;
  return ctx.sleep(pipe.readWait);
}

function pipeWrite(ctx: SysCtx, file: OpenFile, va: number, length: number, offset?: number): number {
  ctx.charge(IPC_CALL_CYCLES);
  if (offset !== undefined) return -Errno.ESPIPE;
  const { pipe, end } = file.data as PipeEnd;
  if (end !== 'write') return -Errno.EBADF;
  const refused = crossContextError(ctx, ctx.task.cid, pipe.owner);
  if (refused !== 0) return refused;
  if (!(length >= 0) || !Number.isSafeInteger(length)) return -Errno.EINVAL;
  if (length === 0) return 0;
  // No reader: SIGPIPE to the writer, and EPIPE if the signal is caught or ignored (pipe_write).
  if (pipe.readers === 0) {
    ctx.kernel.sendSignal(ctx.task.tgid, SIG.PIPE);
    return -Errno.EPIPE;
  }
  const space = pipe.stream.space;
  // PIPE_BUF atomicity: a small write waits until all of it fits; a large one takes any space.
  const fits = length <= PIPE_BUF ? space >= length : space > 0;
  if (!fits) {
    if ((file.flags & O.NONBLOCK) !== 0) return -Errno.EAGAIN;
    return ctx.sleep(pipe.writeWait);
  }
  const n = pipe.stream.writeFromUser(ctx, va, length);
  if (n > 0) {
    ctx.charge(n * IPC_BYTE_CYCLES);
    pipe.readWait.wakeAll();
  }
  return n;
}

function pipeStat(_ctx: SysCtx, file: OpenFile): Stat {
  const { pipe } = file.data as PipeEnd;
  return {
    dev: PIPEFS_DEV,
    ino: pipe.ino,
    mode: S.IFIFO | 0o600,
    nlink: 1,
    uid: pipe.uid,
    gid: pipe.gid,
    rdev: 0,
    size: 0,
    blksize: STREAM_PAGE_BYTES,
    blocks: 0,
    atime: pipe.time,
    mtime: pipe.time,
    ctime: pipe.time,
  };
}

function pipeRelease(file: OpenFile): void {
  const { pipe, end } = file.data as PipeEnd;
  if (end === 'read') pipe.readers--;
  else pipe.writers--;
  pipe.endClosed();
}

/** File operations of both ends of a pipe (the end is checked per call, as pipefs does). */
export const PIPE_OPS: FileOps = {
  read: pipeRead,
  write: pipeWrite,
  lseek: () => -Errno.ESPIPE,
  stat: pipeStat,
  release: pipeRelease,
};
