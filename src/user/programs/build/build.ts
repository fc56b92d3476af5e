/**
 * `build [-n STEPS] [-j JOBS] [-s BYTES] [-d DIR]`: a build-like job. Writes STEPS generated
 * sources (about BYTES each) into DIR (default /tmp/build-<pid>), compiles each with a fork+execve
 * of `cc` (up to JOBS at a time), then links them with `ld`, and reports the simulated time.
 */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs, parseCount } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { execvp } from '../../libc/exec.js';
import { mkdir, stat, writeFile } from '../../libc/files.js';
import { fork } from '../../libc/fork.js';
import { format } from '../../libc/format.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import { isError, type Call } from '../../libc/syscall.js';
import { getpid } from '../../libc/sys-proc.js';
import { clockNs } from '../../libc/time.js';
import { waitpid } from '../../libc/wait.js';
import { generateSource } from './object.js';

/** Run `argv` in a child (fork + execvp); its pid or -errno. */
function* spawn(p: Proc, argv: readonly string[]): Call<number> {
  return yield* fork(p, function* child(cp) {
    const err = yield* execvp(cp, argv[0]!, argv);
    yield* cp.stderr.print(`build: ${argv[0]}: ${strerror(err)}\n`);
    return err === -Errno.ENOENT ? 127 : 126;
  });
}

/** Wait for `pid`; true when it exited with 0. */
function* succeeded(p: Proc, pid: number): Call<boolean> {
  const result = yield* waitpid(p, pid);
  return typeof result !== 'number' && result.exited && result.code === 0;
}

/** The program `build`. */
export const buildMain = defineProgram(function* build(p) {
  const args = parseArgs(p.argv.slice(1), { values: 'njsd' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const steps = parseCount(args.values.get('n') ?? args.operands[0] ?? '8');
  const jobs = parseCount(args.values.get('j') ?? '1');
  const sourceBytes = parseCount(args.values.get('s') ?? '4096');
  if (steps === undefined || steps === 0 || jobs === undefined || jobs === 0 || sourceBytes === undefined) {
    return yield* fail(p, 'usage: build [-n STEPS] [-j JOBS] [-s BYTES] [-d DIR]');
  }
  const dir = args.values.get('d') ?? `/tmp/build-${yield* getpid()}`;
  const made = yield* mkdir(p, dir, 0o755);
  if (isError(made) && made !== -Errno.EEXIST) return yield* fail(p, `${dir}: ${strerror(made)}`);
  const start = yield* clockNs(p);
  const objects: string[] = [];
  for (let i = 0; i < steps; i++) {
    const written = yield* writeFile(
      p,
      `${dir}/m${i}.c`,
      new TextEncoder().encode(generateSource(i, sourceBytes)),
    );
    if (written < 0) return yield* fail(p, `${dir}/m${i}.c: ${strerror(written)}`);
    objects.push(`${dir}/m${i}.o`);
  }
  const running: number[] = [];
  let failed = 0;
  for (let i = 0; i < steps; i++) {
    if (running.length >= jobs && !(yield* succeeded(p, running.shift()!))) failed++;
    const pid = yield* spawn(p, ['cc', '-c', '-o', objects[i]!, `${dir}/m${i}.c`]);
    if (isError(pid)) return yield* fail(p, `fork: ${strerror(pid)}`);
    running.push(pid);
  }
  for (const pid of running) if (!(yield* succeeded(p, pid))) failed++;
  if (failed > 0) return yield* fail(p, `${failed} compilation(s) failed`);
  const output = `${dir}/a.out`;
  const linker = yield* spawn(p, ['ld', '-o', output, ...objects]);
  if (isError(linker) || !(yield* succeeded(p, linker))) return yield* fail(p, 'link failed');
  const end = yield* clockNs(p);
  const st = yield* stat(p, output);
  const size = typeof st === 'number' ? 0 : st.size;
  yield* p.stdout.print(
    format(
      'build: %d objects, linked %s (%d bytes) in %.3f ms (simulated)\n',
      steps,
      output,
      size,
      (end - start) / 1e6,
    ),
  );
  return 0;
});
