import { ArchiveConfig, configDigest, footprintJson, parseConfig } from '../../src/config/config';
import * as resource from '../../src/runtime/custom-resource';
import { onEvent, physicalId } from '../../src/runtime/custom-resource';
import contabyx from '../../config/contabyx.json';
import { BUCKET, ledgerAnswers, ROLE, ScriptedAws, svvColumns } from '../../devkit/scripted-aws';
import { CONTABYX } from '../../devkit/world';

/** The sample configuration, with readers of the union views. */
const READERS = { ...contabyx, views: { ...contabyx.views, readers: ['group analysts', 'user reporting'] } };
/** The same, after `tax` got a column (schema evolution appends). */
const WIDER = {
  ...READERS,
  tables: READERS.tables.map((t) =>
    t.name === 'tax' ? { ...t, columns: [...t.columns, { name: 'note', type: 'varchar(10)' }] } : t,
  ),
};

/** The configuration each set of properties names: what the handler's bundle holds in these tests. */
const BUNDLED = new WeakMap<object, ArchiveConfig>();
/** The properties the stack gives a resource for `config`: its digest and footprint, not the configuration. */
const props = (config: unknown = READERS, kind: 'views' | 'external-schema' = 'views') => {
  const parsed = parseConfig(config);
  const properties = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    Resource: kind,
    ConfigDigest: configDigest(parsed),
    Footprint: footprintJson(parsed),
    LakeBucket: BUCKET,
    RedshiftRoleArn: ROLE,
  };
  BUNDLED.set(properties, parsed);
  return properties;
};
/** The handler, its bundle holding the configuration that the event's properties name. */
const isComplete = (
  event: Parameters<typeof resource.isComplete>[0],
  open: Parameters<typeof resource.isComplete>[1],
  bundled = BUNDLED.get(event.ResourceProperties) as ArchiveConfig,
) => resource.isComplete(event, open, bundled);
const ID = 'redshift-archive:cluster/contabyx/dev/contabyx';
const SCHEMA_ID = 'redshift-archive:cluster/contabyx/dev/external/ext_contabyx';
const EXTERNAL_SCHEMA = `CREATE EXTERNAL SCHEMA IF NOT EXISTS "ext_contabyx" FROM DATA CATALOG DATABASE 'contabyx' IAM_ROLE '${ROLE}'`;

/** The union views' names and queries; `batches` filters the external side. */
const VIEW = {
  transactions: (batches: string) =>
    '"contabyx"."spectrum_transactions" AS SELECT "transactionid", "clientid", "typeid", "time", "amount" ' +
    'FROM "contabyx"."transactions" UNION ALL SELECT "transactionid"::INTEGER, "clientid"::INTEGER, "typeid"::INTEGER, ' +
    `"time"::TIMESTAMP, "amount"::DOUBLE PRECISION FROM "ext_contabyx"."transactions" WHERE ${batches} WITH NO SCHEMA BINDING`,
  transfers: (batches: string) =>
    '"contabyx"."spectrum_transfers" AS SELECT "transferid", "expense_transactionid", "income_transactionid" ' +
    'FROM "contabyx"."transfers" UNION ALL SELECT "transferid"::INTEGER, "expense_transactionid"::INTEGER, ' +
    `"income_transactionid"::INTEGER FROM "ext_contabyx"."transfers" WHERE ${batches} WITH NO SCHEMA BINDING`,
  tax: (batches: string) =>
    '"contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee" FROM "contabyx"."tax" ' +
    'UNION ALL SELECT "transactionid"::INTEGER, "taxtypeid"::INTEGER, "fee"::DOUBLE PRECISION ' +
    `FROM "ext_contabyx"."tax" WHERE ${batches} WITH NO SCHEMA BINDING`,
  wideTax: (batches: string) =>
    '"contabyx"."spectrum_tax" AS SELECT "transactionid", "taxtypeid", "fee", "note" FROM "contabyx"."tax" ' +
    'UNION ALL SELECT "transactionid"::INTEGER, "taxtypeid"::INTEGER, "fee"::DOUBLE PRECISION, "note"::VARCHAR(10) ' +
    `FROM "ext_contabyx"."tax" WHERE ${batches} WITH NO SCHEMA BINDING`,
};
/** The committed 2025 batch of the scripted ledger. */
const COMMITTED = `("archive_run" = '20260101T000000Z' AND "year" IN (2025))`;
const BUMP = 'UPDATE "archive_meta"."views_version" SET "version" = CASE WHEN "version" = 0 THEN 1 END';
const grants = (view: string) => [
  `GRANT SELECT ON "contabyx"."${view}" TO GROUP "analysts"`,
  'GRANT USAGE ON SCHEMA "contabyx" TO GROUP "analysts"',
  `GRANT SELECT ON "contabyx"."${view}" TO "reporting"`,
  'GRANT USAGE ON SCHEMA "contabyx" TO "reporting"',
];
/** USAGE on the external schema: each grant its own statement, outside any transaction. */
const EXTERNAL_GRANTS = ['GROUP "analysts"', '"reporting"'].map((reader) => ({
  name: 'setup.grants',
  batch: false,
  withEvent: false,
  sql: [`GRANT USAGE ON SCHEMA "ext_contabyx" TO ${reader}`],
}));

/** The statements that change something (reads left out), in order. */
const writes = (aws: ScriptedAws) =>
  aws.sent.filter((s) => !/^(ledger|guard|check)\.|\.columns$/.test(s.name));

describe('the external schema custom resource', () => {
  test('names the resource by warehouse, database and external schema, apart from the views', async () => {
    const footprint = JSON.parse(footprintJson(CONTABYX));
    expect(
      physicalId('external-schema', resource.footprintOf({ Footprint: JSON.stringify(footprint) })),
    ).toBe(SCHEMA_ID);
    expect(physicalId('views', resource.footprintOf({ Footprint: JSON.stringify(footprint) }))).toBe(ID);
    expect(
      await onEvent({ RequestType: 'Create', ResourceProperties: props(READERS, 'external-schema') }),
    ).toEqual({
      PhysicalResourceId: SCHEMA_ID,
    });
    // the properties of the one resource of earlier versions name the views
    const legacy = props();
    delete (legacy as { Resource?: string }).Resource;
    expect(await onEvent({ RequestType: 'Create', ResourceProperties: legacy })).toEqual({
      PhysicalResourceId: ID,
    });
  });

  test('on create: creates the external schema on its own, and nothing else', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const done = await isComplete(
      { RequestType: 'Create', ResourceProperties: props(READERS, 'external-schema') },
      (d) => aws.open(d),
    );
    expect(done).toEqual({ IsComplete: true, Data: { ExternalSchema: 'ext_contabyx' } });
    expect(writes(aws)).toEqual([
      { name: 'setup.external-schema', batch: false, withEvent: false, sql: [EXTERNAL_SCHEMA] },
    ]);
  });

  test('on update to another Glue database: re-creates the schema in place (the views read it by name)', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const other = { ...READERS, catalog: { ...READERS.catalog, database: 'contabyx_v2' } };
    const update = {
      RequestType: 'Update' as const,
      PhysicalResourceId: SCHEMA_ID,
      OldResourceProperties: props(READERS, 'external-schema'),
    };
    await isComplete({ ...update, ResourceProperties: props(other, 'external-schema') }, (d) => aws.open(d));
    expect(writes(aws).map((s) => s.sql[0])).toEqual([
      'DROP SCHEMA IF EXISTS "ext_contabyx"',
      EXTERNAL_SCHEMA.replace("DATABASE 'contabyx'", "DATABASE 'contabyx_v2'"),
    ]);
    expect(await onEvent({ ...update, ResourceProperties: props(other, 'external-schema') })).toEqual({
      PhysicalResourceId: SCHEMA_ID,
    });
  });

  test('retries while Redshift may not assume the role (IAM propagating, the association settling), then goes on', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    let refusals = 2;
    aws.status = (name) => (name === 'setup.external-schema' && refusals-- > 0 ? 'FAILED' : 'FINISHED');
    aws.error = `ERROR: User arn:aws:redshift:eu-west-1:123456789012:dbuser:contabyx/archiver is not authorized to assume IAM Role ${ROLE}`;
    const done = await isComplete(
      { RequestType: 'Create', ResourceProperties: props(READERS, 'external-schema') },
      (d) => aws.open(d),
    );
    expect(done.IsComplete).toBe(true);
    expect(writes(aws).filter((s) => s.name === 'setup.external-schema')).toHaveLength(3);
  });

  test('fails after a few minutes of refusals, saying what to do', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    aws.status = (name) => (name === 'setup.external-schema' ? 'FAILED' : 'FINISHED');
    aws.error = `ERROR: User arn:aws:redshift:eu-west-1:123456789012:dbuser:contabyx/archiver is not authorized to assume IAM Role ${ROLE}`;
    const create = isComplete(
      { RequestType: 'Create', ResourceProperties: props(READERS, 'external-schema') },
      (d) => aws.open(d),
    );
    await expect(create).rejects.toThrow(
      `Redshift may not assume ${ROLE} after 3 minutes: associate it with the cluster or namespace (the stack does unless ` +
        'warehouse.roleArn names it) and let it trust redshift.amazonaws.com; where ASSUMEROLE was revoked, ' +
        `GRANT ASSUMEROLE ON '${ROLE}' TO the database user FOR ALL; then deploy again (`,
    );
    expect(writes(aws).filter((s) => s.name === 'setup.external-schema')).toHaveLength(12);
  });

  test('on delete: drops the external schema mapping only (the Glue database and the lake stay)', async () => {
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const deletion = {
      RequestType: 'Delete' as const,
      ResourceProperties: props(READERS, 'external-schema'),
      PhysicalResourceId: SCHEMA_ID,
    };
    expect(await isComplete(deletion, (d) => aws.open(d))).toEqual({ IsComplete: true });
    expect(aws.sent).toEqual([
      {
        name: 'setup.delete.external-schema',
        batch: false,
        withEvent: false,
        sql: ['DROP SCHEMA IF EXISTS "ext_contabyx"'],
      },
    ]);
  });
});

describe('the schema-and-views custom resource', () => {
  test('fails a deployment whose properties name a bad footprint, or an unknown resource, before anything runs', async () => {
    const footprint = JSON.parse(footprintJson(CONTABYX));
    const bad = { ...props(), Footprint: JSON.stringify({ ...footprint, views: ['x y'] }) };
    await expect(onEvent({ RequestType: 'Create', ResourceProperties: bad })).rejects.toThrow(
      'ResourceProperties.Footprint: invalid footprint\n  views[0]: "x y" is not allowed; allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes',
    );
    await expect(
      onEvent({ RequestType: 'Create', ResourceProperties: { ...props(), Resource: 'tables' } }),
    ).rejects.toThrow(
      'ResourceProperties.Resource: "tables" is not allowed; allowed: "external-schema" or "views"',
    );
  });

  test('on create: the ledger, then every view created and granted in one transaction', async () => {
    // given an empty ledger and no views yet
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    // when the stack is created
    const done = await isComplete({ RequestType: 'Create', ResourceProperties: props() }, (d) => aws.open(d));
    // then the views read no archive yet, the readers may query them, and no statement sent an event
    expect(done).toEqual({ IsComplete: true, Data: { ViewsSchema: 'contabyx' } });
    expect(writes(aws)).toEqual([
      { name: 'setup.ledger', batch: true, withEvent: false, sql: expect.any(Array) },
      ...EXTERNAL_GRANTS,
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
    // then only CREATE OR REPLACE VIEW: no view is dropped (grants are given again: they are idempotent)
    expect(done.IsComplete).toBe(true);
    expect(writes(aws)).toEqual([
      ...EXTERNAL_GRANTS,
      {
        name: 'setup.views',
        batch: true,
        withEvent: false,
        sql: [
          BUMP,
          `CREATE OR REPLACE VIEW ${VIEW.transactions(COMMITTED)}`,
          ...grants('spectrum_transactions'),
          `CREATE OR REPLACE VIEW ${VIEW.transfers(COMMITTED)}`,
          ...grants('spectrum_transfers'),
          `CREATE OR REPLACE VIEW ${VIEW.tax(COMMITTED)}`,
          ...grants('spectrum_tax'),
        ],
      },
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
    expect(writes(aws)).toEqual([
      ...EXTERNAL_GRANTS,
      {
        name: 'setup.views',
        batch: true,
        withEvent: false,
        sql: [
          BUMP,
          `CREATE OR REPLACE VIEW ${VIEW.transactions(COMMITTED)}`,
          ...grants('spectrum_transactions'),
          `CREATE OR REPLACE VIEW ${VIEW.transfers(COMMITTED)}`,
          ...grants('spectrum_transfers'),
          'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
          `CREATE VIEW ${VIEW.wideTax(COMMITTED)}`,
          ...grants('spectrum_tax'),
        ],
      },
    ]);
  });

  test("on update, a view whose catalog spells its types as the view's own catalog function does (character varying(10)) is replaced, not re-created", async () => {
    const wider = parseConfig(WIDER);
    const spelled = svvColumns(wider, 'views').map((r) =>
      r.data_type === 'character varying'
        ? { ...r, data_type: `character varying(${r.char_length})`, char_length: null }
        : r,
    );
    const aws = new ScriptedAws(
      ledgerAnswers('finished', (name) => {
        if (name === 'guard.columns') return svvColumns(wider, 'tables');
        if (name === 'setup.views.columns') return spelled;
        return undefined;
      }),
      wider,
    );
    const update = {
      RequestType: 'Update' as const,
      PhysicalResourceId: ID,
      OldResourceProperties: props(WIDER),
    };
    await isComplete({ ...update, ResourceProperties: props(WIDER) }, (d) => aws.open(d));
    const setup = aws.sent.find((s) => s.name === 'setup.views');
    expect(setup?.sql).toContain(`CREATE OR REPLACE VIEW ${VIEW.wideTax(COMMITTED)}`);
    expect(setup?.sql.some((s) => s.startsWith('DROP VIEW'))).toBe(false);
  });

  test("on update: a removed table's view goes in the same transaction that defines the others, after them", async () => {
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const fewer = { ...READERS, tables: READERS.tables.slice(0, 2) };
    const update = { RequestType: 'Update' as const, PhysicalResourceId: ID, OldResourceProperties: props() };
    const done = await isComplete({ ...update, ResourceProperties: props(fewer) }, (d) => aws.open(d));
    expect(done.IsComplete).toBe(true);
    expect(aws.sent.at(-1)?.name).toBe('setup.views');
    expect(aws.sent.at(-1)?.sql.at(-1)).toBe('DROP VIEW IF EXISTS "contabyx"."spectrum_tax"');
  });

  test('an update from properties of an earlier version (the whole configuration, a role reader) drops and revokes what it named', async () => {
    // given a resource that an earlier version deployed: its properties held the configuration itself
    const earlier = {
      ...READERS,
      views: { ...READERS.views, readers: ['group analysts', 'role reporting'] },
    };
    const old = {
      Resource: 'views',
      Config: JSON.stringify(earlier),
      LakeBucket: BUCKET,
      RedshiftRoleArn: ROLE,
    };
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const fewer = {
      ...READERS,
      tables: READERS.tables.slice(0, 2),
      views: { ...READERS.views, readers: ['group analysts'] },
    };
    // when this version updates it
    await isComplete(
      {
        RequestType: 'Update',
        PhysicalResourceId: ID,
        OldResourceProperties: old,
        ResourceProperties: props(fewer),
      },
      (d) => aws.open(d),
    );
    // then the transaction that defines the views also drops tax's and revokes the role's SELECT
    expect(aws.sent.at(-1)?.sql.slice(-3)).toEqual([
      'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
      'REVOKE SELECT ON "contabyx"."spectrum_transactions" FROM ROLE "reporting"',
      'REVOKE SELECT ON "contabyx"."spectrum_transfers" FROM ROLE "reporting"',
    ]);
  });

  test('a rollback that arrives while the function still has the newer configuration changes nothing, and says so', async () => {
    // given an update to `fewer` whose function was deployed, then rolled back to the old properties
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    const fewerJson = { ...READERS, tables: READERS.tables.slice(0, 2) };
    const fewer = parseConfig(fewerJson);
    const rollback = {
      RequestType: 'Update' as const,
      PhysicalResourceId: ID,
      OldResourceProperties: props(fewerJson),
      ResourceProperties: props(),
    };
    // when the rollback reaches the function that still bundles `fewer`
    const done = await isComplete(rollback, (d) => aws.open(d), fewer);
    // then nothing is sent
    expect(done).toEqual({
      IsComplete: true,
      Data: { Skipped: 'rollback to another configuration than the bundled one: nothing changed' },
    });
    expect(aws.sent).toEqual([]);
  });

  test('fails, sending nothing, when the bundled configuration is not the one the properties name', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    const other = parseConfig({ ...READERS, maxAttempts: 5 });
    await expect(
      isComplete({ RequestType: 'Create', ResourceProperties: props() }, (d) => aws.open(d), other),
    ).rejects.toThrow(
      `ResourceProperties.ConfigDigest: "${configDigest(parseConfig(READERS))}" is not allowed; allowed: "${configDigest(other)}", ` +
        'the digest of the configuration bundled with this function (deploy the stack again so that function and resource agree)',
    );
    expect(aws.sent).toEqual([]);
  });

  test('a grant on the external schema that fails leaves the views as they were', async () => {
    const aws = new ScriptedAws(ledgerAnswers(undefined));
    aws.status = (name) => (name === 'setup.grants' ? 'FAILED' : 'FINISHED');
    aws.error = 'ERROR: group "analysts" does not exist';
    await expect(
      isComplete({ RequestType: 'Create', ResourceProperties: props() }, (d) => aws.open(d)),
    ).rejects.toThrow('statement setup.grants FAILED: ERROR: group "analysts" does not exist');
    expect(aws.sent.some((s) => s.name === 'setup.views')).toBe(false);
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
    expect(
      views?.sql.some(
        (s) => s.startsWith('DROP VIEW IF EXISTS "contabyx"."spectrum_tax"') && s === views.sql.at(-1),
      ),
    ).toBe(false);
  });

  test('on update with readers changed: a new reader is granted, and a reader that left loses SELECT on the views', async () => {
    const views = svvColumns(parseConfig(READERS), 'views');
    const aws = new ScriptedAws(
      ledgerAnswers('finished', (name) => (name === 'setup.views.columns' ? views : undefined)),
    );
    const changed = { ...READERS, views: { ...READERS.views, readers: ['group analysts', 'user auditor'] } };
    const update = { RequestType: 'Update' as const, PhysicalResourceId: ID, OldResourceProperties: props() };
    await isComplete({ ...update, ResourceProperties: props(changed) }, (d) => aws.open(d));
    const setup = aws.sent.find((s) => s.name === 'setup.views');
    expect(setup?.sql).toContain('GRANT SELECT ON "contabyx"."spectrum_tax" TO "auditor"');
    expect(setup?.sql.slice(-3)).toEqual(
      ['transactions', 'transfers', 'tax'].map(
        (t) => `REVOKE SELECT ON "contabyx"."spectrum_${t}" FROM "reporting"`,
      ),
    );
  });

  test('a replacement (a new views schema) creates the new views, then the old resource drops only its own views, never the external schema', async () => {
    // given the views schema changes: a new physical id, so CloudFormation creates, then deletes the old
    const moved = { ...READERS, views: { ...READERS.views, schema: 'reporting' } };
    expect(
      await onEvent({ RequestType: 'Update', PhysicalResourceId: ID, ResourceProperties: props(moved) }),
    ).toEqual({
      PhysicalResourceId: 'redshift-archive:cluster/contabyx/dev/reporting',
    });
    // when the old resource is deleted with its own properties
    const aws = new ScriptedAws(ledgerAnswers('finished'));
    await isComplete({ RequestType: 'Delete', PhysicalResourceId: ID, ResourceProperties: props() }, (d) =>
      aws.open(d),
    );
    // then only its views go: the external schema, which the new views read, stays
    expect(aws.sent.flatMap((s) => s.sql)).toEqual([
      'DROP VIEW IF EXISTS "contabyx"."spectrum_transactions"',
      'DROP VIEW IF EXISTS "contabyx"."spectrum_transfers"',
      'DROP VIEW IF EXISTS "contabyx"."spectrum_tax"',
    ]);
  });

  test('on delete: drops the views, and never data, the ledger or the catalog', async () => {
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
