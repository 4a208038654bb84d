import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureOutput, Written } from '../support/powertools-output';
import { handler } from '../../lambda/unload';
import { isComplete, onEvent } from '../../lambda/schema-and-views';
import { withLambdaContext } from '../../lambda/middleware';
import { logger } from '../../lambda/clients';
import { deploymentFrom } from '../../src/engines/aws/engine';
import { CONFIG_FILE, statementPrefix } from '../../src/contract';
import { configDigest, footprintJson, parseConfig } from '../../src/config/config';
import contabyx from '../../config/contabyx.json';
import {
  BUCKET,
  ledgerAnswers,
  PREFIX,
  ROLE,
  ScriptedAws,
  statementId,
  statusChange,
} from '../../devkit/scripted-aws';
import { lambdaContext } from '../support/lambda-context';

const FUNCTION = 'RedshiftArchive-UnloadFunction';
const context = lambdaContext(FUNCTION, 'c0ffee00-0000-4000-8000-000000000001');
// The unload function's code folder: the configuration beside the handler, as the stack writes it.
const taskRoot = mkdtempSync(join(tmpdir(), 'task-'));
writeFileSync(join(taskRoot, CONFIG_FILE), JSON.stringify(contabyx));
const ENV = {
  LAMBDA_TASK_ROOT: taskRoot,
  LAKE_BUCKET: BUCKET,
  REDSHIFT_ROLE_ARN: ROLE,
  ARCHIVE_STATEMENT_PREFIX: PREFIX,
};

/** What the handlers wrote during the test: log lines and EMF documents. */
let written: Written[];
beforeEach(() => {
  Object.assign(process.env, ENV);
  written = captureOutput();
});
afterEach(() => {
  for (const key of Object.keys(ENV)) delete process.env[key];
  jest.restoreAllMocks();
});

/** The Lambda context fields Powertools' injectLambdaContext adds to a log line. */
const contextFields = (requestId: string, coldStart: unknown) => ({
  cold_start: coldStart,
  function_arn: `arn:aws:lambda:eu-west-1:123456789012:function:${FUNCTION}`,
  function_memory_size: '512',
  function_name: FUNCTION,
  function_request_id: requestId,
});

/** An EMF document of the service's metrics, as CloudWatch reads it from standard output. */
const emf = (metrics: Record<string, [unit: string, value: unknown]>) => ({
  _aws: {
    Timestamp: expect.any(Number),
    CloudWatchMetrics: [
      {
        Namespace: 'RedshiftArchive',
        Dimensions: [['service']],
        Metrics: Object.entries(metrics).map(([name, [unit]]) => ({ Name: name, Unit: unit })),
      },
    ],
  },
  service: 'redshift-archive',
  ...Object.fromEntries(Object.entries(metrics).map(([name, [, value]]) => [name, value])),
});

describe('the deployed handlers', () => {
  test('the unload handler answers a manual status from the ledger', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const outcome = await handler({ action: 'status' }, context);
    expect(outcome).toMatchObject({
      outcome: 'status',
      status: { active: { runId: '20260101T000000Z', state: 'running' } },
    });
    expect(aws.sent[0]).toMatchObject({ name: 'ledger.shape', batch: false, withEvent: false });
  });

  test('the unload handler fails for an unknown event before any AWS call', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    await expect(handler({ hello: 'world' }, context)).rejects.toThrow(
      /^event: \{"hello":"world"\} is not allowed; allowed: /,
    );
    expect(aws.rsd.calls()).toHaveLength(0);
    // still a failed invocation for the alarm: logged, and counted once
    expect(written.map((w) => [w.stream, w.json.message ?? w.json])).toEqual([
      ['stderr', 'invocation failed'],
      ['stdout', emf({ RunFailures: ['Count', 1] })],
    ]);
  });

  test('the unload handler fails on a bad deployment environment, naming the variable', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    process.env.LAKE_BUCKET = 'Not_A_Bucket';
    await expect(handler({ action: 'status' }, context)).rejects.toThrow(
      'LAKE_BUCKET: "Not_A_Bucket" is not allowed; allowed: an S3 bucket name',
    );
    expect(aws.rsd.calls()).toHaveLength(0);
  });

  test.each([
    [undefined, 'ARCHIVE_STATEMENT_PREFIX: is missing; allowed: redshift-archive.<stack name>.'],
    [
      'redshift-archive.',
      'ARCHIVE_STATEMENT_PREFIX: "redshift-archive." is not allowed; allowed: redshift-archive.<stack name>.',
    ],
    [
      "redshift-archive.a'b.",
      `ARCHIVE_STATEMENT_PREFIX: "redshift-archive.a'b." is not allowed; allowed: redshift-archive.<stack name>.`,
    ],
  ])(
    'the unload handler fails on the statement prefix %j, naming it, before any AWS call',
    async (prefix, message) => {
      const aws = new ScriptedAws(ledgerAnswers(undefined));
      if (prefix === undefined) delete process.env.ARCHIVE_STATEMENT_PREFIX;
      else process.env.ARCHIVE_STATEMENT_PREFIX = prefix;
      await expect(handler({ action: 'status' }, context)).rejects.toThrow(message);
      expect(aws.rsd.calls()).toHaveLength(0);
    },
  );

  test('takes the prefix the stack builds from its name', () => {
    const env = {
      ...ENV,
      ARCHIVE_CONFIG: JSON.stringify(contabyx),
      ARCHIVE_STATEMENT_PREFIX: statementPrefix('Archive-Prod-2'),
    };
    expect(deploymentFrom(env).statementPrefix).toBe('redshift-archive.Archive-Prod-2.');
  });

  test("the unload handler drops another stack's event, and does not fail (no alarm)", async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const name = 'redshift-archive.Other.20260101T000000Z.commit';
    expect(await handler(statusChange(name, statementId(1), 'FAILED'), context)).toEqual({
      outcome: 'dropped',
      statementName: name,
      reason: `not a statement of this stack (its names start with ${PREFIX})`,
    });
    expect(aws.rsd.calls()).toHaveLength(0);
  });

  test('the custom resource handlers create the schemas and views, with statements named by the prefix', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const event = {
      RequestType: 'Create' as const,
      ServiceToken: 'token',
      ResponseURL: 'https://example.invalid/',
      StackId: 'stack',
      RequestId: 'req',
      LogicalResourceId: 'SchemaAndViews',
      ResourceType: 'Custom::RedshiftArchiveSchemaAndViews',
      ResourceProperties: {
        ServiceToken: 'token',
        // the configuration itself comes with the handler's bundle (ARCHIVE_CONFIG)
        ConfigDigest: configDigest(parseConfig(contabyx)),
        Footprint: footprintJson(parseConfig(contabyx)),
        LakeBucket: BUCKET,
        RedshiftRoleArn: ROLE,
      },
    };
    expect(await onEvent(event, context)).toEqual({
      PhysicalResourceId: 'redshift-archive:cluster/contabyx/dev/contabyx',
    });
    // (properties without Resource are the views: the one resource of earlier versions)
    expect(await isComplete(event, context)).toEqual({ IsComplete: true, Data: { ViewsSchema: 'contabyx' } });
    expect(aws.sent.map((s) => s.name)).toEqual([
      'ledger.shape',
      'guard.columns',
      'check.views',
      'check.ledgers',
      'setup.ledger',
      'ledger.runs',
      'ledger.batches',
      'ledger.version',
      'setup.views.columns',
      'setup.views',
    ]);
    // every statement, and every listing of the ones in flight, goes by the stack's prefix
    const names = aws.rsd
      .calls()
      .flatMap((c) => (c.args[0].input as { StatementName?: string }).StatementName ?? []);
    expect(names.length).toBe(aws.sent.length + 3);
    expect(names.every((n) => n.startsWith(PREFIX))).toBe(true);
    // each step's log line names the invocation; the custom resources publish no metrics
    expect(written).toEqual([
      {
        stream: 'stdout',
        json: {
          level: 'INFO',
          message: 'views defined for 3 tables',
          timestamp: expect.any(String),
          service: 'redshift-archive',
          ...contextFields(context.awsRequestId, false),
          sampling_rate: 0,
          phase: 'setup',
        },
      },
    ]);
  });
});

describe('the handlers under Powertools middleware', () => {
  test('every log line of the unload handler names its invocation, and each invocation publishes its metrics once', async () => {
    new ScriptedAws(ledgerAnswers('running'));
    const second = lambdaContext(FUNCTION, 'c0ffee00-0000-4000-8000-000000000002');
    await handler({ action: 'status' }, context);
    const first = written.splice(0);
    await handler({ action: 'status' }, second);
    const metrics = emf({
      InvocationDuration: ['Milliseconds', expect.any(Number)],
      UnfinishedRun: ['Count', 1],
      // the scripted ledger's run recorded no instant (an earlier version's): it counts as stalled
      StalledRun: ['Count', 1],
    });
    expect(first.map((w) => w.json)).toEqual([
      {
        level: 'INFO',
        message: 'invocation done',
        timestamp: expect.any(String),
        service: 'redshift-archive',
        ...contextFields(context.awsRequestId, expect.any(Boolean)),
        sampling_rate: 0,
        outcome: 'status',
      },
      metrics,
    ]);
    // the second invocation of the same environment is warm, and its lines carry its own request id
    expect(written).toEqual([
      { stream: 'stdout', json: expect.objectContaining(contextFields(second.awsRequestId, false)) },
      { stream: 'stdout', json: metrics },
    ]);
  });

  test('the watchdog logs one line saying what it did and why, and publishes whether it resumed the run', async () => {
    // given an unfinished run that failed (its error recorded)
    new ScriptedAws(
      ledgerAnswers('running', (name) =>
        name === 'ledger.runs'
          ? [{ run_id: '20260101T000000Z', cutoff: '2026-01-01', state: 'running', error: 'boom' }]
          : undefined,
      ),
    );

    // when the watchdog fires
    const outcome = await handler({ action: 'watchdog' }, context);

    // then it only reported status, said why in one line, and published RunsResumedByWatchdog = 0
    expect(outcome).toMatchObject({ outcome: 'watchdog', resumed: false });
    const reason = 'run 20260101T000000Z failed and waits for its operator (run or abort): boom';
    expect(written.map((w) => w.json)).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'watchdog reported status', resumed: false, reason }),
      expect.objectContaining({ message: 'invocation done', outcome: 'watchdog' }),
      emf({
        InvocationDuration: ['Milliseconds', expect.any(Number)],
        UnfinishedRun: ['Count', 1],
        StalledRun: ['Count', 1],
        RunsResumedByWatchdog: ['Count', 0],
      }),
    ]);
  });

  test('fails an invocation whose statement fails: logs the error with the context, publishes RunFailures once and nothing else', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    aws.status = () => 'FAILED';
    await expect(handler({ action: 'status' }, context)).rejects.toThrow('ERROR: scripted failure');
    expect(written).toEqual([
      {
        stream: 'stderr',
        json: expect.objectContaining({
          level: 'ERROR',
          message: 'invocation failed',
          ...contextFields(context.awsRequestId, false),
          error: expect.objectContaining({ message: expect.stringContaining('ERROR: scripted failure') }),
        }),
      },
      { stream: 'stdout', json: emf({ RunFailures: ['Count', 1] }) },
    ]);
  });

  test("leaves the deadline to Lambda: a handler still running when the context's remaining time is spent still answers", async () => {
    // with middy's default early timeout, this handler would fail after 5 ms with a TimeoutError
    const slow = withLambdaContext(logger, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return 'done';
    });
    expect(await slow({}, lambdaContext(FUNCTION, 'c0ffee00-0000-4000-8000-000000000003', 10))).toBe('done');
  });
});
