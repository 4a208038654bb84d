import { ALLOWED_TYPES } from '../../src/core/column-types';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveOrder, configJson, loadConfig, parseConfig } from '../../src/config/config';
import contabyx from '../../config/contabyx.json';

type Json = Record<string, unknown>;
const sample = (): Json => JSON.parse(JSON.stringify(contabyx)) as Json;
const tables = (c: Json) => c.tables as Json[];

function fails(mutate: (config: Json) => void, ...lines: string[]) {
  const config = sample();
  mutate(config);
  expect(() => parseConfig(config, 'app.json')).toThrow(
    `app.json: invalid configuration\n${lines.map((l) => `  ${l}`).join('\n')}`,
  );
}

describe('configuration', () => {
  test('loads the contabyx sample with defaults for what it leaves out', () => {
    const config = parseConfig(sample());
    expect(config.retention).toEqual({ keepYears: 1, timeZone: 'UTC' });
    expect(config.ledger).toEqual({ schema: 'archive_meta', stageSchema: 'archive_stage' });
    expect(config.lake).toEqual({ prefix: 'contabyx-parquet', reportsPrefix: 'archive-reports' });
    expect(config.tables[0].columns[4]).toEqual({ name: 'amount', type: { kind: 'double precision' } });
    expect(archiveOrder(config).map((t) => t.name)).toEqual(['transactions', 'transfers', 'tax']);
  });

  test('accepts a serverless warehouse, a secret, reserved words and mixed-case names', () => {
    const serverless = sample();
    serverless.warehouse = { type: 'serverless', workgroupName: 'analytics', database: 'dev' };
    tables(serverless)[0].columns = [
      { name: 'Order', type: 'integer' },
      { name: 'date', type: 'date' },
      { name: 'transactionid', type: 'integer' },
    ];
    tables(serverless)[0].archiveBy = { column: 'date' };
    expect(parseConfig(serverless).warehouse).toEqual({
      type: 'serverless',
      workgroupName: 'analytics',
      database: 'dev',
    });
    const secret = sample();
    secret.warehouse = {
      type: 'provisioned',
      clusterIdentifier: 'contabyx',
      database: 'dev',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:archiver-AbCdEf',
    };
    expect(() => parseConfig(secret)).not.toThrow();
  });

  test('orders parents before children whatever the file order', () => {
    const config = sample();
    config.tables = [...tables(config)].reverse();
    expect(archiveOrder(parseConfig(config)).map((t) => t.name)).toEqual([
      'transactions',
      'tax',
      'transfers',
    ]);
  });

  test('fails for a table name that would inject SQL', () => {
    fails(
      (c) => (tables(c)[0].name = 'orders; DROP TABLE x'),
      'tables["contabyx.orders; DROP TABLE x"].name: "orders; DROP TABLE x" is not allowed; allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes',
    );
  });

  test('fails for an unsupported column type', () => {
    fails(
      (c) => ((tables(c)[0].columns as Json[])[4].type = 'money'),
      `tables["contabyx.transactions"].columns["amount"].type: "money" is not allowed; allowed: ${ALLOWED_TYPES}`,
    );
  });

  test('fails for a type that cannot be archived, saying why and that the table stays hot', () => {
    fails(
      (c) => ((tables(c)[0].columns as Json[])[4].type = 'geometry'),
      `tables["contabyx.transactions"].columns["amount"].type: "geometry" is not allowed; allowed: ${ALLOWED_TYPES}; UNLOAD writes GEOMETRY to text or CSV ` +
        'only, not Parquet (Redshift UNLOAD), and Spectrum and Athena have no such type: the table and its descendants stay ' +
        'hot (leave them out of the configuration)',
    );
  });

  test('fails for an archive column that is not a date or timestamp of the table', () => {
    fails(
      (c) => (tables(c)[0].archiveBy = { column: 'amount' }),
      'tables["contabyx.transactions"].archiveBy.column: "amount" is not allowed; allowed: a date, timestamp or timestamptz column of the table (time)',
    );
  });

  test('fails for a parent that is not configured, and for keys that are not columns', () => {
    fails(
      (c) =>
        (tables(c)[1].archiveBy = {
          parent: 'payments',
          foreignKey: 'expense_transactionid',
          parentKey: 'transactionid',
        }),
      'tables["contabyx.transfers"].archiveBy.parent: "payments" is not allowed; allowed: another configured table, by its alias or as schema.name (transactions, tax)',
    );
    fails(
      (c) => (tables(c)[2].archiveBy = { parent: 'transactions', foreignKey: 'txid', parentKey: 'id' }),
      'tables["contabyx.tax"].archiveBy.foreignKey: "txid" is not allowed; allowed: a column of the table, once (transactionid, taxtypeid, fee)',
      'tables["contabyx.tax"].archiveBy.parentKey: "id" is not allowed; allowed: a column of table contabyx.transactions, once (transactionid, clientid, typeid, time, amount)',
    );
  });

  test('fails for a cycle of parents', () => {
    fails(
      (c) =>
        (tables(c)[0].archiveBy = { parent: 'tax', foreignKey: 'transactionid', parentKey: 'transactionid' }),
      'tables["contabyx.transactions"].archiveBy.parent: "transactions -> tax -> transactions" is not allowed; allowed: parents without a cycle',
    );
  });

  test('fails for a column named like a partition key, and for duplicate names', () => {
    fails(
      (c) => ((tables(c)[2].columns as Json[])[2].name = 'year'),
      'tables["contabyx.tax"].columns["year"].name: "year" is not allowed; allowed: any name but the partition keys year and archive_run',
    );
    fails(
      (c) => ((tables(c)[2].columns as Json[])[2].name = 'TaxTypeId'),
      'tables["contabyx.tax"].columns[2].name: "TaxTypeId" is not allowed; allowed: a name no other column of the table has',
    );
  });

  test('fails for a warehouse with both or neither of dbUser and secretArn', () => {
    fails(
      (c) => delete (c.warehouse as Json).dbUser,
      'warehouse: {} is not allowed; allowed: exactly one of dbUser or secretArn',
    );
  });

  test('fails for bad values with the field, the value and what is allowed', () => {
    fails(
      (c) => {
        c.warehouse = { type: 'redshift' };
        c.retention = { keepYears: 0, timeZone: 'Mars/Olympus' };
        c.lake = { prefix: '/data/' };
        c.extra = true;
      },
      'warehouse.type: "redshift" is not allowed; allowed: {"type": "provisioned", ...} or {"type": "serverless", ...}',
      'lake.prefix: "/data/" is not allowed; allowed: an S3 key prefix of letters, digits, . _ - separated by /, no leading or trailing /',
      'retention.keepYears: 0 is not allowed; allowed: at least 1',
      'retention.timeZone: "Mars/Olympus" is not allowed; allowed: an IANA time zone name as Redshift lists it ' +
        '(select pg_timezone_names()), such as UTC or Europe/Berlin, spelled with its capitals; not an offset such as ' +
        '+01:00 or UTC+1, nor an abbreviation such as CEST',
      'extra: unknown key; allowed keys: warehouse, lake, catalog, views, retention, maxAttempts, ledger, maintenance, prices, tables',
    );
  });

  test('takes readers of the views and a number of attempts, with defaults', () => {
    const config = sample();
    (config.views as Json).readers = ['group analysts', 'user "bob"'.replace(/"/g, '')];
    config.maxAttempts = 5;
    const parsed = parseConfig(config);
    expect(parsed.views.readers).toEqual([
      { kind: 'group', name: 'analysts' },
      { kind: 'user', name: 'bob' },
    ]);
    expect(parsed.maxAttempts).toBe(5);
    expect(parseConfig(sample())).toMatchObject({ maxAttempts: 3, views: { readers: [] } });
    expect(JSON.parse(configJson(parsed)).views.readers).toEqual(['group analysts', 'user bob']);
  });

  test.each(['+01:00', '-05', 'UTC+1', 'europe/berlin', 'CEST', "Europe/Berlin'"])(
    'fails for a time zone Redshift would read otherwise, or not know: %s',
    (zone) => {
      const config = sample();
      config.retention = { timeZone: zone };
      expect(() => parseConfig(config)).toThrow(`retention.timeZone: ${JSON.stringify(zone)} is not allowed`);
    },
  );

  test.each(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'EST5EDT'])(
    'takes an IANA time zone name: %s',
    (zone) => {
      const config = sample();
      config.retention = { timeZone: zone };
      expect(parseConfig(config).retention.timeZone).toBe(zone);
    },
  );

  test('fails for a role reader, saying that Redshift grants USAGE on the external schema to users and groups only', () => {
    fails(
      (c) => ((c.views as Json).readers = ['group analysts', 'role reporting']),
      'views.readers[1]: "role reporting" is not allowed; allowed: "user NAME" or "group NAME"; a role cannot be granted ' +
        "USAGE on the external schema the views read (Redshift grants it to users and groups only): put the role's users " +
        'in a group and name the group ("group NAME"), or name each "user NAME"',
    );
  });

  test('takes a role already associated with the warehouse, and fails for one that is not a role ARN', () => {
    const config = sample();
    (config.warehouse as Json).roleArn = 'arn:aws:iam::123456789012:role/redshift-spectrum';
    expect(parseConfig(config).warehouse).toMatchObject({
      roleArn: 'arn:aws:iam::123456789012:role/redshift-spectrum',
    });
    fails(
      (c) => ((c.warehouse as Json).roleArn = "arn:aws:iam::123456789012:role/x' IAM_ROLE 'y"),
      `warehouse.roleArn: "arn:aws:iam::123456789012:role/x' IAM_ROLE 'y" is not allowed; allowed: an IAM role ARN ` +
        '(arn:aws:iam::<account>:role/<name>) already associated with the cluster or namespace',
    );
  });

  test('fails for a reader that is not a user, group or role, and for attempts out of range', () => {
    fails(
      (c) => {
        (c.views as Json).readers = ['analysts', 'group x; DROP TABLE t'];
        c.maxAttempts = 0;
      },
      // the allowed list once for the two readers
      'views.readers[0]: "analysts" is not allowed',
      'views.readers[1]: "group x; DROP TABLE t" is not allowed',
      '  allowed, for the 2 above: "user NAME" or "group NAME", NAME letters, digits, _ or $, not starting with a digit, at most 127 bytes',
      'maxAttempts: 0 is not allowed; allowed: at least 1',
    );
  });

  test('fails for a family of more tables than one commit holds', () => {
    fails((c) => {
      c.tables = [
        tables(c)[0],
        ...Array.from({ length: 13 }, (_, i) => ({
          schema: 'contabyx',
          name: `child${i}`,
          archiveBy: { parent: 'transactions', foreignKey: 'transactionid', parentKey: 'transactionid' },
          columns: [{ name: 'transactionid', type: 'integer' }],
        })),
      ];
    }, 'tables["contabyx.transactions"]: "transactions" with 13 descendant tables is not allowed; allowed: at most 13 tables per family ' + '(a root and its descendants), as its commit is one Data API batch of at most 40 statements');
  });

  test('names tables and columns as the file does, says each allowed list once, and finds every problem in one pass', () => {
    // given problems of every kind: a value of a section, types of columns of two tables, a
    // parent that is no table, and a table of its own whose alias collides
    fails(
      (c) => {
        (c.lake as Json).prefix = '/data/';
        ((tables(c)[0].columns as Json[])[4] as Json).type = 'money';
        ((tables(c)[2].columns as Json[])[2] as Json).type = 'numeric(40,2)';
        (tables(c)[1].archiveBy as Json).parent = 'transaction';
        tables(c).push({ ...tables(c)[2], schema: 'billing' });
      },
      // then the values each section and table has on its own come first, each type's list once,
      'lake.prefix: "/data/" is not allowed; allowed: an S3 key prefix of letters, digits, . _ - separated by /, no leading or trailing /',
      'tables["contabyx.transactions"].columns["amount"].type: "money" is not allowed',
      'tables["contabyx.tax"].columns["fee"].type: "numeric(40,2)" is not allowed',
      'tables["billing.tax"].columns["fee"].type: "numeric(40,2)" is not allowed',
      `  allowed, for the 3 above: ${ALLOWED_TYPES}`,
      // then the rules across fields, over what passed its own checks, in the same pass
      'tables["contabyx.transfers"].archiveBy.parent: "transaction" is not allowed; allowed: another configured table, ' +
        'by its alias or as schema.name (transactions, tax, tax)',
    );
  });

  test('takes the same table name in two schemas, each with its own alias, and refuses a collision naming both tables', () => {
    // given billing.tax beside contabyx.tax, with an alias of its own
    const config = sample();
    tables(config).push({ ...tables(config)[2], schema: 'billing', alias: 'billing_tax' });
    const parsed = parseConfig(config);
    expect(parsed.tables.map((t) => [t.schema, t.name, t.alias])).toEqual([
      ['contabyx', 'transactions', 'transactions'],
      ['contabyx', 'transfers', 'transfers'],
      ['contabyx', 'tax', 'tax'],
      ['billing', 'tax', 'billing_tax'],
    ]);
    // then the file keeps the alias, and only where it is not the name (a file from before aliases reads the same)
    expect(JSON.parse(configJson(parsed)).tables.map((t: Json) => t.alias)).toEqual([
      undefined,
      undefined,
      undefined,
      'billing_tax',
    ]);
    // when it has none, the collision is refused naming both tables
    fails(
      (c) => tables(c).push({ ...tables(c)[2], schema: 'billing' }),
      'tables["billing.tax"]: its name "tax", its alias as it sets none, is not allowed: tables["contabyx.tax"] is archived as ' +
        '"tax" too; allowed: an alias no other table has (it names the table\'s Glue table, lake folder, union view and ledger ' +
        'rows): set "alias" on one of them, such as "billing_tax"',
    );
    // and a parent named by a name that is another table's alias is refused as ambiguous
    fails(
      (c) => {
        tables(c).push({ ...tables(c)[0], schema: 'billing', alias: 'billing_transactions' });
      },
      'tables["contabyx.transfers"].archiveBy.parent: "transactions" is not allowed',
      'tables["contabyx.tax"].archiveBy.parent: "transactions" is not allowed',
      '  allowed, for the 2 above: a reference to one table: "transactions" is the alias of contabyx.transactions and the ' +
        'name of billing.transactions (alias "billing_transactions"); write "contabyx.transactions" or "billing_transactions"',
    );
  });

  test('takes a composite key as lists of columns, and a key of one column as a string or a list of one', () => {
    const config = sample();
    tables(config)[2].archiveBy = {
      parent: 'contabyx.transactions',
      foreignKey: ['transactionid', 'taxtypeid'],
      parentKey: ['transactionid', 'typeid'],
    };
    (tables(config)[1].archiveBy as Json).foreignKey = ['expense_transactionid'];
    const parsed = parseConfig(config);
    expect(parsed.tables[2].archiveBy).toEqual({
      parent: 'contabyx.transactions',
      foreignKey: ['transactionid', 'taxtypeid'],
      parentKey: ['transactionid', 'typeid'],
    });
    expect(parsed.tables[1].archiveBy).toMatchObject({
      foreignKey: ['expense_transactionid'],
      parentKey: ['transactionid'],
    });
    // written back: one column as a string, as before composite keys
    expect(JSON.parse(configJson(parsed)).tables[1].archiveBy.foreignKey).toBe('expense_transactionid');
    expect(parseConfig(JSON.parse(configJson(parsed)))).toEqual(parsed);
    // lists of other lengths, a column twice, and a pair whose types do not compare are refused
    fails(
      (c) =>
        (tables(c)[2].archiveBy = {
          parent: 'transactions',
          foreignKey: ['transactionid', 'transactionid'],
          parentKey: ['transactionid', 'time', 'typeid'],
        }),
      'tables["contabyx.tax"].archiveBy.parentKey: ["transactionid","time","typeid"] is not allowed; allowed: as many columns as foreignKey (2), in the same order',
      'tables["contabyx.tax"].archiveBy.foreignKey[1]: "transactionid" is not allowed; allowed: a column of the table, once (transactionid, taxtypeid, fee)',
      'tables["contabyx.tax"].archiveBy.foreignKey[1]: "transactionid" (integer) is not allowed; allowed: a column whose type compares with contabyx.transactions.time (timestamp)',
    );
  });

  test('fails for a missing field and an empty table list', () => {
    fails((c) => delete c.catalog, 'catalog: is missing; allowed: an object');
    fails((c) => (c.tables = []), 'tables: [] is not allowed; allowed: a list of at least 1');
  });

  test('fails for a file that is missing or not JSON, naming the setting and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    writeFileSync(join(dir, 'broken.json'), '{ "warehouse": ');
    expect(() => loadConfig(join(dir, 'missing.json'), '--config')).toThrow(
      `--config: cannot read "${join(dir, 'missing.json')}" (ENOENT); allowed: a readable JSON file`,
    );
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(
      `configuration file: cannot read "${join(dir, 'missing.json')}" (ENOENT); allowed: a readable JSON file`,
    );
    expect(() => loadConfig(join(dir, 'broken.json'))).toThrow(
      `${join(dir, 'broken.json')}: not valid JSON (`,
    );
  });
});

test('writes a configuration back as JSON that reads back the same', () => {
  const config = parseConfig(sample());
  expect(parseConfig(JSON.parse(configJson(config)))).toEqual(config);
  expect(JSON.parse(configJson(config)).tables[0].columns[4]).toEqual({
    name: 'amount',
    type: 'double precision',
  });
});
