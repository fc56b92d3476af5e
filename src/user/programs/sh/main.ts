/**
 * `sh`: a POSIX-subset shell. `sh -c 'script' [name [args...]]`, `sh file [args...]`, or commands
 * from standard input (read line by line; a command continues over lines while a quote or a
 * trailing `|`, `&&`, `||` is open). The exit status is that of the last command.
 */
import { TCGETS } from '../../../kernel/uapi/flags.js';
import { strerror } from '../../../kernel/uapi/errno.js';
import { readTextFile } from '../../libc/files.js';
import { LineReader } from '../../libc/line-reader.js';
import { defineProgram } from '../../libc/program.js';
import type { Proc } from '../../libc/process.js';
import type { Call } from '../../libc/syscall.js';
import { ioctl } from '../../libc/sys-fs.js';
import { getpid } from '../../libc/sys-proc.js';
import { parse } from './parse.js';
import { STATUS_NOT_FOUND, STATUS_SYNTAX, Shell } from './shell.js';

/** Bytes of a struct termios (the TCGETS probe for "is standard input a terminal"). */
const TERMIOS_BYTES = 60;

function* isTerminal(p: Proc, fd: number): Call<boolean> {
  const mark = p.scratch.mark();
  try {
    return (yield* ioctl(fd, TCGETS, p.scratch.alloc(TERMIOS_BYTES))) === 0;
  } finally {
    p.scratch.release(mark);
  }
}

/** Read commands from fd 0 and run each as soon as it is complete. */
function* interactive(shell: Shell): Call<number> {
  const p = shell.p;
  const prompt = yield* isTerminal(p, 0);
  const reader = new LineReader(p, 0);
  let pending = '';
  for (;;) {
    if (prompt) {
      yield* p.stderr.print(pending === '' ? (shell.lookup('PS1') ?? '$ ') : (shell.lookup('PS2') ?? '> '));
      yield* p.stderr.flush();
    }
    yield* p.stdout.flush();
    const line = yield* reader.readLine();
    if (line === undefined) break;
    pending += `${line}\n`;
    const parsed = parse(pending);
    if (!parsed.ok && parsed.incomplete) continue;
    if (!parsed.ok) {
      yield* p.stderr.print(`${p.name}: ${parsed.error}\n`);
      shell.status = STATUS_SYNTAX;
    } else {
      yield* shell.runScript(parsed.script);
    }
    pending = '';
  }
  if (pending !== '') yield* shell.runSource(pending);
  return shell.status;
}

/** The program `sh`. */
export const shMain = defineProgram(function* sh(p) {
  const args = p.argv.slice(1);
  const pid = yield* getpid();
  if (args[0] === '-c') {
    const script = args[1];
    if (script === undefined) {
      yield* p.stderr.print(`${p.name}: -c requires an argument\n`);
      return STATUS_SYNTAX;
    }
    const shell = new Shell(p, pid, args[2] ?? p.argv[0] ?? 'sh', args.slice(3));
    return yield* shell.finish(yield* shell.runSource(script));
  }
  if (args[0] === '-s' || args[0] === '-i') args.shift();
  const file = args[0];
  if (file !== undefined && file !== '-') {
    const text = yield* readTextFile(p, file);
    if (typeof text === 'number') {
      yield* p.stderr.print(`${p.name}: can't open '${file}': ${strerror(text)}\n`);
      return STATUS_NOT_FOUND;
    }
    const shell = new Shell(p, pid, file, args.slice(1));
    return yield* shell.finish(yield* shell.runSource(text));
  }
  const shell = new Shell(p, pid, p.argv[0] ?? 'sh', args.slice(1));
  return yield* shell.finish(yield* interactive(shell));
});
