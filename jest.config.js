/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest'],
    // @middy/core 6 ships ES modules only, which Jest requires natively only from Node 24.9 on:
    // Jest compiles it to CommonJS like the tests. The Lambda bundles (esbuild) take it as it is.
    '/node_modules/@middy/core/.+\\.js$': ['@swc/jest'],
  },
  transformIgnorePatterns: ['/node_modules/(?!@middy/core/)'],
  // examples/ import the package by its name, as its users do: here, the source
  moduleNameMapper: { '^redshift-archive$': '<rootDir>/lib/index.ts' },
  testTimeout: 60000,
  // Jest's default keeps a core for itself (cores - 1 workers): on the 2-core machines CI and this
  // project run on, that is one worker and every file in series. Measured on 2 idle cores: one
  // worker 362 s, two 245 s, with all 795 tests passing either way.
  maxWorkers: '100%',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
