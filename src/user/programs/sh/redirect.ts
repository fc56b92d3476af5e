/**
 * Applying redirections in the shell process or a child: open the target, move it onto the fd
 * (dup3), and optionally save the old fd (F_DUPFD_CLOEXEC above 10) to restore it after a builtin.
 */
import { F, O } from '../../../kernel/uapi/flags.js';
import { strerror } from '../../../kernel/uapi/errno.js';
import { close, dup3, fcntl } from '../../libc/sys-fs.js';
import { open } from '../../libc/files.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import type { RedirectOp } from './ast.js';

/** A redirection with its target expanded. */
export interface ExpandedRedirect {
  readonly fd: number;
  readonly op: RedirectOp;
  readonly target: string;
}

/** An fd saved before a redirection: `copy` is -1 when the fd was not open. */
export interface SavedFd {
  readonly fd: number;
  readonly copy: number;
}

/** Lowest fd used for saved copies (user redirections use 0..9). */
const SAVE_FD_BASE = 10;

function openFlags(op: RedirectOp): number {
  if (op === '<') return O.RDONLY;
  if (op === '>>') return O.WRONLY | O.CREAT | O.APPEND;
  return O.WRONLY | O.CREAT | O.TRUNC;
}

/**
 * Apply `redirects` in order. When `saved` is given, each fd is saved there first. Returns true, or
 * prints the busybox message ("sh: can't open 'x': No such file or directory") and returns false.
 */
export function* applyRedirects(
  p: Proc,
  redirects: readonly ExpandedRedirect[],
  saved?: SavedFd[],
): Call<boolean> {
  for (const r of redirects) {
    if (r.fd === 1) yield* p.stdout.flush();
    if (r.fd === 2) yield* p.stderr.flush();
    if (saved !== undefined && !saved.some((s) => s.fd === r.fd)) {
      const copy = yield* fcntl(r.fd, F.DUPFD_CLOEXEC, SAVE_FD_BASE);
      saved.push({ fd: r.fd, copy: isError(copy) ? -1 : copy });
    }
    if (r.op === '>&' || r.op === '<&') {
      if (r.target === '-') {
        yield* close(r.fd);
        continue;
      }
      if (!/^\d+$/.test(r.target)) {
        yield* p.stderr.print(`${p.name}: ${r.target}: bad file descriptor\n`);
        return false;
      }
      const from = Number(r.target);
      if (from !== r.fd) {
        const result = yield* dup3(from, r.fd, 0);
        if (isError(result)) {
          yield* p.stderr.print(`${p.name}: ${r.target}: ${strerror(result)}\n`);
          return false;
        }
      }
      continue;
    }
    const fd = yield* open(p, r.target, openFlags(r.op) | O.CLOEXEC, 0o666);
    if (isError(fd)) {
      const verb = r.op === '<' ? 'open' : 'create';
      yield* p.stderr.print(`${p.name}: can't ${verb} '${r.target}': ${strerror(fd)}\n`);
      return false;
    }
    if (fd !== r.fd) {
      yield* dup3(fd, r.fd, 0);
      yield* close(fd);
    } else {
      // The file landed on the wanted fd itself: clear its close-on-exec flag.
      yield* fcntl(fd, F.SETFD, 0);
    }
  }
  return true;
}

/** Undo redirections: put the saved fds back (in reverse order) and close their copies. */
export function* restoreRedirects(p: Proc, saved: readonly SavedFd[]): Call<void> {
  yield* p.stdout.flush();
  yield* p.stderr.flush();
  for (let i = saved.length - 1; i >= 0; i--) {
    const s = saved[i]!;
    if (s.copy < 0) {
      yield* close(s.fd);
    } else {
      yield* dup3(s.copy, s.fd, 0);
      yield* close(s.copy);
    }
  }
}
