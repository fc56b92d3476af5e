/**
 * The shell parser (pure): tokens → {@link Script}. Grammar (a POSIX subset):
 *
 *     script   := '\n'* (and_or (sep '\n'* and_or)* sep? '\n'*)?      sep := ';' | '&' | '\n'
 *     and_or   := pipeline (('&&' | '||') '\n'* pipeline)*
 *     pipeline := '!'? command ('|' '\n'* command)*
 *     command  := (assignment | word | redirect)+             redirect := IO_NUMBER? op word
 *
 * Unsupported constructs (subshells, `if`/`while`, which parse as plain words) are syntax errors or
 * commands that are not found.
 */
import type {
  AndOr,
  Assignment,
  ListItem,
  ParseResult,
  Pipeline,
  Redirect,
  RedirectOp,
  SimpleCommand,
  Word,
} from './ast.js';
import { lex, type Operator, type Token } from './lex.js';

const REDIRECT_OPS: ReadonlySet<string> = new Set(['<', '>', '>>', '>&', '<&']);
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;

class SyntaxError {
  readonly message: string;
  readonly incomplete: boolean;
  constructor(message: string, incomplete: boolean) {
    this.message = message;
    this.incomplete = incomplete;
  }
}

function describe(token: Token | undefined): string {
  if (token === undefined) return 'end of file';
  if (token.kind === 'op') return token.op === '\n' ? 'newline' : `"${token.op}"`;
  if (token.kind === 'io-number') return `"${token.fd}"`;
  return 'word';
}

/** If `word` is `NAME=value` with an unquoted NAME, the assignment. */
function asAssignment(word: Word): Assignment | undefined {
  const first = word.parts[0];
  if (first === undefined || first.kind !== 'text' || first.quoted) return undefined;
  const match = ASSIGNMENT.exec(first.text);
  if (match === null) return undefined;
  const rest = first.text.slice(match[0].length);
  const parts = rest === '' ? word.parts.slice(1) : [{ ...first, text: rest }, ...word.parts.slice(1)];
  return { name: match[1]!, value: { parts } };
}

/** A recursive-descent parser over a token list. */
class Parser {
  private readonly tokens: Token[];
  private at = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private isOp(op: Operator): boolean {
    const token = this.peek();
    return token !== undefined && token.kind === 'op' && token.op === op;
  }

  private skipNewlines(): void {
    while (this.isOp('\n')) this.at++;
  }

  private unexpected(): SyntaxError {
    const token = this.peek();
    return new SyntaxError(`syntax error: unexpected ${describe(token)}`, token === undefined);
  }

  script(): ListItem[] {
    const list: ListItem[] = [];
    for (;;) {
      // Blank lines may separate commands; an empty command (`;;`, a leading `;`) may not.
      this.skipNewlines();
      if (this.peek() === undefined) return list;
      const andOr = this.andOr();
      const token = this.peek();
      const background = token?.kind === 'op' && token.op === '&';
      list.push({ andOr, background });
      if (token === undefined) return list;
      if (!(token.kind === 'op' && (token.op === ';' || token.op === '\n' || token.op === '&')))
        throw this.unexpected();
      this.at++;
    }
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: { op: '&&' | '||'; pipeline: Pipeline }[] = [];
    while (this.isOp('&&') || this.isOp('||')) {
      const op = (this.peek() as { op: '&&' | '||' }).op;
      this.at++;
      this.skipNewlines();
      rest.push({ op, pipeline: this.pipeline() });
    }
    return { first, rest };
  }

  private pipeline(): Pipeline {
    let negated = false;
    const token = this.peek();
    if (token?.kind === 'word' && token.word.parts.length === 1) {
      const part = token.word.parts[0]!;
      if (part.kind === 'text' && !part.quoted && part.text === '!') {
        negated = true;
        this.at++;
      }
    }
    const commands = [this.command()];
    while (this.isOp('|')) {
      this.at++;
      this.skipNewlines();
      commands.push(this.command());
    }
    return { commands, negated };
  }

  private command(): SimpleCommand {
    const assignments: Assignment[] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const token = this.peek();
      if (token === undefined) break;
      if (token.kind === 'word') {
        this.at++;
        const assignment = words.length === 0 ? asAssignment(token.word) : undefined;
        if (assignment !== undefined) assignments.push(assignment);
        else words.push(token.word);
        continue;
      }
      let fd: number | undefined;
      if (token.kind === 'io-number') {
        fd = token.fd;
        this.at++;
      }
      const op = this.peek();
      if (op?.kind === 'op' && REDIRECT_OPS.has(op.op)) {
        this.at++;
        const target = this.peek();
        if (target?.kind !== 'word') throw this.unexpected();
        this.at++;
        const redirectOp = op.op as RedirectOp;
        redirects.push({
          fd: fd ?? (redirectOp.startsWith('<') ? 0 : 1),
          op: redirectOp,
          target: target.word,
        });
        continue;
      }
      if (fd !== undefined) throw this.unexpected();
      if (op?.kind === 'op' && (op.op === '(' || op.op === ')')) {
        throw new SyntaxError('syntax error: subshells are not supported', false);
      }
      break;
    }
    if (assignments.length === 0 && words.length === 0 && redirects.length === 0) throw this.unexpected();
    return { assignments, words, redirects };
  }
}

/** Parse shell input. */
export function parse(input: string): ParseResult {
  const lexed = lex(input);
  if (!lexed.ok) return { ok: false, error: lexed.error, incomplete: lexed.incomplete };
  try {
    return { ok: true, script: new Parser(lexed.tokens).script() };
  } catch (error) {
    if (error instanceof SyntaxError)
      return { ok: false, error: error.message, incomplete: error.incomplete };
    throw error;
  }
}
