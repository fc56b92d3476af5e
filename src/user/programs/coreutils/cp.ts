/** `cp [-r|-R|-a] [-f] SRC... DEST`: copy files (and trees with -r) into a file or a directory. */
import { strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { isDirectory, stat } from '../../libc/files.js';
import { basename, join } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import { copyFile, copyTree, isDirectoryPath } from './tree.js';

/** The program `cp`. */
export const cpMain = defineProgram(function* cp(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'rRafp' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const recursive = args.flags.has('r') || args.flags.has('R') || args.flags.has('a');
  if (args.operands.length < 2) return yield* fail(p, 'missing file operand');
  const sources = args.operands.slice(0, -1);
  const dest = args.operands[args.operands.length - 1]!;
  const destIsDir = yield* isDirectoryPath(p, dest);
  if (sources.length > 1 && !destIsDir) return yield* fail(p, `'${dest}' is not a directory`);
  let status = 0;
  for (const src of sources) {
    const target = destIsDir ? join(dest, basename(src)) : dest;
    const st = yield* stat(p, src);
    if (typeof st === 'number') {
      yield* p.stderr.print(`${p.name}: can't stat '${src}': ${strerror(st)}\n`);
      status = 1;
      continue;
    }
    if (isDirectory(st.mode) && !recursive) {
      yield* p.stderr.print(`${p.name}: omitting directory '${src}'\n`);
      status = 1;
      continue;
    }
    const failure = isDirectory(st.mode)
      ? yield* copyTree(p, src, target)
      : yield* copyFile(p, src, target, st.mode);
    if (failure !== undefined) {
      yield* p.stderr.print(`${p.name}: ${failure.path}: ${strerror(failure.err)}\n`);
      status = 1;
    }
  }
  return status;
});
