import { ArchiveByParent, columnNamed, isRootTable, TableConfig, tableNamed } from '../../src/config/config';
import { travelsAsText } from '../../src/core/column-types';
import { duckdbDialect } from '../../src/sql/duckdb-dialect';
import { quoteIdent } from '../../src/sql/identifiers';
import type { World } from '../../devkit/world';

/** A committed batch as the ledger records it. */
interface Committed {
  readonly runId: string;
  readonly table: string;
  readonly year: number;
}

/**
 * The invariants of the protocol, checked against an embedded world at any moment:
 * 1. each union view returns the same multiset of rows as before the run (plus rows that other
 *    sessions inserted since);
 * 2. each view is exactly the hot table plus the committed batches (plus a v1 run's stage table
 *    while it is finished): no row is both hot and in a committed batch, and no uncommitted
 *    batch is visible;
 * 3. a committed batch's files never change or disappear once seen;
 * 6. once a run finished, nothing older than its cutoff is left hot, except rows whose archive
 *    column is NULL and children with a parent that stays hot (or none), and late rows;
 * 7. the warehouse holds no table besides the hot tables, the ledger's and those it started with.
 * Invariants 4 (one run at a time) and 5 (nothing deleted unless read back first) have tests of
 * their own; the storage half of 7 too.
 */
export class Invariants {
  private readonly committedFiles = new Map<string, string>();
  private readonly late: Record<string, string[]> = {};
  private readonly restored: Record<string, string[]> = {};

  private constructor(
    private readonly world: World,
    private readonly baseline: Record<string, string[]>,
    private readonly tables: readonly string[],
    private readonly cutoff: string,
  ) {}

  static async capture(world: World, cutoff: string): Promise<Invariants> {
    return new Invariants(world, await world.viewRows(), await world.tableNames(), cutoff);
  }

  /** Rows another session inserted into a hot table after the baseline (JSON lines of the view). */
  addLate(table: string, rows: string[]): void {
    this.late[table] = [...(this.late[table] ?? []), ...rows];
  }

  /** Rows another session deleted (or updated away) after the baseline. */
  removeRows(table: string, rows: string[]): void {
    for (const row of rows) {
      const i = this.baseline[table].indexOf(row);
      if (i < 0) throw new Error(`no such row in the baseline of ${table}: ${row}`);
      this.baseline[table].splice(i, 1);
    }
  }

  /**
   * Call before a restore of `year`: the rows of its committed batches will be hot by request, so
   * invariant 6 does not count them as left behind.
   */
  async restoring(year: number): Promise<void> {
    const committed = (await this.world.committedBatches()).filter((b) => b.year === year);
    for (const table of this.world.sql.tables) {
      const mine = committed.filter((b) => b.table.toLowerCase() === table.alias.toLowerCase());
      if (mine.length === 0) continue;
      const parts = mine.map(
        (b) =>
          `SELECT ${archived(table)} FROM ${this.world.sql.archiveSource(table, [b])} WHERE "archive_run" = '${b.runId}' AND "year" = ${b.year}`,
      );
      this.restored[table.alias] = [
        ...(this.restored[table.alias] ?? []),
        ...(await this.world.rows(`(${parts.join(' UNION ALL ')})`)),
      ];
    }
  }

  /** Throws with the broken invariant's number and what broke it. */
  async check(when: string): Promise<void> {
    const { world } = this;
    const sql = world.sql;
    const committed = await world.committedBatches();
    const views = await world.viewRows();
    const stage = await world.stageRunId();
    for (const table of sql.tables) {
      const expected = [...this.baseline[table.alias], ...(this.late[table.alias] ?? [])].sort();
      if (JSON.stringify(views[table.alias]) !== JSON.stringify(expected)) {
        throw new Error(
          `${when}: invariant 1 broken for ${table.alias}: the view returns ${views[table.alias].length} rows, expected ${expected.length}`,
        );
      }
      const mine = committed.filter((b) => b.table.toLowerCase() === table.alias.toLowerCase());
      const parts = [
        `SELECT ${cols(table)} FROM ${sql.hotTable(table)}`,
        ...(stage ? [`SELECT ${cols(table)} FROM ${sql.stageTable(table, stage)}`] : []),
        // each committed batch's partition alone, as a union view reads it (an uncommitted
        // batch's files never make it unreadable)
        ...mine.map(
          (b) =>
            `SELECT ${archived(table)} FROM ${sql.archiveSource(table, [b])} WHERE "archive_run" = '${b.runId}' AND "year" = ${b.year}`,
        ),
      ];
      const composed = await world.rows(`(${parts.join(' UNION ALL ')})`);
      if (JSON.stringify(composed) !== JSON.stringify(views[table.alias])) {
        throw new Error(
          `${when}: invariant 2 broken for ${table.alias}: hot + committed batches hold ${composed.length} rows, the view ${views[table.alias].length}`,
        );
      }
    }
    this.checkCommittedFiles(when, committed);
    for (const run of (await world.ledgerRuns()).filter((r) => r.state === 'finished')) {
      for (const table of sql.tables) await this.checkNothingOldLeft(table, run.run_id, when);
    }
    const extra = (await world.tableNames()).filter(
      (t) => !this.tables.includes(t) && !t.startsWith(`${world.config.ledger.schema}.`),
    );
    if (extra.length > 0)
      throw new Error(`${when}: invariant 7 broken: the warehouse holds ${extra.join(', ')}`);
  }

  private checkCommittedFiles(when: string, committed: readonly Committed[]): void {
    const files = this.world.lakeFiles();
    for (const [path, hash] of files) {
      const batch = committed.some((b) =>
        path.includes(`/${b.table.toLowerCase()}/year=${b.year}/archive_run=${b.runId}/year=${b.year}/`),
      );
      if (!batch) continue;
      const seen = this.committedFiles.get(path);
      if (seen !== undefined && seen !== hash)
        throw new Error(`${when}: invariant 3 broken: ${path} was rewritten`);
      this.committedFiles.set(path, hash);
    }
    for (const path of this.committedFiles.keys()) {
      if (!files.has(path)) throw new Error(`${when}: invariant 3 broken: ${path} was deleted`);
    }
  }

  private async checkNothingOldLeft(table: TableConfig, runId: string, when: string): Promise<void> {
    const { world } = this;
    const sql = world.sql;
    let query: string;
    if (isRootTable(table)) {
      // computed independently of the dialect: the cutoff is midnight of the configured zone
      const column = columnNamed(table, table.archiveBy.column);
      const start = `TIMESTAMP '${this.cutoff} 00:00:00'`;
      const cutoff =
        column.type.kind === 'timestamptz'
          ? `timezone('${world.config.retention.timeZone}', ${start})`
          : start;
      query = `SELECT * FROM ${sql.hotTable(table)} WHERE ${quoteIdent(column.name)} < ${cutoff}`;
    } else {
      const by = table.archiveBy as ArchiveByParent;
      const parent = tableNamed(world.config, by.parent);
      // a key of one column or several: equal in every column (never for a NULL)
      const key = (p: string) =>
        by.foreignKey
          .map((fk, i) => `${p}.${quoteIdent(by.parentKey[i])} = c.${quoteIdent(fk)}`)
          .join(' AND ');
      const committed = (await world.committedBatches()).filter(
        (b) => b.runId === runId && b.table.toLowerCase() === parent.alias.toLowerCase(),
      );
      query =
        `SELECT c.* FROM ${sql.hotTable(table)} c WHERE EXISTS (SELECT 1 FROM ${sql.archiveSource(parent, committed)} a ` +
        `WHERE ${key('a')} AND a."archive_run" = '${runId}') AND NOT EXISTS (SELECT 1 FROM ${sql.hotTable(parent)} h WHERE ${key('h')})`;
    }
    const left = await world.rows(`(${query})`);
    const late = new Set([...(this.late[table.alias] ?? []), ...(this.restored[table.alias] ?? [])]);
    const stray = left.filter((r) => !late.has(r));
    if (stray.length > 0)
      throw new Error(`${when}: invariant 6 broken for ${table.alias}: ${stray[0]} is old and still hot`);
  }
}

function cols(table: TableConfig): string {
  return table.columns.map((c) => quoteIdent(c.name)).join(', ');
}

/** The external table's columns as the view types them. */
function archived(table: TableConfig): string {
  return table.columns
    .map((c) => {
      const name = quoteIdent(c.name.toLowerCase());
      if (c.type.kind === 'timestamptz')
        return `timezone('UTC', CAST(${name} AS TIMESTAMP)) AS ${quoteIdent(c.name)}`;
      // TIME, TIMETZ, VARBYTE and SUPER travel as text: back to the hot type
      if (travelsAsText(c.type)) return `${duckdbDialect.fromText(c.type, name)} AS ${quoteIdent(c.name)}`;
      return `${name} AS ${quoteIdent(c.name)}`;
    })
    .join(', ');
}
