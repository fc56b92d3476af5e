/**
 * User and group names from /etc/passwd and /etc/group (`name:x:id:...` lines), when the files
 * exist; ids print as numbers otherwise.
 */
import { readTextFile } from '../../libc/files.js';
import type { Proc } from '../../libc/process.js';
import type { Call } from '../../libc/syscall.js';

/** Parse passwd/group-style lines into id → name. */
export function parseIdFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const id = Number(fields[2]);
    if (fields.length >= 3 && fields[0] !== '' && Number.isInteger(id) && !names.has(id))
      names.set(id, fields[0]!);
  }
  return names;
}

/** id → name maps of users and groups (empty when the files are missing). */
export interface IdNames {
  readonly users: Map<number, string>;
  readonly groups: Map<number, string>;
}

/** Read /etc/passwd and /etc/group. */
export function* loadIdNames(p: Proc): Call<IdNames> {
  const passwd = yield* readTextFile(p, '/etc/passwd');
  const group = yield* readTextFile(p, '/etc/group');
  return {
    users: typeof passwd === 'string' ? parseIdFile(passwd) : new Map(),
    groups: typeof group === 'string' ? parseIdFile(group) : new Map(),
  };
}
