/** Error reporting in the busybox style: "prog: what: No such file or directory" on stderr. */
import { strerror } from '../../kernel/uapi/errno.js';
import type { Proc } from './process.js';
import type { Call } from './syscall.js';

/** Print "NAME: message" on stderr. */
export function* warn(p: Proc, message: string): Call<void> {
  yield* p.stderr.print(`${p.name}: ${message}\n`);
}

/** Print "NAME: what: strerror(err)" on stderr (perror). */
export function* perror(p: Proc, what: string, err: number): Call<void> {
  yield* warn(p, `${what}: ${strerror(err)}`);
}

/** Print "NAME: message" and return `code` (for `return yield* fail(p, ...)`). */
export function* fail(p: Proc, message: string, code = 1): Call<number> {
  yield* warn(p, message);
  return code;
}

export { strerror };
