/** `hostname [NAME]`: print the host name (uname nodename), or set it (sethostname). */
import { strerror } from '../../../kernel/uapi/errno.js';
import { UTSNAME_BYTES, UTSNAME_FIELD } from '../../../kernel/uapi/structs.js';
import { readCString } from '../../libc/cstring.js';
import { defineProgram } from '../../libc/program.js';
import { isError } from '../../libc/syscall.js';
import { sethostname, uname } from '../../libc/sys-proc.js';

/** Offset of the nodename field in struct utsname (after sysname). */
const NODENAME_OFFSET = UTSNAME_FIELD;

/** The program `hostname`. */
export const hostnameMain = defineProgram(function* hostname(p) {
  const name = p.argv[1];
  const mark = p.scratch.mark();
  try {
    if (name === undefined) {
      const buf = p.scratch.alloc(UTSNAME_BYTES);
      const result = yield* uname(buf);
      if (isError(result)) {
        yield* p.stderr.print(`${p.name}: uname: ${strerror(result)}\n`);
        return 1;
      }
      yield* p.stdout.print(`${readCString(p.cpu, buf + NODENAME_OFFSET, UTSNAME_FIELD)}\n`);
      return 0;
    }
    const bytes = new TextEncoder().encode(name);
    const result = yield* sethostname(p.scratch.bytes(p.cpu, bytes, 1), bytes.length);
    if (isError(result)) {
      yield* p.stderr.print(`${p.name}: sethostname: ${strerror(result)}\n`);
      return 1;
    }
    return 0;
  } finally {
    p.scratch.release(mark);
  }
});
