import { ArchiveConfig, TableConfig, tableNamed, tablePath } from '../config/config';
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
    `s3://${'b'.repeat(63)}/${config.lake.prefix}/${table.alias.toLowerCase()}/year=9999/archive_run=99991231T235959Z/`,
};

const CUTOFF = '9999-01-01' as CalendarDate;
const KEY: BatchKey = { runId: '99991231T235959Z', cutoff: CUTOFF, year: 9998, source: 'hot' };
const FIGURES = { rows: Number.MAX_SAFE_INTEGER, checksum: `-${'9'.repeat(39)}` };

/** Twenty yearly runs, each committed, one year each. */
const COMMITTED: CommittedBatch[] = Array.from({ length: SIZED_FOR_RUNS }, (_, i) => ({
  runId: `${9979 + i}0101T000000Z`,
  year: 9978 + i,
}));

/** What a column adds to the statements that hash every column (docs/design.md §7). */
const CHECKSUM_COST =
  "its name's bytes and about 46 more to a checksum (a string 11 more, a boolean 10, a date 17, a timestamp 22, a TIME, TIMETZ or VARBYTE about 20, a TIMESTAMPTZ or SUPER about 43)";

/**
 * The statements the project sends for each table, the largest of each kind (with the longest
 * values they may carry and {@link SIZED_FOR_RUNS} committed runs), and what a column adds to them.
 */
interface Kind {
  readonly what: string;
  readonly cost: string;
  readonly render: (sql: ArchiveSql, table: TableConfig, config: ArchiveConfig) => string[];
}

const KINDS: readonly Kind[] = [
  {
    what: 'its export',
    cost: "its name's bytes and 4 more to the export (a CHAR, TIMESTAMPTZ, TIME, TIMETZ, VARBYTE or SUPER twice its name's and about 25 to 50)",
    render: (sql, table, config) => sql.unloadStatements(table, KEY, LONGEST.root(config, table)),
  },
  {
    what: 'its read-back',
    cost: CHECKSUM_COST,
    render: (sql, table) => [sql.archiveFiguresQuery(table, KEY)],
  },
  {
    what: 'its commit check',
    cost: CHECKSUM_COST,
    render: (sql, table) => [sql.commitCheck(table, KEY, 1, FIGURES)],
  },
  {
    what: 'its column figures',
    cost: CHECKSUM_COST,
    render: (sql, table) => [
      ...sql.columnFiguresQuery(table, KEY, 'hot'),
      ...sql.columnFiguresQuery(table, KEY, 'archive'),
    ],
  },
  {
    what: 'its restore',
    cost: CHECKSUM_COST,
    render: (sql, table) =>
      sql.restoreTransaction({
        restoreId: 'R99991231235959',
        family: [table],
        year: KEY.year,
        batches: new Map([[table, [{ runId: KEY.runId, figures: FIGURES }]]]),
        version: 1,
        views: () => ({ committed: COMMITTED }),
      }),
  },
  { what: 'its preflight probe', cost: CHECKSUM_COST, render: (sql, table) => [sql.hashProbeQuery(table)] },
  {
    what: `its union view (with ${SIZED_FOR_RUNS} committed runs)`,
    cost: "twice its name's bytes and about 20 more to the union view",
    render: (sql, table) => sql.recreateView(table, { committed: COMMITTED }),
  },
];

/** The statements' renderer for sizing: Redshift's, with the longest role and key. */
function sizingSql(config: ArchiveConfig): ArchiveSql {
  return new ArchiveSql(config, redshiftDialect({ iamRoleArn: LONGEST.role, kmsKeyId: LONGEST.kmsKey }));
}

/** The size of the largest of `statements`, in bytes of UTF-8 (as the Data API counts them). */
function largest(statements: readonly string[]): number {
  return Math.max(...statements.map((s) => Buffer.byteLength(s)));
}

/** The largest statement of one kind that the project sends for a configuration. */
export interface StatementSize {
  /** The table it is sent for; none for a statement over every table. */
  readonly table?: TableConfig;
  /** What it is, as a refusal names it. */
  readonly what: string;
  /** Its size in bytes of UTF-8. */
  readonly bytes: number;
}

/**
 * The statements a configuration makes the project send to Redshift through the Data API, the
 * largest of each kind: per table, its export, read-back, commit check, column figures, restore,
 * preflight probe and union view; and the schema guard's read of the catalog.
 */
export function largestStatements(config: ArchiveConfig): StatementSize[] {
  const sql = sizingSql(config);
  return [
    ...sql.tables.flatMap((table) =>
      KINDS.map(({ what, render }) => ({ table, what, bytes: largest(render(sql, table, config)) })),
    ),
    { what: 'the schema guard', bytes: largest([sql.catalogQuery('tables'), sql.catalogQuery('views')]) },
  ];
}

/**
 * About how many columns like `table`'s fit in one statement of a kind: the statement rendered
 * for the table with only its key column (its archive column or foreign key) is what the table
 * costs apart from its columns, and each further column costs the average of the others.
 */
function columnsThatFit(config: ArchiveConfig, table: TableConfig, kind: Kind, bytes: number): number {
  const by = table.archiveBy;
  const keys = ('column' in by ? [by.column] : by.foreignKey).map((k) => k.toLowerCase());
  const bare: ArchiveConfig = {
    ...config,
    tables: config.tables.map((t) =>
      t === table ? { ...t, columns: t.columns.filter((c) => keys.includes(c.name.toLowerCase())) } : t,
    ),
  };
  const base = largest(kind.render(sizingSql(bare), tableNamed(bare, table.alias), bare));
  const perColumn = (bytes - base) / (table.columns.length - keys.length);
  return keys.length + Math.floor((MAX_STATEMENT_BYTES - base) / perColumn);
}

/** "a, b and c". */
function list(items: readonly string[]): string {
  return items.length < 2
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * Each statement of {@link largestStatements} may be at most {@link MAX_STATEMENT_BYTES}: the Data
 * API refuses anything larger ("The maximum query statement size is 100 KB": Redshift Management
 * Guide, "Using the Amazon Redshift Data API"), and the warehouse adapter refuses it before sending;
 * this finds it when the stack is synthesized instead. The views' setup must also fit the
 * procedures of one batch.
 * @returns one problem per table with a statement that would be too long, naming the table, its
 *   size, its statements that would be, the largest, and the rule: what a column adds to each, and
 *   about how many columns like the table's fit
 */
export function statementSizeProblems(config: ArchiveConfig): string[] {
  const sizes = largestStatements(config);
  const problems = config.tables.flatMap((table) => {
    const over = sizes.filter((s) => s.table === table && s.bytes > MAX_STATEMENT_BYTES);
    if (over.length === 0) return [];
    const worst = over.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const kinds = over.map((s) => KINDS.find((k) => k.what === s.what) as Kind);
    const fit = Math.min(...over.map((s, i) => columnsThatFit(config, table, kinds[i], s.bytes)));
    const names = table.columns.reduce((sum, c) => sum + Buffer.byteLength(c.name), 0);
    const costs = [...new Set(kinds.map((k) => k.cost))];
    const plain = (what: string) => what.replace(/^its /, '');
    return [
      `${tablePath(table)} (${table.columns.length} columns, names of ` +
        `${(names / table.columns.length).toFixed(1)} bytes on average): its ${list(over.map((s) => plain(s.what)))} ` +
        `would pass the ${MAX_STATEMENT_BYTES} bytes the Data API takes in one statement (the ${plain(worst.what)}: ${worst.bytes} ` +
        `bytes); allowed: about ${fit} columns like these, or shorter names: a column adds ${list(costs)} ` +
        '(docs/design.md §7)',
    ];
  });
  const guard = sizes.find((s) => !s.table && s.bytes > MAX_STATEMENT_BYTES);
  if (guard) {
    problems.push(
      `${guard.what}: ${guard.bytes} bytes, more than the Data API takes in one statement ` +
        `(${MAX_STATEMENT_BYTES}); allowed: fewer tables per deployment`,
    );
  }
  const sql = sizingSql(config);
  const views = { committed: COMMITTED };
  const setup = [sql.bumpVersion(1), ...sql.tables.flatMap((t) => [...sql.recreateView(t, views)])];
  if (setup.length > 40 && !procedureBatch(setup, config.ledger.schema, 'setup.views')) {
    problems.push(
      `the union views' setup: ${setup.length} statements, more than one Data API batch runs as one transaction ` +
        `(13 procedures of ${MAX_STATEMENT_BYTES} bytes); allowed: fewer tables, columns or views.readers per deployment`,
    );
  }
  return problems;
}
