/** `rm [-r|-R] [-f] paths...`: remove files (and trees with -r); -f ignores missing files. */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { isDirectory, lstat, unlink } from '../../libc/files.js';
import { defineProgram } from '../../libc/program.js';
import { isError } from '../../libc/syscall.js';
import { removeTree } from './tree.js';

/** The program `rm`. */
export const rmMain = defineProgram(function* rm(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'rRfi' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const recursive = args.flags.has('r') || args.flags.has('R');
  const force = args.flags.has('f');
  if (args.operands.length === 0 && !force) return yield* fail(p, 'missing operand');
  let status = 0;
  for (const path of args.operands) {
    const st = yield* lstat(p, path);
    let err = 0;
    let where = path;
    if (typeof st === 'number') err = st;
    else if (isDirectory(st.mode) && !recursive) err = -Errno.EISDIR;
    else if (isDirectory(st.mode)) {
      const failure = yield* removeTree(p, path);
      if (failure !== undefined) {
        err = failure.err;
        where = failure.path;
      }
    } else {
      const result = yield* unlink(p, path);
      if (isError(result)) err = result;
    }
    if (err === 0 || (force && err === -Errno.ENOENT)) continue;
    yield* p.stderr.print(`${p.name}: can't remove '${where}': ${strerror(err)}\n`);
    status = 1;
  }
  return status;
});
