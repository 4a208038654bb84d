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
  // A native addon: loaded from node_modules as it is.
  external: ['@duckdb/node-api'],
  logLevel: 'warning',
});
