import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  GetPartitionsCommand,
} from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { glueColumns, PARQUET_STORAGE } from '../../src/core/glue-schema';
import { ArchiveMismatchError, InputError } from '../../src/core/errors';
import { filesDigest } from '../../src/protocol/batch';
import type { Row } from '../../src/protocol/ports';
import { isComplete } from '../../src/runtime/custom-resource';
import { handleUnload, parseUnloadEvent } from '../../src/runtime/unload';
import { redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import { configDigest, footprintJson, parseConfig, tableNamed } from '../../src/config/config';
import {
  BUCKET,
  committedLocation,
  ledgerAnswers,
  ledgerShapeRows,
  ROLE,
  ScriptedAws,
  svvColumns,
} from '../../devkit/scripted-aws';
import { CONTABYX } from '../../devkit/world';
import contabyx from '../../config/contabyx.json';
import { failure } from '../support/failure';

// The ledger is the truth on AWS too: the Glue catalog and the S3 lake are compared with it before
// anything is written, a refusal fails the invocation (the unload errors alarm), `repair` and the
// deploy register partitions again through Glue, and the commit re-reads the objects' ETags.

const RUN = '20260101T000000Z';
const NOW = () => new Date('2026-03-04T05:06:07Z');
const sql = new ArchiveSql(CONTABYX, redshiftDialect({ iamRoleArn: ROLE }));

/** The union view of `table` as the deploy defined it: reading the committed 2025 batch of RUN. */
const viewText = (table: string) =>
  `SELECT * FROM "contabyx"."${table}" UNION ALL SELECT * FROM "ext_contabyx"."${table}" ` +
  `WHERE ("archive_run" = '${RUN}' AND "year" IN (2025)) WITH NO SCHEMA BINDING`;
const VIEWS: Row[] = CONTABYX.tables.map((t) => ({
  table_schema: 'contabyx',
  table_name: `spectrum_${t.name}`,
  definition: viewText(t.name),
}));

/** A finished run whose 2025 batch is committed, with the union views that read it. */
const finished = (extra: (name: string) => Row[] | undefined = () => undefined) =>
  ledgerAnswers('finished', (name) => extra(name) ?? (name === 'check.views' ? VIEWS : undefined));

/** Only reads were sent: every statement a SELECT on its own. */
const readsOnly = (aws: ScriptedAws) =>
  aws.sent.every((s) => !s.batch && !s.withEvent && /^SELECT /.test(s.sql[0]));

describe('on AWS, a catalog or lake that lacks a committed batch stops every command that writes', () => {
  test('a lost Glue partition fails the run before anything is written, naming it and repair (the invocation fails: the alarm)', async () => {
    const aws = new ScriptedAws(finished());
    aws.glue.on(GetPartitionsCommand).callsFake(({ TableName }) => ({
      Partitions:
        TableName === 'tax'
          ? []
          : [
              {
                Values: ['2025', RUN],
                StorageDescriptor: { Location: committedLocation(String(TableName)) },
              },
            ],
    }));
    const error = await failure(handleUnload(parseUnloadEvent({ action: 'run' }), aws.engine(), NOW));
    expect(error).toBeInstanceOf(ArchiveMismatchError);
    expect(error.message).toBe(
      `catalog: the Glue database contabyx lacks the partitions of 1 of 3 committed batches: tax 2025 (run ${RUN}) at ` +
        `${committedLocation('tax')}; run \`redshift-archive repair\`, which registers every committed batch again at the ` +
        'location the ledger records; nothing was changed',
    );
    expect(readsOnly(aws)).toBe(true);
    expect(aws.glue.commandCalls(BatchCreatePartitionCommand)).toHaveLength(0);
  });

  test('a lost S3 object fails an abort before anything is written, naming the bucket and the batch', async () => {
    const aws = new ScriptedAws(finished());
    aws.holdArchive('tax');
    const error = await failure(handleUnload(parseUnloadEvent({ action: 'abort' }), aws.engine(), NOW));
    expect(error.message).toBe(
      `lake: s3://${BUCKET} lacks the files of 1 of 3 committed batches; tax 2025 (run ${RUN}): the ledger recorded ` +
        `1 files of 100 bytes under ${committedLocation('tax')}, the lake holds 0 files of 0 bytes; put the files back ` +
        '(a versioned bucket keeps their earlier versions; `redshift-archive audit` names every damaged batch), or, where ' +
        'they cannot be, record their rows as lost: `redshift-archive repair --accept-lost` (on AWS: {"action": "repair", ' +
        '"acceptLost": true}); nothing was changed',
    );
    expect(readsOnly(aws)).toBe(true);
  });

  test('a ledger.schema other than the one the views were built from is refused naming both, before anything is created', async () => {
    const moved = parseConfig({ ...contabyx, ledger: { schema: 'archive_ledger' } });
    const aws = new ScriptedAws((name) => {
      if (name === 'ledger.shape') return [];
      if (name === 'guard.columns') return svvColumns(moved, 'tables');
      if (name === 'check.views') return VIEWS;
      if (name === 'check.ledgers') return [{ table_schema: 'archive_meta' }];
      if (name === 'check.ledgers.rows') return [{ run_id: RUN }];
      return undefined;
    }, moved);
    const error = await failure(handleUnload(parseUnloadEvent({ action: 'run' }), aws.engine(), NOW));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      `ledger.schema: "archive_ledger" holds no run ${RUN}, whose committed batches the union view "contabyx"."spectrum_transactions" ` +
        'reads (its text names the run); the ledger in schema "archive_meta" holds it; allowed: "archive_meta"; nothing was changed',
    );
    expect(aws.sent.map((s) => s.sql[0])).toContain(
      `SELECT DISTINCT "run_id" AS run_id FROM "archive_meta"."commit_checks"`,
    );
    expect(readsOnly(aws)).toBe(true);
  });

  test('an external schema that reads another Glue database than catalog.database is refused naming both', async () => {
    const aws = new ScriptedAws(
      finished((name) => (name === 'check.external-schema' ? [{ database: 'old_db' }] : undefined)),
    );
    const error = await failure(handleUnload(parseUnloadEvent({ action: 'run' }), aws.engine(), NOW));
    expect(error.message).toMatch(
      /^catalog\.database: "contabyx" is not the database that the external schema ext_contabyx reads \("old_db"\)/,
    );
    expect(readsOnly(aws)).toBe(true);
  });
});

describe('repair and the deploy register every committed batch again from the ledger, through Glue', () => {
  /** A Glue catalog that lost every partition. */
  const emptyCatalog = (aws: ScriptedAws) => {
    aws.glue.on(GetPartitionsCommand).resolves({ Partitions: [] });
    aws.glue.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
  };
  const registered = (table: string) => ({
    DatabaseName: 'contabyx',
    TableName: table,
    PartitionInputList: [
      {
        Values: ['2025', RUN],
        StorageDescriptor: {
          Columns: glueColumns(tableNamed(CONTABYX, table)).map((c) => ({ Name: c.name, Type: c.type })),
          Location: committedLocation(table),
          InputFormat: PARQUET_STORAGE.inputFormat,
          OutputFormat: PARQUET_STORAGE.outputFormat,
          SerdeInfo: { SerializationLibrary: PARQUET_STORAGE.serializationLibrary },
        },
      },
    ],
  });

  test('{"action": "repair"} registers each committed partition at its recorded location, then defines the views', async () => {
    const aws = new ScriptedAws(finished());
    emptyCatalog(aws);
    const outcome = await handleUnload(parseUnloadEvent({ action: 'repair' }), aws.engine(), NOW);
    expect(outcome).toEqual({
      outcome: 'repaired',
      repair: { catalog: 'the Glue database contabyx', registered: 3, removed: 0, lost: [] },
    });
    expect(aws.glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input)).toEqual(
      ['transactions', 'transfers', 'tax'].map(registered),
    );
    expect(aws.sent.filter((s) => s.batch).map((s) => s.name)).toEqual(['setup.views']);
  });

  test('{"action": "repair", "acceptLost": true} records a batch whose S3 object is gone as lost, with the views that stop reading it, then removes its partition', async () => {
    // given the object of tax 2025 is gone and no earlier version is left
    const recorded = () => aws.sent.some((s) => s.sql.some((q) => q.includes(`SET "state" = 'lost'`)));
    const batches = () =>
      (ledgerAnswers('finished')('ledger.batches', '') ?? []).map((b) =>
        b.table_name === 'tax' && recorded() ? { ...b, state: 'lost' } : b,
      );
    const aws: ScriptedAws = new ScriptedAws(
      finished((name) => (name === 'ledger.batches' ? batches() : undefined)),
    );
    aws.holdArchive('tax');
    aws.glue.on(BatchDeletePartitionCommand).resolves({ Errors: [] });
    const refused = await failure(handleUnload(parseUnloadEvent({ action: 'repair' }), aws.engine(), NOW));
    expect(refused.message).toBe(
      `lake: s3://${BUCKET} lacks the files of 1 of 3 committed batches: tax 2025 (run ${RUN}, 5 rows): the ledger recorded ` +
        `1 files of 100 bytes under ${committedLocation('tax')}, the lake holds 0 files of 0 bytes; put the files back (a versioned ` +
        'bucket keeps their earlier versions), or, where they cannot be, run `redshift-archive repair --accept-lost` (on AWS: ' +
        '{"action": "repair", "acceptLost": true}), which records these 1 batches (5 rows) as lost: the views and the catalog ' +
        'stop reading them; nothing was changed',
    );
    expect(readsOnly(aws)).toBe(true);

    // when the operator accepts the loss
    const outcome = await handleUnload(
      parseUnloadEvent({ action: 'repair', acceptLost: true }),
      aws.engine(),
      NOW,
    );

    // then the loss is recorded in the transaction that redefines the views without the batch
    const reason = `recorded lost by repair --accept-lost: the lake holds 0 files of 0 bytes under ${committedLocation('tax')}; the ledger recorded 1 files of 100 bytes`;
    expect(outcome).toMatchObject({
      outcome: 'repaired',
      repair: { lost: [{ runId: RUN, table: 'tax', year: 2025, rows: 5, reason }] },
    });
    const [first] = aws.sent.filter((s) => s.name === 'setup.views');
    expect(first.sql.at(-1)).toBe(
      `UPDATE "archive_meta"."batches" SET "state" = 'lost', "error" = '${reason}' WHERE "run_id" = '${RUN}' AND ` +
        `"table_name" = 'tax' AND "year" = 2025 AND "state" <> 'restored'`,
    );
    expect(first.sql.some((q) => /^CREATE .*"spectrum_tax" AS .* WHERE 1 = 0/.test(q))).toBe(true);
    // and its Glue partition goes, so Athena never reads a partition without files
    expect(aws.glue.commandCalls(BatchDeletePartitionCommand).map((c) => c.args[0].input)).toEqual([
      { DatabaseName: 'contabyx', TableName: 'tax', PartitionsToDelete: [{ Values: ['2025', RUN] }] },
    ]);
  });

  test('deploy-time setup registers the partitions of committed batches that the catalog lost', async () => {
    const aws = new ScriptedAws(finished());
    emptyCatalog(aws);
    const props = {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
      ConfigDigest: configDigest(CONTABYX),
      Footprint: footprintJson(CONTABYX),
      LakeBucket: BUCKET,
      RedshiftRoleArn: ROLE,
    };
    const done = await isComplete(
      { RequestType: 'Update', ResourceProperties: props, PhysicalResourceId: 'x' },
      (d) => aws.open(d),
      CONTABYX,
    );
    expect(done.IsComplete).toBe(true);
    expect(aws.glue.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input)).toEqual(
      ['transactions', 'transfers', 'tax'].map(registered),
    );
  });
});

describe('the commit re-reads the objects verification read', () => {
  const family = sql.families[0];
  const location = (table: string) =>
    `s3://${BUCKET}/contabyx-parquet/${table}/year=2024/archive_run=${RUN}/year=2024/`;
  const key = (table: string) => `${location(table).slice(`s3://${BUCKET}/`.length)}part-0000.parquet`;
  /** The object as verification listed it. */
  const object = (table: string, etag: string) => ({ Key: key(table), Size: 100, ETag: etag });
  const digest = (table: string) =>
    filesDigest([{ url: `s3://${BUCKET}/${key(table)}`, bytes: 100, tag: '"v1"' }]);

  test('an object written again after verification (another ETag) sends the batch back to export: no commit is sent', async () => {
    // given a run whose 2024 batch was verified, and an object of tax overwritten since
    const batches = (discarded: boolean) =>
      family.map((t) => ({
        run_id: RUN,
        table_name: t.name,
        family: 'transactions',
        year: '2024',
        source: 'hot',
        state: discarded ? 'pending' : 'verified',
        attempt: discarded ? '2' : '1',
        planned_rows: '5',
        location: discarded ? null : location(t.name),
        row_count: discarded ? null : '5',
        checksum: discarded ? null : '42',
        file_count: discarded ? null : '1',
        byte_count: discarded ? null : '100',
        columns: null,
        error: null,
        files_digest: discarded ? null : digest(t.name),
        committed: '0',
      }));
    const aws: ScriptedAws = new ScriptedAws((name: string): Row[] | undefined => {
      const discarded = aws.sent.some((s) => s.name.includes('.discard.'));
      if (name === 'ledger.shape') return ledgerShapeRows(CONTABYX);
      if (name === 'ledger.runs')
        return [{ run_id: RUN, cutoff: '2025-01-01', state: 'running', error: null }];
      if (name === 'ledger.batches') return batches(discarded);
      if (name === 'ledger.version') return [{ version: '3' }];
      if (name === 'guard.columns') return svvColumns(CONTABYX, 'tables');
      if (name.endsWith('.count')) return [{ row_count: '5' }];
      return undefined;
    });
    aws.s3.on(ListObjectsV2Command).callsFake(({ Prefix }) => ({
      Contents: family
        .filter((t) => key(t.name).startsWith(String(Prefix)))
        .map((t) => object(t.name, t.name === 'tax' ? '"v2"' : '"v1"')),
    }));
    aws.s3.on(DeleteObjectsCommand).resolves({});
    aws.glue.on(GetPartitionsCommand).resolves({ Partitions: [] });
    // the next export outlives the invocation: the test ends there
    aws.status = (name) => (/\.export\.\w+\.\d{4}\.a\d+$/.test(name) ? 'STARTED' : 'FINISHED');
    // when the run is resumed
    const outcome = await handleUnload(parseUnloadEvent({ action: 'run' }), aws.engine(), NOW);
    // then the family is discarded, naming the files, and exported again; nothing was committed
    expect(outcome.outcome).toBe('waiting');
    const reason =
      `the files changed since their verification: tax 2024: the files under ${location('tax')} are not those verification read ` +
      '(now 1 files of 100 bytes; the export wrote 1 files of 100 bytes)';
    expect(aws.sent.find((s) => s.name.includes('.discard.'))?.sql).toEqual([
      sql.discardBatch(
        { runId: RUN, cutoff: '2025-01-01' as never, year: 2024, source: 'hot' },
        family,
        reason,
      ),
    ]);
    expect(aws.sent.some((s) => s.name.includes('.commit.'))).toBe(false);
    expect(aws.sent.filter((s) => s.withEvent).map((s) => s.name)).toEqual([
      `${RUN}.export.transactions.2024.a2`,
    ]);
  });
});

describe('a ledger of an earlier version', () => {
  /** What SVV_COLUMNS says of a ledger that lacks the columns added since (LEDGER_UPGRADES). */
  const older = ledgerShapeRows(CONTABYX).filter((r) => r.column_name !== 'files_digest');

  test('reads with NULL for the columns it lacks, and a status writes nothing', async () => {
    const aws = new ScriptedAws(finished((name) => (name === 'ledger.shape' ? older : undefined)));
    const outcome = await handleUnload(parseUnloadEvent({ action: 'status' }), aws.engine(), NOW);
    expect(outcome.outcome).toBe('status');
    expect(aws.sent.find((s) => s.name === 'ledger.batches')?.sql[0]).toContain(
      'CAST(NULL AS VARCHAR(64)) AS files_digest',
    );
    expect(readsOnly(aws)).toBe(true);
  });

  test('gains each missing column with ALTER TABLE ... ADD COLUMN in the ledger transaction of the first command that writes', async () => {
    const aws = new ScriptedAws(finished((name) => (name === 'ledger.shape' ? older : undefined)));
    await handleUnload(parseUnloadEvent({ action: 'abort' }), aws.engine(), NOW);
    expect(aws.sent.find((s) => s.name === 'setup.ledger')?.sql).toEqual([
      ...sql.setupStatements(),
      'ALTER TABLE "archive_meta"."batches" ADD COLUMN "files_digest" VARCHAR(64)',
    ]);
  });
});
