/**
 * Open files: what a file descriptor names. Every kind of file (regular, directory, device, pipe,
 * socket, proc entry) provides the operations it supports; the others fail as Linux fails them.
 * Operations touch user memory only through the SysCtx (the task's address space, via the PE), and
 * file data only through kernel pages in simulated memory (KernelPages).
 */
import type { Stat } from '../uapi/structs.js';
import type { SysCtx } from './ctx.js';

/** Operations of an open file. Results: a count or 0, or a negated errno, or -ERESTARTSYS to block. */
export interface FileOps {
  /** Read up to `length` bytes into user memory at `va` (at `offset` for pread, else the file offset). */
  read?(ctx: SysCtx, file: OpenFile, va: number, length: number, offset?: number): number;
  /** Write `length` bytes from user memory at `va`. */
  write?(ctx: SysCtx, file: OpenFile, va: number, length: number, offset?: number): number;
  /** Reposition the offset; the new offset or -errno. */
  lseek?(ctx: SysCtx, file: OpenFile, offset: number, whence: number): number;
  /** Fill linux_dirent64 records into user memory; bytes written, 0 at the end. */
  getdents?(ctx: SysCtx, file: OpenFile, va: number, length: number): number;
  ioctl?(ctx: SysCtx, file: OpenFile, request: number, arg: number): number;
  stat(ctx: SysCtx, file: OpenFile): Stat | number;
  fsync?(ctx: SysCtx, file: OpenFile): number;
  truncate?(ctx: SysCtx, file: OpenFile, length: number): number;
  /**
   * Called when the last descriptor referring to the open file is closed: `ctx` is the closing
   * task's system call when there is one (close, dup3, exec, exit), in that task's context.
   */
  release?(file: OpenFile, ctx?: SysCtx): void;
}

/**
 * Which stream of which console session a console descriptor made by the runtime is (stdin and
 * stdout: 1, stderr: 2, as runc's pipes would be): the host tells the streams and sessions apart,
 * and a session may have input of its own (console.ts).
 */
export interface StdioTag {
  /** 0: the container's own output (its init and children); n > 0: exec session n. */
  readonly session: number;
  readonly stream: 1 | 2;
}

/** An open file description (shared by dup'd descriptors and across fork). */
export class OpenFile {
  /** The operations of the file's kind. */
  readonly ops: FileOps;
  /** Open flags (O_ACCMODE, O_APPEND, O_NONBLOCK ...); fcntl(F_SETFL) changes some of them. */
  flags: number;
  /** The kind's private state (an inode, a pipe end, a socket). */
  readonly data: unknown;
  offset = 0;
  /** Descriptors (in any task) referring to this description. */
  refs = 0;
  /** For a console descriptor the runtime made: its session and stream. */
  stdio: StdioTag | undefined = undefined;

  constructor(ops: FileOps, flags: number, data: unknown) {
    this.ops = ops;
    this.flags = flags;
    this.data = data;
  }
}

/** A task's descriptor table: fd → open file, with the close-on-exec flag. */
export class FdTable {
  private readonly files: (OpenFile | undefined)[] = [];
  private readonly cloexec: boolean[] = [];
  /** RLIMIT_NOFILE. */
  static readonly LIMIT = 1024;

  /** The open file of `fd`, if any. */
  get(fd: number): OpenFile | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.files[fd] : undefined;
  }

  /** Install `file` at the lowest free fd ≥ `min`; the fd or -EMFILE (as a negative number). */
  install(file: OpenFile, cloexec = false, min = 0): number {
    for (let fd = min; fd < FdTable.LIMIT; fd++) {
      if (this.files[fd] === undefined) {
        this.setAt(fd, file, cloexec);
        return fd;
      }
    }
    return -24;
  }

  /** Put `file` at `fd`, closing what was there. */
  setAt(fd: number, file: OpenFile, cloexec = false, ctx?: SysCtx): void {
    const old = this.files[fd];
    file.refs++;
    this.files[fd] = file;
    this.cloexec[fd] = cloexec;
    if (old !== undefined) release(old, ctx);
  }

  /** Close `fd`; false if it was not open. */
  close(fd: number, ctx?: SysCtx): boolean {
    const file = this.get(fd);
    if (file === undefined) return false;
    this.files[fd] = undefined;
    this.cloexec[fd] = false;
    release(file, ctx);
    return true;
  }

  isCloexec(fd: number): boolean {
    return this.cloexec[fd] === true;
  }

  setCloexec(fd: number, value: boolean): void {
    if (this.files[fd] !== undefined) this.cloexec[fd] = value;
  }

  /** A copy for fork (each open file gains a reference). */
  clone(): FdTable {
    const copy = new FdTable();
    this.files.forEach((file, fd) => {
      if (file !== undefined) copy.setAt(fd, file, this.cloexec[fd] === true);
    });
    return copy;
  }

  /** Close every close-on-exec descriptor (execve). */
  closeOnExec(ctx?: SysCtx): void {
    this.files.forEach((file, fd) => {
      if (file !== undefined && this.cloexec[fd] === true) this.close(fd, ctx);
    });
  }

  /** Close everything (exit). */
  closeAll(ctx?: SysCtx): void {
    this.files.forEach((file, fd) => {
      if (file !== undefined) this.close(fd, ctx);
    });
  }

  /** Open descriptors in order, for /proc/<pid>/fd. */
  entries(): [number, OpenFile][] {
    const out: [number, OpenFile][] = [];
    this.files.forEach((file, fd) => {
      if (file !== undefined) out.push([fd, file]);
    });
    return out;
  }
}

function release(file: OpenFile, ctx?: SysCtx): void {
  file.refs--;
  if (file.refs === 0) file.ops.release?.(file, ctx);
}
