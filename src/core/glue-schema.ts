import { ColumnType, typeMapping } from './column-types';
import { PARTITION_KEYS } from './lake-layout';

/**
 * The one definition of an archive table in the catalog, used by the CDK stack that creates the
 * Glue tables and by the adapters that register partitions, so the two can never disagree.
 */

/** Partition keys, in the order of a partition's values. */
export const GLUE_PARTITION_KEYS: readonly { readonly name: string; readonly type: string }[] = [
  { name: PARTITION_KEYS.year, type: 'int' },
  { name: PARTITION_KEYS.run, type: 'string' },
];

/** Parquet as Hive, Glue, Athena and Spectrum name it. */
export const PARQUET_STORAGE = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

/** The catalog columns of a table: lower-case names (Glue folds them), Glue types. */
export function glueColumns(table: {
  readonly columns: readonly { readonly name: string; readonly type: ColumnType }[];
}): { name: string; type: string }[] {
  return table.columns.map((c) => ({ name: c.name.toLowerCase(), type: typeMapping(c.type).glue }));
}

/** The values of a partition, in key order. */
export function partitionValues(year: number, runId: string): string[] {
  return [String(year), runId];
}
