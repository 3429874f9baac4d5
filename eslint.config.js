// Lint: type-aware rules everywhere (no floating promises), and determinism rules for workflow code, which Temporal
// replays: no Node built-ins, no I/O libraries, no clocks or randomness outside @temporalio/workflow's own.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const ioModules = [
  'pg',
  'dockerode',
  '@anthropic-ai/sdk',
  'openai',
  'pino',
  'fastify',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];
const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'net',
  'http',
  'https',
  'crypto',
  'stream',
  'events',
  'timers',
  'worker_threads',
  'dns',
  'zlib',
  'util',
  'process',
];

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.tools/**', '.data/**', 'test/histories/**', 'bench/results/**', 'eslint.config.js'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration once, in a config module (domain/config or a process entry point).',
        },
      ],
    },
  },
  {
    // No import cycle anywhere (type-only imports aside: they vanish at run time). The folder rules below keep imports
    // pointing one way between folders; this keeps them acyclic inside a folder too.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver()],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // Test and dev-stack harnesses pass environments to the processes they start; vitest matchers are typed `any`.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off', '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    // The web page's scripts run in the browser, untyped and unbundled (api/ui/): lint them without type information.
    files: ['api/ui/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'sessionStorage',
          'fetch',
          'Node',
          'FormData',
          'URLSearchParams',
          'AbortController',
          'TextDecoderStream',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'console',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // Code agents' handlers (sdk/agent.ts, an example's agent module) are workflow code in the operator's bundle.
    files: ['workflows/**/*.ts', 'sdk/agent.ts', 'examples/*/agent.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...ioModules, ...nodeBuiltins].map((name) => ({
            name,
            message: 'Workflow code must be deterministic and free of I/O.',
          })),
          patterns: [
            { group: ['node:*'], message: 'No Node built-ins in workflow code.' },
            {
              group: ['../activities/*', '../api/*', '../db/*', '../workers/*', '../net/*'],
              allowTypeImports: true,
              message: 'Workflows import only domain code and activity types.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use a workflow timer loop.' },
        { name: 'process', message: 'No process in workflows.' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use uuid4() or workflow random from @temporalio/workflow.' },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...ioModules, ...nodeBuiltins],
          patterns: ['node:*', '../workflows/*', '../activities/*', '../api/*', '../db/*', '../workers/*', '../net/*'],
        },
      ],
    },
  },
  {
    // net/: network guards shared by api/ and activities/ (the URL guard does DNS, so it cannot live in domain/).
    files: ['net/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['../workflows/*', '../activities/*', '../api/*', '../db/*', '../workers/*'] },
      ],
    },
  },
  {
    // sdk/: the API of agents defined in code (defineAgent, createAgentWorker); never the HTTP server.
    files: ['sdk/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../api/*'], message: "The code-agent SDK runs in the operator's worker, not the API." },
          ],
        },
      ],
    },
  },
  {
    // examples/: operators' code, written against sdk/ (and the worker bootstrap) only.
    files: ['examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../api/*', '../../activities/*', '../../db/*', '../../workflows/*', '../../domain/*'],
              message: 'Examples use the platform through sdk/ only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../workflows/*', '../../workflows/*', '../api/*', '../../api/*'],
              message: 'Activities never import workflows or api.',
            },
          ],
        },
      ],
    },
  },
);
