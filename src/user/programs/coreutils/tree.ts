/**
 * File-tree helpers shared by cp, mv and rm: copy a file through a heap buffer (the data stays in
 * user memory), copy a tree, remove a tree. Errors are reported busybox-style by the caller; the
 * helpers return 0 or the first -errno with the path it concerns.
 */
import { Errno } from '../../../kernel/uapi/errno.js';
import { O } from '../../../kernel/uapi/flags.js';
import { Cost } from '../../libc/cost.js';
import {
  isDirectory,
  isSymlink,
  listDirectory,
  lstat,
  mkdir,
  open,
  readlink,
  rmdir,
  stat,
  symlink,
  unlink,
} from '../../libc/files.js';
import { writeAll } from '../../libc/io.js';
import { join } from '../../libc/path.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { close, read } from '../../libc/sys-fs.js';

/** A failure: the errno and the path it is about. */
export interface TreeError {
  readonly err: number;
  readonly path: string;
}

/** Size of the copy buffer. */
export const COPY_BUFFER_BYTES = 16 * 1024;

/** Copy fd to fd through a heap buffer; 0 or -errno. */
export function* copyFd(p: Proc, from: number, to: number): Call<number> {
  const buffer = yield* p.heap.malloc(COPY_BUFFER_BYTES);
  if (buffer === 0) return -Errno.ENOMEM;
  try {
    for (;;) {
      const n = yield* read(from, buffer, COPY_BUFFER_BYTES);
      if (isError(n)) return n;
      if (n === 0) return 0;
      p.cpu.compute(n * Cost.perCopiedByte);
      const written = yield* writeAll(to, buffer, n);
      if (isError(written)) return written;
    }
  } finally {
    yield* p.heap.free(buffer);
  }
}

/** Copy regular file `src` to `dst` (created with `mode`, truncated if it exists). */
export function* copyFile(p: Proc, src: string, dst: string, mode: number): Call<TreeError | undefined> {
  const from = yield* open(p, src, O.RDONLY);
  if (isError(from)) return { err: from, path: src };
  const to = yield* open(p, dst, O.WRONLY | O.CREAT | O.TRUNC, mode & 0o7777);
  if (isError(to)) {
    yield* close(from);
    return { err: to, path: dst };
  }
  const result = yield* copyFd(p, from, to);
  yield* close(from);
  yield* close(to);
  return isError(result) ? { err: result, path: dst } : undefined;
}

/** Copy `src` (file, symlink or directory tree) to `dst`. */
export function* copyTree(p: Proc, src: string, dst: string): Call<TreeError | undefined> {
  const st = yield* lstat(p, src);
  if (typeof st === 'number') return { err: st, path: src };
  if (isSymlink(st.mode)) {
    const target = yield* readlink(p, src);
    if (typeof target === 'number') return { err: target, path: src };
    const result = yield* symlink(p, target, dst);
    return isError(result) ? { err: result, path: dst } : undefined;
  }
  if (!isDirectory(st.mode)) return yield* copyFile(p, src, dst, st.mode);
  const made = yield* mkdir(p, dst, st.mode & 0o7777);
  if (isError(made) && made !== -Errno.EEXIST) return { err: made, path: dst };
  const entries = yield* listDirectory(p, src);
  if (typeof entries === 'number') return { err: entries, path: src };
  for (const entry of entries) {
    if (entry.name === '.' || entry.name === '..') continue;
    const failure = yield* copyTree(p, join(src, entry.name), join(dst, entry.name));
    if (failure !== undefined) return failure;
  }
  return undefined;
}

/** Remove `path` and, if it is a directory, everything under it. */
export function* removeTree(p: Proc, path: string): Call<TreeError | undefined> {
  const st = yield* lstat(p, path);
  if (typeof st === 'number') return { err: st, path };
  if (!isDirectory(st.mode)) {
    const result = yield* unlink(p, path);
    return isError(result) ? { err: result, path } : undefined;
  }
  const entries = yield* listDirectory(p, path);
  if (typeof entries === 'number') return { err: entries, path };
  for (const entry of entries) {
    if (entry.name === '.' || entry.name === '..') continue;
    const failure = yield* removeTree(p, join(path, entry.name));
    if (failure !== undefined) return failure;
  }
  const result = yield* rmdir(p, path);
  return isError(result) ? { err: result, path } : undefined;
}

/** True when `path` names a directory (following symlinks). */
export function* isDirectoryPath(p: Proc, path: string): Call<boolean> {
  const st = yield* stat(p, path);
  return typeof st !== 'number' && isDirectory(st.mode);
}
