/** `echo [-n] [-e] [args...]`: print the arguments separated by spaces (-n: no newline; -e: escapes). */
import { perror } from '../../libc/errors.js';
import { defineProgram } from '../../libc/program.js';

/** Interpret backslash escapes (echo -e); `stop` is set by `\c`. */
export function echoEscapes(text: string): { text: string; stop: boolean } {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[++i]!;
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
    };
    if (next === 'c') return { text: out, stop: true };
    if (simple[next] !== undefined) out += simple[next];
    else if (next === '0') {
      const octal = /^[0-7]{0,3}/.exec(text.slice(i + 1))![0];
      out += String.fromCharCode(parseInt(octal || '0', 8));
      i += octal.length;
    } else out += `\\${next}`;
  }
  return { text: out, stop: false };
}

/** The program `echo`. */
export const echoMain = defineProgram(function* echo(p) {
  let args = p.argv.slice(1);
  let newline = true;
  let escapes = false;
  while (args[0] !== undefined && /^-[neE]+$/.test(args[0])) {
    for (const flag of args[0].slice(1)) {
      if (flag === 'n') newline = false;
      if (flag === 'e') escapes = true;
      if (flag === 'E') escapes = false;
    }
    args = args.slice(1);
  }
  let text = args.join(' ');
  if (escapes) {
    const result = echoEscapes(text);
    text = result.text;
    if (result.stop) newline = false;
  }
  yield* p.stdout.print(newline ? `${text}\n` : text);
  // As busybox echo: a failed write (a full disk, a closed pipe) is reported and exits 1.
  const written = yield* p.stdout.flush();
  if (written < 0) {
    yield* perror(p, 'write error', written);
    return 1;
  }
  return 0;
});
