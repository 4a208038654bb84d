#!/usr/bin/env node
// The npm bin: runs the TypeScript CLI through tsx, so no build step stands between a clone and a run.
require('tsx/cjs/api').register();
const { main } = require('./cli.ts');

main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  now: () => new Date(),
}).then((code) => {
  process.exitCode = code;
});
