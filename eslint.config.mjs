import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/**
 * Dependencies point down: core <- config <- sql <- protocol <- engines <- runtime <- lambda (and cli), with the
 * contract shared by lib/ and the runtime. Each entry forbids a folder's imports from above it.
 */
const layer = (files, ...forbidden) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map(([regex, message]) => ({ regex, message })),
      },
    ],
  },
});
const NO_AWS = ['^@aws-sdk/|^aws-lambda$', 'the protocol and the embedded engine do not depend on AWS'];
const NO_DUCKDB = ['^@duckdb/|engines/local/', 'only the embedded engine and the CLI use DuckDB'];
const NO_CDK = ['^aws-cdk-lib|^constructs$|^cdk-nag$', 'runtime code never loads the CDK'];
const NO_DEV = ['(^|/)(lib|bin|test|bench|devkit)/', 'src/ is imported by them, never the other way'];

/** A layer of src/: on top of its own rule, never the CDK nor the folders that import src/. */
const srcLayer = (files, ...forbidden) => layer(files, ...forbidden, NO_CDK, NO_DEV);

const layers = [
  srcLayer(
    ['src/core/**/*.ts'],
    ['^(?!\\./|node:)', 'core is the leaf layer: it imports nothing of the project or beyond'],
  ),
  srcLayer(['src/contract.ts'], ['^(?!zod$)', 'the contract imports zod only, so lib/ loads no adapter']),
  srcLayer(['src/config/**/*.ts'], ['^\\.\\./(?!core/)', 'config imports core only'], NO_AWS, NO_DUCKDB),
  srcLayer(
    ['src/sql/**/*.ts'],
    ['^\\.\\./(?!core/|config/)', 'sql imports core and config only'],
    NO_AWS,
    NO_DUCKDB,
  ),
  srcLayer(
    ['src/protocol/**/*.ts'],
    ['^\\.\\./(?!core/|config/|sql/)', 'the protocol imports core, config and sql only'],
    NO_AWS,
    NO_DUCKDB,
  ),
  srcLayer(
    ['src/engines/local/**/*.ts'],
    ['^\\.\\./(aws/|\\.\\./runtime/|\\.\\./contract$)', 'the embedded engine knows nothing of AWS'],
    NO_AWS,
  ),
  srcLayer(
    ['src/engines/aws/**/*.ts'],
    ['^\\.\\./\\.\\./runtime/', 'engines sit below the runtime'],
    NO_DUCKDB,
  ),
  srcLayer(['src/runtime/**/*.ts'], NO_DUCKDB),
  // The command line's AWS mode and what both modes print; bin/cli.ts adds the embedded engine.
  srcLayer(['src/cli/**/*.ts'], NO_DUCKDB),
  layer(['lambda/**/*.ts'], NO_DUCKDB, NO_CDK, NO_DEV),
  layer(
    ['lib/**/*.ts'],
    [
      'src/(?!core/|config/|sql/|contract$)',
      'lib/ shares only core, config, the SQL it sizes at synth and the contract with the runtime',
    ],
    NO_AWS,
    NO_DUCKDB,
  ),
  layer(
    ['examples/**/*.ts'],
    ['^\\.', 'examples use the package as its users do: import from redshift-archive'],
  ),
  layer(['bench/**/*.ts'], ['(^|/)test/', 'the benchmark shares fixtures through devkit/, not the tests']),
  layer(
    ['devkit/**/*.ts'],
    ['(^|/)(test|bench)/', 'devkit/ serves the tests and the benchmark, and imports neither'],
  ),
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      'coverage/',
      'bench/results/',
      'dist/',
      '**/*.js',
      '!bin/redshift-archive.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: 'error',
      'no-console': 'off',
    },
  },
  ...layers,
  {
    // Functions longer than a screen hide their steps; tests are lists of cases and are exempt.
    files: ['src/**/*.ts', 'lambda/**/*.ts', 'lib/**/*.ts', 'bin/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['bin/build.mjs'],
    languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['bin/redshift-archive.js'],
    languageOptions: { globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
