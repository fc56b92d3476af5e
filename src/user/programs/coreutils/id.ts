/** `id`: print the real user and group ids, with names from /etc/passwd and /etc/group when present. */
import { defineProgram } from '../../libc/program.js';
import { getgid, getuid } from '../../libc/sys-proc.js';
import { loadIdNames } from './names.js';

/** `uid=0(root) gid=0(root)`; a name is left out when unknown. */
export function formatId(
  uid: number,
  gid: number,
  users: Map<number, string>,
  groups: Map<number, string>,
): string {
  const named = (id: number, names: Map<number, string>): string => {
    const name = names.get(id);
    return name === undefined ? String(id) : `${id}(${name})`;
  };
  return `uid=${named(uid, users)} gid=${named(gid, groups)}`;
}

/** The program `id`. */
export const idMain = defineProgram(function* id(p) {
  const uid = yield* getuid();
  const gid = yield* getgid();
  const names = yield* loadIdNames(p);
  yield* p.stdout.print(`${formatId(uid, gid, names.users, names.groups)}\n`);
  return 0;
});
