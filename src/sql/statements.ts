import {
  archiveOrder,
  ArchiveConfig,
  ColumnConfig,
  columnNamed,
  families,
  isRootTable,
  rootOf,
  TableConfig,
  tableNamed,
} from '../config/config';
import { InternalError } from '../core/errors';
import { PARTITION_KEYS } from '../core/lake-layout';
import { ColumnType, travelsAsText, travelType } from '../core/column-types';
import type { CalendarDate } from '../core/cutoff';
import type { AccessProbe, Dialect, HashInput } from './dialect';
import { qualify, quoteIdent } from './identifiers';

/** The states a run goes through, as the ledger records them (v1's are resumed to the end). */
export type RunState = 'running' | 'finished' | 'aborted' | 'staged' | 'verified' | 'published';

/** The states of one table's part of a batch. Committed is recorded apart, by the commit's check. */
export type BatchState = 'pending' | 'exported' | 'verified' | 'discarded' | 'restored' | 'lost';

/**
 * Where a batch's rows are before its commit: in the hot table (protocol v2), or in a stage table
 * that protocol v1 left behind in an unfinished run, which v2 finishes.
 */
export type BatchSource = 'hot' | 'stage';

/** One batch: one family's rows of one archive year, in one run. */
export interface BatchKey {
  readonly runId: string;
  readonly cutoff: CalendarDate;
  readonly year: number;
  readonly source: BatchSource;
}

/** Rows and checksum of one table's part of a batch (the checksum as exact decimal text). */
export interface Figures {
  readonly rows: number;
  readonly checksum: string;
}

/** Rows a checksum reads: those of `from` (where `where`), and the table whose columns `guard` checks. */
interface RowSource {
  readonly from: string;
  readonly where?: string;
  readonly guard?: string;
}

/** One committed batch of a table, as the union view lists it. */
export interface CommittedBatch {
  readonly runId: string;
  readonly year: number;
}

/** What a union view reads besides the hot table. */
export interface ViewState {
  readonly committed: readonly CommittedBatch[];
  /** The run whose v1 stage tables still hold rows, while it is being finished. */
  readonly stageRunId?: string;
}

/** A planned batch row of the ledger, written when a run starts. */
export interface PlannedBatch {
  readonly table: TableConfig;
  readonly year: number;
  readonly rows: number;
  /**
   * The warehouse bytes these rows occupy: the table's own size scaled by the rows that leave,
   * when the warehouse tells its sizes (`tableSizesQuery`).
   */
  readonly hotBytes?: number;
}

/** What an export found: the manifest's figures, or zero rows and no files. */
export interface ExportFigures {
  readonly location: string | null;
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
}

/**
 * The columns of a new batch row, named: those added later (LEDGER_UPGRADES) start NULL, but for
 * the hot table's schema, which every new row records.
 */
const BATCH_COLUMNS =
  '("run_id", "table_name", "family", "year", "source", "state", "attempt", "planned_rows", "location", ' +
  '"row_count", "checksum", "file_count", "byte_count", "columns", "error", "table_schema")';

/** Per-column checksums in one query of {@link ArchiveSql.columnFiguresQuery}. */
const COLUMN_FIGURES = 200;

/** `items` in consecutive groups of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

/**
 * The row hash of `values` (at least one), in groups: the dialect's hash of each group of
 * `hashGroup` values, the groups' hashes combined by the dialect when there are several. The
 * grouping depends only on the number of columns, which both sides of a comparison share, so the
 * hash stays exact and unambiguous, in both engines alike.
 */
function rowHash(dialect: Dialect, values: readonly HashInput[]): string {
  const groups = chunks(values, dialect.hashGroup).map((group, i) => dialect.groupHash(group, i));
  return groups.length === 1 ? groups[0] : dialect.combineHashes(groups);
}

/**
 * The alias of a table's `i`-th column in a checksum's derived table: `q` and the index in base 36
 * (`q0` ... `qz`, `q10` ..., at most 4 characters for 1,600 columns); no reserved word starts with Q.
 */
function hashAlias(i: number): string {
  return `q${i.toString(36)}`;
}

/** The columns of a planned batch row: a new batch's, and the warehouse bytes its rows occupy. */
const PLANNED_COLUMNS = `${BATCH_COLUMNS.slice(0, -1)}, "hot_bytes")`;

const YEAR = quoteIdent(PARTITION_KEYS.year);
const RUN = quoteIdent(PARTITION_KEYS.run);
const ZONE_UTC = "'UTC'";

/** A table of the ledger. */
export type LedgerTable =
  | 'runs'
  | 'batches'
  | 'commit_checks'
  | 'restore_checks'
  | 'views_version'
  | 'active_run'
  | 'run_years'
  | 'run_exports';

/**
 * Columns added to the ledger's tables after their first release, oldest first. A ledger that
 * lacks one gets it (`ALTER TABLE ... ADD COLUMN`, one column per statement as Redshift takes
 * them; on a local table it may run in a transaction block, unlike on an external table: DG
 * ALTER TABLE) the first time a command that writes runs; reads select NULL for it until then.
 * A column added later is appended here the same way.
 */
export const LEDGER_UPGRADES: readonly {
  readonly table: LedgerTable;
  readonly column: string;
  readonly type: string;
  /**
   * What the rows written before the column existed get, in the transaction that adds it:
   * `configured table schema`, the schema that this configuration gives the batch's table (the
   * configuration whose checks let it upgrade this ledger is the one that wrote it); a table
   * that left the configuration keeps NULL, "unknown".
   */
  readonly fill?: 'configured table schema';
}[] = [
  // The files verification read (names, sizes, ETags): the commit compares them again (§2).
  { table: 'batches', column: 'files_digest', type: 'VARCHAR(64)' },
  // The hot table's schema: another configuration archiving a table of the same name in another
  // schema is no second archive of these rows (§5).
  { table: 'batches', column: 'table_schema', type: 'VARCHAR(127)', fill: 'configured table schema' },
  // When a run, a batch and its steps started and ended, from the engine's clock (UTC): no
  // statement reads the warehouse's clock (docs/design.md §2). A batch's export and verify of
  // each table end at exported_at and verified_at; its commit ends at ended_at.
  { table: 'runs', column: 'started_at', type: 'TIMESTAMP' },
  { table: 'runs', column: 'ended_at', type: 'TIMESTAMP' },
  { table: 'batches', column: 'started_at', type: 'TIMESTAMP' },
  { table: 'batches', column: 'exported_at', type: 'TIMESTAMP' },
  { table: 'batches', column: 'verified_at', type: 'TIMESTAMP' },
  { table: 'batches', column: 'ended_at', type: 'TIMESTAMP' },
  // The warehouse bytes the batch's rows occupied when the run started (the table's size scaled
  // by its rows that leave): what the run frees, beside what it adds to the lake (byte_count).
  { table: 'batches', column: 'hot_bytes', type: 'BIGINT' },
];

/**
 * An instant of the engine's clock as a literal of a TIMESTAMP column (UTC, to the millisecond);
 * `:now` where a plan shows a statement before its instant is known.
 */
function stamp(at: Date | undefined): string {
  if (at === undefined) return ':now';
  if (Number.isNaN(at.getTime())) throw new InternalError('not an instant');
  return `TIMESTAMP '${at.toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/** A column added by {@link LEDGER_UPGRADES}, as a read selects it: text, or NULL on an older ledger. */
function upgradedColumn(
  u: (typeof LEDGER_UPGRADES)[number],
  missing: readonly string[],
  alias: string,
): string {
  if (missing.includes(u.column)) return `CAST(NULL AS ${u.type}) AS ${u.column}`;
  const column = `${alias}.${quoteIdent(u.column)}`;
  // Timestamps and big numbers travel as text (the Data API returns BIGINT as a double).
  return u.type.startsWith('VARCHAR')
    ? `${column} AS ${u.column}`
    : `CAST(${column} AS VARCHAR(32)) AS ${u.column}`;
}

/** The ledger's own tables, which a v2 ledger always has. */
const LEDGER_TABLES: readonly LedgerTable[] = [
  'runs',
  'batches',
  'commit_checks',
  'restore_checks',
  'views_version',
];

/** The first day of a year, as a calendar date. */
function newYear(year: number): CalendarDate {
  return `${String(year).padStart(4, '0')}-01-01` as CalendarDate;
}

/** A whole number that is about to reach SQL. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new InternalError(`not a whole number: ${n}`);
  return String(n);
}

/** An exact decimal checksum that is about to reach SQL (as a string literal). */
function decimalText(text: string): string {
  if (!/^-?\d{1,40}$/.test(text)) throw new InternalError(`not a checksum: ${text}`);
  return `'${text}'`;
}

/**
 * Every statement of the archive protocol, rendered from configuration through one dialect.
 * Identifiers go through {@link quoteIdent}; values are validated (run ids, dates, numbers) or
 * rendered with the dialect's literal function. Nothing else reaches SQL.
 */
export class ArchiveSql {
  constructor(
    private readonly config: ArchiveConfig,
    readonly dialect: Dialect,
  ) {}

  /** The tables, parents before children. */
  get tables(): TableConfig[] {
    return archiveOrder(this.config);
  }

  /** The families, each a root and its descendants (parents first). */
  get families(): TableConfig[][] {
    return families(this.config);
  }

  /** The root table of a table's family. */
  familyOf(table: TableConfig): TableConfig[] {
    const root = rootOf(this.config, table);
    return this.families.find((f) => f[0] === root) as TableConfig[];
  }

  hotTable(table: TableConfig): string {
    return qualify(table.schema, table.name);
  }

  externalTable(table: TableConfig): string {
    return qualify(this.config.catalog.externalSchema, table.alias.toLowerCase());
  }

  viewName(table: TableConfig): string {
    return qualify(this.config.views.schema, `${this.config.views.prefix}${table.alias}`);
  }

  /** A stage table that protocol v1 created for a run (read and dropped, never created, by v2). */
  stageTable(table: TableConfig, runId: string): string {
    return qualify(this.config.ledger.stageSchema, `${table.name}__${runId}`);
  }

  ledgerTable(name: LedgerTable): string {
    return qualify(this.config.ledger.schema, name);
  }

  private lit(text: string): string {
    return this.dialect.literal(text);
  }

  // ---- columns ------------------------------------------------------------------------------

  private column(c: ColumnConfig, qualifier = ''): string {
    return `${qualifier}${quoteIdent(c.name)}`;
  }

  private columns(table: TableConfig): string {
    return table.columns.map((c) => this.column(c)).join(', ');
  }

  /**
   * A hot column as its value travels (into the files and into the row hash), over `ref` (the
   * column, or its alias): a TIMESTAMPTZ as its UTC TIMESTAMP, a CHAR as VARCHAR, a TIME, TIMETZ,
   * VARBYTE or SUPER as its text (the dialect's `asText`), every other
   * column as it is (the schema guard made sure the table's type is the configured one; a cast that
   * changes nothing still costs a copy).
   */
  private hotValue(c: ColumnConfig, ref = this.column(c)): string {
    if (c.type.kind === 'timestamptz') return `(${ref} AT TIME ZONE ${ZONE_UTC})`;
    if (travelsAsText(c.type)) return this.dialect.asText(c.type, ref);
    if (c.type.kind === 'char') return `${ref}::${this.dialect.columnType(travelType(c.type))}`;
    return ref;
  }

  /**
   * An archived column (the external table's, as the catalog declares it) as its value travels,
   * over `ref`: a CHAR, which the catalog may declare as CHAR again, as VARCHAR; the others as the
   * catalog declares them, which is the type they travel as.
   */
  private archivedValue(c: ColumnConfig, ref: string): string {
    return c.type.kind === 'char' ? `${ref}::${this.dialect.columnType(travelType(c.type))}` : ref;
  }

  /**
   * An archived column as the hot table types it, for the union view and restore (the columns'
   * names come from the hot table's branch, or from the INSERT's list).
   */
  private archivedAsHot(c: ColumnConfig): string {
    const name = quoteIdent(c.name.toLowerCase());
    if (c.type.kind === 'timestamptz') return `(${name}::TIMESTAMP AT TIME ZONE ${ZONE_UTC})`;
    if (travelsAsText(c.type)) return this.dialect.fromText(c.type, name);
    return `${name}::${this.dialect.columnType(c.type)}`;
  }

  /**
   * The rows a checksum reads, as a derived table `r` that selects each of `columns` (all by
   * default) once, under a short alias ({@link hashAlias}), from `rows.from` (where `rows.where`);
   * and the values the row hash reads from it, cast over the aliases. The hash names each value
   * twice (on Redshift, in its group's NULL bitmap and as its value): the aliases keep a wide
   * table's checksum short, at a column's name once. With `rows.guard` (the hot table), the union's
   * second branch `SELECT * FROM <guard> WHERE 1 = 0` makes the statement fail when it is bound,
   * before a row is read, if the table has more columns than configured (the branches of a UNION
   * must have as many; the columns' names are the first branch's); a removed or renamed column
   * fails the first branch, and a column of another type hashes other bytes.
   */
  private hashSource(
    table: TableConfig,
    side: 'hot' | 'archive',
    rows: RowSource,
    columns: readonly number[] = table.columns.map((_, i) => i),
  ): { source: string; values: HashInput[] } {
    const selected = columns.map((i) => {
      const c = table.columns[i];
      const ref = hashAlias(i);
      return side === 'hot'
        ? { column: this.column(c), value: { ref, expr: this.hotValue(c, ref), type: travelType(c.type) } }
        : {
            column: quoteIdent(c.name.toLowerCase()),
            value: { ref, expr: this.archivedValue(c, ref), type: travelType(c.type) },
          };
    });
    const list = selected.map((s) => `${s.column} ${s.value.ref}`).join(',');
    const where = rows.where ? ` WHERE ${rows.where}` : '';
    const guard = rows.guard ? ` UNION ALL SELECT * FROM ${rows.guard} WHERE 1 = 0` : '';
    return {
      source: `(SELECT ${list} FROM ${rows.from}${where}${guard}) r`,
      values: selected.map((s) => s.value),
    };
  }

  /**
   * `COUNT(*) AS <rows>, <checksum> AS <sum> FROM <source>`: the number and checksum of a table's
   * `rows`, on `side` ({@link hashSource}).
   */
  private figures(
    table: TableConfig,
    side: 'hot' | 'archive',
    rows: RowSource,
    names: { rows: string; sum: string },
  ): string {
    const { source, values } = this.hashSource(table, side, rows);
    return `COUNT(*) AS ${names.rows}, ${this.checksumOf(values)} AS ${names.sum} FROM ${source}`;
  }

  // ---- which rows a batch moves ---------------------------------------------------------------

  private archiveColumn(table: TableConfig): ColumnConfig {
    if (!isRootTable(table)) throw new InternalError(`table ${table.alias} is archived with its parent`);
    return columnNamed(table, table.archiveBy.column);
  }

  private bound(table: TableConfig, date: CalendarDate): string {
    const column = this.archiveColumn(table);
    return this.dialect.boundLiteral(column.type, date, this.config.retention.timeZone);
  }

  /** The end of a batch's year: the next new year, or the cutoff if that comes first. */
  private yearEnd(year: number, cutoff: CalendarDate): CalendarDate {
    const next = newYear(year + 1);
    return next < cutoff ? next : cutoff;
  }

  private parentOf(table: TableConfig): {
    parent: TableConfig;
    keys: { fk: ColumnConfig; pk: ColumnConfig }[];
  } {
    const by = table.archiveBy;
    if (!('parent' in by)) throw new InternalError(`table ${table.alias} has no parent`);
    const parent = tableNamed(this.config, by.parent);
    return {
      parent,
      keys: by.foreignKey.map((fk, i) => ({
        fk: columnNamed(table, fk),
        pk: columnNamed(parent, by.parentKey[i]),
      })),
    };
  }

  /** Whether `table` or one of its ancestors follows its parent by a key of several columns. */
  private composite(table: TableConfig): boolean {
    if (isRootTable(table)) return false;
    const { parent, keys } = this.parentOf(table);
    return keys.length > 1 || this.composite(parent);
  }

  /**
   * Whether a row of the child `table` (its columns under `qualifier`) has a row of its parent's
   * `relation` (under alias `a`; none when empty) with its key, where `where` holds of that row
   * (`not`: has none). One key column: an uncorrelated IN (NOT IN) over the parent's keys, NULL
   * keys left out where `nonNull`, so NOT IN is exact. A composite key: EXISTS (NOT EXISTS)
   * correlated by each key column to the enclosing query only, as Redshift's IN takes a subquery of
   * one column (DG "IN condition") and decorrelates a subquery that refers to the block right
   * above it (DG "Correlated subqueries"); equality never holds for a NULL, so a key with NULL in
   * any column has no parent. Either way a child row is tested once, however many parent rows
   * share its key: duplicated parent keys never duplicate a child.
   */
  private keyTest(
    table: TableConfig,
    qualifier: string,
    a: string,
    relation: string,
    test: { not?: boolean; where?: string; nonNull?: boolean },
  ): string {
    const { keys } = this.parentOf(table);
    const at = a ? `${a}.` : '';
    const from = a ? `${relation} ${a}` : relation;
    if (keys.length === 1) {
      const [{ fk, pk }] = keys;
      const key = this.column(pk, at);
      const where = [...(test.nonNull ? [`${key} IS NOT NULL`] : []), ...(test.where ? [test.where] : [])];
      const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
      return `${this.column(fk, qualifier)} ${test.not ? 'NOT IN' : 'IN'} (SELECT ${key} FROM ${from}${filter})`;
    }
    // the child's columns qualified even at the top, where its table is not aliased: inside the
    // subquery a bare name would be the parent's column of that name
    const outer = qualifier || `${this.hotTable(table)}.`;
    const equal = keys.map(({ fk, pk }) => `${this.column(pk, at)} = ${this.column(fk, outer)}`);
    const where = [...equal, ...(test.where ? [test.where] : [])].join(' AND ');
    return `${test.not ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${from} WHERE ${where})`;
  }

  /**
   * The condition on a row of `table` (columns under `qualifier`) that puts it in the batch of
   * `year`: a root's archive column lies in that year and before the cutoff (a range on the bare
   * column, so zone maps and sort keys work; NULL never matches). A child goes with the earliest
   * year of its parents, and only if every parent row with its key is archived by this run: it
   * has a parent in this year and none that stays hot (NULL, after the cutoff) or belongs to an
   * earlier year ({@link keyTest}: IN and NOT IN over non-NULL keys, or EXISTS and NOT EXISTS
   * for composite keys, each NOT over one condition of {@link notArchived}, ANDed).
   */
  private moving(table: TableConfig, year: number, cutoff: CalendarDate, qualifier = '', depth = 0): string {
    if (isRootTable(table)) {
      const column = this.column(this.archiveColumn(table), qualifier);
      return `${column} >= ${this.bound(table, newYear(year))} AND ${column} < ${this.bound(table, this.yearEnd(year, cutoff))}`;
    }
    const { parent } = this.parentOf(table);
    const a = `p${depth + 1}`;
    const from = this.hotTable(parent);
    const has = this.keyTest(table, qualifier, a, from, {
      where: this.moving(parent, year, cutoff, `${a}.`, depth + 1),
    });
    const stays = this.notArchived(parent, year, cutoff, `${a}.`, depth + 1).map((where) =>
      this.keyTest(table, qualifier, a, from, { not: true, where, nonNull: true }),
    );
    return [has, ...stays].join(' AND ');
  }

  /**
   * The condition that a row of `table` is NOT archived by this run in `year` or later: it stays
   * hot, or it belongs to an earlier year. Never NULL, so it can be negated safely. One condition,
   * its parts ORed, where no part holds a correlated subquery (a composite key above); otherwise
   * its parts, each to be tested apart and ANDed: Redshift refuses the correlated subqueries it
   * cannot decorrelate (DG "Correlated subqueries"), and one under an OR is not a semi-join.
   */
  private notArchived(
    table: TableConfig,
    year: number,
    cutoff: CalendarDate,
    qualifier: string,
    depth: number,
  ): string[] {
    const parts = this.notArchivedParts(table, year, cutoff, qualifier, depth);
    return this.composite(table) ? parts : [`(${parts.join(' OR ')})`];
  }

  /** The ways a row of `table` is not archived in `year` or later, any one of which suffices. */
  private notArchivedParts(
    table: TableConfig,
    year: number,
    cutoff: CalendarDate,
    qualifier: string,
    depth: number,
  ): string[] {
    if (isRootTable(table)) {
      const column = this.column(this.archiveColumn(table), qualifier);
      return [
        `${column} IS NULL`,
        `${column} < ${this.bound(table, newYear(year))}`,
        `${column} >= ${this.bound(table, cutoff)}`,
      ];
    }
    const { parent, keys } = this.parentOf(table);
    const a = `p${depth + 1}`;
    const from = this.hotTable(parent);
    return [
      ...keys.map(({ fk }) => `${this.column(fk, qualifier)} IS NULL`),
      this.keyTest(table, qualifier, a, from, { not: true, nonNull: true }),
      ...this.notArchived(parent, year, cutoff, `${a}.`, depth + 1).map((where) =>
        this.keyTest(table, qualifier, a, from, { where, nonNull: true }),
      ),
    ];
  }

  /** FROM and WHERE of one table's rows in a batch (without the keywords' leading space). */
  private batchRows(table: TableConfig, batch: BatchKey): { from: string; where: string } {
    if (batch.source === 'stage') {
      return { from: this.stageTable(table, batch.runId), where: `${YEAR} = ${int(batch.year)}` };
    }
    return { from: this.hotTable(table), where: this.moving(table, batch.year, batch.cutoff) };
  }

  // ---- plan ---------------------------------------------------------------------------------

  /** Read only: a root table's rows older than the cutoff, per year of the configured time zone. */
  rootYearsQuery(table: TableConfig, cutoff: CalendarDate): string {
    const column = this.archiveColumn(table);
    return (
      `SELECT ${this.yearOf(this.column(column), column.type)} AS year, COUNT(*) AS row_count FROM ${this.hotTable(table)} ` +
      `WHERE ${this.column(column)} < ${this.bound(table, cutoff)} GROUP BY 1 ORDER BY 1`
    );
  }

  /** The year of a date or timestamp; of a TIMESTAMPTZ, on the wall clock of the configured zone. */
  private yearOf(value: string, type: ColumnConfig['type']): string {
    const wallClock =
      type.kind === 'timestamptz'
        ? `(${value} AT TIME ZONE ${this.lit(this.config.retention.timeZone)})`
        : value;
    return `CAST(EXTRACT(YEAR FROM ${wallClock}) AS INTEGER)`;
  }

  /**
   * Read only, no table: the plan's year of a TIMESTAMPTZ in the configured zone, the expression
   * of {@link rootYearsQuery}, at the instant Node computes for the zone's new year of `year`
   * (`at_new_year`, which must be `year`) and one second before (`before_new_year`, `year - 1`):
   * whether the warehouse knows the zone, and puts the year's bound where the run's bounds do.
   */
  timeZoneProbeQuery(year: number): string {
    const instant = this.dialect.boundLiteral(
      { kind: 'timestamptz' },
      newYear(year),
      this.config.retention.timeZone,
    );
    const timestamptz = { kind: 'timestamptz' } as const;
    return (
      `SELECT ${this.yearOf(instant, timestamptz)} AS at_new_year, ` +
      `${this.yearOf(`(${instant} - INTERVAL '1 second')`, timestamptz)} AS before_new_year`
    );
  }

  /** Read only: rows of a root table that stay hot because the archive column is NULL. */
  nullRowsQuery(table: TableConfig): string {
    return `SELECT COUNT(*) AS row_count FROM ${this.hotTable(table)} WHERE ${this.column(this.archiveColumn(table))} IS NULL`;
  }

  /** Read only: rows of a (child) table per batch year, for the given years. */
  yearsQuery(table: TableConfig, years: readonly number[], cutoff: CalendarDate): string {
    return years
      .map(
        (year) =>
          `SELECT ${int(year)} AS year, COUNT(*) AS row_count FROM ${this.hotTable(table)} WHERE ${this.moving(table, year, cutoff)}`,
      )
      .join(' UNION ALL ');
  }

  /**
   * Read only: the row of a root table with the earliest archive column, when the plan found a
   * year before 1000 that the lake layout (`year=YYYY`) cannot hold: its first column and that
   * value, as text.
   */
  earlyRowQuery(table: TableConfig): string {
    const column = this.column(this.archiveColumn(table));
    return (
      `SELECT CAST(${this.column(table.columns[0])} AS VARCHAR(256)) AS key, CAST(${column} AS VARCHAR(64)) AS value ` +
      `FROM ${this.hotTable(table)} WHERE ${column} IS NOT NULL ORDER BY ${column} LIMIT 1`
    );
  }

  /**
   * Read only: rows of a child table whose parent key is found only among the parent's archived
   * rows (its union view has it, its hot table does not). A child moves only with a hot parent,
   * so these stay hot.
   */
  lateChildrenQuery(table: TableConfig): string {
    const { parent, keys } = this.parentOf(table);
    // one key column: uncorrelated, unaliased; a composite key: correlated to the child's rows
    const [c, v, p] = keys.length === 1 ? ['', '', ''] : ['c.', 'v', 'p1'];
    const hot = keys.length === 1 ? this.hotTable(table) : `${this.hotTable(table)} c`;
    return (
      `SELECT COUNT(*) AS row_count FROM ${hot} WHERE ` +
      `${this.keyTest(table, c, v, this.viewName(parent), { nonNull: true })} AND ` +
      `${this.keyTest(table, c, p, this.hotTable(parent), { not: true, nonNull: true })}`
    );
  }

  /** The table a child table is archived with. */
  parentTable(table: TableConfig): TableConfig {
    return this.parentOf(table).parent;
  }

  /** Read only: the rows of one table's part of a batch, counted just before its export. */
  countQuery(table: TableConfig, batch: BatchKey): string {
    const { from, where } = this.batchRows(table, batch);
    return `SELECT COUNT(*) AS row_count FROM ${from} WHERE ${where}`;
  }

  // ---- ledger -------------------------------------------------------------------------------

  /** Idempotent: the schemas and the ledger tables, and the views' version row. */
  setupStatements(): string[] {
    const { ledger, views } = this.config;
    const schemas = [...new Set([ledger.schema, views.schema])];
    const version = this.ledgerTable('views_version');
    return [
      ...schemas.map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`),
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('runs')} ("run_id" VARCHAR(16) NOT NULL, "cutoff" DATE NOT NULL, ` +
        `"state" VARCHAR(16) NOT NULL, "error" VARCHAR(1024))`,
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('batches')} ("run_id" VARCHAR(16) NOT NULL, ` +
        `"table_name" VARCHAR(127) NOT NULL, "family" VARCHAR(127) NOT NULL, "year" INTEGER NOT NULL, ` +
        `"source" VARCHAR(8) NOT NULL, "state" VARCHAR(16) NOT NULL, "attempt" INTEGER NOT NULL, ` +
        `"planned_rows" BIGINT NOT NULL, "location" VARCHAR(1024), "row_count" BIGINT, "checksum" VARCHAR(40), ` +
        `"file_count" INTEGER, "byte_count" BIGINT, "columns" VARCHAR(65535), "error" VARCHAR(1024))`,
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('commit_checks')} ("run_id" VARCHAR(16) NOT NULL, ` +
        `"table_name" VARCHAR(127) NOT NULL, "year" INTEGER NOT NULL, "attempt" INTEGER NOT NULL, ` +
        `"row_count" BIGINT NOT NULL, "checksum" VARCHAR(40) NOT NULL, "passed" SMALLINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('restore_checks')} ("restore_id" VARCHAR(16) NOT NULL, ` +
        `"table_name" VARCHAR(127) NOT NULL, "year" INTEGER NOT NULL, "stage" VARCHAR(8) NOT NULL, ` +
        `"row_count" BIGINT NOT NULL, "checksum" VARCHAR(40) NOT NULL, "passed" SMALLINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${version} ("version" BIGINT NOT NULL)`,
      `INSERT INTO ${version} ("version") SELECT 0 FROM (SELECT COUNT(*) AS n FROM ${version}) v WHERE v.n = 0`,
    ];
  }

  /** Read only: the columns of the ledger's tables, to tell a missing or an older ledger. */
  ledgerShapeQuery(): string {
    return this.dialect.catalogColumnsQuery(
      LEDGER_TABLES.map((name) => ({ schema: this.config.ledger.schema, name })),
    );
  }

  /** The ledger's tables this configuration names, each with the lower-case names of its columns. */
  get ledgerTables(): readonly LedgerTable[] {
    return LEDGER_TABLES;
  }

  /**
   * Adds the columns of {@link LEDGER_UPGRADES} that `has` says a table lacks, then fills those
   * that say how: every ALTER before the first UPDATE, as DuckDB commits no ALTER of a table that
   * the same transaction has updated.
   */
  upgradeStatements(has: (table: LedgerTable, column: string) => boolean): string[] {
    const missing = LEDGER_UPGRADES.filter((u) => !has(u.table, u.column));
    return [
      ...missing.map(
        (u) => `ALTER TABLE ${this.ledgerTable(u.table)} ADD COLUMN ${quoteIdent(u.column)} ${u.type}`,
      ),
      ...missing.filter((u) => u.fill).map((u) => this.fillTableSchemas(u.column)),
    ];
  }

  /** Gives the batch rows of each configured table that lack one its configured schema. */
  private fillTableSchemas(column: string): string {
    const name = (t: TableConfig) => this.lit(t.alias.toLowerCase());
    const cases = this.tables.map((t) => `WHEN ${name(t)} THEN ${this.lit(t.schema)}`).join(' ');
    return (
      `UPDATE ${this.ledgerTable('batches')} SET ${quoteIdent(column)} = CASE lower("table_name") ${cases} END ` +
      `WHERE ${quoteIdent(column)} IS NULL AND lower("table_name") IN (${this.tables.map(name).join(', ')})`
    );
  }

  /** Every run, oldest first; an older ledger reads NULL for the columns it lacks (`missing`). */
  runsQuery(missing: readonly string[] = []): string {
    const added = LEDGER_UPGRADES.filter((u) => u.table === 'runs').map(
      (u) => `, ${upgradedColumn(u, missing, 'r')}`,
    );
    return (
      `SELECT r."run_id" AS run_id, CAST(r."cutoff" AS VARCHAR(10)) AS cutoff, r."state" AS state, r."error" AS error${added.join('')} ` +
      `FROM ${this.ledgerTable('runs')} r ORDER BY r."run_id"`
    );
  }

  /**
   * Every batch row, with whether its commit's check passed (that row is the commit's record).
   * Big numbers travel as text: the Data API returns BIGINT as a JavaScript double.
   */
  batchesQuery(missing: readonly string[] = []): string {
    const text = (column: string) => `CAST(b."${column}" AS VARCHAR(20)) AS ${column}`;
    // An older ledger that no command has upgraded yet reads NULL for the columns it lacks.
    const added = LEDGER_UPGRADES.filter((u) => u.table === 'batches')
      .map((u) => upgradedColumn(u, missing, 'b'))
      .join(', ');
    return (
      `SELECT b."run_id" AS run_id, b."table_name" AS table_name, b."family" AS family, b."year" AS year, ` +
      `b."source" AS source, b."state" AS state, b."attempt" AS attempt, ${text('planned_rows')}, b."location" AS location, ` +
      `${text('row_count')}, b."checksum" AS checksum, b."file_count" AS file_count, ${text('byte_count')}, ` +
      `b."columns" AS columns, b."error" AS error, ${added}, CASE WHEN c."run_id" IS NULL THEN 0 ELSE 1 END AS committed ` +
      `FROM ${this.ledgerTable('batches')} b LEFT JOIN (SELECT DISTINCT "run_id", "table_name", "year" FROM ` +
      `${this.ledgerTable('commit_checks')}) c ON c."run_id" = b."run_id" AND c."table_name" = b."table_name" AND c."year" = b."year" ` +
      `ORDER BY b."run_id", b."year", b."family", b."table_name"`
    );
  }

  /**
   * Read only: the restores that committed, per restore, table and year, with the rows each put
   * back (its checks record each table's rows before and after). A restore's id holds its instant.
   */
  restoresQuery(): string {
    const checks = this.ledgerTable('restore_checks');
    return (
      `SELECT a."restore_id" AS restore_id, a."table_name" AS table_name, a."year" AS year, ` +
      `CAST(a."row_count" - b."row_count" AS VARCHAR(20)) AS row_count FROM ${checks} a JOIN ${checks} b ` +
      `ON b."restore_id" = a."restore_id" AND b."table_name" = a."table_name" AND b."year" = a."year" AND b."stage" = 'before' ` +
      `WHERE a."stage" = 'after' ORDER BY 1, 2, 3`
    );
  }

  /** Read only: the configured tables' sizes as the warehouse itself tells them (see the dialect). */
  tableSizesQuery(): string {
    return this.dialect.tableSizesQuery(this.tables.map((t) => ({ schema: t.schema, name: t.name })));
  }

  /** The views' version: every transaction that redefines a view raises it by one. */
  versionQuery(): string {
    return `SELECT CAST(MAX("version") AS VARCHAR(20)) AS version FROM ${this.ledgerTable('views_version')}`;
  }

  /**
   * Raises the views' version from `version`, and fails (NOT NULL) if another transaction raised
   * it first: two transactions that redefine views from different reads of the ledger never
   * both commit.
   */
  bumpVersion(version: number): string {
    return `UPDATE ${this.ledgerTable('views_version')} SET "version" = CASE WHEN "version" = ${int(version)} THEN ${int(version + 1)} END`;
  }

  /**
   * The start of a run, ONE transaction. Creating `active_run` is the lock: a second run's
   * transaction fails on it, whatever the engine's isolation level. The planned batches are
   * written at once, so every later step knows the run's whole plan from the ledger.
   */
  startTransaction(
    runId: string,
    cutoff: CalendarDate,
    planned: readonly PlannedBatch[],
    at: Date,
  ): string[] {
    const run = this.lit(runId);
    const rows = planned.map(
      (p) =>
        `(${run}, ${this.lit(p.table.alias)}, ${this.lit(rootOf(this.config, p.table).alias)}, ${int(p.year)}, 'hot', 'pending', 1, ` +
        `${int(p.rows)}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${this.lit(p.table.schema)}, ` +
        `${p.hotBytes === undefined ? 'NULL' : int(p.hotBytes)})`,
    );
    return [
      `CREATE TABLE ${this.ledgerTable('active_run')} ("run_id" VARCHAR(16) NOT NULL)`,
      `INSERT INTO ${this.ledgerTable('active_run')} VALUES (${run})`,
      `INSERT INTO ${this.ledgerTable('runs')} ("run_id", "cutoff", "state", "error", "started_at") ` +
        `VALUES (${run}, DATE '${cutoff}', 'running', NULL, ${stamp(at)})`,
      // 200 rows a statement: far below the Data API's 100 KB
      ...chunks(rows, 200).map(
        (some) => `INSERT INTO ${this.ledgerTable('batches')} ${PLANNED_COLUMNS} VALUES ${some.join(', ')}`,
      ),
    ];
  }

  private batchWhere(runId: string, table: TableConfig, year: number): string {
    return `"run_id" = ${this.lit(runId)} AND "table_name" = ${this.lit(table.alias)} AND "year" = ${int(year)}`;
  }

  /** The columns a batch's files hold, as its ledger row records them (`name type, ...`). */
  columnsSignature(table: TableConfig): string {
    return table.columns.map((c) => `${c.name} ${this.dialect.columnType(c.type).toLowerCase()}`).join(', ');
  }

  /** Records one table's export: where it wrote and the manifest's figures. */
  recordExport(batch: BatchKey, table: TableConfig, figures: ExportFigures, at: Date): string {
    const location = figures.location === null ? 'NULL' : this.lit(figures.location);
    return (
      `UPDATE ${this.ledgerTable('batches')} SET "state" = 'exported', "location" = ${location}, ` +
      `"row_count" = ${int(figures.rows)}, "file_count" = ${int(figures.files)}, "byte_count" = ${int(figures.bytes)}, ` +
      `"columns" = ${this.lit(this.columnsSignature(table))}, "error" = NULL, "files_digest" = NULL, "exported_at" = ${stamp(at)} ` +
      `WHERE ${this.batchWhere(batch.runId, table, batch.year)}`
    );
  }

  /**
   * Records what verification read back from the lake: the figures the commit must find hot, and
   * the digest of the files it read (which the commit compares with the files as they are then).
   */
  recordVerified(
    batch: BatchKey,
    table: TableConfig,
    figures: Figures,
    filesDigest: string | null,
    at: Date,
  ): string {
    if (filesDigest !== null && !/^[0-9a-f]{64}$/.test(filesDigest))
      throw new InternalError(`not a files digest: ${filesDigest}`);
    return (
      `UPDATE ${this.ledgerTable('batches')} SET "state" = 'verified', "row_count" = ${int(figures.rows)}, ` +
      `"checksum" = ${decimalText(figures.checksum)}, "files_digest" = ${filesDigest === null ? 'NULL' : `'${filesDigest}'`}, ` +
      `"verified_at" = ${stamp(at)} WHERE ${this.batchWhere(batch.runId, table, batch.year)}`
    );
  }

  /**
   * Marks batches of a run, ONE statement: the family-years whose commit has ended (`ended`) and
   * the one that begins (`begun`, whose first start is kept when a resume begins it again), at the
   * engine's instant `at`. A run takes one such statement per batch.
   */
  markBatches(
    runId: string,
    at: Date,
    marks: {
      readonly ended: readonly { family: TableConfig; year: number }[];
      readonly begun?: { family: TableConfig; year: number };
    },
  ): string {
    const which = (b: { family: TableConfig; year: number }) =>
      `("family" = ${this.lit(b.family.alias)} AND "year" = ${int(b.year)})`;
    const ended = marks.ended.map(which).join(' OR ');
    const begun = marks.begun ? which(marks.begun) : '';
    const sets = [
      ...(ended ? [`"ended_at" = CASE WHEN ${ended} THEN ${stamp(at)} ELSE "ended_at" END`] : []),
      ...(begun
        ? [
            `"started_at" = CASE WHEN ${begun} AND "started_at" IS NULL THEN ${stamp(at)} ELSE "started_at" END`,
          ]
        : []),
    ];
    if (sets.length === 0) throw new InternalError('markBatches: nothing to mark');
    return (
      `UPDATE ${this.ledgerTable('batches')} SET ${sets.join(', ')} WHERE "run_id" = ${this.lit(runId)} ` +
      `AND (${[ended, begun].filter(Boolean).join(' OR ')})`
    );
  }

  /**
   * After a failed commit check: the family's part of the batch goes back to pending for another
   * export, its figures forgotten and the reason kept.
   */
  discardBatch(batch: BatchKey, family: readonly TableConfig[], reason: string): string {
    return (
      `UPDATE ${this.ledgerTable('batches')} SET "state" = 'pending', "attempt" = "attempt" + 1, "location" = NULL, ` +
      `"row_count" = NULL, "checksum" = NULL, "file_count" = NULL, "byte_count" = NULL, "files_digest" = NULL, ` +
      `"exported_at" = NULL, "verified_at" = NULL, ` +
      `"error" = ${this.lit(safeText(reason))} ` +
      `WHERE "run_id" = ${this.lit(batch.runId)} AND "family" = ${this.lit(family[0].alias)} AND "year" = ${int(batch.year)}`
    );
  }

  /** An explicit run gives a batch whose attempts ran out a fresh set. */
  resetAttempts(batch: BatchKey, family: readonly TableConfig[]): string {
    return (
      `UPDATE ${this.ledgerTable('batches')} SET "attempt" = 1 WHERE "run_id" = ${this.lit(batch.runId)} ` +
      `AND "family" = ${this.lit(family[0].alias)} AND "year" = ${int(batch.year)}`
    );
  }

  /**
   * The end of a run (finished or aborted) at the engine's instant `at` (`:now` in a plan);
   * clears any recorded failure.
   */
  setState(runId: string, state: Extract<RunState, 'finished' | 'aborted'>, at: Date | undefined): string {
    return (
      `UPDATE ${this.ledgerTable('runs')} SET "state" = '${state}', "error" = NULL, "ended_at" = ${stamp(at)} ` +
      `WHERE "run_id" = ${this.lit(runId)}`
    );
  }

  /** Records why a run failed; the state stays where it was, so a later invocation resumes. */
  recordFailure(runId: string, message: string): string {
    return `UPDATE ${this.ledgerTable('runs')} SET "error" = ${this.lit(safeText(message))} WHERE "run_id" = ${this.lit(runId)}`;
  }

  // ---- export, verify, commit ---------------------------------------------------------------

  /** The export of one table's part of a batch to its root, partitioned by the batch's year. */
  unloadStatements(table: TableConfig, batch: BatchKey, root: string): string[] {
    const { from, where } = this.batchRows(table, batch);
    const columns = table.columns
      .map((c) => {
        const value = this.hotValue(c);
        return value === this.column(c) ? value : `${value} AS ${this.column(c)}`;
      })
      .join(', ');
    return this.dialect.unload({ columns, from, where, year: Number(int(batch.year)) }, root);
  }

  private checksumOf(values: readonly HashInput[]): string {
    return this.dialect.checksum(rowHash(this.dialect, values));
  }

  /**
   * The external table as a read of these partitions names it: the table itself where the
   * warehouse prunes partitions by the read's filter (Spectrum), the partitions themselves where
   * it would bind every registered partition's files first (DuckDB), so that an uncommitted
   * batch's files never make a union view unreadable.
   */
  archiveSource(table: TableConfig, partitions: readonly CommittedBatch[]): string {
    return (
      this.dialect.externalPartitions?.(
        this.config.catalog.externalSchema,
        table.alias.toLowerCase(),
        partitions,
      ) ?? this.externalTable(table)
    );
  }

  /** Read only: rows and checksum of one batch's partition, read back through the external table. */
  archiveFiguresQuery(table: TableConfig, batch: { runId: string; year: number }): string {
    return `SELECT ${this.figures(table, 'archive', this.partition(table, batch), { rows: 'row_count', sum: 'checksum' })}`;
  }

  /** One batch's partition of a table, through the external table. */
  private partition(
    table: TableConfig,
    batch: { runId: string; year: number },
  ): { from: string; where: string } {
    return {
      from: this.archiveSource(table, [batch]),
      where: `${RUN} = ${this.lit(batch.runId)} AND ${YEAR} = ${int(batch.year)}`,
    };
  }

  /**
   * Read only, after figures differed: rows and checksum, then one checksum per column (`c0`,
   * `c1`, ...), of the hot rows of a batch or of its partition, to name the columns that differ: one
   * query for the rows and the checksum, then one per {@link COLUMN_FIGURES} columns, each reading
   * only its columns, so that every query of a wide table stays under the Data API's 100 KB. They
   * only name columns for a message, so they need not share a snapshot.
   */
  columnFiguresQuery(table: TableConfig, batch: BatchKey, side: 'hot' | 'archive'): string[] {
    const { from, where } = side === 'hot' ? this.batchRows(table, batch) : this.partition(table, batch);
    const perColumn = chunks(
      table.columns.map((_, i) => i),
      COLUMN_FIGURES,
    ).map((columns) => {
      const { source, values } = this.hashSource(table, side, { from, where }, columns);
      return `SELECT ${values.map((v, j) => `${this.checksumOf([v])} AS c${columns[j]}`).join(', ')} FROM ${source}`;
    });
    return [
      `SELECT ${this.figures(table, side, { from, where }, { rows: 'row_count', sum: 'checksum' })}`,
      ...perColumn,
    ];
  }

  /**
   * The check of one table in a commit: it inserts the commit's record, whose NOT NULL column
   * `passed` gets NULL, failing the whole transaction, unless the hot rows of the batch (in the
   * transaction's own snapshot) have exactly the verified archive's rows and checksum, and the
   * ledger still holds that verified attempt. With no GROUP BY exactly one row is inserted, so an
   * empty batch cannot pass by inserting nothing. For a hot source, the checksum's column guard
   * ({@link hashSource}) makes the statement fail if a column was added to the table since the
   * schema guard read it; a removed or renamed column fails it too.
   */
  commitCheck(table: TableConfig, batch: BatchKey, attempt: number, archived: Figures | undefined): string {
    const { from, where } = this.batchRows(table, batch);
    // A plan shows the commit before there are figures: placeholders stand for them.
    const rows = archived ? int(archived.rows) : ':archived_rows';
    const checksum = archived ? decimalText(archived.checksum) : ':archived_checksum';
    const hot = this.figures(
      table,
      'hot',
      { from, where, guard: batch.source === 'hot' ? from : undefined },
      { rows: 'n', sum: 's' },
    );
    const ledger =
      `SELECT COUNT(*) AS n FROM ${this.ledgerTable('batches')} WHERE ${this.batchWhere(batch.runId, table, batch.year)} ` +
      `AND "attempt" = ${int(attempt)} AND "state" = 'verified' AND "row_count" = ${rows} AND "checksum" = ${checksum}`;
    return (
      `INSERT INTO ${this.ledgerTable('commit_checks')} ("run_id", "table_name", "year", "attempt", "row_count", "checksum", "passed") ` +
      `SELECT ${this.lit(batch.runId)}, ${this.lit(table.alias)}, ${int(batch.year)}, ${int(attempt)}, h.n, h.s, ` +
      `CASE WHEN h.n = ${rows} AND h.s = ${checksum} AND b.n = 1 THEN 1 END ` +
      `FROM (SELECT ${hot}) h, (${ledger}) b`
    );
  }

  /** Deletes one table's part of a batch from where it was (the hot table, or a v1 stage table). */
  deleteStatement(table: TableConfig, batch: BatchKey): string {
    const { from, where } = this.batchRows(table, batch);
    return `DELETE FROM ${from} WHERE ${where}`;
  }

  /**
   * The commit of a family's batch, ONE transaction: the views' version, each table's check
   * (which records the commit), the deletes (children before parents), then the views, which
   * lock readers out until the commit and so come last.
   */
  commitTransaction(
    family: readonly TableConfig[],
    batch: BatchKey,
    attempt: number,
    archived: ReadonlyMap<TableConfig, Figures>,
    version: number,
    views: (table: TableConfig) => ViewState,
  ): string[] {
    return [
      this.bumpVersion(version),
      ...family.map((t) => this.commitCheck(t, batch, attempt, archived.get(t))),
      ...[...family].reverse().map((t) => this.deleteStatement(t, batch)),
      ...family.map((t) => this.replaceView(t, views(t))),
    ];
  }

  // ---- views --------------------------------------------------------------------------------

  /**
   * The union view's query: the hot table, the stage table of a v1 run being finished, and the
   * committed batches of the external table (always present, so the view's columns and types
   * never change with the batches; with none it reads no partition). Batches are literals, so
   * Spectrum prunes partitions and the list changes only in the transactions that move rows.
   */
  viewQuery(table: TableConfig, state: ViewState): string {
    const branches = [`SELECT ${this.columns(table)} FROM ${this.hotTable(table)}`];
    if (state.stageRunId)
      branches.push(`SELECT ${this.columns(table)} FROM ${this.stageTable(table, state.stageRunId)}`);
    branches.push(
      `SELECT ${table.columns.map((c) => this.archivedAsHot(c)).join(', ')} FROM ${this.archiveSource(table, state.committed)} ` +
        `WHERE ${this.committedFilter(state.committed)}`,
    );
    return branches.join(' UNION ALL ');
  }

  private committedFilter(committed: readonly CommittedBatch[]): string {
    if (committed.length === 0) return '1 = 0';
    const byRun = new Map<string, number[]>();
    for (const b of committed) byRun.set(b.runId, [...(byRun.get(b.runId) ?? []), b.year]);
    return [...byRun.keys()]
      .sort()
      .map((run) => {
        const years = [...new Set(byRun.get(run))].sort((a, b) => a - b).map(int);
        return `(${RUN} = ${this.lit(run)} AND ${YEAR} IN (${years.join(', ')}))`;
      })
      .join(' OR ');
  }

  /** Redefines a union view with the same columns: owner and grants stay. */
  replaceView(table: TableConfig, state: ViewState): string {
    return this.dialect.replaceView(this.viewName(table), this.viewQuery(table, state));
  }

  /**
   * Re-creates a union view whose columns changed (or that does not exist), and grants it to
   * `views.readers`: a dropped view loses its grants, so they are given again in the same
   * transaction.
   */
  recreateView(table: TableConfig, state: ViewState): string[] {
    const view = this.viewName(table);
    return [
      `DROP VIEW IF EXISTS ${view}`,
      this.dialect.createView(view, this.viewQuery(table, state)),
      ...this.viewGrants(table),
    ];
  }

  /**
   * What `views.readers` need to query a union view: SELECT on it, USAGE on its schema and the hot
   * table's. Idempotent; USAGE on the external schema is granted apart (no GRANT on an external
   * resource runs in a transaction).
   */
  viewGrants(table: TableConfig): string[] {
    const view = this.viewName(table);
    const schemas = [...new Set([this.config.views.schema, table.schema])];
    return this.config.views.readers.flatMap((r) => [
      ...this.dialect.grantSelect(view, r),
      ...schemas.flatMap((s) => this.dialect.grantUsage(s, r)),
    ]);
  }

  /** GRANT USAGE on the external schema to `views.readers`: each its own statement. */
  externalSchemaGrants(): string[] {
    return this.config.views.readers.flatMap((r) =>
      this.dialect.grantUsage(this.config.catalog.externalSchema, r),
    );
  }

  /** Drops a union view; the rows it showed stay where they are. */
  dropView(table: TableConfig): string {
    return dropViewStatement(this.config.views.schema, `${this.config.views.prefix}${table.alias}`);
  }

  /** Drops the external schema: only Redshift's mapping of the catalog, never the catalog or the lake. */
  dropExternalSchema(): string {
    return `DROP SCHEMA IF EXISTS ${quoteIdent(this.config.catalog.externalSchema)}`;
  }

  /**
   * Records one committed batch's files as lost (`repair --accept-lost`), with what the lake held
   * instead: the views that are redefined in the same transaction stop reading it. Only a batch
   * that is still archived changes.
   */
  recordLost(batch: { runId: string; table: string; year: number }, reason: string): string {
    return (
      `UPDATE ${this.ledgerTable('batches')} SET "state" = 'lost', "error" = ${this.lit(safeText(reason))} ` +
      `WHERE "run_id" = ${this.lit(batch.runId)} AND "table_name" = ${this.lit(batch.table)} AND "year" = ${int(batch.year)} ` +
      `AND "state" <> 'restored'`
    );
  }

  // ---- finish and abort ---------------------------------------------------------------------

  /**
   * The last transaction of a run: the lock goes and the run is history. A v1 run being finished
   * also loses its stage tables, and its views stop reading them, in the same transaction.
   */
  finishTransaction(
    runId: string,
    at: Date | undefined,
    legacy?: { version: number; views: (table: TableConfig) => ViewState },
  ): string[] {
    const stage = legacy
      ? [
          this.bumpVersion(legacy.version),
          ...this.tables.map((t) => this.replaceView(t, legacy.views(t))),
          ...this.tables.map((t) => `DROP TABLE IF EXISTS ${this.stageTable(t, runId)}`),
        ]
      : [];
    return [...stage, `DROP TABLE ${this.ledgerTable('active_run')}`, this.setState(runId, 'finished', at)];
  }

  /**
   * Abort, ONE transaction: the run's batches that are not committed are discarded and the run
   * ends. It raises the views' version, so it never passes a commit of the same run that it did
   * not see: one of the two fails.
   */
  abortTransaction(
    runId: string,
    uncommitted: readonly { table: TableConfig; year: number }[],
    version: number,
    at: Date,
  ): string[] {
    const which = uncommitted.map((b) => `(${this.batchWhere(runId, b.table, b.year)})`);
    return [
      this.bumpVersion(version),
      // 200 batches a statement: a backlog of many tables and years stays under the Data API's 100 KB
      ...chunks(which, 200).map(
        (some) =>
          `UPDATE ${this.ledgerTable('batches')} SET "state" = 'discarded' WHERE ${some.join(' OR ')}`,
      ),
      `DROP TABLE ${this.ledgerTable('active_run')}`,
      this.setState(runId, 'aborted', at),
    ];
  }

  // ---- restore ------------------------------------------------------------------------------

  /**
   * Rows and checksum of a whole hot table. A restore checks the table grew by exactly the
   * archived rows: a checksum is a sum of row hashes, so the figures of the whole table add up,
   * where those of a year's predicate would also count hot rows that a restored parent pulls in.
   */
  private tableFigures(table: TableConfig, guarded = false): string {
    const hot = this.hotTable(table);
    const rows = { from: hot, guard: guarded ? hot : undefined };
    return `SELECT ${this.figures(table, 'hot', rows, { rows: 'n', sum: 's' })}`;
  }

  /**
   * A restore of one family's year, ONE transaction, the inverse of its commits: it takes the run
   * lock (so no run is active meanwhile), raises the views' version, records each hot table's
   * figures, inserts the archived rows back with the hot table's types (parents first), then a
   * check per table fails the whole transaction (NOT NULL) unless the table grew by exactly the
   * ledger's rows and checksum of the batches, in the transaction's own snapshot, and still has
   * the configured columns. Then the batches are marked restored and the views
   * stop reading them.
   */
  restoreTransaction(restore: {
    readonly restoreId: string;
    readonly family: readonly TableConfig[];
    readonly year: number;
    readonly batches: ReadonlyMap<TableConfig, readonly { runId: string; figures: Figures }[]>;
    readonly version: number;
    readonly views: (table: TableConfig) => ViewState;
  }): string[] {
    const { restoreId, family, year, batches } = restore;
    const checks = this.ledgerTable('restore_checks');
    const id = this.lit(restoreId);
    const record = (t: TableConfig, stage: string) =>
      `INSERT INTO ${checks} ("restore_id", "table_name", "year", "stage", "row_count", "checksum", "passed") ` +
      `SELECT ${id}, ${this.lit(t.alias)}, ${int(year)}, '${stage}', h.n, h.s, `;
    const restored = (t: TableConfig) => batches.get(t) ?? [];
    const before = family.map((t) => `${record(t, 'before')}1 FROM (${this.tableFigures(t)}) h`);
    // AWS documents neither way whether a transaction may read an external table: preflight asks
    // the warehouse (restoreReadProbe; docs/design.md §7).
    const inserts = family
      .filter((t) => restored(t).length > 0)
      .map(
        (t) =>
          `INSERT INTO ${this.hotTable(t)} (${this.columns(t)}) SELECT ${t.columns.map((c) => this.archivedAsHot(c)).join(', ')} ` +
          `FROM ${this.archiveSource(
            t,
            restored(t).map((b) => ({ runId: b.runId, year })),
          )} WHERE ${this.committedFilter(restored(t).map((b) => ({ runId: b.runId, year })))}`,
      );
    const after = family.map((t) => {
      const rows = restored(t).reduce((sum, b) => sum + b.figures.rows, 0);
      const checksum = restored(t).reduce((sum, b) => sum + BigInt(b.figures.checksum), 0n);
      const decimal = (v: string) => `CAST(${v} AS DECIMAL(38,0))`;
      return (
        `${record(t, 'after')}CASE WHEN h.n = b.row_count + ${int(rows)} AND ${decimal('h.s')} = ` +
        `${decimal('b.checksum')} + ${decimal(decimalText(String(checksum)))} THEN 1 END ` +
        `FROM (${this.tableFigures(t, true)}) h, (SELECT "row_count", "checksum" FROM ${checks} WHERE "restore_id" = ${id} ` +
        `AND "table_name" = ${this.lit(t.alias)} AND "year" = ${int(year)} AND "stage" = 'before') b`
      );
    });
    const which = family.flatMap((t) => restored(t).map((b) => `(${this.batchWhere(b.runId, t, year)})`));
    return [
      `CREATE TABLE ${this.ledgerTable('active_run')} ("run_id" VARCHAR(16) NOT NULL)`,
      this.bumpVersion(restore.version),
      ...before,
      ...inserts,
      ...after,
      `UPDATE ${this.ledgerTable('batches')} SET "state" = 'restored' WHERE ${which.join(' OR ') || '1 = 0'}`,
      ...family.map((t) => this.replaceView(t, restore.views(t))),
      `DROP TABLE ${this.ledgerTable('active_run')}`,
    ];
  }

  /** Statements that reclaim space in the hot tables after a run. */
  maintenanceStatements(): string[] {
    return [...new Set(this.tables.flatMap((t) => this.dialect.maintenance(this.hotTable(t))))];
  }

  // ---- preflight ----------------------------------------------------------------------------

  /**
   * Read only, no table: what the documentation leaves open about the types that travel as text
   * (docs/design.md §7, "Column types"), asked of the warehouse with a value of each such type the
   * configuration holds, at the edge of its range: `<type>_back` is 1 when the value the union view
   * casts back from the exported text is the value (SUPER: when its text is the same again), and
   * `<type>_bytes` the bytes of that text, which must be at most `most[<type>]`, what the catalog's
   * VARCHAR holds. Undefined when the configuration has no such column.
   */
  textProbe(): { readonly sql: string; readonly most: Readonly<Record<string, number>> } | undefined {
    const types = new Map<string, ColumnType>();
    for (const c of this.tables.flatMap((t) => t.columns)) {
      // the probe's VARBYTE is 3 bytes long: its own type, whatever the columns' lengths
      if (travelsAsText(c.type))
        types.set(c.type.kind, c.type.kind === 'varbyte' ? { kind: 'varbyte', length: 3 } : c.type);
    }
    if (types.size === 0) return undefined;
    const d = this.dialect;
    const probes = [...types.values()].map((type) => {
      const value = d.fromText(type, this.lit(TEXT_PROBES[type.kind as keyof typeof TEXT_PROBES]));
      const back = d.fromText(type, d.asText(type, value));
      const same =
        type.kind === 'super' ? `${d.asText(type, back)} = ${d.asText(type, value)}` : `${back} = ${value}`;
      return `CASE WHEN ${same} THEN 1 ELSE 0 END AS ${type.kind}_back, ${d.textSize(type, value)} AS ${type.kind}_bytes`;
    });
    return {
      sql: `SELECT ${probes.join(', ')}`,
      most: Object.fromEntries(
        [...types].map(([kind, type]) => [kind, (travelType(type) as { length: number }).length]),
      ),
    };
  }

  /**
   * Read only: the largest text of each SUPER column of `table` (`c<i>`, the column's index), which
   * Spectrum must read whole: it truncates a longer value silently to the declared VARCHAR (DG
   * CREATE EXTERNAL TABLE). Undefined when the table has none.
   */
  textSizeQuery(table: TableConfig): string | undefined {
    const sizes = table.columns.flatMap((c, i) =>
      c.type.kind === 'super'
        ? [`CAST(MAX(${this.dialect.textSize(c.type, this.column(c))}) AS VARCHAR(20)) AS c${i}`]
        : [],
    );
    return sizes.length ? `SELECT ${sizes.join(', ')} FROM ${this.hotTable(table)}` : undefined;
  }

  /**
   * Read only, no rows: the commit's checksum over the table, with its column guard, to see that
   * the engine accepts the expressions for every type and that the table has the configured columns.
   */
  hashProbeQuery(table: TableConfig): string {
    const hot = this.hotTable(table);
    const rows = { from: hot, where: '1 = 0', guard: hot };
    return `SELECT ${this.figures(table, 'hot', rows, { rows: 'row_count', sum: 'checksum' })}`;
  }

  /**
   * Read only, no rows: the external table through a partition filter that matches nothing, so
   * that the warehouse still asks the catalog (a constant false filter might not).
   */
  externalProbeQuery(table: TableConfig): string {
    return `SELECT COUNT(*) AS row_count FROM ${this.externalTable(table)} WHERE ${RUN} = '00000000T000000Z'`;
  }

  /**
   * Read only, no rows, ONE transaction: what {@link restoreTransaction} asks of the warehouse
   * when it reads the archive, without writing. Restore reads a hot table, then the external table
   * (its INSERT ... SELECT), inside one read-write transaction; so does this, in that order, with
   * filters that match nothing.
   */
  restoreReadProbe(table: TableConfig): string[] {
    return [
      `SELECT COUNT(*) AS row_count FROM ${this.hotTable(table)} WHERE 1 = 0`,
      this.externalProbeQuery(table),
    ];
  }

  /**
   * Read only: the database identity, as a GRANT names it. IDENTITY is one of Redshift's reserved
   * words, usable only as a delimited identifier (DG, "Reserved words"): the alias is quoted.
   */
  identityQuery(): string {
    return `SELECT current_user AS ${quoteIdent('identity')}`;
  }

  /** What preflight asks of the database identity, in this engine's terms. */
  accessProbes(): AccessProbe[] {
    return this.dialect.accessProbes({
      tables: this.tables.map((t) => ({ schema: t.schema, name: t.name, qualified: this.hotTable(t) })),
      ledgerSchema: this.config.ledger.schema,
      viewsSchema: this.config.views.schema,
      views: this.tables.map((t) => `${this.config.views.prefix}${t.alias}`),
      database: this.config.warehouse.database,
      vacuum: this.config.maintenance.vacuum,
    });
  }

  // ---- the warehouse's own catalog ----------------------------------------------------------

  /** Read only: the real columns of every configured table (and, optionally, of the union views). */
  catalogQuery(what: 'tables' | 'views' = 'tables'): string {
    const names =
      what === 'tables'
        ? this.tables.map((t) => ({ schema: t.schema, name: t.name }))
        : this.tables.map((t) => ({
            schema: this.config.views.schema,
            name: `${this.config.views.prefix}${t.alias}`,
          }));
    return this.dialect.catalogColumnsQuery(names);
  }

  /** Read only: the text of the union views, which names the batches they read. */
  viewDefinitionsQuery(): string {
    return this.dialect.viewDefinitionsQuery(
      this.tables.map((t) => ({
        schema: this.config.views.schema,
        name: `${this.config.views.prefix}${t.alias}`,
      })),
    );
  }

  /** Read only: the catalog database that the configured external schema reads, if it exists. */
  externalDatabaseQuery(): string {
    return this.dialect.externalDatabaseQuery(this.config.catalog.externalSchema);
  }

  /** Read only: the schemas that hold a ledger (its commit records), this configuration's or not. */
  ledgerSchemasQuery(): string {
    return this.dialect.schemasWithTableQuery('commit_checks');
  }

  /** Read only: the runs whose batches the ledger in `schema` records as committed. */
  committedRunsIn(schema: string): string {
    return `SELECT DISTINCT "run_id" AS run_id FROM ${qualify(schema, 'commit_checks')}`;
  }

  /** Read only: the columns of the batches table of the ledger in `schema` (which may predate `table_schema`). */
  batchColumnsIn(schema: string): string {
    return this.dialect.catalogColumnsQuery([{ schema, name: 'batches' }]);
  }

  /**
   * Read only: the hot tables (schema and name) whose batches the ledger in `schema` records; the
   * schema is NULL where it does not record it (a ledger from before `table_schema`, `recorded`
   * false, or a row written before it).
   */
  archivedTablesIn(schema: string, recorded: boolean): string {
    const tableSchema = recorded ? '"table_schema"' : 'CAST(NULL AS VARCHAR(127))';
    return `SELECT DISTINCT ${tableSchema} AS table_schema, "table_name" AS table_name FROM ${qualify(schema, 'batches')}`;
  }

  /** Read only: the columns of protocol v1's per-year table, if it exists (a v1 ledger). */
  legacyLedgerQuery(): string {
    return this.dialect.catalogColumnsQuery([{ schema: this.config.ledger.schema, name: 'run_years' }]);
  }

  /** Read only: what v1 recorded per run, table and year, and per run and table. */
  legacyYearsQuery(): string {
    return (
      `SELECT y."run_id" AS run_id, y."table_name" AS table_name, y."year" AS year, CAST(y."row_count" AS VARCHAR(20)) AS row_count, ` +
      `e."location" AS location, e."year_files" AS year_files FROM ${this.ledgerTable('run_years')} y LEFT JOIN ` +
      `${this.ledgerTable('run_exports')} e ON e."run_id" = y."run_id" AND e."table_name" = y."table_name" ` +
      `ORDER BY y."run_id", y."table_name", y."year"`
    );
  }

  /**
   * Takes a v1 run into the v2 ledger, ONE transaction: a batch row per table and year (committed
   * ones with their commit's record), and an unfinished v1 run becomes a running v2 run whose
   * batches still sit in its stage tables.
   */
  migrateLegacyRun(
    runId: string,
    finished: boolean,
    rows: readonly {
      table: TableConfig;
      year: number;
      rows: number;
      location: string | null;
      files: number;
      bytes: number;
    }[],
  ): string[] {
    const run = this.lit(runId);
    const values = rows.map((r) => {
      const family = this.lit(rootOf(this.config, r.table).alias);
      const schema = this.lit(r.table.schema);
      return finished
        ? `(${run}, ${this.lit(r.table.alias)}, ${family}, ${int(r.year)}, 'hot', 'verified', 1, ${int(r.rows)}, ` +
            `${r.location === null ? 'NULL' : this.lit(r.location)}, ${int(r.rows)}, NULL, ${int(r.files)}, ${int(r.bytes)}, NULL, NULL, ${schema})`
        : `(${run}, ${this.lit(r.table.alias)}, ${family}, ${int(r.year)}, 'stage', 'pending', 1, ${int(r.rows)}, ` +
            `NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${schema})`;
    });
    const checks = finished
      ? rows.map((r) => `(${run}, ${this.lit(r.table.alias)}, ${int(r.year)}, 1, ${int(r.rows)}, '', 1)`)
      : [];
    return [
      ...(values.length
        ? [`INSERT INTO ${this.ledgerTable('batches')} ${BATCH_COLUMNS} VALUES ${values.join(', ')}`]
        : []),
      ...(checks.length
        ? [
            `INSERT INTO ${this.ledgerTable('commit_checks')} ("run_id", "table_name", "year", "attempt", "row_count", "checksum", "passed") ` +
              `VALUES ${checks.join(', ')}`,
          ]
        : []),
      `UPDATE ${this.ledgerTable('runs')} SET "state" = 'running' WHERE "run_id" = ${run} AND "state" IN ('staged', 'verified', 'published')`,
    ];
  }
}

/**
 * Drops a view by its schema and name (a deployment also drops views that an earlier
 * configuration named); the rows it showed stay where they are.
 */
export function dropViewStatement(schema: string, name: string): string {
  return `DROP VIEW IF EXISTS ${qualify(schema, name)}`;
}

/**
 * The values of {@link ArchiveSql.textProbeQuery}, as text: the longest TIME, a TIMETZ with an
 * offset, bytes that are no UTF-8, and a SUPER of every JSON kind.
 */
const TEXT_PROBES = {
  time: '23:59:59.999999',
  timetz: '23:59:59.999999+05:30',
  varbyte: '00ff7f',
  super: '{"a":[1,2.5,null,"x"],"b":{"c":true}}',
} as const;

/** Text for the ledger: printable ASCII, at most 1000 characters. */
function safeText(message: string): string {
  return message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 1000);
}
