// Compiles the command line to one CommonJS file (dist/cli.js), so that it starts without compiling
// TypeScript on every call. Run by `npm ci` (the prepare script) and by `npm run build`.
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
buildSync({
  absWorkingDir: root,
  entryPoints: ['bin/cli.ts'],
  outfile: process.argv[2] ?? 'dist/cli.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Loaded from node_modules as they are: DuckDB is a native addon, and the AWS SDK, a dependency
  // too, is required only by the --stack mode (a dynamic import), so local commands never parse it.
  external: ['@duckdb/node-api', '@aws-sdk/*'],
  logLevel: 'warning',
});
