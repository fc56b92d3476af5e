// Lint configuration. The layer rule of DESIGN.md §2 is enforced here: a module may import only
// from its own layer and the layers below it; the kernel reaches the mini-OS only through abi.ts.
import tseslint from 'typescript-eslint';

/** Layers from the bottom up; each may import the ones listed before it. */
const LAYERS = [
  'hw',
  'firmware',
  'minios',
  'kernel',
  'user',
  'runtime',
  'designs',
  'eval',
  'store',
  'ui',
  'cli',
];
/** Layers at the same height that must not import each other. */
const PEERS = { user: ['runtime'], runtime: ['user'], store: ['ui', 'cli'], ui: ['cli'] };

function forbiddenFor(layer) {
  const index = LAYERS.indexOf(layer);
  const above = LAYERS.slice(index + 1).filter((l) => !(layer === 'user' && l === 'runtime'));
  const forbidden = new Set([...above, ...(PEERS[layer] ?? [])]);
  return [...forbidden];
}

const layerConfigs = LAYERS.map((layer) => {
  const patterns = forbiddenFor(layer).map((other) => ({
    group: [`**/${other}/*`, `**/${other}/**`, `../${other}`, `../../${other}`],
    message: `layer rule (DESIGN.md §2): src/${layer} must not import from src/${other}`,
  }));
  if (layer === 'kernel') {
    patterns.push({
      group: ['**/minios/*', '!**/minios/abi.js'],
      message: 'layer rule (DESIGN.md §2): the kernel reaches the mini-OS only through minios/abi.ts',
    });
  }
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'use an as-const object and a union (STYLE.md rule 9)' },
        { selector: 'TSModuleDeclaration', message: 'no namespaces (STYLE.md rule 9)' },
      ],
    },
  },
  ...layerConfigs,
);
