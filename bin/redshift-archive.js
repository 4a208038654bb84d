#!/usr/bin/env node
// The npm bin. It runs the command line that `npm ci` compiled (dist/cli.js, by the prepare
// script), which starts without compiling TypeScript; after an install that ran no scripts, it
// compiles the TypeScript on the fly instead.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'cli.js');
let cli;
if (existsSync(built)) {
  cli = require(built);
} else {
  require('tsx/cjs/api').register();
  cli = require('./cli.ts');
}

cli
  .main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    now: () => new Date(),
  })
  .then((code) => {
    process.exitCode = code;
  });
