/** `env [-i] [-u NAME] [NAME=VALUE]... [COMMAND [ARG]...]`: print or modify the environment and run a command. */
import { Errno, strerror } from '../../../kernel/uapi/errno.js';
import { parseArgs } from '../../libc/args.js';
import { fail } from '../../libc/errors.js';
import { execvp } from '../../libc/exec.js';
import { defineProgram } from '../../libc/program.js';

/** The program `env`. */
export const envMain = defineProgram(function* env(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'i0', values: 'u', stopAtOperand: true });
  if (args.error !== undefined) return yield* fail(p, args.error);
  if (args.flags.has('i')) for (const name of p.env.names()) p.env.unset(name);
  const unsetName = args.values.get('u');
  if (unsetName !== undefined) p.env.unset(unsetName);
  let i = 0;
  for (; i < args.operands.length; i++) {
    const operand = args.operands[i]!;
    const eq = operand.indexOf('=');
    if (eq <= 0) break;
    p.env.set(operand.slice(0, eq), operand.slice(eq + 1));
  }
  const command = args.operands.slice(i);
  if (command.length === 0) {
    for (const entry of p.env.toStrings()) yield* p.stdout.print(`${entry}\n`);
    return 0;
  }
  const err = yield* execvp(p, command[0]!, command);
  yield* p.stderr.print(`${p.name}: can't execute '${command[0]}': ${strerror(err)}\n`);
  return err === -Errno.ENOENT ? 127 : 126;
});
