import { ArchiveConfig, parseConfig } from '../src/config/config';
import { CONTABYX } from './world';

/** The shape of a warehouse whose first run has a long backlog. */
export interface Backlog {
  /** Families (a root and its children), each one batch per archive year. */
  readonly families: number;
  /** Tables in all; every family has a root, the rest are children spread over the families. */
  readonly tables: number;
  /** Archive years before the 2026 cutoff, each holding rows of every table. */
  readonly years: number;
  /** Rows of a root table per year (children: two per parent row). */
  readonly rowsPerYear: number;
}

/**
 * A warehouse of 100 tables in 35 families with 7 years to archive: a first run of 245 batches,
 * the backlog the issue names.
 */
export const HUNDRED_TABLES: Backlog = { families: 35, tables: 100, years: 7, rowsPerYear: 4 };

/** The tables of each family: the root, then its children (one or two of them, by spreading). */
function familySizes(b: Backlog): number[] {
  return Array.from({ length: b.families }, (_, f) => {
    const children = b.tables - b.families;
    return 1 + Math.floor(children / b.families) + (f < children % b.families ? 1 : 0);
  });
}

/**
 * The configuration and the DuckDB seed of a backlog warehouse: schema `backlog`, roots `f<i>`
 * archived by `created` (a timestamp), children `f<i>_c<j>` following their root through `parent_id`.
 */
export function backlogWarehouse(b: Backlog): { config: ArchiveConfig; seedSql: string } {
  const tables: unknown[] = [];
  const seed = ['CREATE SCHEMA backlog;'];
  const first = 2026 - b.years;
  familySizes(b).forEach((size, f) => {
    const root = `f${f}`;
    tables.push({
      schema: 'backlog',
      name: root,
      archiveBy: { column: 'created' },
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'created', type: 'timestamp' },
        { name: 'amount', type: 'double precision' },
      ],
    });
    seed.push(
      `CREATE TABLE backlog.${root} (id INTEGER, created TIMESTAMP, amount DOUBLE);`,
      // rows spread over the archive years, and one of the current year that stays hot
      `INSERT INTO backlog.${root} SELECT i, TIMESTAMP '${first}-01-01' + to_days(CAST(i % ${b.years} AS INTEGER) * 366 + i % 300), i * 1.5 ` +
        `FROM range(0, ${b.rowsPerYear * b.years}) r(i);`,
      `INSERT INTO backlog.${root} VALUES (-1, TIMESTAMP '2026-02-01 00:00:00', 0.5);`,
    );
    for (let c = 1; c < size; c++) {
      const child = `${root}_c${c}`;
      tables.push({
        schema: 'backlog',
        name: child,
        archiveBy: { parent: root, foreignKey: 'parent_id', parentKey: 'id' },
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'parent_id', type: 'integer' },
          { name: 'note', type: 'varchar(32)' },
        ],
      });
      seed.push(
        `CREATE TABLE backlog.${child} (id INTEGER, parent_id INTEGER, note VARCHAR);`,
        `INSERT INTO backlog.${child} SELECT i, i // 2 - 1, 'line ' || i FROM range(0, ${2 * (b.rowsPerYear * b.years + 1)}) r(i);`,
      );
    }
  });
  const config = parseConfig({
    warehouse: CONTABYX.warehouse,
    lake: { prefix: 'backlog-parquet' },
    catalog: { database: 'backlog', externalSchema: 'ext_backlog' },
    views: { schema: 'backlog', prefix: 'all_' },
    tables,
  });
  return { config, seedSql: seed.join('\n') };
}

/** Latencies of the scripted services for a replay, by kind of statement (milliseconds). */
export interface LatencyProfile {
  readonly label: string;
  /** Each call of the Data API, S3, Glue or Athena (the SDK's round trip from Lambda in-Region). */
  readonly callMs: number;
  /** A small read or ledger write, from submission to FINISHED. */
  readonly smallMs: number;
  /** One table-year's UNLOAD of a few rows. */
  readonly unloadMs: number;
  /** A read of a batch's partition through Spectrum (verification). */
  readonly spectrumMs: number;
  /** A family's commit transaction. */
  readonly commitMs: number;
  /** VACUUM DELETE ONLY or ANALYZE of a small table. */
  readonly maintenanceMs: number;
  /** An Athena COUNT(*) of one partition. */
  readonly athenaMs: number;
}

/**
 * Assumed latencies of the Data API and of the statements of a run on tiny data (INFER: AWS
 * documents none). The quick profile takes a Data API statement to FINISHED in 0.5 s, a third
 * party's measurement without session reuse ("Average Latency 500ms", zhiweio.github.io/
 * redshift-spectra, Performance Overview); the slow one in 2 s, as observed end to end by others
 * (grafana/redshift-datasource#231 "Minimum query time is 2 seconds"; awslabs/mcp#4560: a trivial
 * SELECT in 3.2 to 4.7 s through an MCP server). UNLOAD, Spectrum, a commit and Athena carry a few
 * seconds of fixed cost each: S3 writes, Spectrum's start, a transaction of several statements.
 */
export const LATENCY_PROFILES: readonly LatencyProfile[] = [
  {
    label: 'quick',
    callMs: 50,
    smallMs: 500,
    unloadMs: 3_000,
    spectrumMs: 2_000,
    commitMs: 2_000,
    maintenanceMs: 2_000,
    athenaMs: 1_500,
  },
  {
    label: 'slow',
    callMs: 100,
    smallMs: 2_000,
    unloadMs: 10_000,
    spectrumMs: 5_000,
    commitMs: 5_000,
    maintenanceMs: 10_000,
    athenaMs: 3_000,
  },
];

/** The latency of each statement a replay sends, by what it is. */
export function statementLatency(
  profile: LatencyProfile,
  config: ArchiveConfig,
): (statement: {
  readonly name: string;
  readonly sql: readonly string[];
  readonly batch: boolean;
}) => number {
  const external = `"${config.catalog.externalSchema}".`;
  return ({ name, sql, batch }) => {
    if (sql[0].startsWith('UNLOAD')) return profile.unloadMs;
    if (batch && name.includes('.commit.')) return profile.commitMs;
    if (/^(VACUUM|ANALYZE)/.test(sql[0])) return profile.maintenanceMs;
    if (sql[0].startsWith('SELECT') && sql[0].includes(external)) return profile.spectrumMs;
    return profile.smallMs;
  };
}
