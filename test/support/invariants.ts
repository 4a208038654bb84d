import { columnNamed, isRootTable, TableConfig, tableNamed } from '../../lambda/config/config';
import { quoteIdent } from '../../lambda/sql/identifiers';
import type { World } from './world';

/**
 * The invariants of DESIGN section 1, checked against an embedded world at any moment:
 * 1. each union view returns the same multiset of rows as before the run (plus rows that other
 *    sessions inserted since);
 * 2. no row is both hot (or staged) and in a published batch;
 * 3. a published batch's files never change once seen;
 * 5. nothing older than the cutoff that existed when the stage began is left hot, except NULLs
 *    and children whose parent stays hot or does not exist (checked once a stage committed).
 * Invariant 4 (one run at a time) has tests of its own.
 */
export class Invariants {
  private readonly publishedFiles = new Map<string, string>();
  private readonly late: Record<string, string[]> = {};

  private constructor(
    private readonly world: World,
    private readonly baseline: Record<string, string[]>,
    private readonly cutoff: string,
  ) {}

  static async capture(world: World, cutoff: string): Promise<Invariants> {
    return new Invariants(world, await world.viewRows(), cutoff);
  }

  /** Rows another session inserted into a hot table after the baseline (JSON lines of the view). */
  addLate(table: string, rows: string[]): void {
    this.late[table] = [...(this.late[table] ?? []), ...rows];
  }

  /** Throws with the broken invariant's number and what broke it. */
  async check(when: string): Promise<void> {
    const { world } = this;
    const sql = world.sql;
    const runs = await world.ledgerRuns();
    const published = runs
      .filter((r) => r.state === 'published' || r.state === 'finished')
      .map((r) => r.run_id);
    const staged = runs.filter((r) => ['staged', 'verified'].includes(r.state)).map((r) => r.run_id);
    const views = await world.viewRows();
    for (const table of sql.tables) {
      const expected = [...this.baseline[table.name], ...(this.late[table.name] ?? [])].sort();
      if (JSON.stringify(views[table.name]) !== JSON.stringify(expected)) {
        throw new Error(
          `${when}: invariant 1 broken for ${table.name}: the view returns ${views[table.name].length} rows, expected ${expected.length}`,
        );
      }
      const hotAndStaged = [
        ...(await world.rows(sql.hotTable(table))),
        ...(
          await Promise.all(
            staged.map((run) => world.rows(`(SELECT ${cols(table)} FROM ${sql.stageTable(table, run)})`)),
          )
        ).flat(),
      ];
      const archived = published.length
        ? await world.rows(
            `(SELECT ${cols(table)} FROM ${sql.externalTable(table)} WHERE "archive_run" IN (${published.map((r) => `'${r}'`).join(', ')}))`,
          )
        : [];
      const both = new Set(hotAndStaged.filter((r) => new Set(archived).has(r)));
      if (both.size > 0)
        throw new Error(`${when}: invariant 2 broken for ${table.name}: ${[...both][0]} is hot and archived`);
      if (staged.length > 0 || published.length > 0)
        await this.checkNothingOldLeft(table, [...staged, ...published], when);
    }
    for (const [path, hash] of world.lakeFiles()) {
      if (!published.some((run) => path.includes(`archive_run=${run}/`))) continue;
      const seen = this.publishedFiles.get(path);
      if (seen !== undefined && seen !== hash)
        throw new Error(`${when}: invariant 3 broken: ${path} was rewritten`);
      this.publishedFiles.set(path, hash);
    }
    for (const path of this.publishedFiles.keys()) {
      if (!world.lakeFiles().has(path)) throw new Error(`${when}: invariant 3 broken: ${path} was deleted`);
    }
  }

  private async checkNothingOldLeft(table: TableConfig, runs: string[], when: string): Promise<void> {
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
      const by = table.archiveBy as { parent: string; foreignKey: string; parentKey: string };
      const parent = tableNamed(world.config, by.parent);
      const staged = await world.stageTables();
      const sources = [
        ...runs
          .filter((run) => staged.includes(`${parent.name}__${run}`))
          .map((run) => `SELECT ${quoteIdent(by.parentKey)} FROM ${sql.stageTable(parent, run)}`),
        `SELECT ${quoteIdent(by.parentKey)} FROM ${sql.externalTable(parent)} WHERE "archive_run" IN (${runs.map((r) => `'${r}'`).join(', ')})`,
      ];
      query = `SELECT * FROM ${sql.hotTable(table)} WHERE ${quoteIdent(by.foreignKey)} IN (${sources.join(' UNION ALL ')})`;
    }
    const left = await world.rows(`(${query})`);
    const late = new Set(this.late[table.name] ?? []);
    const stray = left.filter((r) => !late.has(r));
    if (stray.length > 0)
      throw new Error(`${when}: invariant 5 broken for ${table.name}: ${stray[0]} is old and still hot`);
  }
}

function cols(table: TableConfig): string {
  return table.columns.map((c) => quoteIdent(c.name)).join(', ');
}
