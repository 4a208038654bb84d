import {
  RemovalPolicy,
  Stack,
  aws_athena as athena,
  aws_glue as glue,
  aws_kms as kms,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ArchiveConfig } from '../../src/config/config';
import { glueColumns, GLUE_PARTITION_KEYS, PARQUET_STORAGE } from '../../src/core/glue-schema';
import { ATHENA_RESULTS_PREFIX } from './bucket';

/** The Glue database and its tables, and the ARNs that policies name them by. */
/** What reading the archive through its tables takes from Glue: Spectrum and Athena both call these. */
export const GLUE_READ_ACTIONS = [
  'glue:GetDatabase',
  'glue:GetTable',
  'glue:GetTables',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
];

export interface GlueCatalog {
  readonly database: glue.CfnDatabase;
  /** One external table per configured table, in configuration order. */
  readonly tables: glue.CfnTable[];
  /** The account's Data Catalog. */
  readonly catalogArn: string;
  /** The catalog, the database and its tables: what a policy on the archive's tables names. */
  readonly arns: string[];
}

/**
 * Glue: one database, one external table per archived table (Parquet, partitioned by year and
 * run), whose partitions the job registers. The stack and the job share `glue-schema`, so the
 * columns they declare never disagree.
 */
export function createGlueCatalog(
  scope: Construct,
  config: ArchiveConfig,
  bucket: s3.IBucket,
  removalPolicy: RemovalPolicy,
): GlueCatalog {
  const stack = Stack.of(scope);
  const databaseName = config.catalog.database;
  const database = new glue.CfnDatabase(scope, 'Database', {
    catalogId: stack.account,
    databaseInput: { name: databaseName, description: 'Archived Redshift rows (redshift-archive)' },
  });
  database.applyRemovalPolicy(removalPolicy);
  const tables = config.tables.map((table) => {
    const name = table.alias.toLowerCase();
    const cfn = new glue.CfnTable(scope, `Table${table.alias}`, {
      catalogId: stack.account,
      databaseName,
      tableInput: {
        name,
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'parquet.compression': 'SNAPPY' },
        partitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ name: k.name, type: k.type })),
        storageDescriptor: {
          columns: glueColumns(table),
          location: bucket.s3UrlForObject(`${config.lake.prefix}/${name}/`),
          inputFormat: PARQUET_STORAGE.inputFormat,
          outputFormat: PARQUET_STORAGE.outputFormat,
          serdeInfo: { serializationLibrary: PARQUET_STORAGE.serializationLibrary },
        },
      },
    });
    cfn.addResourceDependency(database);
    cfn.applyRemovalPolicy(removalPolicy);
    return cfn;
  });
  const catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
  const arns = [
    catalogArn,
    stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
    stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/*` }),
  ];
  return { database, tables, catalogArn, arns };
}

/** The Athena workgroup of the archive, and its name and ARN for policies. */
export interface ArchiveWorkgroup {
  readonly workgroup: athena.CfnWorkGroup;
  readonly name: string;
  readonly arn: string;
}

/** Athena: results in the lake bucket under their own prefix; the workgroup's settings are enforced. */
export function createWorkgroup(
  scope: Construct,
  config: ArchiveConfig,
  bucket: s3.IBucket,
  options: { readonly key?: kms.IKey; readonly bytesScannedCutoffPerQuery?: number },
): ArchiveWorkgroup {
  const name = config.catalog.athenaWorkgroup ?? `${config.catalog.database}-archive`;
  const { key } = options;
  const workgroup = new athena.CfnWorkGroup(scope, 'Workgroup', {
    name,
    description: 'Queries of the Redshift archive',
    state: 'ENABLED',
    recursiveDeleteOption: false,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: options.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
      resultConfiguration: {
        outputLocation: bucket.s3UrlForObject(`${ATHENA_RESULTS_PREFIX}/`),
        encryptionConfiguration: key
          ? { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn }
          : { encryptionOption: 'SSE_S3' },
      },
    },
  });
  const arn = Stack.of(scope).formatArn({ service: 'athena', resource: 'workgroup', resourceName: name });
  return { workgroup, name, arn };
}
