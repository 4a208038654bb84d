import {
  archiveOrder,
  ArchiveConfig,
  ColumnConfig,
  columnNamed,
  isRootTable,
  PARTITION_KEYS,
  TableConfig,
  tableNamed,
} from '../config/config';
import type { CalendarDate } from '../core/cutoff';
import type { Dialect } from './dialect';
import { qualify, quoteIdent } from './identifiers';

/** The states a run goes through, as the ledger records them. */
export type RunState = 'staged' | 'verified' | 'published' | 'finished' | 'aborted';

/** What the union view of a table shows besides the hot table. */
export interface ViewState {
  /** The run whose stage table the view includes, while one is unfinished. */
  readonly stageRunId?: string;
  /** Published runs that hold rows of this table. */
  readonly publishedRuns: readonly string[];
}

const YEAR = quoteIdent(PARTITION_KEYS.year);
const RUN = quoteIdent(PARTITION_KEYS.run);

/**
 * Every statement of the archive protocol, rendered from configuration through one dialect.
 * Identifiers go through {@link quoteIdent}; values are validated (run ids, dates) or rendered
 * with the dialect's literal function. Nothing else reaches SQL.
 */
export class ArchiveSql {
  constructor(
    private readonly config: ArchiveConfig,
    readonly dialect: Dialect,
  ) {}

  /** The tables in stage order: parents before children. */
  get tables(): TableConfig[] {
    return archiveOrder(this.config);
  }

  hotTable(table: TableConfig): string {
    return qualify(table.schema, table.name);
  }

  stageTable(table: TableConfig, runId: string): string {
    return qualify(this.config.ledger.stageSchema, `${table.name}__${runId}`);
  }

  externalTable(table: TableConfig): string {
    return qualify(this.config.catalog.externalSchema, table.name.toLowerCase());
  }

  /** Drops a union view; the rows it showed stay where they are. */
  dropView(table: TableConfig): string {
    return `DROP VIEW IF EXISTS ${this.viewName(table)}`;
  }

  /** Drops the external schema: only Redshift's mapping of the catalog, never the catalog or the lake. */
  dropExternalSchema(): string {
    return `DROP SCHEMA IF EXISTS ${quoteIdent(this.config.catalog.externalSchema)}`;
  }

  viewName(table: TableConfig): string {
    return qualify(this.config.views.schema, `${this.config.views.prefix}${table.name}`);
  }

  ledgerTable(name: 'runs' | 'run_years' | 'run_exports' | 'active_run'): string {
    return qualify(this.config.ledger.schema, name);
  }

  private columns(table: TableConfig, alias?: string): string {
    const prefix = alias ? `${alias}.` : '';
    return table.columns.map((c) => prefix + quoteIdent(c.name)).join(', ');
  }

  /** The archived columns cast back to their hot types, as read from the external table. */
  private archiveColumns(table: TableConfig): string {
    return table.columns
      .map(
        (c) =>
          `CAST(${quoteIdent(c.name.toLowerCase())} AS ${this.dialect.columnType(c.type)}) AS ${quoteIdent(c.name)}`,
      )
      .join(', ');
  }

  private archiveColumn(table: TableConfig): ColumnConfig {
    if (!isRootTable(table)) throw new Error(`table ${table.name} is archived with its parent`);
    return columnNamed(table, table.archiveBy.column);
  }

  /** The condition that selects a root table's rows older than the cutoff; NULLs never match. */
  private rootPredicate(table: TableConfig, cutoff: CalendarDate): string {
    const column = this.archiveColumn(table);
    const literal = this.dialect.cutoffLiteral(column.type, cutoff, this.config.retention.timeZone);
    return `${quoteIdent(column.name)} < ${literal}`;
  }

  private parentOf(table: TableConfig): { parent: TableConfig; fk: string; pk: string } {
    const by = table.archiveBy;
    if (!('parent' in by)) throw new Error(`table ${table.name} has no parent`);
    const { parent, foreignKey, parentKey } = by;
    return { parent: tableNamed(this.config, parent), fk: quoteIdent(foreignKey), pk: quoteIdent(parentKey) };
  }

  /**
   * The rows of `table` that a run with this cutoff moves, with their archive year as the last
   * column. A child follows the moving rows of its parent (read from `parentRows`) and takes their
   * year; grouping by key first means duplicate parent keys never duplicate a child row.
   */
  private movingRows(
    table: TableConfig,
    cutoff: CalendarDate,
    parentRows: (parent: TableConfig) => string,
  ): string {
    if (isRootTable(table)) {
      const column = this.archiveColumn(table);
      const year = this.dialect.yearOf(quoteIdent(column.name), column.type, this.config.retention.timeZone);
      return `SELECT ${this.columns(table)}, ${year} AS ${YEAR} FROM ${this.hotTable(table)} WHERE ${this.rootPredicate(table, cutoff)}`;
    }
    const { parent, fk, pk } = this.parentOf(table);
    return (
      `SELECT ${this.columns(table, 'c')}, p.${YEAR} FROM ${this.hotTable(table)} c ` +
      `JOIN (SELECT ${pk}, MIN(${YEAR}) AS ${YEAR} FROM ${parentRows(parent)} GROUP BY ${pk}) p ON c.${fk} = p.${pk}`
    );
  }

  /** Read only: rows that a run with this cutoff would move, per year. */
  planQuery(table: TableConfig, cutoff: CalendarDate): string {
    const nested = (t: TableConfig): string =>
      `(${this.movingRows(t, cutoff, nested)}) m_${t.name.toLowerCase()}`;
    return `SELECT ${YEAR} AS year, COUNT(*) AS row_count FROM (${this.movingRows(table, cutoff, nested)}) m GROUP BY ${YEAR} ORDER BY ${YEAR}`;
  }

  /** Read only: rows of a root table that stay hot because the archive column is NULL. */
  nullRowsQuery(table: TableConfig): string {
    const column = this.archiveColumn(table);
    return `SELECT COUNT(*) AS row_count FROM ${this.hotTable(table)} WHERE ${quoteIdent(column.name)} IS NULL`;
  }

  /** Idempotent: the schemas and the ledger tables. */
  setupStatements(): string[] {
    const { ledger, views } = this.config;
    const schemas = [...new Set([ledger.schema, ledger.stageSchema, views.schema])];
    return [
      ...schemas.map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`),
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('runs')} ("run_id" VARCHAR(16) NOT NULL, "cutoff" DATE NOT NULL, ` +
        `"state" VARCHAR(16) NOT NULL, "error" VARCHAR(1024))`,
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('run_years')} ("run_id" VARCHAR(16) NOT NULL, ` +
        `"table_name" VARCHAR(127) NOT NULL, "year" INTEGER NOT NULL, "row_count" BIGINT NOT NULL, ` +
        `"checksum" VARCHAR(65535) NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${this.ledgerTable('run_exports')} ("run_id" VARCHAR(16) NOT NULL, ` +
        `"table_name" VARCHAR(127) NOT NULL, "location" VARCHAR(1024) NOT NULL, "file_count" INTEGER NOT NULL, ` +
        `"byte_count" BIGINT NOT NULL, "row_count" BIGINT NOT NULL, "year_files" VARCHAR(65535) NOT NULL)`,
    ];
  }

  /**
   * The stage transaction. Creating the `active_run` table first is the lock: a second run's
   * transaction fails on it, whatever the engine's isolation level. Every statement reads the
   * same snapshot, so what is copied, what is checksummed and what is deleted are the same rows;
   * the checksums are taken from the source rows (before the deletes), so verification compares
   * the archive with the rows as they were in the hot tables.
   */
  stageTransaction(runId: string, cutoff: CalendarDate, published: (t: TableConfig) => string[]): string[] {
    const tables = this.tables;
    const fromStage = (parent: TableConfig) => `${this.stageTable(parent, runId)}`;
    const run = this.dialect.literal(runId);
    return [
      `CREATE TABLE ${this.ledgerTable('active_run')} ("run_id" VARCHAR(16) NOT NULL)`,
      `INSERT INTO ${this.ledgerTable('active_run')} VALUES (${run})`,
      ...tables.map(
        (t) => `CREATE TABLE ${this.stageTable(t, runId)} AS ${this.movingRows(t, cutoff, fromStage)}`,
      ),
      ...tables.map(
        (t) =>
          `INSERT INTO ${this.ledgerTable('run_years')} SELECT ${run}, ${this.dialect.literal(t.name)}, ${YEAR}, COUNT(*), ` +
          `${this.checksumText(t)} FROM (${this.movingRows(t, cutoff, fromStage)}) m GROUP BY ${YEAR}`,
      ),
      ...[...tables].reverse().map((t) => this.deleteMoved(t, cutoff, runId)),
      `INSERT INTO ${this.ledgerTable('runs')} VALUES (${run}, DATE '${cutoff}', 'staged', NULL)`,
      ...tables.flatMap((t) => this.viewStatements(t, { stageRunId: runId, publishedRuns: published(t) })),
    ];
  }

  private deleteMoved(table: TableConfig, cutoff: CalendarDate, runId: string): string {
    if (isRootTable(table)) {
      return `DELETE FROM ${this.hotTable(table)} WHERE ${this.rootPredicate(table, cutoff)}`;
    }
    const { parent, fk, pk } = this.parentOf(table);
    return `DELETE FROM ${this.hotTable(table)} WHERE ${fk} IN (SELECT ${pk} FROM ${this.stageTable(parent, runId)})`;
  }

  /** DROP and CREATE of a union view (columns may change, so never CREATE OR REPLACE). */
  viewStatements(table: TableConfig, state: ViewState): string[] {
    const branches = [`SELECT ${this.columns(table)} FROM ${this.hotTable(table)}`];
    if (state.stageRunId) {
      branches.push(`SELECT ${this.columns(table)} FROM ${this.stageTable(table, state.stageRunId)}`);
    }
    if (state.publishedRuns.length > 0) {
      const runs = [...state.publishedRuns].sort().map((r) => this.dialect.literal(r));
      branches.push(
        `SELECT ${this.archiveColumns(table)} FROM ${this.externalTable(table)} WHERE ${RUN} IN (${runs.join(', ')})`,
      );
    }
    return [
      this.dropView(table),
      this.dialect.createView(this.viewName(table), branches.join(' UNION ALL ')),
    ];
  }

  /** The export of one stage table to its run location. */
  unloadStatements(table: TableConfig, runId: string, location: string): string[] {
    return this.dialect.unload(
      `SELECT ${this.columns(table)}, ${YEAR} FROM ${this.stageTable(table, runId)}`,
      location,
    );
  }

  /**
   * Per-column checksums of a group of rows as one text, `count:checksum` per column joined by
   * `|`: exact and independent of row order, so the rows moved and the rows read back can be
   * compared column by column.
   */
  private checksumText(table: TableConfig): string {
    return table.columns
      .map((c) => {
        const col = quoteIdent(c.name);
        return `CAST(COUNT(${col}) AS VARCHAR) || ':' || CAST(${this.dialect.checksum(col)} AS VARCHAR)`;
      })
      .join(" || '|' || ");
  }

  /**
   * Rows and checksums per year of one run's partitions, read back through the external table
   * and cast to the hot types as the view does: what verification compares with the ledger.
   */
  archiveCheckQuery(table: TableConfig, runId: string): string {
    return (
      `SELECT ${YEAR} AS year, COUNT(*) AS row_count, ${this.checksumText(table)} AS checksum FROM (SELECT ` +
      `${this.archiveColumns(table)}, ${YEAR} FROM ${this.externalTable(table)} WHERE ${RUN} = ${this.dialect.literal(runId)}) s ` +
      `GROUP BY ${YEAR} ORDER BY ${YEAR}`
    );
  }

  /** The publish transaction: views read the new batch instead of the stage tables, which go. */
  publishTransaction(runId: string, published: (t: TableConfig) => string[]): string[] {
    return [
      ...this.tables.flatMap((t) => this.viewStatements(t, { publishedRuns: published(t) })),
      ...this.tables.map((t) => `DROP TABLE ${this.stageTable(t, runId)}`),
      this.setState(runId, 'published'),
    ];
  }

  /** The last transaction of a run: the lock goes and the run is history. */
  finishTransaction(runId: string): string[] {
    return [`DROP TABLE ${this.ledgerTable('active_run')}`, this.setState(runId, 'finished')];
  }

  /** Abort before publish: staged rows go back to the hot tables, in one transaction. */
  abortTransaction(runId: string, published: (t: TableConfig) => string[]): string[] {
    const tables = this.tables;
    return [
      ...tables.map(
        (t) =>
          `INSERT INTO ${this.hotTable(t)} (${this.columns(t)}) SELECT ${this.columns(t)} FROM ${this.stageTable(t, runId)}`,
      ),
      ...tables.flatMap((t) => this.viewStatements(t, { publishedRuns: published(t) })),
      ...tables.map((t) => `DROP TABLE ${this.stageTable(t, runId)}`),
      `DELETE FROM ${this.ledgerTable('run_exports')} WHERE "run_id" = ${this.dialect.literal(runId)}`,
      `DROP TABLE ${this.ledgerTable('active_run')}`,
      this.setState(runId, 'aborted'),
    ];
  }

  /** A single-statement state change; clears any recorded failure. */
  setState(runId: string, state: RunState): string {
    return `UPDATE ${this.ledgerTable('runs')} SET "state" = '${state}', "error" = NULL WHERE "run_id" = ${this.dialect.literal(runId)}`;
  }

  /** Records why a run failed; the state stays where it was, so a later invocation resumes. */
  recordFailure(runId: string, message: string): string {
    const safe = message.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 1000);
    return `UPDATE ${this.ledgerTable('runs')} SET "error" = ${this.dialect.literal(safe)} WHERE "run_id" = ${this.dialect.literal(runId)}`;
  }

  /** Every run, oldest first. */
  runsQuery(): string {
    return `SELECT "run_id" AS run_id, CAST("cutoff" AS VARCHAR(10)) AS cutoff, "state" AS state, "error" AS error FROM ${this.ledgerTable('runs')} ORDER BY "run_id"`;
  }

  /** Per-table, per-year counts of every run. */
  runYearsQuery(): string {
    return `SELECT "run_id" AS run_id, "table_name" AS table_name, "year" AS year, "row_count" AS row_count, "checksum" AS checksum FROM ${this.ledgerTable('run_years')} ORDER BY "run_id", "table_name", "year"`;
  }

  /** The exports recorded for one run. */
  runExportsQuery(runId: string): string {
    return (
      `SELECT "table_name" AS table_name, "location" AS location, "file_count" AS file_count, "byte_count" AS byte_count, ` +
      `"row_count" AS row_count, "year_files" AS year_files FROM ${this.ledgerTable('run_exports')} WHERE "run_id" = ${this.dialect.literal(runId)}`
    );
  }

  /**
   * Records a finished export of one table: its manifest's figures, in total and per year
   * (`yearFiles` is JSON that the protocol built from numbers).
   */
  recordExport(
    runId: string,
    table: TableConfig,
    location: string,
    totals: { files: number; bytes: number; rows: number },
    yearFiles: string,
  ): string {
    const lit = (s: string) => this.dialect.literal(s);
    return (
      `INSERT INTO ${this.ledgerTable('run_exports')} VALUES (${lit(runId)}, ${lit(table.name)}, ${lit(location)}, ` +
      `${int(totals.files)}, ${int(totals.bytes)}, ${int(totals.rows)}, ${lit(yearFiles)})`
    );
  }

  /** Forgets an export, so that the next attempt writes it again. */
  forgetExport(runId: string, table: TableConfig): string {
    return `DELETE FROM ${this.ledgerTable('run_exports')} WHERE "run_id" = ${this.dialect.literal(runId)} AND "table_name" = ${this.dialect.literal(table.name)}`;
  }

  /** Statements that reclaim space in the hot tables after a run. */
  maintenanceStatements(): string[] {
    return [...new Set(this.tables.flatMap((t) => this.dialect.maintenance(this.hotTable(t))))];
  }
}

function int(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a count: ${n}`);
  return String(n);
}
