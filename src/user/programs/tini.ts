/**
 * `tini [--] PROGRAM [ARGS...]`: a minimal init for containers, as tini (Docker's `--init`) is.
 * As a pid namespace's init, a program gets no signal it has no handler for (pid_namespaces(7)),
 * so `stop`'s SIGTERM never reaches a `sleep` or a shell that is pid 1. tini runs PROGRAM as its
 * child, forwards the usual termination and user signals to it, reaps every orphan the namespace
 * hands it, and exits as PROGRAM did: its exit code, or 128 + the signal that killed it.
 */
import { Errno, strerror } from '../../kernel/uapi/errno.js';
import { SIG } from '../../kernel/uapi/flags.js';
import { fail } from '../libc/errors.js';
import { execvp } from '../libc/exec.js';
import { fork } from '../libc/fork.js';
import { defineProgram } from '../libc/program.js';
import { sigaction } from '../libc/signal.js';
import { kill } from '../libc/sys-proc.js';
import { shellStatus, waitpid } from '../libc/wait.js';

/** Signals tini passes on to its child (tini's defaults: all but the ones it cannot catch). */
const FORWARDED = [SIG.HUP, SIG.INT, SIG.QUIT, SIG.USR1, SIG.USR2, SIG.TERM, SIG.ALRM];

/** The program `tini`. */
export const tiniMain = defineProgram(function* tini(p) {
  const command = p.argv[1] === '--' ? p.argv.slice(2) : p.argv.slice(1);
  if (command.length === 0) return yield* fail(p, 'usage: tini [--] PROGRAM [ARGS...]');
  const child = yield* fork(p, function* (c) {
    const err = yield* execvp(c, command[0]!, command);
    yield* c.stderr.print(`tini: exec ${command[0]!} failed: ${strerror(err)}\n`);
    return err === -Errno.ENOENT ? 127 : 126;
  });
  if (child < 0) return yield* fail(p, `fork: ${strerror(child)}`);
  for (const sig of FORWARDED) {
    yield* sigaction(p, sig, function* (_q, caught) {
      yield* kill(child, caught);
    });
  }
  // Reap whatever dies (orphans of the namespace come to pid 1) until the child itself has.
  for (;;) {
    const reaped = yield* waitpid(p, -1);
    if (typeof reaped === 'number') {
      if (reaped === -Errno.EINTR) continue;
      return yield* fail(p, `wait: ${strerror(reaped)}`);
    }
    if (reaped.pid === child) return shellStatus(reaped);
  }
});
