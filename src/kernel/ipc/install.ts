/**
 * Installing new open files in the caller's descriptor table, undoing everything when a step fails
 * (shared by pipe2, socket, socketpair and accept).
 */
import type { SysCtx } from '../core/ctx.js';
import type { OpenFile } from '../core/file.js';
import { Errno } from '../uapi/errno.js';

/** Release an open file that never got a descriptor (no reference ever taken). */
export function discardFile(file: OpenFile): void {
  if (file.refs === 0) file.ops.release?.(file);
}

/** Install `file` at the lowest free descriptor; the fd, or -EMFILE after releasing the file. */
export function installFile(ctx: SysCtx, file: OpenFile, cloexec: boolean): number {
  const fd = ctx.task.files.install(file, cloexec);
  if (fd < 0) discardFile(file);
  return fd;
}

/**
 * Install two files and store their descriptors as two ints at `fdsVa` (pipe2, socketpair).
 * 0, or -EMFILE / -EFAULT with both files closed again.
 */
export function installPair(
  ctx: SysCtx,
  first: OpenFile,
  second: OpenFile,
  fdsVa: number,
  cloexec: boolean,
): number {
  const fd0 = ctx.task.files.install(first, cloexec);
  if (fd0 < 0) {
    discardFile(first);
    discardFile(second);
    return fd0;
  }
  const fd1 = ctx.task.files.install(second, cloexec);
  if (fd1 < 0) {
    ctx.task.files.close(fd0);
    discardFile(second);
    return fd1;
  }
  if (!ctx.writeU32(fdsVa, fd0) || !ctx.writeU32(fdsVa + 4, fd1)) {
    ctx.task.files.close(fd0);
    ctx.task.files.close(fd1);
    return -Errno.EFAULT;
  }
  return 0;
}
