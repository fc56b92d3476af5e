/** `mv SRC... DEST`: rename, into DEST when it is a directory; across file systems copy then remove. */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { rename } from '../../libc/files.js';
import { basename, join } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import { copyTree, isDirectoryPath, removeTree } from './tree.js';

/** The program `mv`. */
export const mvMain = defineProgram(function* mv(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'fin' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  if (args.operands.length < 2) return yield* fail(p, 'missing file operand');
  const sources = args.operands.slice(0, -1);
  const dest = args.operands[args.operands.length - 1]!;
  const destIsDir = yield* isDirectoryPath(p, dest);
  if (sources.length > 1 && !destIsDir) return yield* fail(p, `'${dest}' is not a directory`);
  let status = 0;
  for (const src of sources) {
    const target = destIsDir ? join(dest, basename(src)) : dest;
    let result = yield* rename(p, src, target);
    if (result === -Errno.EXDEV) {
      const failure = (yield* copyTree(p, src, target)) ?? (yield* removeTree(p, src));
      result = failure === undefined ? 0 : failure.err;
    }
    if (result < 0) {
      yield* p.stderr.print(`${p.name}: can't rename '${src}': ${strerror(result)}\n`);
      status = 1;
    }
  }
  return status;
});
