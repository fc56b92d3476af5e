/**
 * `mount`: with no arguments print /proc/mounts; `mount [-t TYPE] [-o OPTIONS] SOURCE DIR` mounts
 * (OPTIONS: ro, rw, nosuid, nodev, noexec, remount, bind, rbind; others are passed as data).
 * `umount [-l] DIR` unmounts.
 */
import { strerror } from '../../../kernel/uapi/errno.js';
import { MNT_DETACH, MS } from '../../../kernel/uapi/flags.js';
import { parseArgs } from '../../libc/args.js';
import { fail, perror } from '../../libc/errors.js';
import { mount, readFile, umount } from '../../libc/files.js';
import { writeBytes } from '../../libc/io.js';
import { defineProgram } from '../../libc/program.js';

const FLAG_OPTIONS: Record<string, number> = {
  ro: MS.RDONLY,
  rw: 0,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  remount: MS.REMOUNT,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
};

/** Split `-o` options into mount flags and the data string of the others. */
export function parseMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const option of options.split(',')) {
    if (option === '') continue;
    const flag = FLAG_OPTIONS[option];
    if (flag === undefined) data.push(option);
    else flags |= flag;
  }
  return { flags, data: data.join(',') };
}

/** The program `mount`. */
export const mountMain = defineProgram(function* mountProgram(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'r', values: 'to', long: { bind: 'B', rbind: 'R' } });
  if (args.error !== undefined) return yield* fail(p, args.error);
  if (args.operands.length === 0) {
    const text = yield* readFile(p, '/proc/mounts');
    if (typeof text === 'number') {
      yield* perror(p, '/proc/mounts', text);
      return 1;
    }
    yield* p.stdout.flush();
    yield* writeBytes(p, 1, text);
    return 0;
  }
  if (args.operands.length !== 2) return yield* fail(p, 'usage: mount [-t TYPE] [-o OPTIONS] SOURCE DIR');
  const [source, target] = args.operands as [string, string];
  const options = parseMountOptions(args.values.get('o') ?? '');
  let flags = options.flags | (args.flags.has('r') ? MS.RDONLY : 0);
  if (args.flags.has('B')) flags |= MS.BIND;
  if (args.flags.has('R')) flags |= MS.BIND | MS.REC;
  const result = yield* mount(p, source, target, args.values.get('t') ?? '', flags, options.data);
  if (result < 0) {
    yield* p.stderr.print(`${p.name}: mounting ${source} on ${target} failed: ${strerror(result)}\n`);
    return 1;
  }
  return 0;
});

/** The program `umount`. */
export const umountMain = defineProgram(function* umountProgram(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'lf' });
  if (args.error !== undefined) return yield* fail(p, args.error);
  if (args.operands.length === 0) return yield* fail(p, 'missing operand');
  let status = 0;
  for (const target of args.operands) {
    const result = yield* umount(p, target, args.flags.has('l') ? MNT_DETACH : 0);
    if (result < 0) {
      yield* p.stderr.print(`${p.name}: can't unmount ${target}: ${strerror(result)}\n`);
      status = 1;
    }
  }
  return status;
});
