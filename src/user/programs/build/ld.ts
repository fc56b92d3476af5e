/**
 * `ld [-o OUTPUT] [-e PROGRAM] OBJECTS...`: the linker of the build workload. Checks and
 * concatenates the objects (declaring LINK_CYCLES_PER_BYTE cycles per byte). With -e the output is
 * an executable of that program (the `\x7fRCX` header), otherwise a plain linked image.
 */
import { strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { readFile, writeFile } from '../../libc/files.js';
import { defineProgram } from '../../libc/program.js';
import { executableImage } from '../../program.js';
import { isObject, LINK_CYCLES_PER_BYTE, LINKED_MAGIC } from './object.js';

/** The program `ld`. */
export const ldMain = defineProgram(function* ld(p) {
  const args = parseArgs(p.argv.slice(1), { values: 'oe' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  if (args.operands.length === 0) return yield* fail(p, 'no input files');
  const output = args.values.get('o') ?? 'a.out';
  const entry = args.values.get('e');
  const parts: Uint8Array[] = [
    entry === undefined ? new TextEncoder().encode(LINKED_MAGIC) : executableImage(entry),
  ];
  for (const object of args.operands) {
    const bytes = yield* readFile(p, object);
    if (typeof bytes === 'number') return yield* fail(p, `${object}: ${strerror(bytes)}`);
    if (!isObject(bytes)) return yield* fail(p, `${object}: file format not recognized`);
    p.cpu.compute(bytes.length * LINK_CYCLES_PER_BYTE);
    parts.push(bytes);
  }
  const image = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    image.set(part, offset);
    offset += part.length;
  }
  const written = yield* writeFile(p, output, image, 0o755);
  if (written < 0) return yield* fail(p, `${output}: ${strerror(written)}`);
  return 0;
});
