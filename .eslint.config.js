// Lint with zero warnings (see STYLE.md): floating promises are the classic kafkajs/stream bug,
// type-only imports keep runtime graphs honest, and `export *` leaks module internals.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from './.eslint.boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'ui/dist/**', 'agents/dist/**', '.tmp/**', 'test/bench/results/**', '.eslint.config.js', '.eslint.boundaries.js', '.vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'ingest/cli/*.mjs', 'agents/scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'No export *: name what a module offers.' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  ...boundaries,
  // Tests read untyped JSON responses; `any` there is the honest type. Source code has no `any` to pass around:
  // the OTLP/JSON decoders narrow `unknown` explicitly, and SQL rows are typed by their queries.
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked, languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
