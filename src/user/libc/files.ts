/**
 * File-system calls with JS strings: each copies its path arguments into the scratch area, makes
 * the call and decodes the result. Results are the value or a negated errno.
 */
import { AT, AT_FDCWD, O, S } from '../../kernel/uapi/flags.js';
import { decodeDirents, decodeStat, STAT_BYTES, type Stat } from '../../kernel/uapi/structs.js';
import { decodeUtf8 } from './cstring.js';
import { Cost } from './cost.js';
import { readToEnd, writeBytes } from './io.js';
import type { Proc } from './process.js';
import { isError, type Call } from './syscall.js';
import {
  chdirRaw as sysChdir,
  close,
  faccessat,
  fstatRaw as sysFstat,
  getcwdRaw as sysGetcwd,
  getdents64,
  linkat,
  mkdirat,
  mountRaw as sysMount,
  newfstatat,
  openat,
  readlinkat,
  renameat,
  symlinkat,
  umount2,
  unlinkat,
} from './sys-fs.js';

/** A directory entry. */
export interface DirEntry {
  readonly ino: number;
  /** d_type (DT.*). */
  readonly type: number;
  readonly name: string;
}

/** Run `body` with a scratch mark released afterwards. */
function* scoped<T>(p: Proc, body: () => Call<T>): Call<T> {
  const mark = p.scratch.mark();
  try {
    return yield* body();
  } finally {
    p.scratch.release(mark);
  }
}

/** open(2) relative to the current directory; the fd or -errno. */
export function open(p: Proc, path: string, flags: number, mode = 0o666): Call<number> {
  return scoped(p, () => openat(AT_FDCWD, p.scratch.string(p.cpu, path), flags, mode));
}

function* statCall(p: Proc, path: string, flags: number): Call<Stat | number> {
  return yield* scoped(p, function* () {
    const pathVa = p.scratch.string(p.cpu, path);
    const st = p.scratch.alloc(STAT_BYTES);
    const result = yield* newfstatat(AT_FDCWD, pathVa, st, flags);
    if (isError(result)) return result;
    return decodeStat(p.cpu.readBytes(st, STAT_BYTES));
  });
}

/** stat(2) (following symlinks). */
export function stat(p: Proc, path: string): Call<Stat | number> {
  return statCall(p, path, 0);
}

/** lstat(2). */
export function lstat(p: Proc, path: string): Call<Stat | number> {
  return statCall(p, path, AT.SYMLINK_NOFOLLOW);
}

/** fstat(2). */
export function* fstat(p: Proc, fd: number): Call<Stat | number> {
  return yield* scoped(p, function* () {
    const st = p.scratch.alloc(STAT_BYTES);
    const result = yield* sysFstat(fd, st);
    if (isError(result)) return result;
    return decodeStat(p.cpu.readBytes(st, STAT_BYTES));
  });
}

/** True when st_mode is a directory / regular file / symlink. */
export function isDirectory(mode: number): boolean {
  return (mode & S.IFMT) === S.IFDIR;
}
export function isRegular(mode: number): boolean {
  return (mode & S.IFMT) === S.IFREG;
}
export function isSymlink(mode: number): boolean {
  return (mode & S.IFMT) === S.IFLNK;
}

/** mkdir(2). */
export function mkdir(p: Proc, path: string, mode = 0o777): Call<number> {
  return scoped(p, () => mkdirat(AT_FDCWD, p.scratch.string(p.cpu, path), mode));
}

/** unlink(2). */
export function unlink(p: Proc, path: string): Call<number> {
  return scoped(p, () => unlinkat(AT_FDCWD, p.scratch.string(p.cpu, path), 0));
}

/** rmdir(2). */
export function rmdir(p: Proc, path: string): Call<number> {
  return scoped(p, () => unlinkat(AT_FDCWD, p.scratch.string(p.cpu, path), AT.REMOVEDIR));
}

/** rename(2). */
export function rename(p: Proc, from: string, to: string): Call<number> {
  return scoped(p, () =>
    renameat(AT_FDCWD, p.scratch.string(p.cpu, from), AT_FDCWD, p.scratch.string(p.cpu, to)),
  );
}

/** symlink(2): make `path` a symbolic link to `target`. */
export function symlink(p: Proc, target: string, path: string): Call<number> {
  return scoped(p, () => symlinkat(p.scratch.string(p.cpu, target), AT_FDCWD, p.scratch.string(p.cpu, path)));
}

/** link(2). */
export function link(p: Proc, from: string, to: string): Call<number> {
  return scoped(p, () =>
    linkat(AT_FDCWD, p.scratch.string(p.cpu, from), AT_FDCWD, p.scratch.string(p.cpu, to), 0),
  );
}

/** readlink(2): the target or -errno. */
export function* readlink(p: Proc, path: string): Call<string | number> {
  return yield* scoped(p, function* () {
    const pathVa = p.scratch.string(p.cpu, path);
    const buffer = p.scratch.alloc(4096, 1);
    const n = yield* readlinkat(AT_FDCWD, pathVa, buffer, 4096);
    if (isError(n)) return n;
    return decodeUtf8(p.cpu.readBytes(buffer, n));
  });
}

/** access(2) with F_OK/R_OK/W_OK/X_OK bits in `mode`. */
export function access(p: Proc, path: string, mode: number): Call<number> {
  return scoped(p, () => faccessat(AT_FDCWD, p.scratch.string(p.cpu, path), mode));
}

/** chdir(2). */
export function chdir(p: Proc, path: string): Call<number> {
  return scoped(p, () => sysChdir(p.scratch.string(p.cpu, path)));
}

/** getcwd(2): the current directory or -errno. */
export function* getcwd(p: Proc): Call<string | number> {
  return yield* scoped(p, function* () {
    const buffer = p.scratch.alloc(4096, 1);
    const n = yield* sysGetcwd(buffer, 4096);
    if (isError(n)) return n;
    const bytes = p.cpu.readBytes(buffer, Math.max(0, n));
    const nul = bytes.indexOf(0);
    return decodeUtf8(nul >= 0 ? bytes.subarray(0, nul) : bytes);
  });
}

/** mount(2) with string arguments (`data` empty = NULL). */
export function mount(
  p: Proc,
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data = '',
): Call<number> {
  return scoped(p, () =>
    sysMount(
      p.scratch.string(p.cpu, source),
      p.scratch.string(p.cpu, target),
      p.scratch.string(p.cpu, fstype),
      flags,
      data === '' ? 0 : p.scratch.string(p.cpu, data),
    ),
  );
}

/** umount2(2). */
export function umount(p: Proc, target: string, flags = 0): Call<number> {
  return scoped(p, () => umount2(p.scratch.string(p.cpu, target), flags));
}

/** The entries of directory `path` (including "." and ".." as the kernel lists them), or -errno. */
export function* listDirectory(p: Proc, path: string): Call<DirEntry[] | number> {
  const fd = yield* open(p, path, O.RDONLY | O.DIRECTORY);
  if (isError(fd)) return fd;
  const BUFFER = 4096;
  const buffer = yield* p.heap.malloc(BUFFER);
  const entries: DirEntry[] = [];
  try {
    for (;;) {
      const n = yield* getdents64(fd, buffer, BUFFER);
      if (isError(n)) return n;
      if (n === 0) break;
      const records = decodeDirents(p.cpu.readBytes(buffer, n));
      p.cpu.compute(records.length * Cost.perLine);
      entries.push(...records);
    }
  } finally {
    yield* p.heap.free(buffer);
    yield* close(fd);
  }
  return entries;
}

/** The whole content of file `path`, or -errno. */
export function* readFile(p: Proc, path: string): Call<Uint8Array | number> {
  const fd = yield* open(p, path, O.RDONLY);
  if (isError(fd)) return fd;
  try {
    return yield* readToEnd(p, fd);
  } finally {
    yield* close(fd);
  }
}

/** The whole content of file `path` as text, or -errno. */
export function* readTextFile(p: Proc, path: string): Call<string | number> {
  const bytes = yield* readFile(p, path);
  return typeof bytes === 'number' ? bytes : decodeUtf8(bytes);
}

/** Create or truncate `path` and write `bytes` to it; bytes written or -errno. */
export function* writeFile(p: Proc, path: string, bytes: Uint8Array, mode = 0o644): Call<number> {
  const fd = yield* open(p, path, O.WRONLY | O.CREAT | O.TRUNC, mode);
  if (isError(fd)) return fd;
  try {
    return yield* writeBytes(p, fd, bytes);
  } finally {
    yield* close(fd);
  }
}
