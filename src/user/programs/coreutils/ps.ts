/** `ps`: list processes from /proc: the PID and CMD (the Name: line of /proc/<pid>/status). */
import { perror } from '../../libc/errors.js';
import { listDirectory, readTextFile } from '../../libc/files.js';
import { format } from '../../libc/format.js';
import { defineProgram } from '../../libc/program.js';

/** The value of field `name` in a /proc/<pid>/status text ("Name:\tsh" → "sh"). */
export function statusField(status: string, name: string): string | undefined {
  for (const line of status.split('\n')) {
    if (line.startsWith(`${name}:`)) return line.slice(name.length + 1).trim();
  }
  return undefined;
}

/** The program `ps`. */
export const psMain = defineProgram(function* ps(p) {
  const entries = yield* listDirectory(p, '/proc');
  if (typeof entries === 'number') {
    yield* perror(p, '/proc', entries);
    return 1;
  }
  const pids = entries
    .map((e) => e.name)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  yield* p.stdout.print(format('%5s %s\n', 'PID', 'CMD'));
  for (const pid of pids) {
    // A process may exit between the listing and the read: skip it.
    const status = yield* readTextFile(p, `/proc/${pid}/status`);
    if (typeof status === 'number') continue;
    yield* p.stdout.print(format('%5d %s\n', pid, statusField(status, 'Name') ?? '?'));
  }
  return 0;
});
