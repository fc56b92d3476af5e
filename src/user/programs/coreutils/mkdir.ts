/** `mkdir [-p] [-m MODE] dirs...`: create directories (-p: with their parents, no error if present). */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { mkdir } from '../../libc/files.js';
import { normalize } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import type { Call } from '../../libc/syscall.js';
import { isDirectoryPath } from './tree.js';

/** Every prefix directory of `path`, shortest first ("a/b/c" → a, a/b, a/b/c). */
export function pathPrefixes(path: string): string[] {
  const normal = normalize(path);
  const absolute = normal.startsWith('/');
  const parts = normal.split('/').filter((part) => part !== '');
  return parts.map((_, i) => `${absolute ? '/' : ''}${parts.slice(0, i + 1).join('/')}`);
}

function* makeParents(p: Proc, path: string, mode: number): Call<number> {
  for (const prefix of pathPrefixes(path)) {
    const result = yield* mkdir(p, prefix, mode);
    if (result === -Errno.EEXIST && (yield* isDirectoryPath(p, prefix))) continue;
    if (result < 0) return result;
  }
  return 0;
}

/** The program `mkdir`. */
export const mkdirMain = defineProgram(function* mkdirProgram(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'pv', values: 'm' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const modeText = args.values.get('m');
  const mode = modeText === undefined ? 0o777 : parseInt(modeText, 8);
  if (Number.isNaN(mode)) return yield* fail(p, `invalid mode '${modeText}'`);
  if (args.operands.length === 0) return yield* fail(p, 'missing operand');
  let status = 0;
  for (const dir of args.operands) {
    const result = args.flags.has('p') ? yield* makeParents(p, dir, mode) : yield* mkdir(p, dir, mode);
    if (result < 0) {
      yield* p.stderr.print(`${p.name}: can't create directory '${dir}': ${strerror(result)}\n`);
      status = 1;
    }
  }
  return status;
});
