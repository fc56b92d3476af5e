/**
 * `cc [-c] -o OUTPUT SOURCE`: the compiler of the build workload. Reads the source into a heap
 * buffer, declares COMPILE_CYCLES_PER_BYTE cycles per byte, writes the object file.
 */
import { strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { readFile, writeFile } from '../../libc/files.js';
import { basename } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import { COMPILE_CYCLES_PER_BYTE, compile } from './object.js';

/** The program `cc`. */
export const ccMain = defineProgram(function* cc(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'cgO', values: 'oI' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const source = args.operands[0];
  if (source === undefined || args.operands.length !== 1)
    return yield* fail(p, 'usage: cc [-c] -o OUTPUT SOURCE');
  const output = args.values.get('o') ?? `${basename(source).replace(/\.c$/, '')}.o`;
  const text = yield* readFile(p, source);
  if (typeof text === 'number') return yield* fail(p, `${source}: ${strerror(text)}`);
  p.cpu.compute(text.length * COMPILE_CYCLES_PER_BYTE);
  const written = yield* writeFile(p, output, compile(basename(source), text));
  if (written < 0) return yield* fail(p, `${output}: ${strerror(written)}`);
  return 0;
});
