/**
 * The S3 lake and the Glue catalog against moto_server on 127.0.0.1: real HTTP, real error names,
 * real ListObjectsV2 pages, versioning with delete markers, Glue partition filters. What moto does
 * not enforce stays in lake-and-catalog.test.ts (batch limits, GetPartitions pages) and in
 * sdk-retry.test.ts (throttling).
 */
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetPartitionCommand,
  GetPartitionsCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  paginateListObjectsV2,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { parseConfig, tableNamed } from '../../src/config/config';
import { glueColumns, GLUE_PARTITION_KEYS, PARQUET_STORAGE } from '../../src/core/glue-schema';
import { partitionLocation } from '../../src/core/lake-layout';
import { GlueCatalog } from '../../src/engines/aws/glue-catalog';
import { S3Lake } from '../../src/engines/aws/s3-lake';
import contabyx from '../../config/contabyx.json';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, motoServerPath } from '../support/moto';

const CONFIG = parseConfig(contabyx);
const BUCKET = 'lake-bucket';
const PREFIX = CONFIG.lake.prefix;
const REPORTS = 'archive-reports';
const RUN = '20260101T000000Z';
const NEXT_RUN = '20270101T000000Z';

const executable = motoServerPath();
if (!executable) {
  console.log(
    'moto.test.ts skipped: moto_server is not on the PATH (install moto[server] to run the S3 and Glue ' +
      'adapters against it; the mock tests still cover them)',
  );
}

(executable ? describe : describe.skip)('the AWS adapters against moto_server', () => {
  let moto: MotoServer | undefined;
  let s3: S3Client;
  let glue: GlueClient;

  beforeAll(async () => {
    moto = await MotoServer.start(executable as string);
    const client = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
    s3 = new S3Client({ ...client, forcePathStyle: true });
    glue = new GlueClient(client);
  });

  afterAll(async () => {
    s3?.destroy();
    glue?.destroy();
    await moto?.stop();
  });

  beforeEach(() => moto?.reset());

  describe('the S3 lake', () => {
    const lake = () => new S3Lake(s3, BUCKET, PREFIX, REPORTS);
    /** The key of a location in the lake bucket. */
    const keyOf = (location: string) => location.slice(`s3://${BUCKET}/`.length);

    /** The lake bucket as the stack makes it: versioned. */
    async function createVersionedBucket(): Promise<void> {
      await s3.send(
        new CreateBucketCommand({
          Bucket: BUCKET,
          CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
        }),
      );
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }

    async function put(key: string, body: string | Uint8Array): Promise<void> {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    }

    /** Writes `files` Parquet-named files into a batch's partition, as UNLOAD ... PARTITION BY (year) does; their keys. */
    async function unloadFiles(root: string, year: number, files: number): Promise<string[]> {
      const keys = Array.from(
        { length: files },
        (_, i) => `${keyOf(partitionLocation(root, year))}${String(i).padStart(4, '0')}_part_00.parquet`,
      );
      // a few at a time: moto is one Python process on a small machine
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(keys.slice(i, i + 25).map((key) => put(key, 'PAR1')));
      }
      return keys;
    }

    /** Current objects under `prefix`, all pages. */
    async function currentKeys(prefix: string): Promise<string[]> {
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: BUCKET, Prefix: prefix })) {
        keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
      }
      return keys;
    }

    /** Keys under `prefix` whose latest version is a delete marker (the SDK has no paginator for these). */
    async function deletedKeys(prefix: string): Promise<string[]> {
      const keys: string[] = [];
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectVersionsCommand({
            Bucket: BUCKET,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        );
        keys.push(...(page.DeleteMarkers ?? []).filter((m) => m.IsLatest).map((m) => m.Key as string));
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        versionMarker = page.NextVersionIdMarker;
      } while (keyMarker);
      return keys;
    }

    test("reads back the files, sizes and row counts of UNLOAD's verbose manifest at a batch root", async () => {
      // given a batch root holding UNLOAD's Parquet files under year=2024/ and its manifest
      await createVersionedBucket();
      const root = lake().batchRoot('Transactions', 2024, RUN);
      expect(root).toBe(`s3://${BUCKET}/${PREFIX}/transactions/year=2024/archive_run=${RUN}/`);
      const files = await unloadFiles(root, 2024, 2);
      const url = (key: string) => `s3://${BUCKET}/${key}`;
      const manifest = {
        entries: [
          { url: url(files[0]), meta: { content_length: 1200, record_count: 30 } },
          { url: url(files[1]), meta: { content_length: 800, record_count: 12 } },
        ],
        schema: { elements: [{ name: 'transactionid', type: { base: 'integer' } }] },
        author: { name: 'Amazon Redshift', version: '1.0.0' },
        meta: { content_length: 2000, record_count: 42 },
      };
      await put(`${keyOf(root)}manifest`, JSON.stringify(manifest));

      // when the export's manifest is read
      const read = await lake().readManifest(root);

      // then it lists each file with its size and rows, and the total
      expect(read).toEqual({
        entries: [
          { url: `${root}year=2024/0000_part_00.parquet`, bytes: 1200, rows: 30 },
          { url: `${root}year=2024/0001_part_00.parquet`, bytes: 800, rows: 12 },
        ],
        rows: 42,
      });
    });

    test('reads no manifest at a batch root where no export completed', async () => {
      // given files of an export that stopped before its manifest
      await createVersionedBucket();
      const root = lake().batchRoot('tax', 2024, RUN);
      await unloadFiles(root, 2024, 1);

      // when / then
      await expect(lake().readManifest(root)).resolves.toBeUndefined();
    });

    test('fails to read a manifest that states no record count (UNLOAD ... MANIFEST without VERBOSE)', async () => {
      // given a plain manifest: urls only
      await createVersionedBucket();
      const root = lake().batchRoot('tax', 2024, RUN);
      const [file] = await unloadFiles(root, 2024, 1);
      await put(`${keyOf(root)}manifest`, JSON.stringify({ entries: [{ url: `s3://${BUCKET}/${file}` }] }));

      // when / then
      await expect(lake().readManifest(root)).rejects.toThrow(
        `lake: ${root}manifest states no record count (was it written by UNLOAD ... MANIFEST VERBOSE?)`,
      );
    });

    test('clears a batch root of more than 1,000 objects in a versioned bucket, and nothing beside it', async () => {
      // given a batch root of 1,000 files and a manifest (one object more than a ListObjectsV2 page
      // or a DeleteObjects call takes on S3; moto pages by 100), and its neighbours: another year
      // and another run of the same table, and the same run's v1 prefix
      await createVersionedBucket();
      const root = lake().batchRoot('transactions', 2024, RUN);
      await unloadFiles(root, 2024, 1_000);
      await put(`${keyOf(root)}manifest`, '{}');
      const neighbours = [
        lake().batchRoot('transactions', 2025, RUN),
        lake().batchRoot('transactions', 2024, NEXT_RUN),
        lake().legacyRunLocation('transactions', RUN),
      ];
      for (const neighbour of neighbours) {
        await unloadFiles(neighbour, 2024, 3);
        await put(`${keyOf(neighbour)}manifest`, '{}');
      }
      const table = `${PREFIX}/transactions/`;
      const before = await currentKeys(table);
      expect(await currentKeys(keyOf(root))).toHaveLength(1_001);

      // when the batch root is cleared
      await lake().clear(root);

      // then no current object is left under it (each one's latest version is a delete marker),
      // its manifest reads as absent, and every other object is as it was
      expect(await currentKeys(keyOf(root))).toEqual([]);
      expect(await deletedKeys(table)).toEqual(before.filter((key) => key.startsWith(keyOf(root))));
      expect(await lake().readManifest(root)).toBeUndefined();
      expect(await currentKeys(table)).toEqual(before.filter((key) => !key.startsWith(keyOf(root))));
    });

    test.each([
      ['the table', `s3://${BUCKET}/${PREFIX}/transactions/`],
      ['a year of the table, all runs', `s3://${BUCKET}/${PREFIX}/transactions/year=2024/`],
      [
        'a batch root without its trailing slash',
        `s3://${BUCKET}/${PREFIX}/transactions/year=2024/archive_run=${RUN}`,
      ],
      [
        "a batch's partition",
        `s3://${BUCKET}/${PREFIX}/transactions/year=2024/archive_run=${RUN}/year=2024/`,
      ],
      ['another bucket', `s3://other-bucket/${PREFIX}/transactions/year=2024/archive_run=${RUN}/`],
    ])('fails to clear %s, which is not a batch root, and deletes nothing', async (_, location) => {
      // given a batch with files
      await createVersionedBucket();
      await unloadFiles(lake().batchRoot('transactions', 2024, RUN), 2024, 2);
      const before = await currentKeys(PREFIX);

      // when / then
      await expect(lake().clear(location)).rejects.toThrow(
        `refusing "${location}": not a batch root of this lake`,
      );
      expect(await currentKeys(PREFIX)).toEqual(before);
    });

    test('writes the run report as JSON under the reports prefix', async () => {
      // given the lake bucket
      await createVersionedBucket();
      const report = { runId: RUN, tables: [{ table: 'tax', year: 2024, rows: 7 }] };

      // when the report is written
      const location = await lake().writeReport(RUN, report);

      // then it is there, as JSON, outside the lake prefix
      expect(location).toBe(`s3://${BUCKET}/${REPORTS}/${RUN}.json`);
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${REPORTS}/${RUN}.json` }));
      expect(object.ContentType).toBe('application/json');
      expect(JSON.parse((await object.Body?.transformToString()) ?? '')).toEqual(report);
    });
  });

  describe('the Glue catalog', () => {
    const catalog = () => new GlueCatalog(glue, CONFIG);
    const DATABASE = CONFIG.catalog.database;
    const location = (table: string, year: number, runId: string) =>
      partitionLocation(new S3Lake(s3, BUCKET, PREFIX, REPORTS).batchRoot(table, year, runId), year);

    // the stack's database; its tables are each test's own
    beforeEach(() => glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: DATABASE } })));

    /**
     * An archive table as the stack defines it (lib/redshift-archive.ts), with the columns
     * `columns` makes of the configured ones.
     */
    async function deployTable(
      name: string,
      columns: (configured: { name: string; type: string }[]) => { name: string; type: string }[] = (c) => c,
    ): Promise<void> {
      await glue.send(
        new CreateTableCommand({
          DatabaseName: DATABASE,
          TableInput: {
            Name: name,
            TableType: 'EXTERNAL_TABLE',
            Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'parquet.compression': 'SNAPPY' },
            PartitionKeys: GLUE_PARTITION_KEYS.map((k) => ({ Name: k.name, Type: k.type })),
            StorageDescriptor: {
              Columns: columns(glueColumns(tableNamed(CONFIG, name))).map((c) => ({
                Name: c.name,
                Type: c.type,
              })),
              Location: `s3://${BUCKET}/${PREFIX}/${name}/`,
              InputFormat: PARQUET_STORAGE.inputFormat,
              OutputFormat: PARQUET_STORAGE.outputFormat,
              SerdeInfo: { SerializationLibrary: PARQUET_STORAGE.serializationLibrary },
            },
          },
        }),
      );
    }

    /** The partitions of `table` as `year/run` pairs, sorted. */
    async function partitions(table: string): Promise<string[]> {
      const { Partitions } = await glue.send(
        new GetPartitionsCommand({ DatabaseName: DATABASE, TableName: table }),
      );
      return (Partitions ?? []).map((p) => (p.Values ?? []).join('/')).sort();
    }

    test('accepts a table deployed as the stack defines it', async () => {
      await deployTable('tax');
      await expect(catalog().ensureTable('tax')).resolves.toBeUndefined();
    });

    test('fails when the table does not exist', async () => {
      await expect(catalog().ensureTable('tax')).rejects.toThrow(
        `catalog: Glue table ${DATABASE}.tax does not exist; deploy the stack first`,
      );
    });

    test("fails when the table's columns differ from the configuration", async () => {
      // given a table whose fee is float (REAL), where the configuration says double precision
      await deployTable('tax', (columns) =>
        columns.map((c) => (c.name === 'fee' ? { name: 'fee', type: 'float' } : c)),
      );

      // when / then
      await expect(catalog().ensureTable('tax')).rejects.toThrow(
        `catalog: Glue table ${DATABASE}.tax has columns (transactionid int, taxtypeid int, fee float) and ` +
          'partition keys (year int, archive_run string); the configuration needs (transactionid int, ' +
          'taxtypeid int, fee double) and (year int, archive_run string); deploy the stack with this configuration',
      );
    });

    test('registers a partition at its own location, and again at the same location', async () => {
      // given the table
      await deployTable('tax');
      const partition = { year: 2024, runId: RUN, location: location('tax', 2024, RUN) };

      // when the partition is registered twice
      await catalog().addPartition('tax', partition);
      await catalog().addPartition('tax', partition);

      // then it is there once, with its location, the table's columns and Parquet
      expect(await partitions('tax')).toEqual([`2024/${RUN}`]);
      const { Partition } = await glue.send(
        new GetPartitionCommand({ DatabaseName: DATABASE, TableName: 'tax', PartitionValues: ['2024', RUN] }),
      );
      expect(Partition?.StorageDescriptor).toMatchObject({
        Location: `s3://${BUCKET}/${PREFIX}/tax/year=2024/archive_run=${RUN}/year=2024/`,
        Columns: glueColumns(tableNamed(CONFIG, 'tax')).map((c) => ({ Name: c.name, Type: c.type })),
        InputFormat: PARQUET_STORAGE.inputFormat,
        OutputFormat: PARQUET_STORAGE.outputFormat,
        SerdeInfo: { SerializationLibrary: PARQUET_STORAGE.serializationLibrary },
      });
    });

    test('fails to register a partition that exists at another location', async () => {
      // given the partition registered at its location
      await deployTable('tax');
      const registered = location('tax', 2024, RUN);
      await catalog().addPartition('tax', { year: 2024, runId: RUN, location: registered });
      const elsewhere = `s3://${BUCKET}/${PREFIX}/tax/year=2024/`;

      // when / then
      await expect(
        catalog().addPartition('tax', { year: 2024, runId: RUN, location: elsewhere }),
      ).rejects.toThrow(
        `catalog: partition year=2024/archive_run=${RUN} of tax exists at ${registered}, not ${elsewhere}`,
      );
    });

    test("removes one year's partition of a run, then all of the run's, and no other partition", async () => {
      // given the run's partitions of three years, another run's of the same table, and the run's of another table
      await deployTable('tax');
      await deployTable('transfers');
      for (const year of [2023, 2024, 2025]) {
        await catalog().addPartition('tax', { year, runId: RUN, location: location('tax', year, RUN) });
      }
      await catalog().addPartition('tax', {
        year: 2024,
        runId: NEXT_RUN,
        location: location('tax', 2024, NEXT_RUN),
      });
      await catalog().addPartition('transfers', {
        year: 2024,
        runId: RUN,
        location: location('transfers', 2024, RUN),
      });

      // when one year of the run is removed, then only that year's partition is gone
      await catalog().removePartitions('tax', RUN, 2024);
      expect(await partitions('tax')).toEqual([`2023/${RUN}`, `2024/${NEXT_RUN}`, `2025/${RUN}`]);

      // when all of the run is removed, then only the other run's partition is left
      await catalog().removePartitions('tax', RUN);
      expect(await partitions('tax')).toEqual([`2024/${NEXT_RUN}`]);
      expect(await partitions('transfers')).toEqual([`2024/${RUN}`]);
    });
  });
});
