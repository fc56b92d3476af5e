// The layer rule of DESIGN.md §2 is enforced by the lint configuration: these imports must fail.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function ruleMessages(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rule', () => {
  it('refuses an upward import from the machine model', async () => {
    const messages = await ruleMessages(
      'src/hw/probe.ts',
      "import { UserError } from '../cli/errors.js';\nexport const x = UserError;\n",
    );
    expect(messages.join('\n')).toContain('src/hw must not import from src/cli');
  });

  it('refuses a kernel import of mini-OS internals but allows minios/abi.ts', async () => {
    const internal = await ruleMessages(
      'src/kernel/probe.ts',
      "import { a } from '../minios/gates.js';\nexport const x = a;\n",
    );
    expect(internal.join('\n')).toContain('only through minios/abi.ts');
    const abi = await ruleMessages(
      'src/kernel/probe.ts',
      "import { a } from '../minios/abi.js';\nexport const x = a;\n",
    );
    expect(abi).toEqual([]);
  });

  it('allows downward imports', async () => {
    const messages = await ruleMessages(
      'src/eval/probe.ts',
      "import { hex } from '../hw/bits.js';\nexport const x = hex;\n",
    );
    expect(messages).toEqual([]);
  });

  it('refuses imports between the engine and user programs', async () => {
    const messages = await ruleMessages(
      'src/runtime/probe.ts',
      "import { a } from '../user/libc.js';\nexport const x = a;\n",
    );
    expect(messages.join('\n')).toContain('src/runtime must not import from src/user');
  });
});
