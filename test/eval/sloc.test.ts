import { describe, expect, it } from 'vitest';
import { countSloc } from '../../src/eval/tcb/sloc.js';

describe('countSloc', () => {
  it('skips blank lines, line comments and block comments', () => {
    const text = [
      '// header',
      '',
      'const a = 1; // trailing',
      '/*',
      ' * doc',
      ' */',
      '  ',
      'const b = 2;',
    ].join('\n');
    expect(countSloc(text)).toBe(2);
  });

  it('counts code that shares a line with a block comment', () => {
    expect(countSloc('/* x */ const a = 1;\nconst b = 2; /* y\n z */')).toBe(2);
  });

  it('is not fooled by comment markers in strings and templates', () => {
    const text = [
      "const url = 'http://example';",
      'const s = "/* not a comment";',
      'const t = `// still code',
      '`;',
    ].join('\n');
    expect(countSloc(text)).toBe(4);
  });

  it('handles escaped quotes', () => {
    expect(countSloc("const q = 'it\\'s // here';\n// only comment")).toBe(1);
  });

  it('counts a file without a trailing newline', () => {
    expect(countSloc('a\nb')).toBe(2);
  });
});
