/**
 * `grep [-vcinqlFE] [-e PATTERN] PATTERN [files...]`: print matching lines. Patterns are basic
 * regular expressions (translated to JS RegExp), extended with -E, fixed strings with -F. Exit 0
 * when a line was selected, 1 when none, 2 on error.
 */
import { O } from '../../../kernel/uapi/flags.js';
import { parseArgs } from '../../libc/args.js';
import { perror } from '../../libc/errors.js';
import { open } from '../../libc/files.js';
import { LineReader } from '../../libc/line-reader.js';
import { defineProgram } from '../../libc/program.js';
import { isError } from '../../libc/syscall.js';
import { close } from '../../libc/sys-fs.js';

/** Translate a POSIX basic regular expression to JS syntax (`\(` `\)` `\|` `\{` `\}` `\+` `\?` are operators). */
export function basicToJs(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[++i]!;
      out += '(){}|+?'.includes(next) ? next : `\\${next}`;
      continue;
    }
    out += '(){}|+?'.includes(c) ? `\\${c}` : c;
  }
  return out;
}

/** A line matcher for `pattern`, or an error message. */
export function makeMatcher(
  pattern: string,
  options: { fixed: boolean; extended: boolean; ignoreCase: boolean },
): ((line: string) => boolean) | string {
  if (options.fixed) {
    const needle = options.ignoreCase ? pattern.toLowerCase() : pattern;
    return (line) => (options.ignoreCase ? line.toLowerCase() : line).includes(needle);
  }
  try {
    const regex = new RegExp(options.extended ? pattern : basicToJs(pattern), options.ignoreCase ? 'i' : '');
    return (line) => regex.test(line);
  } catch {
    return `bad regex '${pattern}'`;
  }
}

/** The program `grep`. */
export const grepMain = defineProgram(function* grep(p) {
  const args = parseArgs(p.argv.slice(1), { flags: 'vcinqlFEhs', values: 'e' });
  if (args.error !== undefined) {
    yield* p.stderr.print(`${p.name}: ${args.error}\n`);
    return 2;
  }
  const operands = [...args.operands];
  const pattern = args.values.get('e') ?? operands.shift();
  if (pattern === undefined) {
    yield* p.stderr.print(`Usage: grep [-vcinqlFE] PATTERN [FILE]...\n`);
    return 2;
  }
  const has = (flag: string): boolean => args.flags.has(flag);
  const matcher = makeMatcher(pattern, { fixed: has('F'), extended: has('E'), ignoreCase: has('i') });
  if (typeof matcher === 'string') {
    yield* p.stderr.print(`${p.name}: ${matcher}\n`);
    return 2;
  }
  const files = operands.length > 0 ? operands : ['-'];
  const prefix = files.length > 1 && !has('h');
  let selectedAny = false;
  let error = false;
  for (const file of files) {
    const fd = file === '-' ? 0 : yield* open(p, file, O.RDONLY);
    if (isError(fd)) {
      if (!has('s')) yield* perror(p, file, fd);
      error = true;
      continue;
    }
    const name = file === '-' ? '(standard input)' : file;
    const reader = new LineReader(p, fd);
    let count = 0;
    for (let lineNo = 1; ; lineNo++) {
      const line = yield* reader.readLine();
      if (line === undefined) break;
      if (matcher(line) === has('v')) continue;
      count++;
      selectedAny = true;
      if (has('q')) break;
      if (has('c') || has('l')) continue;
      const lead = `${prefix ? `${name}:` : ''}${has('n') ? `${lineNo}:` : ''}`;
      yield* p.stdout.print(`${lead}${line}\n`);
    }
    yield* reader.close();
    if (fd !== 0) yield* close(fd);
    if (has('q') && selectedAny) return 0;
    if (has('c')) yield* p.stdout.print(`${prefix ? `${name}:` : ''}${count}\n`);
    else if (has('l') && count > 0) yield* p.stdout.print(`${name}\n`);
  }
  if (error && !(has('q') && selectedAny)) return 2;
  return selectedAny ? 0 : 1;
});
