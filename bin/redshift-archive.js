#!/usr/bin/env node
// The command `redshift-archive` (the package's bin): the command line compiled into one file,
// dist/cli.js, which the package ships and `npm run build` makes in a clone. Plain JavaScript, so
// that it starts with no compiler and no npm in between.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(built)) {
  process.stderr.write(
    `redshift-archive: ${built} is missing; in a clone of the repository, npm run build makes it\n`,
  );
  process.exit(1);
}

require(built)
  .main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    now: () => new Date(),
  })
  .then((code) => {
    process.exitCode = code;
  });
