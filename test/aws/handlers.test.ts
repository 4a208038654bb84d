import type { Context } from 'aws-lambda';
import { handler } from '../../lambda/unload';
import { isComplete, onEvent } from '../../lambda/schema-and-views';
import { deploymentFrom } from '../../src/engines/aws/engine';
import { statementPrefix } from '../../src/contract';
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

const context = { getRemainingTimeInMillis: () => 900_000 } as Context;
const ENV = {
  ARCHIVE_CONFIG: JSON.stringify(contabyx),
  LAKE_BUCKET: BUCKET,
  REDSHIFT_ROLE_ARN: ROLE,
  ARCHIVE_STATEMENT_PREFIX: PREFIX,
};

beforeEach(() => {
  Object.assign(process.env, ENV);
});
afterEach(() => {
  for (const key of Object.keys(ENV)) delete process.env[key];
});

describe('the deployed handlers', () => {
  test('the unload handler answers a manual status from the ledger', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const outcome = await handler({ action: 'status' }, context);
    expect(outcome).toMatchObject({
      outcome: 'status',
      status: { active: { runId: '20260101T000000Z', state: 'running' } },
    });
    expect(aws.sent[0]).toMatchObject({ name: 'setup.ledger', batch: true, withEvent: false });
  });

  test('the unload handler fails for an unknown event before any AWS call', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    await expect(handler({ hello: 'world' }, context)).rejects.toThrow(
      /^event: \{"hello":"world"\} is not allowed; allowed: /,
    );
    expect(aws.rsd.calls()).toHaveLength(0);
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
    const env = { ...ENV, ARCHIVE_STATEMENT_PREFIX: statementPrefix('Archive-Prod-2') };
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
        Config: JSON.stringify(contabyx),
        LakeBucket: BUCKET,
        RedshiftRoleArn: ROLE,
      },
    };
    expect(await onEvent(event)).toEqual({
      PhysicalResourceId: 'redshift-archive:cluster/contabyx/dev/contabyx',
    });
    // (properties without Resource are the views: the one resource of earlier versions)
    expect(await isComplete(event, context)).toEqual({ IsComplete: true, Data: { ViewsSchema: 'contabyx' } });
    expect(aws.sent.map((s) => s.name)).toEqual([
      'setup.ledger',
      'ledger.runs',
      'ledger.batches',
      'ledger.version',
      'guard.columns',
      'setup.views.columns',
      'setup.views',
    ]);
    // every statement, and every listing of the ones in flight, goes by the stack's prefix
    const names = aws.rsd
      .calls()
      .flatMap((c) => (c.args[0].input as { StatementName?: string }).StatementName ?? []);
    expect(names.length).toBe(aws.sent.length + 3);
    expect(names.every((n) => n.startsWith(PREFIX))).toBe(true);
  });
});
