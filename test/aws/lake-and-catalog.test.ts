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
  GetPartitionsCommandInput,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectsV2CommandInput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { GlueCatalog } from '../../src/engines/aws/glue-catalog';
import { S3Lake } from '../../src/engines/aws/s3-lake';
import { keepingInputs } from '../support/sent-inputs';
import { CONTABYX } from '../../devkit/world';

const s3 = mockClient(S3Client);
const glue = mockClient(GlueClient);
const athena = mockClient(AthenaClient);
const noWait = async () => undefined;
const lake = () => new S3Lake(new S3Client({}), 'lake-bucket', 'contabyx-parquet', 'archive-reports');
const catalog = () => new GlueCatalog(new GlueClient({}), CONTABYX, undefined, noWait);
const RUN_ID = '20260101T000000Z';
const ROOT = `s3://lake-bucket/contabyx-parquet/tax/year=2024/archive_run=${RUN_ID}/`;
const ROOT_KEY = `contabyx-parquet/tax/year=2024/archive_run=${RUN_ID}/`;

beforeEach(() => {
  s3.reset();
  glue.reset();
  athena.reset();
});

describe('the S3 lake', () => {
  test('gives each batch a root of its own, and names where protocol v1 wrote a run', () => {
    expect(lake().batchRoot('Tax', 2024, RUN_ID)).toBe(ROOT);
    expect(lake().legacyRunLocation('Tax', RUN_ID)).toBe(
      `s3://lake-bucket/contabyx-parquet/tax/archive_run=${RUN_ID}/`,
    );
  });

  test("empties only the batch's own root, page by page, at most 1,000 keys per DeleteObjects", async () => {
    // given S3 lists a full page of 1,000 keys, then one more
    const keys = Array.from({ length: 1_001 }, (_, i) => ({
      Key: `${ROOT_KEY}year=2024/${String(i).padStart(4, '0')}_part_00.parquet`,
    }));
    const listed: ListObjectsV2CommandInput[] = [];
    s3.on(ListObjectsV2Command).callsFake(
      keepingInputs(listed, ({ ContinuationToken }) =>
        ContinuationToken === 't2'
          ? { Contents: keys.slice(1_000) }
          : { Contents: keys.slice(0, 1_000), NextContinuationToken: 't2' },
      ),
    );
    s3.on(DeleteObjectsCommand).resolves({});

    // when the root is cleared
    await lake().clear(ROOT);

    // then it listed that prefix only, and deleted each page in one call
    expect(listed).toEqual([
      { Bucket: 'lake-bucket', Prefix: ROOT_KEY, ContinuationToken: undefined },
      { Bucket: 'lake-bucket', Prefix: ROOT_KEY, ContinuationToken: 't2' },
    ]);
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects)).toEqual([
      keys.slice(0, 1_000),
      keys.slice(1_000),
    ]);
  });

  test("empties a v1 run's prefix", async () => {
    s3.on(ListObjectsV2Command).resolves({});
    await lake().clear(lake().legacyRunLocation('tax', RUN_ID));
    expect(s3.commandCalls(ListObjectsV2Command)[0].args[0].input.Prefix).toBe(
      `contabyx-parquet/tax/archive_run=${RUN_ID}/`,
    );
  });

  test.each([
    's3://lake-bucket/contabyx-parquet/tax/',
    's3://lake-bucket/contabyx-parquet/tax/year=2024/',
    `${ROOT}year=2024/`,
    ROOT.slice(0, -1),
    `s3://other-bucket/contabyx-parquet/tax/year=2024/archive_run=${RUN_ID}/`,
    's3://lake-bucket/contabyx-parquet/',
  ])('fails to clear %s, which is not a batch root, and deletes nothing', async (location) => {
    await expect(lake().clear(location)).rejects.toThrow(
      `refusing "${location}": not a batch root of this lake`,
    );
    expect(s3.calls()).toHaveLength(0);
  });

  test('fails when S3 could not delete an object', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `${ROOT_KEY}manifest` }] });
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: `${ROOT_KEY}manifest`, Code: 'AccessDenied', Message: 'denied' }],
    });
    await expect(lake().clear(ROOT)).rejects.toThrow(
      `lake: could not delete s3://lake-bucket/${ROOT_KEY}manifest: AccessDenied denied`,
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
      Key: `${ROOT_KEY}manifest`,
    });
  });

  test('writes the run report under its own prefix', async () => {
    s3.on(PutObjectCommand).resolves({});
    expect(await lake().writeReport(RUN_ID, { rows: 1 })).toBe(
      `s3://lake-bucket/archive-reports/${RUN_ID}.json`,
    );
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
      Key: `archive-reports/${RUN_ID}.json`,
      ContentType: 'application/json',
    });
  });
});

describe('the Glue catalog', () => {
  /** A batch's partition folder: where UNLOAD wrote its Parquet files. */
  const location = (year: number) =>
    `s3://lake-bucket/contabyx-parquet/tax/year=${year}/archive_run=${RUN_ID}/year=${year}/`;
  const partition = (year: number) => ({ year, runId: RUN_ID, location: location(year) });

  /** Glue answers that partition 2024 of the run exists already, at `at`. */
  const partition2024ExistsAt = (at: string) => {
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: ['2024', RUN_ID],
          ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' },
        },
      ],
    });
    glue.on(GetPartitionCommand).resolves({ Partition: { StorageDescriptor: { Location: at } } });
  };

  test('registers a partition with its explicit location, Parquet and the configured columns', async () => {
    glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
    await catalog().addPartition('tax', partition(2024));
    expect(glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input)).toEqual([
      {
        DatabaseName: 'contabyx',
        TableName: 'tax',
        PartitionInputList: [
          {
            Values: ['2024', RUN_ID],
            StorageDescriptor: {
              Columns: [
                { Name: 'transactionid', Type: 'int' },
                { Name: 'taxtypeid', Type: 'int' },
                { Name: 'fee', Type: 'double' },
              ],
              Location: location(2024),
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
    partition2024ExistsAt(location(2024));
    await expect(catalog().addPartition('tax', partition(2024))).resolves.toBeUndefined();
  });

  test('fails for a partition that exists at another location', async () => {
    partition2024ExistsAt('s3://elsewhere/tax/');
    await expect(catalog().addPartition('tax', partition(2024))).rejects.toThrow(
      `catalog: partition year=2024/archive_run=${RUN_ID} of tax exists at s3://elsewhere/tax/, not ${location(2024)}`,
    );
  });

  test("removes one run's partitions, every page of them, at most 25 per call", async () => {
    // given Glue lists 30 partitions of the run in two pages (moto never pages)
    const values = Array.from({ length: 30 }, (_, i) => ({ Values: [String(1990 + i), RUN_ID] }));
    const listed: GetPartitionsCommandInput[] = [];
    glue
      .on(GetPartitionsCommand)
      .callsFake(
        keepingInputs(listed, ({ NextToken }) =>
          NextToken === 'n'
            ? { Partitions: values.slice(20) }
            : { Partitions: values.slice(0, 20), NextToken: 'n' },
        ),
      );
    glue.on(BatchDeletePartitionCommand).resolves({});

    // when the run's partitions are removed
    await catalog().removePartitions('tax', RUN_ID);

    // then it asked for the run's partitions page by page, and deleted them all in chunks of 25
    expect(listed).toEqual([
      {
        DatabaseName: 'contabyx',
        TableName: 'tax',
        Expression: `archive_run = '${RUN_ID}'`,
        NextToken: undefined,
      },
      { DatabaseName: 'contabyx', TableName: 'tax', Expression: `archive_run = '${RUN_ID}'`, NextToken: 'n' },
    ]);
    expect(
      glue.commandCalls(BatchDeletePartitionCommand).map((c) => c.args[0].input.PartitionsToDelete),
    ).toEqual([values.slice(0, 25), values.slice(25)]);
  });

  test("removes one year's partition of a run", async () => {
    glue.on(GetPartitionsCommand).resolves({ Partitions: [{ Values: ['2024', RUN_ID] }] });
    glue.on(BatchDeletePartitionCommand).resolves({});
    await catalog().removePartitions('tax', RUN_ID, 2024);
    expect(glue.commandCalls(GetPartitionsCommand)[0].args[0].input.Expression).toBe(
      `archive_run = '${RUN_ID}' AND year = 2024`,
    );
    expect(glue.commandCalls(BatchDeletePartitionCommand)[0].args[0].input.PartitionsToDelete).toEqual([
      { Values: ['2024', RUN_ID] },
    ]);
  });

  test('fails when Glue reports a partition it could not remove, and takes one already gone as removed', async () => {
    // given Glue lists two partitions of the run, one of which another caller removed meanwhile
    glue
      .on(GetPartitionsCommand)
      .resolves({ Partitions: [{ Values: ['2023', RUN_ID] }, { Values: ['2024', RUN_ID] }] });
    glue.on(BatchDeletePartitionCommand).resolvesOnce({
      Errors: [
        {
          PartitionValues: ['2023', RUN_ID],
          ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'gone' },
        },
      ],
    });
    await catalog().removePartitions('tax', RUN_ID);
    // when Glue refuses to remove one, then the call fails naming the partition and the reason
    glue.on(BatchDeletePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: ['2024', RUN_ID],
          ErrorDetail: { ErrorCode: 'InternalServiceException', ErrorMessage: 'try later' },
        },
      ],
    });
    await expect(catalog().removePartitions('tax', RUN_ID)).rejects.toThrow(
      `catalog: could not remove partition 2024/${RUN_ID} of tax: InternalServiceException try later`,
    );
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
      ResultSet: {
        Rows: [{ Data: [{ VarCharValue: '_col0' }] }, { Data: [{ VarCharValue: '7' }] }],
      },
    });
    const withAthena = new GlueCatalog(
      new GlueClient({}),
      CONTABYX,
      { client: new AthenaClient({}), workgroup: 'contabyx-archive', remainingMs: () => 60_000 },
      noWait,
    );

    // when verification counts the rows of one batch
    const counted = await withAthena.countRows?.('tax', RUN_ID, 2024);

    // then it sent exactly this query, with the catalog and database as the session context
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueryString: `SELECT COUNT(*) FROM "contabyx"."tax" WHERE "archive_run" = '${RUN_ID}' AND "year" = 2024`,
        WorkGroup: 'contabyx-archive',
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'contabyx' },
        ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
      },
    ]);
    expect(counted).toBe(7);
  });
});
