import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  GetPartitionCommand,
  GetTableCommand,
  GlueClient,
  paginateGetPartitions,
} from '@aws-sdk/client-glue';
import { ArchiveConfig, tableNamed } from '../../config/config';
import { isRunId } from '../../core/cutoff';
import { InputError, RunFailedError, show } from '../../core/errors';
import { PARTITION_KEYS } from '../../core/lake-layout';
import { glueColumns, GLUE_PARTITION_KEYS, PARQUET_STORAGE, partitionValues } from '../../core/glue-schema';
import type { Catalog, Partition } from '../../protocol/ports';
import { quoteIdent } from '../../sql/identifiers';
import { Sleep, sleep as realSleep } from './sleep';

/** BatchDeletePartition takes at most 25 partitions. */
const DELETE_CHUNK = 25;

/** Athena, as a second reader of the archive. */
export interface AthenaReader {
  readonly client: AthenaClient;
  readonly workgroup: string;
  /** Milliseconds this invocation may still wait for a query. */
  readonly remainingMs: () => number;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The catalog on Glue: tables are the stack's (this only checks them); partitions are
 * registered with explicit locations, since Spectrum ignores partition projection. With an
 * Athena workgroup, verification also counts the run's rows through Athena.
 */
export class GlueCatalog implements Catalog {
  /** Waits between polls of an Athena query. */
  private readonly sleep: Sleep;
  /** Present when an Athena workgroup is configured. */
  readonly countRows?: Catalog['countRows'];

  constructor(
    private readonly glue: GlueClient,
    private readonly config: ArchiveConfig,
    athena?: AthenaReader,
    sleep?: Sleep,
  ) {
    this.sleep = sleep ?? realSleep;
    if (athena) this.countRows = (table, runId, year) => this.countWithAthena(athena, table, runId, year);
  }

  private get database(): string {
    return this.config.catalog.database;
  }

  get where(): string {
    return `the Glue database ${this.database}`;
  }

  async tableColumns(table: string): Promise<{ name: string; type: string }[] | undefined> {
    const name = tableNamed(this.config, table).alias.toLowerCase();
    try {
      const found = await this.glue.send(new GetTableCommand({ DatabaseName: this.database, Name: name }));
      return (found.Table?.StorageDescriptor?.Columns ?? []).map((c) => ({
        name: c.Name ?? '',
        type: c.Type ?? '',
      }));
    } catch (error) {
      if ((error as { name?: string }).name === 'EntityNotFoundException') return undefined;
      throw error;
    }
  }

  async ensureTable(table: string): Promise<void> {
    const name = tableNamed(this.config, table).alias.toLowerCase();
    let found;
    try {
      found = await this.glue.send(new GetTableCommand({ DatabaseName: this.database, Name: name }));
    } catch (error) {
      if ((error as { name?: string }).name === 'EntityNotFoundException') {
        throw new RunFailedError(
          `catalog: Glue table ${this.database}.${name} does not exist; deploy the stack first`,
        );
      }
      throw error;
    }
    const actual = (found.Table?.StorageDescriptor?.Columns ?? [])
      .map((c) => `${c.Name} ${c.Type}`)
      .join(', ');
    const expected = glueColumns(tableNamed(this.config, table))
      .map((c) => `${c.name} ${c.type}`)
      .join(', ');
    const keys = (found.Table?.PartitionKeys ?? []).map((c) => `${c.Name} ${c.Type}`).join(', ');
    const expectedKeys = GLUE_PARTITION_KEYS.map((k) => `${k.name} ${k.type}`).join(', ');
    if (actual !== expected || keys !== expectedKeys) {
      throw new RunFailedError(
        `catalog: Glue table ${this.database}.${name} has columns (${actual}) and partition keys (${keys}); ` +
          `the configuration needs (${expected}) and (${expectedKeys}); deploy the stack with this configuration`,
      );
    }
  }

  async addPartition(table: string, p: Partition): Promise<void> {
    const config = tableNamed(this.config, table);
    const name = config.alias.toLowerCase();
    const columns = glueColumns(config).map((c) => ({ Name: c.name, Type: c.type }));
    const values = partitionValues(p.year, p.runId);
    const result = await this.glue.send(
      new BatchCreatePartitionCommand({
        DatabaseName: this.database,
        TableName: name,
        PartitionInputList: [
          {
            Values: values,
            StorageDescriptor: {
              Columns: columns,
              Location: p.location,
              InputFormat: PARQUET_STORAGE.inputFormat,
              OutputFormat: PARQUET_STORAGE.outputFormat,
              SerdeInfo: { SerializationLibrary: PARQUET_STORAGE.serializationLibrary },
            },
          },
        ],
      }),
    );
    const error = result.Errors?.[0];
    if (!error) return;
    if (error.ErrorDetail?.ErrorCode !== 'AlreadyExistsException') {
      throw new RunFailedError(
        `catalog: partition ${values.join('/')} of ${name}: ${error.ErrorDetail?.ErrorCode} ${error.ErrorDetail?.ErrorMessage}`,
      );
    }
    const existing = await this.glue.send(
      new GetPartitionCommand({ DatabaseName: this.database, TableName: name, PartitionValues: values }),
    );
    const location = existing.Partition?.StorageDescriptor?.Location;
    if (location !== p.location) {
      throw new RunFailedError(
        `catalog: partition ${PARTITION_KEYS.year}=${p.year}/${PARTITION_KEYS.run}=${p.runId} of ${name} ` +
          `exists at ${location}, not ${p.location}`,
      );
    }
  }

  async partitions(table: string): Promise<Partition[]> {
    const name = tableNamed(this.config, table).alias.toLowerCase();
    const found: Partition[] = [];
    try {
      const pages = paginateGetPartitions(
        { client: this.glue },
        { DatabaseName: this.database, TableName: name },
      );
      for await (const page of pages) {
        for (const p of page.Partitions ?? []) {
          // in the order of partitionValues(): year, then run
          const [year, runId] = p.Values ?? [];
          found.push({
            year: Number(year),
            runId: runId ?? '',
            location: p.StorageDescriptor?.Location ?? '',
          });
        }
      }
    } catch (error) {
      if ((error as { name?: string }).name === 'EntityNotFoundException') return [];
      throw error;
    }
    return found;
  }

  async removePartitions(table: string, runId: string, year?: number): Promise<void> {
    if (!isRunId(runId)) throw new InputError(`no partitions for run ${show(runId)}`);
    if (year !== undefined && !Number.isInteger(year))
      throw new InputError(`no partitions for year ${show(year)}`);
    const name = tableNamed(this.config, table).alias.toLowerCase();
    const expression =
      `${PARTITION_KEYS.run} = '${runId}'` +
      (year === undefined ? '' : ` AND ${PARTITION_KEYS.year} = ${year}`);
    const values: string[][] = [];
    const pages = paginateGetPartitions(
      { client: this.glue },
      { DatabaseName: this.database, TableName: name, Expression: expression },
    );
    for await (const page of pages) values.push(...(page.Partitions ?? []).map((p) => p.Values ?? []));
    for (const chunk of chunks(values, DELETE_CHUNK)) {
      const result = await this.glue.send(
        new BatchDeletePartitionCommand({
          DatabaseName: this.database,
          TableName: name,
          PartitionsToDelete: chunk.map((v) => ({ Values: v })),
        }),
      );
      // Glue reports a partition it could not delete in Errors instead of failing the call; one
      // that is already gone is what this call wanted.
      const failed = result.Errors?.find((e) => e.ErrorDetail?.ErrorCode !== 'EntityNotFoundException');
      if (failed) {
        throw new RunFailedError(
          `catalog: could not remove partition ${failed.PartitionValues?.join('/')} of ${name}: ` +
            `${failed.ErrorDetail?.ErrorCode} ${failed.ErrorDetail?.ErrorMessage}`,
        );
      }
    }
  }

  /** Rows of one batch's partition, counted by Athena with result reuse off (a stale answer proves nothing). */
  private async countWithAthena(
    athena: AthenaReader,
    table: string,
    runId: string,
    year: number,
  ): Promise<number> {
    if (!isRunId(runId) || !Number.isInteger(year))
      throw new InputError(`no rows for run ${show(runId)}, year ${show(year)}`);
    const name = tableNamed(this.config, table).alias.toLowerCase();
    const sql =
      `SELECT COUNT(*) FROM ${quoteIdent(this.database)}.${quoteIdent(name)} ` +
      `WHERE ${quoteIdent(PARTITION_KEYS.run)} = '${runId}' AND ${quoteIdent(PARTITION_KEYS.year)} = ${year}`;
    const { QueryExecutionId: id } = await athena.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: athena.workgroup,
        // Without a context the session database is `default` (Athena API, QueryExecutionContext).
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: this.database },
        ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
      }),
    );
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      const execution = await athena.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution.QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new RunFailedError(
          `Athena count of ${name}: ${state}: ${execution.QueryExecution?.Status?.StateChangeReason ?? ''}`,
        );
      }
      if (athena.remainingMs() < delay)
        throw new RunFailedError(`Athena count of ${name} did not finish in time (query ${id})`);
      await this.sleep(delay);
    }
    const results = await athena.client.send(new GetQueryResultsCommand({ QueryExecutionId: id }));
    // the first row holds the column names
    const counted = Number(results.ResultSet?.Rows?.[1]?.Data?.[0]?.VarCharValue);
    if (!Number.isSafeInteger(counted))
      throw new RunFailedError(`Athena count of ${name}: no count in the result`);
    return counted;
  }
}
