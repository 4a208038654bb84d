/*
 * An independent grammar over the project's Redshift SQL (`.ci/run`): every Redshift statement the
 * tests sent or rendered (recorded under ARCHIVE_SQL_RECORD by devkit/sql-recorder.ts), with the
 * queries nested in UNLOADs and the statements procedures EXECUTE, one of each shape, parsed by
 * sqlfluff's `redshift` dialect (Debian's sqlfluff, not written by this project), and checked for
 * unquoted aliases on Redshift's reserved-word list. A statement no grammar accepts fails, unless
 * it matches a known gap of the grammar below, each justified by AWS's documentation.
 * Usage: tsx .ci/redshift-grammar.ts <recorded folder>
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nestedStatements, reservedAliases } from '../test/support/redshift-words';

/** Statements sqlfluff 1.4.5 refuses that are valid Redshift, each with the documentation that says so. */
const GAPS = [
  {
    id: 'unload-kms-key-id-after-options',
    matches: /^UNLOAD \([\s\S]*\) MANIFEST VERBOSE KMS_KEY_ID '[^']*' ENCRYPTED$/,
    why:
      'UNLOAD takes its options in any order, KMS_KEY_ID with ENCRYPTED (Redshift Database Developer Guide, UNLOAD: ' +
      '"[ option [ ... ] ]", https://docs.aws.amazon.com/redshift/latest/dg/r_UNLOAD.html); sqlfluff accepts ' +
      'KMS_KEY_ID only next to IAM_ROLE (audit finding 3)',
  },
];

/** A statement's shape: literals, numbers and quoted names blanked, so one of each is parsed. */
function shape(sql: string): string {
  return sql
    .replace(/'(?:[^'\\]|''|\\.)*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '"i"')
    .replace(/\b\d+\b/g, '0')
    .replace(/0(?:, 0)+/g, '0');
}

const folder = process.argv[2];
const recorded = readdirSync(folder)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter(Boolean))
  .map((line) => JSON.parse(line) as string);
const all = [...new Set(recorded)].flatMap((s) => [s, ...nestedStatements(s)]);
const shapes = new Map<string, string>();
for (const sql of all) if (!shapes.has(shape(sql))) shapes.set(shape(sql), sql);
const statements = [...shapes.values()];

const failures: string[] = [];
for (const sql of statements) {
  const reserved = reservedAliases(sql);
  if (reserved.length) failures.push(`unquoted reserved alias ${reserved.join(', ')}: ${sql.slice(0, 300)}`);
}

const input = join(mkdtempSync(join(tmpdir(), 'redshift-grammar-')), 'statements.json');
writeFileSync(input, JSON.stringify(statements));
const started = Date.now();
const verdicts = JSON.parse(
  execFileSync('/usr/bin/python3', [join(__dirname, 'redshift-parse.py'), input], {
    maxBuffer: 64 << 20,
  }).toString(),
) as [boolean, string][];
const gaps = new Map<string, number>();
verdicts.forEach(([ok, problem], i) => {
  if (ok) return;
  const gap = GAPS.find((g) => g.matches.test(statements[i]));
  if (gap) gaps.set(gap.id, (gaps.get(gap.id) ?? 0) + 1);
  else failures.push(`sqlfluff (redshift) refuses it: ${problem}\n    ${statements[i].slice(0, 400)}`);
});

console.log(
  `redshift grammar: ${recorded.length} statements recorded, ${all.length} distinct with the nested ones, ` +
    `${statements.length} shapes parsed by sqlfluff in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `known gaps: ${[...gaps].map(([id, n]) => `${id} (${n})`).join(', ') || 'none'}`,
);
for (const f of failures) console.log(`  FAILED ${f}`);
process.exit(failures.length ? 1 : 0);
