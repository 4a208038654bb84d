import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { DuckDBInstance } from '@duckdb/node-api';
import { ArchiveConfig, parseConfig } from '../src/config/config';
import { DuckDbWarehouse } from '../src/engines/local/duckdb-warehouse';
import { LocalEngine, openLocalEngine } from '../src/engines/local/engine';
import { Archiver, ArchiveDeps } from '../src/protocol/archive';
import { ArchiveSql } from '../src/sql/statements';
import contabyx from '../config/contabyx.json';

/** The contabyx sample configuration, parsed. */
export const CONTABYX: ArchiveConfig = parseConfig(contabyx);

/** A small contabyx data set around the 2026 cutoff, with every edge the protocol must handle. */
export const CONTABYX_SMALL_DATA = `
CREATE SCHEMA contabyx;
CREATE TABLE contabyx.transactions (transactionid INTEGER, clientid INTEGER, typeid INTEGER, "time" TIMESTAMP, amount DOUBLE);
CREATE TABLE contabyx.transfers (transferid INTEGER, expense_transactionid INTEGER, income_transactionid INTEGER);
CREATE TABLE contabyx.tax (transactionid INTEGER, taxtypeid INTEGER, fee DOUBLE);
INSERT INTO contabyx.transactions
  SELECT i, i % 7, i % 3, TIMESTAMP '2023-01-01 00:00:00' + to_seconds(i * 86400 * 3 + i), i * 1.25 FROM range(1, 400) r(i);
-- NULL and future timestamps stay hot; the last microsecond before the cutoff goes, the cutoff itself stays.
INSERT INTO contabyx.transactions VALUES
  (1001, 1, 1, NULL, 1.5), (1002, 1, 1, TIMESTAMP '2030-06-01 00:00:00', 2.5),
  (1003, 1, 1, TIMESTAMP '2025-12-31 23:59:59.999999', 3.5), (1004, 1, 1, TIMESTAMP '2026-01-01 00:00:00', 4.5),
  -- duplicate parent keys: 1005 twice in archived years, 1006 once archived and once hot
  (1005, 2, 2, TIMESTAMP '2024-03-01 00:00:00', 5.5), (1005, 2, 2, TIMESTAMP '2025-03-01 00:00:00', 5.75),
  (1006, 2, 2, TIMESTAMP '2024-03-01 00:00:00', 6.5), (1006, 2, 2, TIMESTAMP '2026-03-01 00:00:00', 6.75);
INSERT INTO contabyx.transfers SELECT i, i * 2, i * 2 + 1 FROM range(1, 200) r(i);
INSERT INTO contabyx.transfers VALUES (9001, 1005, 1), (9002, 1006, 1), (9003, 777777, 1), (9004, NULL, 1), (9005, 1004, 1);
INSERT INTO contabyx.tax SELECT i, i % 4, i * 0.5 FROM range(1, 400, 3) r(i);
INSERT INTO contabyx.tax VALUES (1005, 1, 0.25), (1001, 1, 0.5), (1002, 1, 0.75), (888888, 1, 1.0);
`;

/** The same data set with ten times the rows over the same years (for "grows with rows" checks). */
export const CONTABYX_TEN_TIMES_DATA = CONTABYX_SMALL_DATA.replace(
  'range(1, 400) r(i)',
  'range(1, 4000) r(i)',
)
  .replace('to_seconds(i * 86400 * 3 + i)', 'to_seconds((i % 400) * 86400 * 3 + i)')
  .replace('range(1, 200) r(i)', 'range(1, 2000) r(i)')
  .replace('range(1, 400, 3) r(i)', 'range(1, 4000, 3) r(i)');

/** One embedded warehouse and lake in a temporary folder, and sessions on it. */
export class World {
  readonly dir: string;
  readonly lakeRoot: string;
  private engines: LocalEngine[] = [];

  private constructor(
    readonly config: ArchiveConfig,
    readonly instance: DuckDBInstance,
    readonly admin: DuckDbWarehouse,
    dir: string,
  ) {
    this.dir = dir;
    this.lakeRoot = join(dir, 'lake');
  }

  /**
   * A fresh world holding `seedSql`, with the schemas and views set up (unless `setup` is false:
   * a test of a configuration that setup would refuse).
   */
  static async create(
    config: ArchiveConfig,
    seedSql: string,
    options: { setup?: boolean } = {},
  ): Promise<World> {
    const dir = mkdtempSync(join(tmpdir(), 'archive-test-'));
    const { instance, warehouse } = await DuckDbWarehouse.open(join(dir, 'warehouse.duckdb'));
    await warehouse.execute(seedSql);
    const world = new World(config, instance, warehouse, dir);
    if (options.setup !== false) await new Archiver(await world.session()).setup();
    return world;
  }

  /** The same warehouse and lake, seen through another configuration (say, after an edit). */
  withConfig(config: ArchiveConfig): World {
    const world = new World(config, this.instance, this.admin, this.dir);
    world.engines = this.engines;
    world.lake = this.lake;
    return world;
  }

  /** The same warehouse with another lake folder (an operator's wrong `--lake`, say). */
  withLake(lakeRoot: string): World {
    const world = this.withConfig(this.config);
    world.lake = lakeRoot;
    return world;
  }

  /** The lake folder sessions open: the world's own unless {@link withLake} said another. */
  private lake?: string;

  /** A new session (as a new process or Lambda invocation would open). */
  async session(): Promise<LocalEngine> {
    const engine = await openLocalEngine({
      config: this.config,
      warehousePath: '',
      lakeRoot: this.lake ?? this.lakeRoot,
      instance: this.instance,
    });
    this.engines.push(engine);
    return engine;
  }

  /** An archiver on a new session, optionally with its ports wrapped. */
  async archiver(wrap: (deps: ArchiveDeps) => ArchiveDeps = (d) => d): Promise<Archiver> {
    const engine = await this.session();
    return new Archiver(wrap(engine));
  }

  get sql(): ArchiveSql {
    return new ArchiveSql(this.config, this.admin.dialect);
  }

  /** Every row of a relation, as sorted JSON lines: a multiset that compares exactly. */
  async rows(relation: string): Promise<string[]> {
    const rows = await this.admin.query(`SELECT * FROM ${relation}`);
    return rows.map((r) => JSON.stringify(r)).sort();
  }

  /** Every row of every union view, by table. */
  async viewRows(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const table of this.sql.tables) out[table.alias] = await this.rows(this.sql.viewName(table));
    return out;
  }

  async ledgerRuns(): Promise<{ run_id: string; state: string; error: string | null }[]> {
    return (await this.admin.query(this.sql.runsQuery())) as {
      run_id: string;
      state: string;
      error: string | null;
    }[];
  }

  /** The committed batches of every run that the views read, as the ledger records them (not restored, not lost). */
  async committedBatches(): Promise<{ runId: string; table: string; year: number }[]> {
    const rows = await this.admin.query(this.sql.batchesQuery());
    return rows
      .filter(
        (r) =>
          r.committed === '1' && r.state !== 'restored' && r.state !== 'lost' && Number(r.row_count ?? 0) > 0,
      )
      .map((r) => ({ runId: String(r.run_id), table: String(r.table_name), year: Number(r.year) }));
  }

  /** The batch rows of the ledger, as it holds them. */
  async batches(): Promise<Record<string, string | null>[]> {
    return (await this.admin.query(this.sql.batchesQuery())) as Record<string, string | null>[];
  }

  /** The run whose v1 stage tables the views still read, if any. */
  async stageRunId(): Promise<string | undefined> {
    const rows = await this.batches();
    const runs = await this.ledgerRuns();
    const active = runs.find((r) => r.state === 'running');
    return active && rows.some((b) => b.run_id === active.run_id && b.source === 'stage')
      ? active.run_id
      : undefined;
  }

  /** Every base table of the warehouse, as `schema.table`. */
  async tableNames(): Promise<string[]> {
    const rows = await this.admin.query(
      `SELECT schema_name || '.' || table_name AS name FROM duckdb_tables() ORDER BY 1`,
    );
    return rows.map((r) => String(r.name));
  }

  /** Every file of the lake with a hash of its content. */
  lakeFiles(): Map<string, string> {
    const files = new Map<string, string>();
    const walk = (dir: string) => {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of entries) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.set(path, createHash('sha256').update(readFileSync(path)).digest('hex'));
      }
    };
    walk(this.lakeRoot);
    return files;
  }

  close(): void {
    for (const engine of this.engines) engine.close();
    this.admin.close();
    this.instance.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
