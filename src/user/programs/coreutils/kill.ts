/** `kill [-SIGNAL] pid...`: send a signal (TERM by default; a number or a name like KILL, -9). */
import { strerror } from '../../../kernel/uapi/errno.js';
import { SIG } from '../../../kernel/uapi/flags.js';
import { fail } from '../../libc/errors.js';
import { defineProgram } from '../../libc/program.js';
import { kill } from '../../libc/sys-proc.js';

/** The number of a signal given as "9", "KILL" or "SIGKILL", or undefined. */
export function parseSignal(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const name = text.toUpperCase().replace(/^SIG/, '');
  return (SIG as Record<string, number>)[name];
}

/** The program `kill`. */
export const killMain = defineProgram(function* killProgram(p) {
  let args = p.argv.slice(1);
  let signal: number = SIG.TERM;
  if (args[0] !== undefined && args[0].startsWith('-') && args[0] !== '--') {
    const parsed = parseSignal(args[0] === '-s' ? (args[1] ?? '') : args[0].slice(1));
    if (parsed === undefined) return yield* fail(p, `bad signal name '${args[0]}'`);
    signal = parsed;
    args = args.slice(args[0] === '-s' ? 2 : 1);
  }
  if (args[0] === '--') args = args.slice(1);
  if (args.length === 0) return yield* fail(p, 'usage: kill [-SIGNAL] PID...');
  let status = 0;
  for (const arg of args) {
    const pid = Number(arg);
    if (!Number.isInteger(pid)) return yield* fail(p, `invalid number '${arg}'`);
    const result = yield* kill(pid, signal);
    if (result < 0) {
      yield* p.stderr.print(`${p.name}: can't kill pid ${pid}: ${strerror(result)}\n`);
      status = 1;
    }
  }
  return status;
});
