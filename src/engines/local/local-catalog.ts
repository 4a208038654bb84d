import { createHash } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ArchiveConfig, tableNamed } from '../../config/config';
import { typeMapping, typeOfGlue } from '../../core/column-types';
import { ArchiveMismatchError, firstLine, InternalError, RunFailedError, show } from '../../core/errors';
import { glueColumns } from '../../core/glue-schema';
import { PARTITION_KEYS } from '../../core/lake-layout';
import type { Catalog, Partition } from '../../protocol/ports';
import { duckdbDialect, externalViews } from '../../sql/duckdb-dialect';
import { qualify, qualifyPart, quoteIdent } from '../../sql/identifiers';
import type { DuckDbWarehouse } from './duckdb-warehouse';
import { writeFileAtomic } from './local-lake';

interface CatalogTable {
  columns: { name: string; type: string }[];
  partitions: { year: number; runId: string; location: string }[];
}

interface CatalogFile {
  database: string;
  tables: Record<string, CatalogTable>;
}

/** How Spectrum reads a Glue column type, in DuckDB terms. */
function duckdbTypeOfGlue(glue: string): string {
  const type = typeOfGlue(glue);
  if (!type) throw new InternalError(`no type for the Glue column type ${show(glue)}`);
  return typeMapping(type).duckdb;
}

/** Whether a parsed catalog file has the shape this class writes. */
function isCatalogFile(value: unknown): value is CatalogFile {
  const tables = (value as CatalogFile | null)?.tables;
  return (
    typeof tables === 'object' &&
    tables !== null &&
    Object.values(tables).every(
      (t) =>
        Array.isArray(t?.columns) &&
        Array.isArray(t?.partitions) &&
        t.partitions.every(
          (p) => Number.isInteger(p?.year) && typeof p?.runId === 'string' && typeof p?.location === 'string',
        ),
    )
  );
}

const YEAR = quoteIdent(PARTITION_KEYS.year);
const RUN = quoteIdent(PARTITION_KEYS.run);

/**
 * A JSON file playing the Glue Data Catalog, and DuckDB views playing Spectrum's external tables.
 * Each registered partition is a view of its own that reads exactly its Parquet files, with the
 * declared (Glue) column types and the partition values from the catalog; the external table
 * unites them. A read of some partitions (a union view, a verification) names those partitions'
 * views (`ArchiveSql.archiveSource`), so that, as with Spectrum's pruning, the files of another
 * partition never make it fail.
 *
 * A partition is registered when it is in the file AND in the views. Every change of the file is
 * followed by a comparison of the views with the file, and they are defined again where they
 * differ, in ONE DuckDB transaction: a crash between the file and the views is repaired by the
 * next call, and a view never names a partition the file no longer lists once a removal returns
 * (the files are deleted only after that).
 */
export class LocalCatalog implements Catalog {
  constructor(
    private readonly config: ArchiveConfig,
    private readonly file: string,
    private readonly warehouse: DuckDbWarehouse,
  ) {}

  /** The catalog file of a lake folder, under a prefix that no table reads. */
  static fileIn(lakeRoot: string, config: ArchiveConfig): string {
    return resolve(lakeRoot, '_catalog', `${config.catalog.database}.json`);
  }

  get where(): string {
    return `the catalog file ${this.file}`;
  }

  private unreadable(reason: string): ArchiveMismatchError {
    return new ArchiveMismatchError(
      'catalog',
      ({ subject }) =>
        `${subject}: the catalog file ${this.file} cannot be read (${reason}); run \`redshift-archive repair\`, ` +
        'which rebuilds it from the ledger; nothing was changed',
    );
  }

  private async read(): Promise<CatalogFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { database: this.config.catalog.database, tables: {} };
      throw this.unreadable(firstLine(error));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw this.unreadable(firstLine(error));
    }
    if (!isCatalogFile(parsed)) throw this.unreadable('it is not a catalog of tables and partitions');
    return parsed;
  }

  private async write(catalog: CatalogFile): Promise<void> {
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, `${JSON.stringify(catalog, null, 2)}\n`);
    } catch (error) {
      throw new RunFailedError(`catalog: cannot write ${this.file} (${firstLine(error)}); it is as it was`, {
        cause: error,
      });
    }
  }

  async recreate(): Promise<void> {
    try {
      await rename(this.file, `${this.file}.unreadable-${Date.now()}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async tableColumns(table: string): Promise<{ name: string; type: string }[] | undefined> {
    return (await this.read()).tables[table.toLowerCase()]?.columns;
  }

  async ensureTable(table: string): Promise<void> {
    const catalog = await this.read();
    const config = tableNamed(this.config, table);
    const name = config.alias.toLowerCase();
    const columns = glueColumns(config);
    const existing = catalog.tables[name];
    if (JSON.stringify(existing?.columns) !== JSON.stringify(columns)) {
      catalog.tables[name] = { columns, partitions: existing?.partitions ?? [] };
      await this.write(catalog);
    }
    await this.define(name, catalog.tables[name]);
  }

  async addPartition(table: string, p: Partition): Promise<void> {
    const catalog = await this.read();
    const name = table.toLowerCase();
    const entry = catalog.tables[name];
    if (!entry)
      throw new RunFailedError(
        `catalog: table ${show(name)} does not exist in ${this.config.catalog.database}`,
      );
    const same = entry.partitions.find((q) => q.year === p.year && q.runId === p.runId);
    if (same && same.location !== p.location) {
      throw new RunFailedError(
        `catalog: partition ${PARTITION_KEYS.year}=${p.year}/${PARTITION_KEYS.run}=${p.runId} of ${name} exists at ` +
          `${same.location}, not ${p.location}`,
      );
    }
    if (!same) {
      entry.partitions.push({ year: p.year, runId: p.runId, location: p.location });
      await this.write(catalog);
    }
    // Also when the file listed it already: a crash may have come before the views.
    await this.define(name, entry);
  }

  async partitions(table: string): Promise<Partition[]> {
    return [...((await this.read()).tables[table.toLowerCase()]?.partitions ?? [])];
  }

  async removePartitions(table: string, runId: string, year?: number): Promise<void> {
    const catalog = await this.read();
    const name = table.toLowerCase();
    const entry = catalog.tables[name];
    if (!entry) return;
    const kept = entry.partitions.filter((p) => p.runId !== runId || (year !== undefined && p.year !== year));
    if (kept.length !== entry.partitions.length) {
      entry.partitions = kept;
      await this.write(catalog);
    }
    // Also when the file no longer listed it: a crash may have come before the views, which
    // would still read files that the caller deletes next.
    await this.define(name, entry);
  }

  /**
   * Makes the views of one external table what the file says, in ONE transaction: the view that
   * declares the columns, a view per partition, then the external table over them, then the
   * views of partitions the file no longer lists are dropped. A view whose comment (the catalog's
   * database and the digest of its text) matches is left alone, so an unchanged table writes
   * nothing.
   */
  private async define(name: string, entry: CatalogTable): Promise<void> {
    const schema = this.config.catalog.externalSchema;
    const named = (view: string) => (view.includes('/') ? qualifyPart(schema, view) : qualify(schema, view));
    const columns = entry.columns.map((c) => quoteIdent(c.name));
    const select = `SELECT ${columns.join(', ')}, ${YEAR}, ${RUN}`;
    const declared = externalViews.declared(name);
    const typed = entry.columns.map(
      (c) => `CAST(NULL AS ${duckdbTypeOfGlue(c.type)}) AS ${quoteIdent(c.name)}`,
    );
    const wanted = new Map<string, string>([
      [
        declared,
        `SELECT ${typed.join(', ')}, CAST(NULL AS INTEGER) AS ${YEAR}, CAST(NULL AS VARCHAR) AS ${RUN} WHERE false`,
      ],
    ]);
    for (const p of entry.partitions) {
      // Columns matched by name; a column that older files lack is NULL (the declared view's);
      // files of the declared types need no cast, which would cost a copy.
      const files = `read_parquet(${duckdbDialect.literal(`${p.location}*.parquet`)}, hive_partitioning = false)`;
      wanted.set(
        externalViews.partition(name, p),
        `${select} FROM (SELECT * FROM ${named(declared)} UNION ALL BY NAME ` +
          `SELECT *, CAST(${p.year} AS INTEGER) AS ${YEAR}, ${duckdbDialect.literal(p.runId)} AS ${RUN} FROM ${files}) f`,
      );
    }
    wanted.set(name, [...wanted.keys()].map((v) => `SELECT * FROM ${named(v)}`).join(' UNION ALL '));
    for (let attempt = 1; ; attempt++) {
      const existing = new Map(
        (
          await this.warehouse.query(
            `SELECT view_name, comment FROM duckdb_views() WHERE schema_name = ${duckdbDialect.literal(schema)} ` +
              `AND (view_name = ${duckdbDialect.literal(name)} OR starts_with(view_name, ${duckdbDialect.literal(`${name}/`)}))`,
          )
        ).map((r) => [String(r.view_name), r.comment]),
      );
      const statements = [...wanted].flatMap(([view, sql]) => {
        const comment = externalViews.comment(
          this.config.catalog.database,
          createHash('sha256').update(sql).digest('hex').slice(0, 16),
        );
        if (existing.get(view) === comment) return [];
        return [
          `CREATE OR REPLACE VIEW ${named(view)} AS ${sql}`,
          `COMMENT ON VIEW ${named(view)} IS ${duckdbDialect.literal(comment)}`,
        ];
      });
      const dropped = [...existing.keys()]
        .filter((view) => !wanted.has(view))
        .map((view) => `DROP VIEW ${named(view)}`);
      if (statements.length + dropped.length === 0) return;
      try {
        await this.warehouse.transaction([
          `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`,
          ...statements,
          ...dropped,
        ]);
        return;
      } catch (error) {
        // Two sessions defining the same views at once: one wins, the other compares again.
        if (attempt >= 3 || !duckdbDialect.isConflict(firstLine(error))) throw error;
      }
    }
  }
}
