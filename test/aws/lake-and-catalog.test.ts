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
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { GlueCatalog } from '../../lambda/engines/aws/glue-catalog';
import { S3Lake } from '../../lambda/engines/aws/s3-lake';
import { CONTABYX } from '../support/world';

const s3 = mockClient(S3Client);
const glue = mockClient(GlueClient);
const athena = mockClient(AthenaClient);
const noWait = async () => undefined;
const lake = () => new S3Lake(new S3Client({}), 'lake-bucket', 'contabyx-parquet', 'archive-reports', noWait);
const catalog = () => new GlueCatalog(new GlueClient({}), CONTABYX, undefined, noWait);
/** The root that the export of tax's 2024 batch of run 20260101T000000Z writes to. */
const ROOT = 's3://lake-bucket/contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/';
const KEY = 'contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/';

beforeEach(() => {
  s3.reset();
  glue.reset();
  athena.reset();
});

describe('the S3 lake', () => {
  test('gives each batch (table, year, run) a root of its own', () => {
    expect(lake().batchRoot('Tax', 2024, '20260101T000000Z')).toBe(ROOT);
  });

  test("empties only the batch's own root, page by page", async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: `${KEY}year=2024/0000_part_00.parquet` }],
        NextContinuationToken: 't2',
      })
      .resolvesOnce({ Contents: [{ Key: `${KEY}manifest` }] });
    s3.on(DeleteObjectsCommand).resolves({});
    await lake().clear(ROOT);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'lake-bucket', Prefix: KEY, ContinuationToken: undefined },
      { Bucket: 'lake-bucket', Prefix: KEY, ContinuationToken: 't2' },
    ]);
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects)).toEqual([
      [{ Key: `${KEY}year=2024/0000_part_00.parquet` }],
      [{ Key: `${KEY}manifest` }],
    ]);
  });

  test.each([
    's3://lake-bucket/contabyx-parquet/tax/',
    `${ROOT}year=2024/`,
    's3://other-bucket/contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/',
    's3://lake-bucket/contabyx-parquet/',
  ])('fails to clear %s, which is not a batch root, and deletes nothing', async (location) => {
    // a location longer than 80 characters is shown cut
    const quoted = JSON.stringify(location);
    const shown = quoted.length > 80 ? `${quoted.slice(0, 77)}...` : quoted;
    await expect(lake().clear(location)).rejects.toThrow(`refusing ${shown}: not a batch root of this lake`);
    expect(s3.calls()).toHaveLength(0);
  });

  test('fails when S3 could not delete an object', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `${KEY}manifest` }] });
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: `${KEY}manifest`, Code: 'AccessDenied', Message: 'denied' }],
    });
    await expect(lake().clear(ROOT)).rejects.toThrow(
      `lake: could not delete s3://lake-bucket/${KEY}manifest: AccessDenied denied`,
    );
  });

  test("reads the files, sizes and row counts of UNLOAD's verbose manifest", async () => {
    const manifest = {
      entries: [
        { url: `${ROOT}year=2024/0000_part_00.parquet`, meta: { content_length: 1200, record_count: 30 } },
        { url: `${ROOT}year=2024/0001_part_00.parquet`, meta: { content_length: 800, record_count: 12 } },
      ],
      schema: { elements: [{ name: 'transactionid', type: { base: 'integer' } }] },
      author: { name: 'Amazon Redshift', version: '1.0.0' },
      meta: { content_length: 2000, record_count: 42 },
    };
    s3.on(GetObjectCommand).resolves({
      Body: { transformToString: async () => JSON.stringify(manifest) } as never,
    });
    expect(await lake().readManifest(ROOT)).toEqual({
      entries: [
        { url: `${ROOT}year=2024/0000_part_00.parquet`, bytes: 1200, rows: 30 },
        { url: `${ROOT}year=2024/0001_part_00.parquet`, bytes: 800, rows: 12 },
      ],
      rows: 42,
    });
    expect(s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({
      Bucket: 'lake-bucket',
      Key: `${KEY}manifest`,
    });
  });

  test('writes the run report under its own prefix', async () => {
    s3.on(PutObjectCommand).resolves({});
    expect(await lake().writeReport('20260101T000000Z', { rows: 1 })).toBe(
      's3://lake-bucket/archive-reports/20260101T000000Z.json',
    );
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
      Key: 'archive-reports/20260101T000000Z.json',
      ContentType: 'application/json',
    });
  });
});

describe('the Glue catalog', () => {
  const partition = (year: number) => ({
    year,
    runId: '20260101T000000Z',
    location: `${ROOT.replace('year=2024', `year=${year}`)}year=${year}/`,
  });

  /** Glue answers that partition 2024 of the run exists already, at `location`. */
  const partition2024ExistsAt = (location: string) => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: ['2024', '20260101T000000Z'],
          ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' },
        },
      ],
    });
    glue.on(GetPartitionCommand).resolves({ Partition: { StorageDescriptor: { Location: location } } });
  };

  test("registers a batch's partition with its explicit location", async () => {
    glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
    await catalog().addPartition('tax', partition(2024));
    expect(glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input)).toEqual([
      {
        DatabaseName: 'contabyx',
        TableName: 'tax',
        PartitionInputList: [
          {
            Values: ['2024', '20260101T000000Z'],
            StorageDescriptor: {
              Columns: [
                { Name: 'transactionid', Type: 'int' },
                { Name: 'taxtypeid', Type: 'int' },
                { Name: 'fee', Type: 'double' },
              ],
              Location: `${ROOT}year=2024/`,
              InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
              OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
              SerdeInfo: {
                SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
              },
            },
          },
        ],
      },
    ]);
  });

  test('accepts a partition that already exists at the same location', async () => {
    partition2024ExistsAt(`${ROOT}year=2024/`);
    await expect(catalog().addPartition('tax', partition(2024))).resolves.toBeUndefined();
  });

  test('fails for a partition that exists at another location', async () => {
    partition2024ExistsAt('s3://elsewhere/tax/');
    await expect(catalog().addPartition('tax', partition(2024))).rejects.toThrow(
      `catalog: partition year=2024/archive_run=20260101T000000Z of tax exists at s3://elsewhere/tax/, not ${ROOT}year=2024/`,
    );
  });

  test("removes one run's partitions, at most 25 per call", async () => {
    const values = Array.from({ length: 30 }, (_, i) => ({ Values: [String(1990 + i), '20260101T000000Z'] }));
    glue
      .on(GetPartitionsCommand)
      .resolvesOnce({ Partitions: values.slice(0, 20), NextToken: 'n' })
      .resolvesOnce({ Partitions: values.slice(20) });
    glue.on(BatchDeletePartitionCommand).resolves({});
    await catalog().removePartitions('tax', '20260101T000000Z');
    expect(glue.commandCalls(GetPartitionsCommand)[0].args[0].input.Expression).toBe(
      "archive_run = '20260101T000000Z'",
    );
    expect(
      glue.commandCalls(BatchDeletePartitionCommand).map((c) => c.args[0].input.PartitionsToDelete?.length),
    ).toEqual([25, 5]);
  });

  test('fails when the Glue table is missing or differs from the configuration', async () => {
    glue
      .on(GetTableCommand)
      .rejectsOnce(Object.assign(new Error('not found'), { name: 'EntityNotFoundException' }));
    await expect(catalog().ensureTable('tax')).rejects.toThrow(
      'catalog: Glue table contabyx.tax does not exist; deploy the stack first',
    );
    glue.on(GetTableCommand).resolves({
      Table: {
        Name: 'tax',
        StorageDescriptor: { Columns: [{ Name: 'fee', Type: 'float' }] },
        PartitionKeys: [],
      },
    });
    await expect(catalog().ensureTable('tax')).rejects.toThrow(
      'catalog: Glue table contabyx.tax has columns (fee float) and partition keys (); the configuration needs ' +
        '(transactionid int, taxtypeid int, fee double) and (year int, archive_run string); deploy the stack with this configuration',
    );
  });

  test("counts a batch's rows through Athena, in the archive's own database and workgroup", async () => {
    // given Athena answers the count query
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: { Rows: [{ Data: [{ VarCharValue: '_col0' }] }, { Data: [{ VarCharValue: '7' }] }] },
    });
    const withAthena = new GlueCatalog(
      new GlueClient({}),
      CONTABYX,
      { client: new AthenaClient({}), workgroup: 'contabyx-archive', remainingMs: () => 60_000 },
      noWait,
    );

    // when verification counts the rows of one batch
    const counted = await withAthena.countRows?.('tax', '20260101T000000Z', 2024);

    // then it sent exactly this query, with the catalog and database as the session context
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueryString:
          'SELECT COUNT(*) FROM "contabyx"."tax" WHERE "archive_run" = \'20260101T000000Z\' AND "year" = 2024',
        WorkGroup: 'contabyx-archive',
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'contabyx' },
        ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
      },
    ]);
    expect(counted).toBe(7);
  });
});
