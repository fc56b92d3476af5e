/** `ln [-s] [-f] TARGET LINK` or `ln [-s] [-f] TARGET... DIR`: make hard or symbolic links. */
import { strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { link, symlink, unlink } from '../../libc/files.js';
import { basename, join } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import { isDirectoryPath } from './tree.js';

/** The program `ln`. */
export const lnMain = defineProgram(function* ln(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'sfnv' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const operands = args.operands;
  if (operands.length === 0) return yield* fail(p, 'missing file operand');
  const single = operands.length === 1;
  const targets = single ? operands : operands.slice(0, -1);
  const last = operands[operands.length - 1]!;
  const intoDir = single || (yield* isDirectoryPath(p, last));
  if (targets.length > 1 && !intoDir) return yield* fail(p, `'${last}' is not a directory`);
  let status = 0;
  for (const target of targets) {
    const linkPath = single ? basename(target) : intoDir ? join(last, basename(target)) : last;
    if (args.flags.has('f')) yield* unlink(p, linkPath);
    const result = args.flags.has('s')
      ? yield* symlink(p, target, linkPath)
      : yield* link(p, target, linkPath);
    if (result < 0) {
      yield* p.stderr.print(`${p.name}: ${linkPath}: ${strerror(result)}\n`);
      status = 1;
    }
  }
  return status;
});
