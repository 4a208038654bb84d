import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The lint configuration is what keeps dependencies pointing down; these cases prove it refuses an
// import from above each layer (and allows the ones the layout intends). ESLint loads its
// configuration with a dynamic import, which Jest's sandbox refuses, so one child process lints
// every case.
const ROOT = join(__dirname, '../..');
const LINT = `
const { ESLint } = require('eslint');
const cases = JSON.parse(process.argv[1]);
const eslint = new ESLint({ cwd: process.cwd() });
Promise.all(cases.map(([file, source]) => eslint.lintText(source, { filePath: file }))).then((results) =>
  console.log(JSON.stringify(results.map(([r]) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)))),
);`;

type Case = [file: string, source: string];
let verdicts: Map<string, string[]>;

function restricted(file: string, source: string): string[] {
  const found = verdicts.get(`${file} ${source}`);
  if (!found) throw new Error(`case not linted: ${file} ${source}`);
  return found;
}

const refused: [...Case, string][] = [
  ['src/core/x.ts', "import '../config/config';", 'core is the leaf layer'],
  ['src/config/x.ts', "import '../sql/identifiers';", 'config imports core only'],
  ['src/sql/x.ts', "import '../protocol/archive';", 'sql imports core and config only'],
  ['src/protocol/x.ts', "import '../engines/aws/s3-lake';", 'the protocol imports core, config and sql only'],
  [
    'src/protocol/x.ts',
    "import '@aws-sdk/client-s3';",
    'the protocol and the embedded engine do not depend on AWS',
  ],
  ['src/engines/local/x.ts', "import '../aws/s3-lake';", 'the embedded engine knows nothing of AWS'],
  ['src/engines/aws/x.ts', "import '@duckdb/node-api';", 'only the embedded engine and the CLI use DuckDB'],
  [
    'src/runtime/x.ts',
    "import '../engines/local/engine';",
    'only the embedded engine and the CLI use DuckDB',
  ],
  ['src/runtime/x.ts', "import 'aws-cdk-lib';", 'runtime code never loads the CDK'],
  ['src/cli/x.ts', "import '../engines/local/engine';", 'only the embedded engine and the CLI use DuckDB'],
  ['src/contract.ts', "import './core/errors';", 'the contract imports zod only'],
  [
    'lib/x.ts',
    "import '../src/engines/aws/data-api-warehouse';",
    'lib/ shares only core, config, the SQL it sizes at synth and the contract',
  ],
  [
    'lib/x.ts',
    "import '@aws-sdk/client-redshift-data';",
    'the protocol and the embedded engine do not depend on AWS',
  ],
  ['lambda/x.ts', "import '../test/support/faults';", 'src/ is imported by them, never the other way'],
  ['bench/x.ts', "import '../test/support/faults';", 'the benchmark shares fixtures through devkit/'],
];
const allowed: Case[] = [
  ['src/config/x.ts', "import '../core/errors';"],
  ['src/protocol/x.ts', "import '../sql/statements';"],
  ['src/engines/aws/x.ts', "import '../../protocol/ports';"],
  ['src/runtime/x.ts', "import '../engines/aws/s3-lake';"],
  ['lib/x.ts', "import '../src/contract';"],
  ['lib/private/x.ts', "import '../../src/core/glue-schema';"],
  ['lib/private/x.ts', "import '../../src/sql/limits';"],
];

beforeAll(() => {
  const cases: Case[] = [...refused.map(([f, s]): Case => [f, s]), ...allowed];
  const out = execFileSync(process.execPath, ['-e', LINT, JSON.stringify(cases)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const messages = JSON.parse(out) as string[][];
  verdicts = new Map(cases.map(([file, source], i) => [`${file} ${source}`, messages[i]]));
});

test.each(refused)('fails an import from above the layer: %s importing %s', (file, source, reason) => {
  expect(restricted(file, source).join('\n')).toContain(reason);
});

test.each(allowed)('allows an import that points down: %s importing %s', (file, source) => {
  expect(restricted(file, source)).toEqual([]);
});
