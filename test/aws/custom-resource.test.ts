import { parseConfig } from '../../lambda/config/config';
import { isComplete, onEvent, physicalId } from '../../lambda/runtime/custom-resource';
import contabyx from '../../config/contabyx.json';
import { BUCKET, ledgerAnswers, ROLE, ScriptedAws, svvColumns } from '../support/scripted-aws';
import { CONTABYX } from '../support/world';

/** The sample configuration, with readers of the union views. */
const READERS = { ...contabyx, views: { ...contabyx.views, readers: ['group analysts', 'role reporting'] } };
/** The same, after `tax` got a column (schema evolution appends). */
const WIDER = {
  ...READERS,
  tables: READERS.tables.map((t) =>
    t.name === 'tax' ? { ...t, columns: [...t.columns, { name: 'note', type: 'varchar(10)' }] } : t,
  ),
};

const props = (config: unknown = READERS) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  Config: JSON.stringify(config),
  LakeBucket: BUCKET,
  RedshiftRoleArn: ROLE,
});
const ID = 'redshift-archive:cluster/contabyx/dev/contabyx';
const EXTERNAL_SCHEMA = `CREATE EXTERNAL SCHEMA IF NOT EXISTS "ext_contabyx" FROM DATA CATALOG DATABASE 'contabyx' IAM_ROLE '${ROLE}'`;

/** The union views' names and queries; `batches` filters the external side. */
const VIEW = {
  transactions: (batches: string) =>
    '"contabyx"."spectrum_transactions" AS SELECT "transactionid", "clientid", "typeid", "time", "amount" ' +
    'FROM "contabyx"."transactions" UNION ALL SELECT CAST("transactionid" AS INTEGER) AS "transactionid", ' +
    'CAST("clientid" AS INTEGER) AS "clientid", CAST("typeid" AS INTEGER) AS "typeid", CAST("time" AS TIMESTAMP) AS "time", ' +
    `CAST("amount" AS DOUBLE PRECISION) AS "amount" FROM "ext_contabyx"."transactions" WHERE ${batches} WITH NO SCHEMA BINDING`,
  transfers: (batches: string) =>
    '"contabyx"."spectrum_transfers" AS SELECT "transferid", "expense_transactionid", "income_transactionid" ' +
    'FROM "contabyx"."transfers" UNION ALL SELECT CAST("transferid" AS INTEGER) AS "transferid", ' +
    'CAST("expense_transactionid" AS INTEGER) AS "expense_transactionid", ' +
    'CAST("income_transactionid" AS INTEGER) AS "income_transactionid" ' +
    `FROM "ext_contabyx"."transfers" WHERE ${batches} WITH NO SCHEMA BINDING`,
  tax: (batches: string) =>
    '"contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" ' +
    'UNION ALL SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("taxtypeid" AS INTEGER) AS "taxtypeid", ' +
    `CAST("fee" AS DOUBLE PRECISION) AS "fee" FROM "ext_contabyx"."tax" WHERE ${batches} WITH NO SCHEMA BINDING`,
  wideTax: (batches: string) =>
    '"contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee", "note" FROM "contabyx"."tax" ' +
    'UNION ALL SELECT CAST("transactionid" AS INTEGER) AS "transactionid", CAST("taxtypeid" AS INTEGER) AS "taxtypeid", ' +
    'CAST("fee" AS DOUBLE PRECISION) AS "fee", CAST("note" AS VARCHAR(10)) AS "note" ' +
    `FROM "ext_contabyx"."tax" WHERE ${batches} WITH NO SCHEMA BINDING`,
};
/** The committed 2025 batch of the scripted ledger. */
const COMMITTED = `("archive_run" = '20260101T000000Z' AND "year" IN (2025))`;
const BUMP = 'UPDATE "archive_meta"."views_version" SET "version" = CASE WHEN "version" = 0 THEN 1 END';
const grants = (view: string) => [
  `GRANT SELECT ON "contabyx"."${view}" TO GROUP "analysts"`,
  'GRANT USAGE ON SCHEMA "contabyx" TO GROUP "analysts"',
  `GRANT SELECT ON "contabyx"."${view}" TO ROLE "reporting"`,
  'GRANT USAGE ON SCHEMA "contabyx" TO ROLE "reporting"',
];
/** USAGE on the external schema: each grant its own statement, outside any transaction. */
const EXTERNAL_GRANTS = ['GROUP "analysts"', 'ROLE "reporting"'].map((reader) => ({
  name: 'setup.grants',
  batch: false,
  withEvent: false,
  sql: [`GRANT USAGE ON SCHEMA "ext_contabyx" TO ${reader}`],
}));

/** The statements that change something (reads left out), in order. */
const writes = (aws: ScriptedAws) => aws.sent.filter((s) => !/^(ledger|guard)\.|\.columns$/.test(s.name));

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

  test('on create: the external schema on its own, the ledger, then every view created and granted in one transaction', async () => {
    // given an empty ledger and no views yet
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    // when the stack is created
    const done = await isComplete({ RequestType: 'Create', ResourceProperties: props() }, (d) => aws.open(d));
    // then the views read no archive yet, the readers may query them, and no statement sent an event
    expect(done).toEqual({ IsComplete: true, Data: { ViewsSchema: 'contabyx' } });
    expect(writes(aws)).toEqual([
      { name: 'setup.external-schema', batch: false, withEvent: false, sql: [EXTERNAL_SCHEMA] },
      { name: 'setup.ledger', batch: true, withEvent: false, sql: expect.any(Array) },
      {
        name: 'setup.views',
        batch: true,
        withEvent: false,
        sql: [
          BUMP,
          ...(['transactions', 'transfers', 'tax'] as const).flatMap((t) => [
            `DROP VIEW IF EXISTS "contabyx"."spectrum_${t}"`,
            `CREATE VIEW ${VIEW[t]('1 = 0')}`,
            ...grants(`spectrum_${t}`),
          ]),
        ],
      },
      ...EXTERNAL_GRANTS,
    ]);
  });

  test('on update with the same columns: each view is replaced (owner and grants stay), reading the committed batches', async () => {
    // given views with the configured columns and a committed 2025 batch
    const views = svvColumns(parseConfig(READERS), 'views');
    const aws = new ScriptedAws(
      ledgerAnswers('finished', (name) => (name === 'setup.views.columns' ? views : undefined)),
    );
    // when the stack is updated
    const update = { RequestType: 'Update' as const, PhysicalResourceId: ID, OldResourceProperties: props() };
    const done = await isComplete({ ...update, ResourceProperties: props() }, (d) => aws.open(d));
    // then only CREATE OR REPLACE VIEW: no view is dropped, no grant repeated but the external schema's
    expect(done.IsComplete).toBe(true);
    expect(writes(aws).slice(2)).toEqual([
      {
        name: 'setup.views',
        batch: true,
        withEvent: false,
        sql: [
          BUMP,
          `CREATE OR REPLACE VIEW ${VIEW.transactions(COMMITTED)}`,
          `CREATE OR REPLACE VIEW ${VIEW.transfers(COMMITTED)}`,
          `CREATE OR REPLACE VIEW ${VIEW.tax(COMMITTED)}`,
        ],
      },
      ...EXTERNAL_GRANTS,
    ]);
  });

  test('on update with a column added: that view is dropped, created and granted again in the same transaction as the others', async () => {
    // given the warehouse's tax table has the new column, its view not yet
    const wider = parseConfig(WIDER);
    const aws = new ScriptedAws(
      ledgerAnswers('finished', (name) => {
        if (name === 'guard.columns') return svvColumns(wider, 'tables');
        if (name === 'setup.views.columns') return svvColumns(parseConfig(READERS), 'views');
        return undefined;
      }),
      wider,
    );
    // when the stack is updated with the wider configuration
    const update = { RequestType: 'Update' as const, PhysicalResourceId: ID, OldResourceProperties: props() };
    await isComplete({ ...update, ResourceProperties: props(WIDER) }, (d) => aws.open(d));
    // then one transaction replaces the unchanged views and re-creates and re-grants tax's
    expect(writes(aws).slice(2)).toEqual([
      {
        name: 'setup.views',
        batch: true,
        withEvent: false,
        sql: [
          BUMP,
          `CREATE OR REPLACE VIEW ${VIEW.transactions(COMMITTED)}`,
          `CREATE OR REPLACE VIEW ${VIEW.transfers(COMMITTED)}`,
          'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
          `CREATE VIEW ${VIEW.wideTax(COMMITTED)}`,
          ...grants('spectrum_tax'),
        ],
      },
      ...EXTERNAL_GRANTS,
    ]);
  });

  test("on update: a removed table's view goes after the others were defined", async () => {
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const fewer = { ...READERS, tables: READERS.tables.slice(0, 2) };
    const update = { RequestType: 'Update' as const, PhysicalResourceId: ID, OldResourceProperties: props() };
    const done = await isComplete({ ...update, ResourceProperties: props(fewer) }, (d) => aws.open(d));
    expect(done.IsComplete).toBe(true);
    expect(aws.sent.at(-1)).toEqual({
      name: 'setup.views.removed',
      sql: ['DROP VIEW IF EXISTS "contabyx"."spectrum_tax"'],
      batch: true,
      withEvent: false,
    });
  });

  test('rolls an update back by applying the old properties the same way', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const fewer = { ...READERS, tables: READERS.tables.slice(0, 2) };
    const rollback = {
      RequestType: 'Update' as const,
      PhysicalResourceId: ID,
      OldResourceProperties: props(fewer),
    };
    await isComplete({ ...rollback, ResourceProperties: props() }, (d) => aws.open(d));
    const views = aws.sent.find((s) => s.name === 'setup.views');
    expect(views?.sql.filter((s) => s.startsWith('CREATE VIEW'))).toHaveLength(3);
    expect(aws.sent.some((s) => s.name === 'setup.views.removed')).toBe(false);
  });

  test('on delete: drops the views and the external schema mapping, and never data, the ledger or the catalog', async () => {
    const aws = new ScriptedAws(ledgerAnswers('running'));
    const deletion = { RequestType: 'Delete' as const, ResourceProperties: props(), PhysicalResourceId: ID };
    expect(await isComplete(deletion, (d) => aws.open(d))).toEqual({ IsComplete: true });
    expect(aws.sent).toEqual([
      {
        name: 'setup.delete.views',
        batch: true,
        withEvent: false,
        sql: [
          'DROP VIEW IF EXISTS "contabyx"."spectrum_transactions"',
          'DROP VIEW IF EXISTS "contabyx"."spectrum_transfers"',
          'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
        ],
      },
      {
        name: 'setup.delete.external-schema',
        batch: false,
        withEvent: false,
        sql: ['DROP SCHEMA IF EXISTS "ext_contabyx"'],
      },
    ]);
    expect(await onEvent(deletion)).toEqual({ PhysicalResourceId: ID });
  });

  test('is not complete while one of its statements is still running, and sends nothing more until it ended', async () => {
    // given a poll left the views' transaction running
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const create = { RequestType: 'Create' as const, ResourceProperties: props() };
    aws.status = (name) => (name === 'setup.views' ? 'STARTED' : 'FINISHED');
    expect(await isComplete(create, (d) => aws.open(d, () => 0))).toEqual({ IsComplete: false });
    const sent = aws.sent.length;
    // when the provider polls again, then nothing is sent
    expect(await isComplete(create, (d) => aws.open(d))).toEqual({ IsComplete: false });
    expect(aws.sent.length).toBe(sent);
    // when the transaction has ended, then the next poll completes
    aws.status = () => 'FINISHED';
    expect((await isComplete(create, (d) => aws.open(d))).IsComplete).toBe(true);
  });
});
