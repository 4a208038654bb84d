// Builds what the package ships, from the TypeScript: all of it on `npm pack` (prepack); the handlers
// and the command line in `npm run build` (and so `npm test`), which run from the source; the
// handlers before each `cdk synth` of this repository's app, so that it never deploys stale ones.
//   dist/handlers/<name>/  each Lambda handler bundled with its dependencies but the AWS SDK, which
//                          Lambda's Node.js runtime provides: the construct deploys these as they are,
//                          so a synth needs neither esbuild nor Docker
//   dist/cli.js            the command line in one file, so that it starts without compiling anything
//   dist/lib/, dist/src/   the construct library and what it imports, compiled with declarations
//
// `node bin/build.mjs [--out DIR] [handlers] [cli] [library]` builds the parts named (all by
// default) under DIR (dist by default).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args.splice(outIndex, 2)[1] : join(root, 'dist');
const parts = args.length > 0 ? args : ['handlers', 'cli', 'library'];

/** The Lambda entry points of lambda/, one bundle each (lib/private/functions.ts `HandlerName`). */
const HANDLERS = ['unload', 'schema-and-views', 'role-association'];

const common = { absWorkingDir: root, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning' };

const build = {
  handlers() {
    rmSync(join(out, 'handlers'), { recursive: true, force: true });
    for (const name of HANDLERS) {
      buildSync({
        ...common,
        entryPoints: [`lambda/${name}.ts`],
        outfile: join(out, 'handlers', name, 'index.js'),
        target: 'node22',
        minify: true,
        sourcemap: true,
        // Lambda's runtime provides the AWS SDK v3 with its @smithy dependencies.
        external: ['@aws-sdk/*', '@smithy/*'],
      });
    }
  },
  cli() {
    buildSync({
      ...common,
      entryPoints: ['bin/cli.ts'],
      outfile: join(out, 'cli.js'),
      target: 'node20',
      // Loaded from node_modules as they are: DuckDB is a native addon, and the AWS SDK is required
      // only by the --stack mode (a dynamic import), so local commands never parse it.
      external: ['@duckdb/node-api', '@aws-sdk/*'],
    });
  },
  library() {
    rmSync(join(out, 'lib'), { recursive: true, force: true });
    rmSync(join(out, 'src'), { recursive: true, force: true });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], {
      stdio: 'inherit',
    });
  },
};

for (const part of parts) {
  if (!(part in build)) {
    console.error(`build: ${JSON.stringify(part)} is not allowed; allowed: ${Object.keys(build).join(', ')}`);
    process.exit(2);
  }
  build[part]();
}
