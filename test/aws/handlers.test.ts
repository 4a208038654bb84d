import type { Context } from 'aws-lambda';
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { handler } from '../../lambda/handlers/unload';
import { isComplete, onEvent } from '../../lambda/handlers/schema-and-views';
import contabyx from '../../config/contabyx.json';
import { BUCKET, ledgerAnswers, ROLE, ScriptedAws } from '../support/scripted-aws';

const context = { getRemainingTimeInMillis: () => 900_000 } as Context;
const ENV = { ARCHIVE_CONFIG: JSON.stringify(contabyx), LAKE_BUCKET: BUCKET, REDSHIFT_ROLE_ARN: ROLE };

beforeEach(() => {
  Object.assign(process.env, ENV);
});
afterEach(() => {
  for (const key of Object.keys(ENV)) delete process.env[key];
});

describe('the deployed handlers', () => {
  test('the unload handler answers a manual status from the ledger', async () => {
    const aws = new ScriptedAws(ledgerAnswers('staged'));
    const outcome = await handler({ action: 'status' }, context);
    expect(outcome).toMatchObject({
      outcome: 'status',
      status: { active: { runId: '20260101T000000Z', state: 'staged' } },
    });
    expect(aws.sent[0]).toMatchObject({ name: 'setup.ledger', batch: true });
  });

  test('the unload handler refuses an unknown event before any AWS call', async () => {
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

  test('the unload handler waits for a running statement', async () => {
    const aws = new ScriptedAws(ledgerAnswers('staged'));
    aws.rsd
      .on(ListStatementsCommand, { Status: 'PICKED' })
      .resolves({ Statements: [{ Id: 'p', StatementName: 'redshift-archive.x', Status: 'PICKED' }] });
    expect(await handler({ action: 'run' }, context)).toEqual({
      outcome: 'waiting',
      statements: [{ id: 'p', name: 'redshift-archive.x' }],
    });
  });

  test('the custom resource handlers create the schemas and views', async () => {
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
    expect(await isComplete(event, context)).toEqual({ IsComplete: true, Data: { ViewsSchema: 'contabyx' } });
    expect(aws.sent.map((s) => s.name)).toEqual([
      'setup.external-schema',
      'setup.ledger',
      'ledger.runs',
      'ledger.years',
      'setup.views',
    ]);
  });
});
