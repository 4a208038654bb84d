import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config';
import { procedureBatch, redshiftDialect } from '../../src/sql/redshift-dialect';
import { ArchiveSql } from '../../src/sql/statements';
import { ROLE } from '../../devkit/scripted-aws';
import { reservedAliases, unquotedAliases } from '../support/redshift-words';
import contabyx from '../../config/contabyx.json';

/*
 * IDENTITY, USER, ORDER, ... are reserved in Redshift and usable only as delimited identifiers
 * (Redshift Database Developer Guide, "Reserved words"): an unquoted alias that is one of them
 * makes Redshift refuse the statement (audit finding 1: `SELECT current_user AS identity`). Every
 * alias the project writes bare must be off that list; names from the configuration are quoted.
 */

describe('aliases and reserved words', () => {
  test('finds the unquoted reserved alias of a statement, in FROM as in the select list, and inside an UNLOAD', () => {
    expect(reservedAliases('SELECT current_user AS identity')).toEqual(['identity']);
    expect(reservedAliases('SELECT current_user AS "identity"')).toEqual([]);
    expect(unquotedAliases('SELECT h.n FROM (SELECT COUNT(*) AS n FROM "s"."t") h, (SELECT 1) user')).toEqual(
      ['n', 'h', 'user'],
    );
    expect(
      reservedAliases(`UNLOAD ('SELECT "a" AS order FROM "s"."t"') TO 's3://b/' FORMAT AS PARQUET`),
    ).toEqual(['order']);
    // a CAST's type and UNLOAD's FORMAT AS are no aliases, a quoted column's bare word is
    expect(unquotedAliases('SELECT CAST(x AS TIMESTAMP) AS t FROM "s"."t"')).toEqual(['t']);
    expect(
      unquotedAliases('SELECT n FROM (SELECT "a" q0,"b" user FROM "s"."t" ORDER BY "a" DESC) r'),
    ).toEqual(['q0', 'user', 'r']);
  });

  test("no statement of the golden runs, preflight or the views' procedures has an unquoted alias that Redshift reserves", () => {
    const golden = join(__dirname, '..', 'aws', 'golden');
    const files = readdirSync(golden).map((f) => readFileSync(join(golden, f), 'utf8'));
    // what the golden runs do not send: preflight's reads and a views setup of more than 40 statements
    const config = parseConfig({
      ...contabyx,
      views: { ...contabyx.views, readers: ['group analysts'] },
      retention: { timeZone: 'Europe/Berlin' },
    });
    const sql = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE }));
    const preflight = [
      sql.identityQuery(),
      sql.timeZoneProbeQuery(2026),
      ...sql.accessProbes().map((p) => p.sql),
      ...sql.tables.flatMap((t) => [sql.hashProbeQuery(t), ...sql.restoreReadProbe(t)]),
      sql.catalogQuery('views'),
    ];
    const setup = Array.from({ length: 14 }, () =>
      sql.tables.flatMap((t) => sql.recreateView(t, { committed: [] })),
    ).flat();
    const procedures = procedureBatch(setup, config.ledger.schema, 'setup.views') ?? [];
    expect(procedures.length).toBeGreaterThan(0);
    const found = [...files, ...preflight, ...procedures].flatMap((text) => reservedAliases(text));
    expect(found).toEqual([]);
  });

  test("a checksum's column aliases are never reserved, up to Redshift's 1,600 columns", () => {
    const config = parseConfig({
      ...contabyx,
      tables: [
        {
          schema: 's',
          name: 'w',
          archiveBy: { column: 'c0' },
          columns: Array.from({ length: 1600 }, (_, i) => ({ name: `c${i}`, type: i ? 'integer' : 'date' })),
        },
      ],
    });
    const probe = new ArchiveSql(config, redshiftDialect({ iamRoleArn: ROLE })).hashProbeQuery(
      config.tables[0],
    );
    // q0 ... qz, q10 ... qzz, q100 ... q18f, the figures' row_count and checksum, the derived table's r
    expect(unquotedAliases(probe)).toHaveLength(1600 + 3);
    expect(reservedAliases(probe)).toEqual([]);
  });
});
