/**
 * Word expansion (pure): parameter expansion and field splitting of unquoted expansions on
 * blanks (IFS = space, tab, newline). No globbing, tilde or command substitution.
 */
import type { Word } from './ast.js';

/** Where expansion finds parameter values. */
export interface ExpansionContext {
  /** The value of a named or special parameter (`HOME`, `?`, `$`, `#`, `0`, `1`...), or undefined. */
  get(name: string): string | undefined;
  /** The positional parameters $1..$n (for `$@` and `$*`). */
  positional(): readonly string[];
}

const IFS = /[ \t\n]+/;

/** Expand a word into fields (a word of only unquoted empty expansions gives no field). */
export function expandWord(word: Word, ctx: ExpansionContext): string[] {
  const fields: string[] = [];
  let current = '';
  let have = false;
  const split = (value: string): void => {
    const pieces = value.split(IFS);
    pieces.forEach((piece, i) => {
      if (i > 0 && have) {
        fields.push(current);
        current = '';
        have = false;
      }
      if (piece !== '') {
        current += piece;
        have = true;
      }
    });
  };
  for (const part of word.parts) {
    if (part.kind === 'text') {
      current += part.text;
      have = true;
      continue;
    }
    if (part.name === '@' && part.quoted) {
      // "$@": one field per positional parameter, joined to the text around it.
      const params = ctx.positional();
      params.forEach((param, i) => {
        if (i > 0) {
          fields.push(current);
          current = '';
        }
        current += param;
        have = true;
      });
      continue;
    }
    const value =
      part.name === '@' || part.name === '*' ? ctx.positional().join(' ') : (ctx.get(part.name) ?? '');
    if (part.quoted) {
      current += value;
      have = true;
    } else {
      split(value);
    }
  }
  if (have) fields.push(current);
  return fields;
}

/** Expand a word into one string without field splitting (assignments, redirection targets). */
export function expandWordToString(word: Word, ctx: ExpansionContext): string {
  let out = '';
  for (const part of word.parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.name === '@' || part.name === '*') out += ctx.positional().join(' ');
    else out += ctx.get(part.name) ?? '';
  }
  return out;
}
