/** `cat [files...]`: copy files (or standard input, `-`) to standard output through a heap buffer. */
import { O } from '../../../kernel/uapi/flags.js';
import { perror } from '../../libc/errors.js';
import { open } from '../../libc/files.js';
import { defineProgram } from '../../libc/program.js';
import { isError } from '../../libc/syscall.js';
import { close } from '../../libc/sys-fs.js';
import { copyFd } from './tree.js';

/** The program `cat`. */
export const catMain = defineProgram(function* cat(p) {
  const files = p.argv.length > 1 ? p.argv.slice(1) : ['-'];
  let status = 0;
  for (const file of files) {
    const fd = file === '-' ? 0 : yield* open(p, file, O.RDONLY);
    if (isError(fd)) {
      yield* perror(p, file, fd);
      status = 1;
      continue;
    }
    const result = yield* copyFd(p, fd, 1);
    if (isError(result)) {
      yield* perror(p, file, result);
      status = 1;
    }
    if (fd !== 0) yield* close(fd);
  }
  return status;
});
