/**
 * `nsenter --net=FILE PROGRAM [ARGS...]` or `nsenter -t PID -n PROGRAM [ARGS...]`: join a network
 * namespace (setns(2) on FILE, or /proc/PID/ns/net) and execute PROGRAM there, as util-linux
 * nsenter does for its network option. Exit codes as util-linux: 1 when the namespace cannot be
 * joined, 127 when PROGRAM is not found, 126 when it cannot be executed.
 */
import { CLONE, O } from '../../../kernel/uapi/flags.js';
import { Errno } from '../../../kernel/uapi/errno.js';
import { fail, perror } from '../../libc/errors.js';
import { execvp } from '../../libc/exec.js';
import { open } from '../../libc/files.js';
import { defineProgram } from '../../libc/program.js';
import { isError, syscall } from '../../libc/syscall.js';
import { close } from '../../libc/sys-fs.js';
import { Sys } from '../../../kernel/uapi/syscalls.js';

const USAGE = 'usage: nsenter --net=FILE | -t PID -n [--] PROGRAM [ARGS...]';

/** The namespace file and the command of the arguments, or a usage error. */
function parseArgs(args: readonly string[]): { file: string; command: string[] } | string {
  let file: string | undefined;
  let pid: string | undefined;
  let net = false;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.startsWith('--net=')) file = arg.slice('--net='.length);
    else if (arg === '-n' || arg === '--net') net = true;
    else if (arg === '-t' || arg === '--target') pid = args[++i];
    else if (arg.startsWith('-')) return `unknown option '${arg}'`;
    else break;
  }
  if (file === undefined && net && pid !== undefined && /^\d+$/.test(pid)) file = `/proc/${pid}/ns/net`;
  const command = args.slice(i);
  if (file === undefined || file === '' || command.length === 0) return USAGE;
  return { file, command };
}

/** The program `nsenter`. */
export const nsenterMain = defineProgram(function* nsenter(p) {
  const parsed = parseArgs(p.argv.slice(1));
  if (typeof parsed === 'string') return yield* fail(p, parsed);
  const fd = yield* open(p, parsed.file, O.RDONLY);
  if (isError(fd)) {
    yield* perror(p, `cannot open ${parsed.file}`, fd);
    return 1;
  }
  const joined = yield* syscall(Sys.setns, fd, CLONE.NEWNET);
  yield* close(fd);
  if (isError(joined)) {
    yield* perror(p, 'setns', joined);
    return 1;
  }
  const program = parsed.command[0]!;
  const err = yield* execvp(p, program, parsed.command);
  yield* perror(p, `failed to execute ${program}`, err);
  return err === -Errno.ENOENT ? 127 : 126;
});
