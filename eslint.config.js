import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries (README, Architecture). Import sources are matched as written, so each rule
 * is a regular expression over the relative specifier seen from the linted file's own folder.
 * Only static `import`/`export … from` are checked (no-restricted-imports does not see
 * `import()`); no-restricted-syntax checks the dynamic ones, below.
 */
const SRC_FOLDERS_MESSAGE = "another src/ folder is entered only through its index.ts (its public surface); export what you need there";
/** From a file `depth` folders below src/ (src/cli/x.ts: 1, src/cli/commands/x.ts: 2): any other src/ folder but its index.ts. */
const deepImportOfSrcFolder = (depth) => ({
  regex: `^${'\\.\\./'.repeat(depth)}[^./][^/]*/(?!index\\.ts$)`,
  message: SRC_FOLDERS_MESSAGE,
});
/** src/ reaching itself through the repository root (`../../src/…`) dodges the rule above. */
const throughRoot = { regex: '(^|/)src/', message: 'import src/ folders relatively (../folder/index.ts), not through the repository root' };
/** The runtime never builds models: that is the CLI's job, in src/cli/project-models.ts, which loads the builder lazily (import()). */
const modelBuilder = { regex: '(^|/)models/build(\\.ts)?$', message: 'only src/cli builds the project models (src/cli/project-models.ts)' };

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'models/build/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Type-aware rules: every .ts file (src, machines, models, test, bench and the root's
  // *.ts) is in tsconfig.json's `include`; bin/ and scripts/ hold plain .mjs, linted without types.
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  // Folder boundaries. Tests and benchmarks may reach into internals; src/ and machines/ may not.
  // A later block replaces an earlier one's no-restricted-imports for the files both match.
  {
    files: ['src/*/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImportOfSrcFolder(1), throughRoot, modelBuilder] }] },
  },
  {
    files: ['src/*/*/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImportOfSrcFolder(2), throughRoot, modelBuilder] }] },
  },
  {
    files: ['src/tracking/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./[^.]|\\.\\./errors/index\\.ts$)', message: 'src/tracking is pure: it imports its own files and ../errors/index.ts, nothing else' }] },
      ],
    },
  },
  {
    files: ['machines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!xstate$|\\./[^.]|\\.\\./src/errors/index\\.ts$)', message: 'machines/ imports xstate, its own files and ../src/errors/index.ts only: every effect is injected' }] },
      ],
    },
  },
  // Dynamic imports: no-restricted-imports does not see them. Under src/ they may only name a
  // package, a file of the same folder or another folder's index.ts (the CLI loads some lazily);
  // never the model builder.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/project-models.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportExpression[source.type='Literal'][source.value=/^\\.\\.(?!.*[\\x2F]index\\.ts$)/]",
          message: 'a dynamic import under src/ names a package, a file of its own folder or another folder\'s index.ts',
        },
        {
          selector: "ImportExpression[source.type='Literal'][source.value=/models[\\x2F]build/]",
          message: modelBuilder.message,
        },
        { selector: "ImportExpression[source.type!='Literal']", message: 'a dynamic import under src/ names a literal module' },
      ],
    },
  },
  {
    files: ['src/tracking/**/*.ts', 'machines/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: 'ImportExpression', message: 'src/tracking and machines/ load nothing dynamically' }] },
  },
);
