import { ArchiveConfig, TableConfig } from '../config/config';
import type { CalendarDate } from '../core/cutoff';
import { MAX_STATEMENT_BYTES, procedureBatch, redshiftDialect } from './redshift-dialect';
import { ArchiveSql, BatchKey, CommittedBatch } from './statements';

/**
 * What a deployment assumes of the years to come when it sizes the statements that grow with
 * them: a union view lists every committed run, one a year.
 */
export const SIZED_FOR_RUNS = 20;

/** The longest values the statements may carry: an IAM role ARN, a KMS key ARN, a lake location. */
const LONGEST = {
  role: `arn:aws-us-gov:iam::123456789012:role/${'r'.repeat(64)}`,
  kmsKey: `arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/${'k'.repeat(36)}`,
  root: (config: ArchiveConfig, table: TableConfig) =>
    `s3://${'b'.repeat(63)}/${config.lake.prefix}/${table.name.toLowerCase()}/year=9999/archive_run=99991231T235959Z/`,
};

const CUTOFF = '9999-01-01' as CalendarDate;
const KEY: BatchKey = { runId: '99991231T235959Z', cutoff: CUTOFF, year: 9998, source: 'hot' };
const FIGURES = { rows: Number.MAX_SAFE_INTEGER, checksum: `-${'9'.repeat(39)}` };

/** Twenty yearly runs, each committed, one year each. */
const COMMITTED: CommittedBatch[] = Array.from({ length: SIZED_FOR_RUNS }, (_, i) => ({
  runId: `${9979 + i}0101T000000Z`,
  year: 9978 + i,
}));

/**
 * The statements a configuration makes the project send to Redshift through the Data API, each
 * of which may be at most {@link MAX_STATEMENT_BYTES}: the largest of each kind, per table (with
 * the longest values they may carry and {@link SIZED_FOR_RUNS} committed runs), and the views'
 * setup as the procedures one batch creates, calls and drops. The Data API refuses anything
 * larger ("The maximum query statement size is 100 KB": Redshift Management Guide, "Using the
 * Amazon Redshift Data API"), and the warehouse adapter refuses it before sending; this finds it
 * when the stack is synthesized instead.
 * @returns one problem per statement that would be too long, naming the table and what to change
 */
export function statementSizeProblems(config: ArchiveConfig): string[] {
  const sql = new ArchiveSql(config, redshiftDialect({ iamRoleArn: LONGEST.role, kmsKeyId: LONGEST.kmsKey }));
  const views = { committed: COMMITTED };
  const problems: string[] = [];
  const over = (what: string, statements: readonly string[]) => {
    const bytes = Math.max(...statements.map((s) => Buffer.byteLength(s)));
    if (bytes > MAX_STATEMENT_BYTES) {
      problems.push(
        `${what}: ${bytes} bytes, more than the Data API takes in one statement (${MAX_STATEMENT_BYTES}); allowed: ` +
          'fewer or shorter column names, fewer tables or views.readers',
      );
    }
  };
  for (const table of sql.tables) {
    const at = `tables[${config.tables.indexOf(table)}] (${table.name}, ${table.columns.length} columns)`;
    over(`${at}: its commit check`, [sql.commitCheck(table, KEY, 1, FIGURES)]);
    over(`${at}: its export`, sql.unloadStatements(table, KEY, LONGEST.root(config, table)));
    over(`${at}: its union view (with ${SIZED_FOR_RUNS} committed runs)`, sql.recreateView(table, views));
    over(`${at}: its read-back`, [sql.archiveFiguresQuery(table, KEY), sql.hashProbeQuery(table)]);
    over(`${at}: its column figures`, [
      ...sql.columnFiguresQuery(table, KEY, 'hot'),
      ...sql.columnFiguresQuery(table, KEY, 'archive'),
    ]);
    over(
      `${at}: its restore`,
      sql.restoreTransaction({
        restoreId: 'R99991231235959',
        family: [table],
        year: KEY.year,
        batches: new Map([[table, [{ runId: KEY.runId, figures: FIGURES }]]]),
        version: 1,
        views: () => views,
      }),
    );
  }
  over('the schema guard', [sql.catalogQuery('tables'), sql.catalogQuery('views')]);
  const setup = [sql.bumpVersion(1), ...sql.tables.flatMap((t) => [...sql.recreateView(t, views)])];
  if (setup.length > 40 && !procedureBatch(setup, config.ledger.schema, 'setup.views')) {
    problems.push(
      `the union views' setup: ${setup.length} statements, more than one Data API batch runs as one transaction ` +
        `(13 procedures of ${MAX_STATEMENT_BYTES} bytes); allowed: fewer tables, columns or views.readers per deployment`,
    );
  }
  return problems;
}
