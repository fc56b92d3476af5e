/**
 * The shell lexer (pure): splits input into words (with quoting kept per part) and operators.
 * Comments (`#` at the start of a word) run to the end of the line; a backslash-newline is a line
 * continuation; digits directly before `<` or `>` are an fd number (IO_NUMBER).
 */
import type { ParamPart, TextPart, Word, WordPart } from './ast.js';

/** Operators of the language subset. */
export type Operator = ';' | '\n' | '&&' | '||' | '|' | '&' | '<' | '>' | '>>' | '>&' | '<&' | '(' | ')';

/** A token. */
export type Token =
  | { readonly kind: 'word'; readonly word: Word }
  | { readonly kind: 'op'; readonly op: Operator }
  | { readonly kind: 'io-number'; readonly fd: number };

/** The lexer's result: tokens, or an error (incomplete when the input ended inside a quote). */
export type LexResult =
  | { readonly ok: true; readonly tokens: Token[] }
  | { readonly ok: false; readonly error: string; readonly incomplete: boolean };

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_PARAMS = '?$#@*!0123456789-';

/** Characters that end an unquoted word. */
function isMeta(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || ';&|<>()'.includes(c);
}

/** Split shell input into tokens. */
export function lex(input: string): LexResult {
  const tokens: Token[] = [];
  let parts: WordPart[] = [];
  let text = '';
  let textQuoted = false;
  let inWord = false;

  const flushText = (): void => {
    if (text !== '') parts.push({ kind: 'text', text, quoted: textQuoted } satisfies TextPart);
    text = '';
  };
  const addText = (s: string, quoted: boolean): void => {
    if (text !== '' && textQuoted !== quoted) flushText();
    textQuoted = quoted;
    text += s;
    inWord = true;
  };
  const addParam = (name: string, quoted: boolean): void => {
    flushText();
    parts.push({ kind: 'param', name, quoted } satisfies ParamPart);
    inWord = true;
  };
  /** A quote starts: the word exists even if the quotes are empty (`''` is an empty field). */
  const openQuote = (): void => {
    flushText();
    parts.push({ kind: 'text', text: '', quoted: true });
    inWord = true;
  };
  const endWord = (): void => {
    flushText();
    if (inWord) tokens.push({ kind: 'word', word: { parts } });
    parts = [];
    inWord = false;
  };

  /** Parse a `$` expansion at `i` (input[i] === '$'); returns the index after it. */
  const dollar = (i: number, quoted: boolean): number | { error: string; incomplete: boolean } => {
    const next = input[i + 1];
    if (next === '{') {
      const close = input.indexOf('}', i + 2);
      if (close < 0) return { error: 'syntax error: missing }', incomplete: true };
      const name = input.slice(i + 2, close);
      if (!/^([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[?$#@*!-])$/.test(name)) {
        return { error: `\${${name}}: bad substitution`, incomplete: false };
      }
      addParam(name, quoted);
      return close + 1;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let end = i + 1;
      while (end < input.length && NAME_CHAR.test(input[end]!)) end++;
      addParam(input.slice(i + 1, end), quoted);
      return end;
    }
    if (next !== undefined && SPECIAL_PARAMS.includes(next)) {
      addParam(next, quoted);
      return i + 2;
    }
    addText('$', quoted);
    return i + 1;
  };

  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '\\') {
      const next = input[i + 1];
      if (next === undefined)
        return { ok: false, error: 'syntax error: unexpected end of file', incomplete: true };
      if (next !== '\n') addText(next, true);
      i += 2;
      continue;
    }
    if (c === "'") {
      const close = input.indexOf("'", i + 1);
      if (close < 0)
        return { ok: false, error: 'syntax error: unterminated quoted string', incomplete: true };
      openQuote();
      addText(input.slice(i + 1, close), true);
      i = close + 1;
      continue;
    }
    if (c === '"') {
      openQuote();
      let j = i + 1;
      for (;;) {
        const d = input[j];
        if (d === undefined)
          return { ok: false, error: 'syntax error: unterminated quoted string', incomplete: true };
        if (d === '"') break;
        if (d === '\\' && input[j + 1] !== undefined && '$`"\\\n'.includes(input[j + 1]!)) {
          if (input[j + 1] !== '\n') addText(input[j + 1]!, true);
          j += 2;
          continue;
        }
        if (d === '$') {
          const after = dollar(j, true);
          if (typeof after !== 'number') return { ok: false, ...after };
          j = after;
          continue;
        }
        addText(d, true);
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const after = dollar(i, false);
      if (typeof after !== 'number') return { ok: false, ...after };
      i = after;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < input.length && input[i] !== '\n') i++;
      continue;
    }
    if (!isMeta(c)) {
      addText(c, false);
      i++;
      continue;
    }
    // A metacharacter ends the word. Digits directly before a redirection are its fd.
    if (
      (c === '<' || c === '>') &&
      inWord &&
      text !== '' &&
      !textQuoted &&
      parts.length === 0 &&
      /^\d+$/.test(text)
    ) {
      tokens.push({ kind: 'io-number', fd: Number(text) });
      text = '';
      inWord = false;
    } else {
      endWord();
    }
    const two = input.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === '>>' || two === '>&' || two === '<&') {
      tokens.push({ kind: 'op', op: two });
      i += 2;
      continue;
    }
    if (c !== ' ' && c !== '\t') tokens.push({ kind: 'op', op: c as Operator });
    i++;
  }
  endWord();
  return { ok: true, tokens };
}
