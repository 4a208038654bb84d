import { mkdir, readFile } from 'node:fs/promises';
import { PARTITION_KEYS } from '../../core/lake-layout';
import { dirname, resolve } from 'node:path';
import { ArchiveConfig, tableNamed } from '../../config/config';
import { glueColumns } from '../../core/glue-schema';
import { typeMapping, typeOfGlue } from '../../core/column-types';
import { InternalError, RunFailedError, show } from '../../core/errors';
import type { Catalog, Partition } from '../../protocol/ports';
import { duckdbDialect } from '../../sql/duckdb-dialect';
import { qualify, quoteIdent } from '../../sql/identifiers';
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

/**
 * A JSON file playing the Glue Data Catalog, and DuckDB views playing Spectrum's external
 * tables: each external table reads exactly the Parquet files of its registered partitions,
 * with the declared (Glue) column types, and the partition values from the paths.
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

  private async read(): Promise<CatalogFile> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as CatalogFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { database: this.config.catalog.database, tables: {} };
      throw error;
    }
  }

  private async write(catalog: CatalogFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify(catalog, null, 2)}\n`);
  }

  async tableColumns(table: string): Promise<{ name: string; type: string }[] | undefined> {
    return (await this.read()).tables[table.toLowerCase()]?.columns;
  }

  async ensureTable(table: string): Promise<void> {
    const catalog = await this.read();
    const config = tableNamed(this.config, table);
    const name = config.name.toLowerCase();
    const columns = glueColumns(config);
    const existing = catalog.tables[name];
    if (
      JSON.stringify(existing?.columns) === JSON.stringify(columns) &&
      (await this.externalTableExists(name))
    ) {
      // Like Glue's GetTable: a check that writes nothing, so that sessions can check at once.
      return;
    }
    catalog.tables[name] = { columns, partitions: existing?.partitions ?? [] };
    await this.write(catalog);
    await this.defineExternalTable(name, catalog.tables[name]);
  }

  private async externalTableExists(name: string): Promise<boolean> {
    const found = await this.warehouse.query(
      `SELECT 1 AS found FROM duckdb_views() WHERE schema_name = ${duckdbDialect.literal(this.config.catalog.externalSchema)} ` +
        `AND view_name = ${duckdbDialect.literal(name)}`,
    );
    return found.length > 0;
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
    if (same) return;
    entry.partitions.push({ year: p.year, runId: p.runId, location: p.location });
    await this.write(catalog);
    await this.defineExternalTable(name, entry);
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
    if (kept.length === entry.partitions.length) return;
    entry.partitions = kept;
    await this.write(catalog);
    await this.defineExternalTable(name, entry);
  }

  /**
   * The external table as a view: each registered partition's files with the partition's values
   * (as Glue gives Spectrum), columns matched by name, and a column that older files lack read as
   * NULL (the typed, empty first branch holds every declared column).
   */
  private async defineExternalTable(name: string, entry: CatalogTable): Promise<void> {
    const schema = this.config.catalog.externalSchema;
    const year = quoteIdent(PARTITION_KEYS.year);
    const run = quoteIdent(PARTITION_KEYS.run);
    const typed = entry.columns.map(
      (c) => `CAST(NULL AS ${duckdbTypeOfGlue(c.type)}) AS ${quoteIdent(c.name)}`,
    );
    const branches = [
      `SELECT ${typed.join(', ')}, CAST(NULL AS INTEGER) AS ${year}, CAST(NULL AS VARCHAR) AS ${run} WHERE false`,
      ...entry.partitions.map(
        (p) =>
          `SELECT *, CAST(${p.year} AS INTEGER) AS ${year}, ${duckdbDialect.literal(p.runId)} AS ${run} ` +
          `FROM read_parquet(${duckdbDialect.literal(`${p.location}*.parquet`)}, hive_partitioning = false)`,
      ),
    ];
    // The typed first branch gives each column its declared type (as Spectrum reads a file with
    // the catalog's types); files of the same types need no cast, which would cost a copy.
    const columns = entry.columns.map((c) => quoteIdent(c.name));
    const select = `SELECT ${columns.join(', ')}, ${year}, ${run} FROM (${branches.join(' UNION ALL BY NAME ')}) f`;
    await this.warehouse.execute(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await this.warehouse.execute(`CREATE OR REPLACE VIEW ${qualify(schema, name)} AS ${select}`);
  }
}
