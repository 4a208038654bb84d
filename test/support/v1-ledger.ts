import { mkdirSync } from 'node:fs';
import { LocalCatalog } from '../../src/engines/local/local-catalog';
import type { World } from '../../devkit/world';

/**
 * What protocol v1 left in a warehouse, built with v1's own statements (its stage transaction,
 * export and publish) so that v2 can be tested on it:
 * - `finishedRun` archived everything before `finishedCutoff` (exported to v1's layout
 *   `<table>/archive_run=<run>/year=<y>/`, partitions registered, views reading them);
 * - `stagedRun`, if given, then staged everything before `stagedCutoff` into its stage tables
 *   (rows deleted from the hot tables, views reading the stage tables) and stopped there.
 */
export async function leaveV1Ledger(
  world: World,
  runs: { finishedRun: string; finishedCutoff: string; stagedRun?: string; stagedCutoff?: string },
): Promise<void> {
  const w = world.admin;
  await w.execute(`CREATE SCHEMA IF NOT EXISTS archive_stage;
    CREATE TABLE archive_meta.run_years ("run_id" VARCHAR(16) NOT NULL, "table_name" VARCHAR(127) NOT NULL, "year" INTEGER NOT NULL, "row_count" BIGINT NOT NULL, "checksum" VARCHAR(65535) NOT NULL);
    CREATE TABLE archive_meta.run_exports ("run_id" VARCHAR(16) NOT NULL, "table_name" VARCHAR(127) NOT NULL, "location" VARCHAR(1024) NOT NULL, "file_count" INTEGER NOT NULL, "byte_count" BIGINT NOT NULL, "row_count" BIGINT NOT NULL, "year_files" VARCHAR(65535) NOT NULL);`);
  await stage(world, runs.finishedRun, runs.finishedCutoff);
  const catalog = new LocalCatalog(
    world.config,
    LocalCatalog.fileIn(world.lakeRoot, world.config),
    world.admin,
  );
  for (const t of ['transactions', 'transfers', 'tax']) {
    const stageTable = `archive_stage."${t}__${runs.finishedRun}"`;
    const location = `${world.lakeRoot}/contabyx-parquet/${t}/archive_run=${runs.finishedRun}/`;
    const years = (await w.query(`SELECT DISTINCT year FROM ${stageTable} ORDER BY 1`)).map((r) =>
      Number(r.year),
    );
    mkdirSync(location, { recursive: true });
    await w.execute(
      `COPY (SELECT * FROM ${stageTable}) TO '${location}' (FORMAT PARQUET, PARTITION_BY (year))`,
    );
    for (const year of years) {
      await catalog.addPartition(t, { year, runId: runs.finishedRun, location: `${location}year=${year}/` });
    }
    const files = await w.query(
      `SELECT file_name AS f, file_size_bytes AS b FROM parquet_file_metadata('${location}*/*.parquet')`,
    );
    const yearFiles: Record<string, { files: number; bytes: number }> = {};
    for (const f of files) {
      const year = /year=(\d{4})/.exec(String(f.f))?.[1] as string;
      yearFiles[year] = {
        files: (yearFiles[year]?.files ?? 0) + 1,
        bytes: (yearFiles[year]?.bytes ?? 0) + Number(f.b),
      };
    }
    await w.execute(
      `INSERT INTO archive_meta.run_exports SELECT '${runs.finishedRun}', '${t}', '${location}', ${files.length}, 0, ` +
        `(SELECT COUNT(*) FROM ${stageTable}), '${JSON.stringify(yearFiles)}'`,
    );
    await w.execute(`DROP TABLE ${stageTable}`);
  }
  await w.execute(`DROP TABLE archive_meta.active_run`);
  await w.execute(`UPDATE archive_meta.runs SET state = 'finished' WHERE run_id = '${runs.finishedRun}'`);
  await defineViews(world, runs.finishedRun);
  if (runs.stagedRun && runs.stagedCutoff) {
    await stage(world, runs.stagedRun, runs.stagedCutoff);
    await defineViews(world, runs.finishedRun, runs.stagedRun);
  }
}

/** v1's stage transaction: copy, count and delete, in one snapshot, parents first. */
async function stage(world: World, run: string, cutoff: string): Promise<void> {
  const parent = `archive_stage."transactions__${run}"`;
  const years = (table: string) =>
    `INSERT INTO archive_meta.run_years SELECT '${run}', '${table}', year, COUNT(*), '' FROM archive_stage."${table}__${run}" GROUP BY year`;
  await world.admin.transaction([
    `CREATE TABLE archive_meta.active_run ("run_id" VARCHAR(16) NOT NULL)`,
    `INSERT INTO archive_meta.active_run VALUES ('${run}')`,
    `CREATE TABLE ${parent} AS SELECT transactionid, clientid, typeid, "time", amount, CAST(EXTRACT(YEAR FROM "time") AS INTEGER) AS year ` +
      `FROM contabyx.transactions WHERE "time" < TIMESTAMP '${cutoff} 00:00:00'`,
    `CREATE TABLE archive_stage."transfers__${run}" AS SELECT c.transferid, c.expense_transactionid, c.income_transactionid, p.year ` +
      `FROM contabyx.transfers c JOIN (SELECT transactionid, MIN(year) AS year FROM ${parent} GROUP BY 1) p ON c.expense_transactionid = p.transactionid`,
    `CREATE TABLE archive_stage."tax__${run}" AS SELECT c.transactionid, c.taxtypeid, c.fee, p.year ` +
      `FROM contabyx.tax c JOIN (SELECT transactionid, MIN(year) AS year FROM ${parent} GROUP BY 1) p ON c.transactionid = p.transactionid`,
    years('transactions'),
    years('transfers'),
    years('tax'),
    `DELETE FROM contabyx.tax WHERE transactionid IN (SELECT transactionid FROM ${parent})`,
    `DELETE FROM contabyx.transfers WHERE expense_transactionid IN (SELECT transactionid FROM ${parent})`,
    `DELETE FROM contabyx.transactions WHERE "time" < TIMESTAMP '${cutoff} 00:00:00'`,
    `INSERT INTO archive_meta.runs (run_id, cutoff, state, error) VALUES ('${run}', DATE '${cutoff}', 'staged', NULL)`,
  ]);
}

/** v1's views: DROP and CREATE, the stage table of an unfinished run, published runs by run id. */
async function defineViews(world: World, published: string, staged?: string): Promise<void> {
  const columns: Record<string, string> = {
    transactions: 'transactionid, clientid, typeid, "time", amount',
    transfers: 'transferid, expense_transactionid, income_transactionid',
    tax: 'transactionid, taxtypeid, fee',
  };
  for (const [t, cols] of Object.entries(columns)) {
    const branches = [`SELECT ${cols} FROM contabyx.${t}`];
    if (staged) branches.push(`SELECT ${cols} FROM archive_stage."${t}__${staged}"`);
    branches.push(`SELECT ${cols} FROM ext_contabyx.${t} WHERE archive_run IN ('${published}')`);
    await world.admin.execute(`DROP VIEW IF EXISTS contabyx.spectrum_${t}`);
    await world.admin.execute(`CREATE VIEW contabyx.spectrum_${t} AS ${branches.join(' UNION ALL ')}`);
  }
}
