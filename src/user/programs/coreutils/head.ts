/** `head [-n N] [-N] [files...]`: print the first N lines (10 by default) of each file. */
import { O } from '../../../kernel/uapi/flags.js';
import { parseArgs, parseCount } from '../../libc/args.js';
import { fail, perror } from '../../libc/errors.js';
import { open } from '../../libc/files.js';
import { LineReader } from '../../libc/line-reader.js';
import { defineProgram } from '../../libc/program.js';
import { isError } from '../../libc/syscall.js';
import { close } from '../../libc/sys-fs.js';

/** The program `head`. */
export const headMain = defineProgram(function* head(p) {
  // The historical form `head -5` means `head -n 5`.
  const argv = p.argv.slice(1).map((arg) => (/^-\d+$/.test(arg) ? `-n${arg.slice(1)}` : arg));
  const args = parseArgs(argv, { flags: 'qv', values: 'n' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const nText = args.values.get('n');
  const lines = nText === undefined ? 10 : parseCount(nText);
  if (lines === undefined) return yield* fail(p, `invalid number '${nText}'`);
  const files = args.operands.length > 0 ? args.operands : ['-'];
  let status = 0;
  for (const [i, file] of files.entries()) {
    const fd = file === '-' ? 0 : yield* open(p, file, O.RDONLY);
    if (isError(fd)) {
      yield* perror(p, file, fd);
      status = 1;
      continue;
    }
    if ((files.length > 1 && !args.flags.has('q')) || args.flags.has('v')) {
      yield* p.stdout.print(`${i > 0 ? '\n' : ''}==> ${file === '-' ? 'standard input' : file} <==\n`);
    }
    const reader = new LineReader(p, fd);
    for (let n = 0; n < lines; n++) {
      const line = yield* reader.readLineBytes();
      if (line === undefined) break;
      yield* p.stdout.write(line);
      yield* p.stdout.print('\n');
    }
    yield* reader.close();
    if (fd !== 0) yield* close(fd);
  }
  return status;
});
