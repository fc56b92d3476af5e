/** execve with JS strings, and execvp's PATH search. */
import { Errno } from '../../kernel/uapi/errno.js';
import { DEFAULT_PATH } from './env.js';
import { flushStdio, type Proc } from './process.js';
import type { Call } from './syscall.js';
import { execveRaw } from './sys-proc.js';

/**
 * execve(2): replace the program with `path`, arguments `argv` and environment `envp` (default:
 * the process environment). Flushes stdio first. Returns only on failure, with -errno.
 */
export function* execve(
  p: Proc,
  path: string,
  argv: readonly string[],
  envp?: readonly string[],
): Call<number> {
  yield* flushStdio(p);
  const mark = p.scratch.mark();
  try {
    const pathVa = p.scratch.string(p.cpu, path);
    const argvVa = p.scratch.stringArray(p.cpu, argv);
    const envpVa = p.scratch.stringArray(p.cpu, envp ?? p.env.toStrings());
    return yield* execveRaw(pathVa, argvVa, envpVa);
  } finally {
    p.scratch.release(mark);
  }
}

/** The candidate paths execvp tries for `file` under search path `searchPath`. */
export function pathCandidates(file: string, searchPath: string): string[] {
  if (file.includes('/')) return [file];
  return searchPath.split(':').map((dir) => (dir === '' ? file : `${dir.replace(/\/+$/, '')}/${file}`));
}

/**
 * execvp(3): like execve, searching PATH (default /bin:/usr/bin:/sbin:/usr/sbin) when `file` has
 * no slash. Returns -ENOENT when no candidate exists, -EACCES when one exists but could not be
 * executed for lack of permission, or the error of the first candidate that failed otherwise.
 */
export function* execvp(
  p: Proc,
  file: string,
  argv: readonly string[],
  envp?: readonly string[],
): Call<number> {
  if (file === '') return -Errno.ENOENT;
  let sawAccess = false;
  for (const candidate of pathCandidates(file, p.env.get('PATH') ?? DEFAULT_PATH)) {
    const err = yield* execve(p, candidate, argv, envp);
    if (err === -Errno.EACCES) {
      sawAccess = true;
      continue;
    }
    if (err === -Errno.ENOENT || err === -Errno.ENOTDIR) continue;
    return err;
  }
  return sawAccess ? -Errno.EACCES : -Errno.ENOENT;
}
