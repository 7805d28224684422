// Lint: typescript-eslint's recommended rules, plus the import direction of ARCHITECTURE.md.
import tseslint from 'typescript-eslint';

/**
 * The storage engines are reached only through the AgentStorage seam: outside src/storage/ nothing
 * imports storage/sqlite or storage/postgres (the CLI opens storage with storage/open.ts).
 */
const engines = [
  {
    group: ['**/storage/sqlite/*', '**/storage/sqlite', '**/storage/postgres/*', '**/storage/postgres', 'better-sqlite3', 'pg', 'postgres'],
    message: 'docs/storage.md: only src/storage/ touches a storage engine; take an AgentStorage (open one with storage/open.ts)',
  },
];

/** Folders a layer may not import from (relative paths as written in source), plus the storage engines unless `withEngines`. */
const forbid = (layers, { withEngines = false } = {}) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        ...layers.map((layer) => ({
          group: [`**/${layer}/*`, `**/${layer}`],
          message: `ARCHITECTURE.md: this folder must not import from ${layer}/`,
        })),
        ...(withEngines ? [] : engines),
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  // Type-aware: the storage seam is asynchronous, so a forgotten `await` (a floating or misused
  // Promise) must fail lint rather than run out of order.
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // protocol is the bottom layer: pure Nostr code.
  { files: ['src/protocol/**'], rules: forbid(['signer', 'relay', 'runtime', 'storage', 'think', 'trajectory', 'config', 'control', 'cli', 'tui', 'behaviors', 'util']) },
  { files: ['src/util/**'], rules: forbid(['signer', 'relay', 'runtime', 'storage', 'think', 'trajectory', 'config', 'control', 'cli', 'tui', 'behaviors']) },
  { files: ['src/signer/**'], rules: forbid(['relay', 'runtime', 'storage', 'think', 'trajectory', 'config', 'control', 'cli', 'tui', 'behaviors']) },
  { files: ['src/relay/**'], rules: forbid(['runtime', 'think', 'trajectory', 'control', 'cli', 'tui', 'behaviors']) },
  { files: ['src/storage/**'], rules: forbid(['relay', 'runtime', 'control', 'cli', 'tui'], { withEngines: true }) },
  { files: ['src/think/**', 'src/trajectory/**'], rules: forbid(['relay', 'runtime', 'control', 'cli', 'tui']) },
  { files: ['src/config/**'], rules: forbid(['relay', 'runtime', 'storage', 'think', 'trajectory', 'control', 'cli', 'tui', 'behaviors']) },
  { files: ['src/runtime/**', 'src/behaviors/**', 'src/control/**'], rules: forbid(['cli', 'tui']) },
  { files: ['src/cli/**', 'src/index.ts'], rules: forbid([]) },
  // recovery: snapshots on relays and restores; it reaches state through the storage seam, never the CLI.
  { files: ['src/recovery/**'], rules: forbid(['runtime', 'control', 'cli', 'tui', 'behaviors', 'think']) },
  // The TUI sees runtime event types and the control client, never SQLite or sockets.
  {
    files: ['src/tui/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'better-sqlite3', message: 'the TUI talks to the daemon through the control client' },
            { name: 'ws', message: 'the TUI talks to the daemon through the control client' },
          ],
          patterns: [{ group: ['**/storage/*', '**/relay/*', '**/cli/*'], message: 'ARCHITECTURE.md: tui imports runtime event types and the control client only' }],
        },
      ],
    },
  },
  // relay-dev may import src/protocol only.
  {
    files: ['relay-dev/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!protocol/)',
              message: 'ARCHITECTURE.md: relay-dev imports src/protocol only',
            },
          ],
        },
      ],
    },
  },
);
