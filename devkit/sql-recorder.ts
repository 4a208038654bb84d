import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The environment variable that names where the tests record the Redshift SQL they send. */
export const SQL_RECORD = 'ARCHIVE_SQL_RECORD';

/**
 * Records Redshift statements that a test sends (or renders as what would be sent), one JSON
 * string a line, when `ARCHIVE_SQL_RECORD` names a folder: `.ci/run` parses them with a Redshift
 * grammar that is not the project's own. Does nothing otherwise.
 */
export function recordRedshiftSql(sqls: readonly string[]): void {
  const dir = process.env[SQL_RECORD];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `${process.pid}.jsonl`), sqls.map((s) => `${JSON.stringify(s)}\n`).join(''));
}
