/**
 * The syntax tree of the shell language subset: lists of and-or lists of pipelines of simple
 * commands, with words made of literal text and parameter expansions.
 */

/** Literal text (`quoted` when it came from quotes or a backslash: never field-split). */
export interface TextPart {
  readonly kind: 'text';
  readonly text: string;
  readonly quoted: boolean;
}

/** A parameter expansion `$NAME`, `${NAME}`, `$?`, `$$`, `$#`, `$0`..`$9`, `$@`, `$*`. */
export interface ParamPart {
  readonly kind: 'param';
  readonly name: string;
  /** Inside double quotes: the value is not field-split. */
  readonly quoted: boolean;
}

/** A piece of a word. */
export type WordPart = TextPart | ParamPart;

/** A shell word before expansion. */
export interface Word {
  readonly parts: readonly WordPart[];
}

/** Redirection operators: `<`, `>`, `>>`, `>&` (dup output), `<&` (dup input). */
export type RedirectOp = '<' | '>' | '>>' | '>&' | '<&';

/** A redirection of file descriptor `fd`. */
export interface Redirect {
  readonly fd: number;
  readonly op: RedirectOp;
  readonly target: Word;
}

/** `NAME=value` before a command (or alone). */
export interface Assignment {
  readonly name: string;
  readonly value: Word;
}

/** A simple command: assignments, words (command name and arguments), redirections. */
export interface SimpleCommand {
  readonly assignments: readonly Assignment[];
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
}

/** Commands joined by `|`; `negated` for a leading `!`. */
export interface Pipeline {
  readonly commands: readonly SimpleCommand[];
  readonly negated: boolean;
}

/** Pipelines joined by `&&` and `||` (left-associative, equal precedence). */
export interface AndOr {
  readonly first: Pipeline;
  readonly rest: readonly { readonly op: '&&' | '||'; readonly pipeline: Pipeline }[];
}

/** An and-or list of a script; `background` when it ended with `&` (run without waiting). */
export interface ListItem {
  readonly andOr: AndOr;
  readonly background: boolean;
}

/** A script: and-or lists separated by `;`, `&` or newlines, run in order. */
export type Script = readonly ListItem[];

/** The result of parsing. */
export type ParseResult =
  | { readonly ok: true; readonly script: Script }
  | {
      readonly ok: false;
      /** The message after "sh: " ("syntax error: unexpected \"|\""). */
      readonly error: string;
      /** The input ended inside a construct (open quote, trailing `|`/`&&`): more input may fix it. */
      readonly incomplete: boolean;
    };
