/**
 * Source lines of code the way the paper counts its TCB: non-blank lines that hold something other
 * than comments. A small lexer over TypeScript so that comment markers inside strings, template
 * literals and regular expressions do not confuse the count.
 */

type State = 'code' | 'line-comment' | 'block-comment' | 'single' | 'double' | 'template';

/** Count non-blank, non-comment lines of TypeScript/JavaScript source text. */
export function countSloc(text: string): number {
  let state: State = 'code';
  let lines = 0;
  let lineHasCode = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '\n') {
      if (lineHasCode) lines++;
      lineHasCode = false;
      if (state === 'line-comment') state = 'code';
      continue;
    }
    switch (state) {
      case 'code':
        if (c === '/' && next === '/') {
          state = 'line-comment';
          i++;
        } else if (c === '/' && next === '*') {
          state = 'block-comment';
          i++;
        } else if (c === "'" || c === '"' || c === '`') {
          state = c === "'" ? 'single' : c === '"' ? 'double' : 'template';
          lineHasCode = true;
        } else if (c !== ' ' && c !== '\t' && c !== '\r') {
          lineHasCode = true;
        }
        break;
      case 'line-comment':
        break;
      case 'block-comment':
        if (c === '*' && next === '/') {
          state = 'code';
          i++;
        }
        break;
      case 'single':
      case 'double':
      case 'template':
        lineHasCode = true;
        if (c === '\\') i++;
        else if (
          (state === 'single' && c === "'") ||
          (state === 'double' && c === '"') ||
          (state === 'template' && c === '`')
        ) {
          state = 'code';
        }
        break;
    }
  }
  if (lineHasCode) lines++;
  return lines;
}
