import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { InputError, RunFailedError } from '../../lambda/core/errors';
import { handleUnload, outcomeMetrics, parseUnloadEvent } from '../../lambda/runtime/unload';
import { ledgerAnswers, ScriptedAws } from '../support/scripted-aws';

const NOW = () => new Date('2026-03-04T05:06:07Z');
const event = (state: string, name = 'redshift-archive.20260101T000000Z.stage') => ({
  version: '0',
  source: 'aws.redshift-data',
  'detail-type': 'Redshift Data Statement Status Change',
  time: '2026-01-01T00:05:00Z',
  detail: { statementName: name, statementId: 'bt-9', state, rows: 1 },
});

describe("the unload Lambda's events", () => {
  test("takes the schedule's own time, so a late or repeated delivery computes the same run", () => {
    const request = parseUnloadEvent({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      time: '2026-01-01T00:00:03Z',
    });
    expect(request).toEqual({ kind: 'schedule', time: new Date('2026-01-01T00:00:03Z') });
  });

  test('takes a manual action with a validated cutoff', () => {
    expect(parseUnloadEvent({ action: 'plan', cutoff: '2025-01-01' })).toEqual({
      kind: 'manual',
      action: 'plan',
      cutoff: '2025-01-01',
    });
  });

  const allowed =
    'allowed: an EventBridge "Scheduled Event", a "Redshift Data Statement Status Change" event of a statement named ' +
    'redshift-archive.*, or {"action": "plan" | "run" | "status" | "abort", "cutoff"?: "YYYY-MM-DD"}';
  test.each([
    [{ action: 'drop' }, `event: {"action":"drop"} is not allowed; ${allowed}`],
    [{ action: 'run', force: true }, `event: {"action":"run","force":true} is not allowed; ${allowed}`],
    [
      { action: 'abort', cutoff: '2025-01-01' },
      `event: {"action":"abort","cutoff":"2025-01-01"} is not allowed (no cutoff with abort); ${allowed}`,
    ],
    [
      { source: 'aws.events', 'detail-type': 'Scheduled Event', time: 'soon' },
      `event: {"source":"aws.events","detail-type":"Scheduled Event","time":"soon"} is not allowed (no valid time); ${allowed}`,
    ],
    [
      event('FINISHED', 'someone-else.q1'),
      expect.stringContaining('is not allowed (not a statement of this app); allowed:'),
    ],
    ['run', `event: "run" is not allowed; ${allowed}`],
  ])('refuses %j with a clear error and no side effect', (input, message) => {
    const thrown = (() => {
      try {
        parseUnloadEvent(input);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(InputError);
    expect(thrown?.message).toEqual(message);
  });

  test('refuses an impossible cutoff, naming it', () => {
    expect(() => parseUnloadEvent({ action: 'run', cutoff: '2026-02-30' })).toThrow(
      'cutoff: "2026-02-30" is not allowed; allowed: a real calendar date YYYY-MM-DD from 1900 on',
    );
  });
});

describe('an invocation', () => {
  test('waits while a statement of the app is still running, and sends nothing', async () => {
    const aws = new ScriptedAws(ledgerAnswers('staged'));
    aws.rsd.on(ListStatementsCommand, { Status: 'STARTED' }).resolves({
      Statements: [
        { Id: 'u-1', StatementName: 'redshift-archive.20260101T000000Z.export.tax', Status: 'STARTED' },
      ],
    });
    const outcome = await handleUnload(parseUnloadEvent(event('FINISHED')), aws.engine(), NOW);
    expect(outcome).toEqual({
      outcome: 'waiting',
      statements: [{ id: 'u-1', name: 'redshift-archive.20260101T000000Z.export.tax' }],
    });
    expect(aws.sent).toEqual([]);
  });

  test('a stale completion event after the run finished changes nothing', async () => {
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const outcome = await handleUnload(
      parseUnloadEvent(event('FINISHED', 'redshift-archive.20260101T000000Z.finish')),
      aws.engine(),
      NOW,
    );
    expect(outcome).toEqual({
      outcome: 'stale-event',
      statementName: 'redshift-archive.20260101T000000Z.finish',
    });
    expect(aws.sent.map((s) => s.name)).toEqual(['ledger.runs', 'ledger.years']);
  });

  test('an event delivered twice resumes the run once and then finds nothing new to do', async () => {
    let state = 'verified';
    const aws = new ScriptedAws((name, sql) =>
      ledgerAnswers(state, (n) => (n.endsWith('ledger.exports') ? [] : undefined))(name, sql),
    );
    aws.afterBatch = (name) => {
      if (name.endsWith('.publish')) state = 'published';
      if (name.endsWith('.finish')) state = 'finished';
    };
    const first = await handleUnload(
      parseUnloadEvent(event('FINISHED', 'redshift-archive.20260101T000000Z.verify')),
      aws.engine(),
      NOW,
    );
    const second = await handleUnload(
      parseUnloadEvent(event('FINISHED', 'redshift-archive.20260101T000000Z.verify')),
      aws.engine(),
      NOW,
    );
    expect(first.outcome).toBe('run');
    expect(second).toEqual({
      outcome: 'stale-event',
      statementName: 'redshift-archive.20260101T000000Z.verify',
    });
    expect(aws.sent.filter((s) => s.batch).map((s) => s.name)).toEqual([
      '20260101T000000Z.publish',
      '20260101T000000Z.finish',
    ]);
  });

  test('an event that arrives out of order resumes from the ledger, and sends no earlier phase again', async () => {
    let state = 'published';
    const aws = new ScriptedAws((name, sql) =>
      ledgerAnswers(state, (n) => (n.endsWith('ledger.exports') ? [] : undefined))(name, sql),
    );
    aws.afterBatch = (name) => {
      if (name.endsWith('.finish')) state = 'finished';
    };
    aws.s3.on(PutObjectCommand).resolves({});
    // the stage transaction's event comes after the run was already published
    const stale = event('FINISHED', 'redshift-archive.20260101T000000Z.stage');
    const outcome = await handleUnload(parseUnloadEvent(stale), aws.engine(), NOW);
    expect(outcome.outcome).toBe('run');
    expect(aws.sent.filter((s) => s.batch).map((s) => s.name)).toEqual(['20260101T000000Z.finish']);
    expect(aws.sent.some((s) => /^20260101T000000Z\.(stage|export|verify|publish)(\.|$)/.test(s.name))).toBe(
      false,
    );
  });

  test('an export whose UNLOAD finished after an earlier invocation stopped waiting is recorded, not sent again', async () => {
    const aws = new ScriptedAws(
      ledgerAnswers('staged', (name) => (name.endsWith('ledger.exports') ? [] : undefined)),
    );
    aws.s3.on(GetObjectCommand).callsFake(async ({ Key }) => {
      const location = `s3://contabyx-archive-lake/${String(Key).replace(/manifest$/, '')}`;
      const manifest = {
        entries: [
          {
            url: `${location}year=2025/0000_part_00.parquet`,
            meta: { content_length: 99, record_count: 10 },
          },
        ],
        meta: { record_count: 10 },
      };
      return { Body: { transformToString: async () => JSON.stringify(manifest) } as never };
    });
    aws.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    // the completion event of the last UNLOAD resumes the run (verification then fails: this script has no read-back)
    const unloadDone = event('FINISHED', 'redshift-archive.20260101T000000Z.export.tax');
    await expect(handleUnload(parseUnloadEvent(unloadDone), aws.engine(), NOW)).rejects.toThrow(
      /failed in phase verify/,
    );
    expect(aws.sent.filter((s) => s.sql[0].startsWith('UNLOAD'))).toEqual([]);
    expect(
      aws.sent.filter((s) => s.sql[0].startsWith('INSERT INTO "archive_meta"."run_exports"')),
    ).toHaveLength(3);
    // the only listing is the failed verification clearing the files it did not trust
    expect(aws.s3.commandCalls(ListObjectsV2Command)).toHaveLength(1);
  });

  test("a FAILED statement marks the run failed with Redshift's reason and fails the invocation", async () => {
    const aws = new ScriptedAws(ledgerAnswers('staged'));
    const run = handleUnload(
      parseUnloadEvent(event('FAILED', 'redshift-archive.20260101T000000Z.export.tax')),
      aws.engine(),
      NOW,
    );
    await expect(run).rejects.toBeInstanceOf(RunFailedError);
    await expect(run).rejects.toThrow(
      'run 20260101T000000Z stopped: statement redshift-archive.20260101T000000Z.export.tax FAILED: ERROR: scripted failure',
    );
    expect(aws.sent.at(-1)?.sql[0]).toBe(
      `UPDATE "archive_meta"."runs" SET "error" = 'statement redshift-archive.20260101T000000Z.export.tax FAILED: ERROR: scripted failure' WHERE "run_id" = '20260101T000000Z'`,
    );
  });

  test('a manifest that does not match fails the run before anything is published; rows stay staged', async () => {
    const aws = new ScriptedAws(
      ledgerAnswers('staged', (name) => (name.endsWith('ledger.exports') ? [] : undefined)),
    );
    aws.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    aws.s3.on(GetObjectCommand).resolves({
      Body: {
        transformToString: async () =>
          JSON.stringify({
            entries: [
              {
                url: 's3://contabyx-archive-lake/contabyx-parquet/transactions/archive_run=20260101T000000Z/year=2025/0000_part_00.parquet',
                meta: { content_length: 10, record_count: 7 },
              },
            ],
            meta: { record_count: 10 },
          }),
      } as never,
    });
    const run = handleUnload({ kind: 'manual', action: 'run' }, aws.engine(), NOW);
    await expect(run).rejects.toThrow(
      "run 20260101T000000Z failed in phase export: the manifest's files hold 7 rows but it states 10\n" +
        'Every row is still in exactly one visible place; run again to resume, or abort.',
    );
    expect(aws.sent.filter((s) => s.batch).map((s) => s.name)).toEqual(['setup.ledger']);
    expect(aws.sent.at(-1)?.sql[0]).toMatch(
      /^UPDATE "archive_meta"."runs" SET "error" = 'run 20260101T000000Z failed in phase export: /,
    );
  });

  test('a statement still running when time is short is left to its completion event, and nothing is marked failed', async () => {
    const aws = new ScriptedAws(
      ledgerAnswers(undefined, (name) =>
        name.startsWith('plan.') ? [{ year: '2025', row_count: '5' }] : undefined,
      ),
    );
    aws.status = (name) => (name.endsWith('.stage') ? 'STARTED' : 'FINISHED');
    const outcome = await handleUnload(
      { kind: 'schedule', time: new Date('2026-01-01T00:00:00Z') },
      aws.engine(() => 0),
      NOW,
    );
    expect(outcome).toEqual({
      outcome: 'waiting',
      statements: [{ id: expect.stringMatching(/^bt-/), name: 'redshift-archive.20260101T000000Z.stage' }],
    });
    expect(aws.sent.filter((s) => s.sql[0].startsWith('UPDATE'))).toEqual([]);
  });

  test('reports rows, bytes and duration of a finished run as metrics', () => {
    const report = { outcome: 'finished', rows: 120, bytes: 4096 } as never;
    expect(outcomeMetrics({ outcome: 'run', report }, 1234.4)).toEqual([
      { name: 'InvocationDuration', unit: 'Milliseconds', value: 1234 },
      { name: 'RowsArchived', unit: 'Count', value: 120 },
      { name: 'BytesArchived', unit: 'Bytes', value: 4096 },
      { name: 'RunsFinished', unit: 'Count', value: 1 },
    ]);
  });
});
