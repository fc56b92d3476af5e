/** Unit tests of the shell's lexer, parser and word expansion (src/user/programs/sh). */
import { describe, expect, it } from 'vitest';
import type { SimpleCommand, Word } from '../../src/user/programs/sh/ast.js';
import { expandWord, expandWordToString, type ExpansionContext } from '../../src/user/programs/sh/expand.js';
import { lex } from '../../src/user/programs/sh/lex.js';
import { parse } from '../../src/user/programs/sh/parse.js';

const vars: Record<string, string> = {
  A: 'alpha',
  SP: 'a  b c',
  EMPTY: '',
  '?': '3',
  $: '42',
  '0': 'sh',
  '#': '2',
};
const positional = ['p1', 'p 2'];
const ctx: ExpansionContext = {
  get: (name) => (/^[1-9]$/.test(name) ? positional[Number(name) - 1] : vars[name]),
  positional: () => positional,
};

/** The words of the only simple command of `input`, expanded. */
function argv(input: string): string[] {
  const result = parse(input);
  if (!result.ok) throw new Error(result.error);
  return result.script[0]!.andOr.first.commands[0]!.words.flatMap((w) => expandWord(w, ctx));
}

function firstCommand(input: string): SimpleCommand {
  const result = parse(input);
  if (!result.ok) throw new Error(result.error);
  return result.script[0]!.andOr.first.commands[0]!;
}

function text(word: Word): string {
  return expandWordToString(word, ctx);
}

describe('lexer', () => {
  it('splits words on blanks and recognises operators', () => {
    const result = lex('a b;c&&d||e|f>g>>h<i 2>&1');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const kinds = result.tokens.map((t) =>
      t.kind === 'op' ? t.op : t.kind === 'io-number' ? `fd${t.fd}` : 'w',
    );
    expect(kinds).toEqual([
      'w',
      'w',
      ';',
      'w',
      '&&',
      'w',
      '||',
      'w',
      '|',
      'w',
      '>',
      'w',
      '>>',
      'w',
      '<',
      'w',
      'fd2',
      '>&',
      'w',
    ]);
  });
  it('treats digits as an fd number only directly before a redirection', () => {
    const result = lex('echo 2 >x a2>y');
    if (!result.ok) throw new Error('lex');
    expect(result.tokens.filter((t) => t.kind === 'io-number')).toHaveLength(0);
  });
  it('skips comments and joins continuation lines', () => {
    expect(argv('echo a # comment')).toEqual(['echo', 'a']);
    expect(argv('echo a#b')).toEqual(['echo', 'a#b']);
    expect(argv('echo a\\\nb')).toEqual(['echo', 'ab']);
  });
  it('reports unterminated quotes as incomplete', () => {
    expect(parse("echo 'abc")).toMatchObject({ ok: false, incomplete: true });
    expect(parse('echo "abc')).toMatchObject({ ok: false, incomplete: true });
  });
});

describe('quoting and expansion', () => {
  it('keeps single-quoted text literal', () => {
    expect(argv('echo \'$A "x"\' \\$A')).toEqual(['echo', '$A "x"', '$A']);
  });
  it('expands inside double quotes without splitting', () => {
    expect(argv('echo "$SP" $SP')).toEqual(['echo', 'a  b c', 'a', 'b', 'c']);
  });
  it('handles ${NAME}, special parameters and positional parameters', () => {
    expect(argv('echo ${A}x $Ax $? $$ $0 $# $1 "$2"')).toEqual([
      'echo',
      'alphax',
      '3',
      '42',
      'sh',
      '2',
      'p1',
      'p 2',
    ]);
  });
  it('expands "$@" to one field per parameter and $@ with splitting', () => {
    expect(argv('echo "x$@y"')).toEqual(['echo', 'xp1', 'p 2y']);
    expect(argv('echo $@')).toEqual(['echo', 'p1', 'p', '2']);
  });
  it('drops unquoted empty expansions but keeps empty quotes', () => {
    expect(argv('echo $EMPTY $UNSET "" \'\' "$EMPTY"')).toEqual(['echo', '', '', '']);
  });
  it('interprets backslashes in double quotes only before $ ` " \\', () => {
    expect(argv('echo "a\\$A \\n \\\\ \\""')).toEqual(['echo', 'a$A \\n \\ "']);
  });
  it('leaves a lone $ literal', () => {
    expect(argv('echo $ a$ "$"')).toEqual(['echo', '$', 'a$', '$']);
  });
});

describe('parser', () => {
  it('parses assignments before the command name only', () => {
    const command = firstCommand('A=1 B="x y" cmd C=2');
    expect(command.assignments.map((a) => [a.name, text(a.value)])).toEqual([
      ['A', '1'],
      ['B', 'x y'],
    ]);
    expect(command.words.map(text)).toEqual(['cmd', 'C=2']);
  });
  it('parses redirections with default and explicit fds', () => {
    const command = firstCommand('cmd <in >out 2>>err 2>&1 >&2');
    expect(command.redirects.map((r) => [r.fd, r.op, text(r.target)])).toEqual([
      [0, '<', 'in'],
      [1, '>', 'out'],
      [2, '>>', 'err'],
      [2, '>&', '1'],
      [1, '>&', '2'],
    ]);
  });
  it('builds and-or lists of pipelines', () => {
    const result = parse('a | b && c || ! d; e\nf &');
    if (!result.ok) throw new Error(result.error);
    expect(result.script).toHaveLength(3);
    const first = result.script[0]!.andOr;
    expect(first.first.commands).toHaveLength(2);
    expect(first.rest.map((r) => r.op)).toEqual(['&&', '||']);
    expect(first.rest[1]!.pipeline.negated).toBe(true);
    expect(result.script[2]!.background).toBe(true);
  });
  it('continues after a trailing operator on the next line', () => {
    const result = parse('a |\n b &&\n c');
    expect(result.ok).toBe(true);
    expect(parse('a |')).toMatchObject({ ok: false, incomplete: true });
    expect(parse('a &&')).toMatchObject({ ok: false, incomplete: true });
  });
  it('reports syntax errors like busybox', () => {
    expect(parse('| a')).toEqual({ ok: false, error: 'syntax error: unexpected "|"', incomplete: false });
    expect(parse('a ;; b')).toMatchObject({ ok: false, error: 'syntax error: unexpected ";"' });
    expect(parse('a >')).toMatchObject({
      ok: false,
      error: 'syntax error: unexpected end of file',
      incomplete: true,
    });
    expect(parse('(a)')).toMatchObject({ ok: false, incomplete: false });
  });
  it('accepts empty scripts and separators only', () => {
    expect(parse('')).toEqual({ ok: true, script: [] });
    expect(parse('\n\n# nothing\n')).toEqual({ ok: true, script: [] });
    expect(parse('a;\n\nb;')).toMatchObject({ ok: true });
    expect(parse('; a')).toMatchObject({ ok: false, error: 'syntax error: unexpected ";"' });
  });
  it('parses a redirection-only command', () => {
    const command = firstCommand('>file');
    expect(command.words).toHaveLength(0);
    expect(command.redirects).toHaveLength(1);
  });
});
