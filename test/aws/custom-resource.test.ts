import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { isComplete, onEvent, physicalId } from '../../lambda/runtime/custom-resource';
import contabyx from '../../config/contabyx.json';
import { BUCKET, ledgerAnswers, ROLE, ScriptedAws } from '../support/scripted-aws';
import { CONTABYX } from '../support/world';

const props = (config: unknown = contabyx) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  Config: JSON.stringify(config),
  LakeBucket: BUCKET,
  RedshiftRoleArn: ROLE,
});
const ID = 'redshift-archive:cluster/contabyx/dev/contabyx';

describe('the schema-and-views custom resource', () => {
  test('names the resource by warehouse and views schema, stably', async () => {
    expect(physicalId(CONTABYX)).toBe(ID);
    expect(await onEvent({ RequestType: 'Create', ResourceProperties: props() })).toEqual({
      PhysicalResourceId: ID,
    });
  });

  test('fails a deployment with an invalid configuration before anything runs', async () => {
    const bad = { ...contabyx, views: { schema: 'contabyx', prefix: 'x y' } };
    await expect(onEvent({ RequestType: 'Create', ResourceProperties: props(bad) })).rejects.toThrow(
      'ResourceProperties.Config: invalid configuration\n  views.prefix: "x y" is not allowed; allowed: empty, or letters, digits, _ or $, not starting with a digit',
    );
  });

  test('on create: schemas and ledger, the external schema, then the views from the ledger, in one transaction', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const done = await isComplete({ RequestType: 'Create', ResourceProperties: props() }, () => aws.engine());
    expect(done).toEqual({ IsComplete: true, Data: { ViewsSchema: 'contabyx' } });
    expect(aws.sent.map((s) => [s.name, s.batch])).toEqual([
      ['setup.external-schema', false],
      ['setup.ledger', true],
      ['ledger.runs', false],
      ['ledger.years', false],
      ['setup.views', true],
    ]);
    expect(aws.sent[0].sql).toEqual([
      `CREATE EXTERNAL SCHEMA IF NOT EXISTS "ext_contabyx" FROM DATA CATALOG DATABASE 'contabyx' IAM_ROLE '${ROLE}'`,
    ]);
    expect(aws.sent[4].sql.slice(0, 2)).toEqual([
      'DROP VIEW IF EXISTS "contabyx"."spectrum_transactions"',
      'CREATE VIEW "contabyx"."spectrum_transactions" AS SELECT "transactionid", "clientid", "typeid", "time", "amount" ' +
        'FROM "contabyx"."transactions" WITH NO SCHEMA BINDING',
    ]);
  });

  test("on update: views follow the ledger (a published run stays visible) and a removed table's view goes", async () => {
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const fewer = { ...contabyx, tables: contabyx.tables.slice(0, 2) };
    const done = await isComplete(
      {
        RequestType: 'Update',
        ResourceProperties: props(fewer),
        OldResourceProperties: props(),
        PhysicalResourceId: ID,
      },
      () => aws.engine(),
    );
    expect(done.IsComplete).toBe(true);
    const views = aws.sent.find((s) => s.name === 'setup.views');
    expect(views?.sql[1]).toContain(
      `FROM "ext_contabyx"."transactions" WHERE "archive_run" IN ('20260101T000000Z') WITH NO SCHEMA BINDING`,
    );
    expect(aws.sent.at(-1)).toEqual({
      name: 'setup.views.removed',
      sql: ['DROP VIEW IF EXISTS "contabyx"."spectrum_tax"'],
      batch: true,
    });
  });

  test('rolls an update back by applying the old properties the same way', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const fewer = { ...contabyx, tables: contabyx.tables.slice(0, 2) };
    await isComplete(
      {
        RequestType: 'Update',
        ResourceProperties: props(),
        OldResourceProperties: props(fewer),
        PhysicalResourceId: ID,
      },
      () => aws.engine(),
    );
    const views = aws.sent.find((s) => s.name === 'setup.views');
    expect(views?.sql.filter((s) => s.startsWith('CREATE VIEW'))).toHaveLength(3);
    expect(aws.sent.some((s) => s.name === 'setup.views.removed')).toBe(false);
  });

  test('on delete: drops the views and the external schema, and never data, the ledger or stage tables', async () => {
    const aws = new ScriptedAws(ledgerAnswers('staged'));
    const done = await isComplete(
      { RequestType: 'Delete', ResourceProperties: props(), PhysicalResourceId: ID },
      () => aws.engine(),
    );
    expect(done).toEqual({ IsComplete: true });
    expect(aws.sent).toEqual([
      {
        name: 'setup.delete.views',
        batch: true,
        sql: [
          'DROP VIEW IF EXISTS "contabyx"."spectrum_transactions"',
          'DROP VIEW IF EXISTS "contabyx"."spectrum_transfers"',
          'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
        ],
      },
      { name: 'setup.delete.external-schema', batch: false, sql: ['DROP SCHEMA IF EXISTS "ext_contabyx"'] },
    ]);
    expect(
      await onEvent({ RequestType: 'Delete', ResourceProperties: props(), PhysicalResourceId: ID }),
    ).toEqual({ PhysicalResourceId: ID });
  });

  test('is not complete while one of its statements is still running, and sends nothing more', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    aws.rsd.on(ListStatementsCommand, { Status: 'STARTED' }).resolves({
      Statements: [{ Id: 's', StatementName: 'redshift-archive.setup.views', Status: 'STARTED' }],
    });
    expect(
      await isComplete({ RequestType: 'Create', ResourceProperties: props() }, () => aws.engine()),
    ).toEqual({ IsComplete: false });
    expect(aws.sent).toEqual([]);
  });

  test('is not complete when a statement outlives the poll, and completes on a later poll', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    aws.status = (name) => (name === 'setup.external-schema' ? 'STARTED' : 'FINISHED');
    expect(
      await isComplete({ RequestType: 'Create', ResourceProperties: props() }, () => aws.engine(() => 0)),
    ).toEqual({ IsComplete: false });
    aws.status = () => 'FINISHED';
    expect(
      (await isComplete({ RequestType: 'Create', ResourceProperties: props() }, () => aws.engine()))
        .IsComplete,
    ).toBe(true);
  });
});
