import { GetPartitionsCommand, GlueClient } from '@aws-sdk/client-glue';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { GlueCatalog } from '../../src/engines/aws/glue-catalog';
import { S3Lake } from '../../src/engines/aws/s3-lake';
import { CONTABYX } from '../../devkit/world';

// What an audit reads on AWS: the objects under a partition and the partitions of a table, every page.
const s3 = mockClient(S3Client);
const glue = mockClient(GlueClient);
beforeEach(() => {
  s3.reset();
  glue.reset();
});

const PARTITION = 's3://lake-bucket/contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/year=2024/';

test('lists every object under a partition, page after page, with its size', async () => {
  // given two pages of objects
  s3.on(ListObjectsV2Command)
    .resolvesOnce({
      Contents: [
        { Key: 'contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/year=2024/a.parquet', Size: 10 },
      ],
      NextContinuationToken: 't',
    })
    .resolvesOnce({
      Contents: [
        { Key: 'contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/year=2024/b.parquet', Size: 20 },
      ],
    });
  // when the lake lists the partition
  const files = await new S3Lake(
    new S3Client({}),
    'lake-bucket',
    'contabyx-parquet',
    'archive-reports',
  ).listFiles(PARTITION);
  // then both pages are read, under the partition's key prefix
  expect(files).toEqual([
    { url: `${PARTITION}a.parquet`, bytes: 10 },
    { url: `${PARTITION}b.parquet`, bytes: 20 },
  ]);
  // (the paginator reuses one input object, so the calls are read as it ended)
  const calls = s3.commandCalls(ListObjectsV2Command);
  expect(calls).toHaveLength(2);
  expect(calls[1].args[0].input).toMatchObject({
    Bucket: 'lake-bucket',
    Prefix: 'contabyx-parquet/tax/year=2024/archive_run=20260101T000000Z/year=2024/',
    ContinuationToken: 't',
  });
});

test('fails listing a location of another bucket', async () => {
  await expect(
    new S3Lake(new S3Client({}), 'lake-bucket', 'contabyx-parquet', 'archive-reports').listFiles(
      's3://other/x/',
    ),
  ).rejects.toThrow('refusing to list "s3://other/x/": not in this lake');
});

test('reads every partition of a table, page after page, and none of a table the catalog lacks', async () => {
  glue
    .on(GetPartitionsCommand)
    .resolvesOnce({
      Partitions: [{ Values: ['2023', 'R1'], StorageDescriptor: { Location: 's3://b/p/2023/' } }],
      NextToken: 'n',
    })
    .resolvesOnce({
      Partitions: [{ Values: ['2024', 'R1'], StorageDescriptor: { Location: 's3://b/p/2024/' } }],
    })
    .rejectsOnce(Object.assign(new Error('Table not found'), { name: 'EntityNotFoundException' }));
  const catalog = new GlueCatalog(new GlueClient({}), CONTABYX);
  expect(await catalog.partitions('tax')).toEqual([
    { year: 2023, runId: 'R1', location: 's3://b/p/2023/' },
    { year: 2024, runId: 'R1', location: 's3://b/p/2024/' },
  ]);
  expect(glue.commandCalls(GetPartitionsCommand)[1].args[0].input).toMatchObject({
    DatabaseName: CONTABYX.catalog.database,
    TableName: 'tax',
    NextToken: 'n',
  });
  expect(await catalog.partitions('tax')).toEqual([]);
});
