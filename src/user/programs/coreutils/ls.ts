/**
 * `ls [-l] [-a] [-1] [-d] [files...]`: list directories (sorted by name, C locale); one name per
 * line (output is not a terminal); -l in busybox's long format.
 */
import { CLOCK, S } from '../../../kernel/uapi/flags.js';
import type { Stat } from '../../../kernel/uapi/structs.js';
import { parseArgs } from '../../libc/args.js';
import { fail, perror } from '../../libc/errors.js';
import { isDirectory, isSymlink, listDirectory, lstat, readlink } from '../../libc/files.js';
import { format } from '../../libc/format.js';
import { join } from '../../libc/path.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import type { Call } from '../../libc/syscall.js';
import { clockNs, NS_PER_SECOND } from '../../libc/time.js';
import { loadIdNames, type IdNames } from './names.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS = (365.2425 / 2) * 24 * 3600;

/** The `drwxr-xr-x` string of a mode. */
export function modeString(mode: number): string {
  const types: Record<number, string> = {
    [S.IFDIR]: 'd',
    [S.IFLNK]: 'l',
    [S.IFCHR]: 'c',
    [S.IFBLK]: 'b',
    [S.IFIFO]: 'p',
    [S.IFSOCK]: 's',
  };
  let out = types[mode & S.IFMT] ?? '-';
  const bits = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) out += mode & (0o400 >> i) ? bits[i]! : '-';
  const chars = out.split('');
  const special = (index: number, bit: number, set: string): void => {
    if (mode & bit) chars[index] = chars[index] === '-' ? set.toUpperCase() : set;
  };
  special(3, S.ISUID, 's');
  special(6, S.ISGID, 's');
  special(9, S.ISVTX, 't');
  return chars.join('');
}

/** Civil date of a day count since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** `Jan  2 03:04` for recent times, `Jan  2  1999` for old or future ones (like ls). */
export function lsDate(seconds: number, nowSeconds: number): string {
  const { year, month, day } = civilFromDays(Math.floor(seconds / 86400));
  const secondOfDay = ((seconds % 86400) + 86400) % 86400;
  const head = `${MONTHS[month - 1]} ${String(day).padStart(2)}`;
  const recent = seconds <= nowSeconds && nowSeconds - seconds < SIX_MONTHS;
  if (!recent) return `${head}  ${year}`;
  const hh = String(Math.floor(secondOfDay / 3600)).padStart(2, '0');
  const mm = String(Math.floor((secondOfDay % 3600) / 60)).padStart(2, '0');
  return `${head} ${hh}:${mm}`;
}

/** A busybox `ls -l` line. */
export function longLine(
  st: Stat,
  name: string,
  names: IdNames,
  nowSeconds: number,
  linkTarget?: string,
): string {
  const user = names.users.get(st.uid) ?? String(st.uid);
  const group = names.groups.get(st.gid) ?? String(st.gid);
  const tail = linkTarget === undefined ? name : `${name} -> ${linkTarget}`;
  return format(
    '%-10s %4d %-8.8s %-8.8s %9d %s %s',
    modeString(st.mode),
    st.nlink,
    user,
    group,
    st.size,
    lsDate(st.mtime, nowSeconds),
    tail,
  );
}

interface LsOptions {
  readonly long: boolean;
  readonly all: boolean;
  readonly names: IdNames;
  readonly now: number;
}

function* printEntry(p: Proc, path: string, name: string, st: Stat, options: LsOptions): Call<void> {
  if (!options.long) {
    yield* p.stdout.print(`${name}\n`);
    return;
  }
  const target = isSymlink(st.mode) ? yield* readlink(p, path) : undefined;
  yield* p.stdout.print(
    `${longLine(st, name, options.names, options.now, typeof target === 'string' ? target : undefined)}\n`,
  );
}

function* listDir(p: Proc, dir: string, options: LsOptions): Call<number> {
  const entries = yield* listDirectory(p, dir);
  if (typeof entries === 'number') {
    yield* perror(p, dir, entries);
    return 1;
  }
  const names = entries
    .map((e) => e.name)
    .filter((name) => options.all || !name.startsWith('.'))
    .sort(byteOrder);
  if (!options.long) {
    for (const name of names) yield* p.stdout.print(`${name}\n`);
    return 0;
  }
  const stats: [string, Stat][] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = yield* lstat(p, path);
    if (typeof st === 'number') yield* perror(p, path, st);
    else stats.push([name, st]);
  }
  // st_blocks counts 512-byte units; ls reports 1 KiB blocks.
  const blocks = stats.reduce((sum, [, st]) => sum + st.blocks, 0);
  yield* p.stdout.print(`total ${Math.ceil(blocks / 2)}\n`);
  for (const [name, st] of stats) yield* printEntry(p, join(dir, name), name, st, options);
  return 0;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The program `ls`. */
export const lsMain = defineProgram(function* ls(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'la1dA' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  const long = args.flags.has('l');
  let now = 0;
  if (long) {
    const ns = yield* clockNs(p, CLOCK.REALTIME);
    now = ns < 0 ? 0 : Math.floor(ns / NS_PER_SECOND);
  }
  const options: LsOptions = {
    long,
    all: args.flags.has('a') || args.flags.has('A'),
    names: long ? yield* loadIdNames(p) : { users: new Map(), groups: new Map() },
    now,
  };
  const operands = args.operands.length > 0 ? [...args.operands].sort(byteOrder) : ['.'];
  let status = 0;
  const dirs: string[] = [];
  for (const operand of operands) {
    const st = yield* lstat(p, operand);
    if (typeof st === 'number') {
      yield* perror(p, operand, st);
      status = 1;
      continue;
    }
    if (isDirectory(st.mode) && !args.flags.has('d')) dirs.push(operand);
    else yield* printEntry(p, operand, operand, st, options);
  }
  const headers = operands.length > 1;
  for (const [i, dir] of dirs.entries()) {
    if (headers) yield* p.stdout.print(`${i > 0 || dirs.length < operands.length ? '\n' : ''}${dir}:\n`);
    status |= yield* listDir(p, dir, options);
  }
  return status;
});
