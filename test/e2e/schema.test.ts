import { parseConfig } from '../../src/config/config';
import { parseCalendarDate, RunTarget } from '../../src/core/cutoff';
import { InputError } from '../../src/core/errors';
import { Archiver } from '../../src/protocol/archive';
import { Faults } from '../support/faults';
import { Invariants } from '../support/invariants';
import { World } from '../../devkit/world';

const CUTOFF = parseCalendarDate('2026-01-01', 'test');
const target = (runId = '20260101T000000Z', cutoff = CUTOFF): RunTarget => ({ runId, cutoff });

/** A table `s.t` and a configuration of it, with the columns given. */
function configOf(columns: [string, string][]) {
  return parseConfig({
    warehouse: { type: 'provisioned', clusterIdentifier: 'c', database: 'dev', dbUser: 'archiver' },
    lake: { prefix: 'lake' },
    catalog: { database: 's_archive', externalSchema: 'ext_s' },
    views: { schema: 's', prefix: 'all_' },
    tables: [
      {
        schema: 's',
        name: 't',
        archiveBy: { column: 'ts' },
        columns: columns.map(([name, type]) => ({ name, type })),
      },
    ],
  });
}

const TABLE = `CREATE SCHEMA s;
CREATE TABLE s.t (id INTEGER, ts TIMESTAMP, secret VARCHAR, big BIGINT);
INSERT INTO s.t SELECT i, TIMESTAMP '2023-01-01' + to_seconds(i * 86400 * 5), 'secret ' || i, i * 10000000000 FROM range(1, 200) r(i);`;

let world: World | undefined;
afterEach(() => world?.close());

const GUARD = "schema: the configuration does not match the warehouse's own catalog; nothing was changed";

describe('the schema guard: the warehouse, not the configuration, says what a row is', () => {
  test('fails a run whose configuration leaves out a column and narrows another, before anything is written', async () => {
    // given a table with a column the configuration does not list, and a BIGINT configured as integer
    world = await World.create(
      configOf([
        ['id', 'integer'],
        ['ts', 'timestamp'],
        ['big', 'integer'],
      ]),
      TABLE,
      { setup: false },
    );
    const before = await world.rows('s.t');
    // when a run starts
    const run = new Archiver(await world.session()).run(target());
    // then it refuses, naming each difference, and nothing changed in the warehouse or the lake
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow(
      `${GUARD}\n` +
        '  tables["s.t"].columns: "secret" (VARCHAR) is in table s.t but not in the configuration; allowed: every column of the table, ' +
        'in its order (a column left out would be deleted without being archived)\n' +
        '  tables["s.t"].columns["big"].type: is integer in the configuration but BIGINT in table s.t; allowed: the table\'s type',
    );
    expect(await world.rows('s.t')).toEqual(before);
    expect([...world.lakeFiles().keys()].filter((p) => !p.includes('_catalog'))).toEqual([]);
    // not even the ledger: the guard runs before anything is written
    const ledger = `SELECT COUNT(*) AS n FROM duckdb_schemas() WHERE schema_name = 'archive_meta'`;
    expect(await world.admin.query(ledger)).toEqual([{ n: '0' }]);
  });

  test('plan reports the same differences', async () => {
    world = await World.create(
      configOf([
        ['id', 'integer'],
        ['ts', 'timestamp'],
        ['big', 'integer'],
      ]),
      TABLE,
      { setup: false },
    );
    const archiver = new Archiver(await world.session());
    await archiver.status();
    await expect(archiver.plan(target())).rejects.toThrow(
      `${GUARD}\n  tables["s.t"].columns: "secret" (VARCHAR) is in table s.t`,
    );
  });

  test.each([
    [
      'a configured column that the table lacks',
      [
        ['id', 'integer'],
        ['ts', 'timestamp'],
        ['secret', 'varchar(100)'],
        ['big', 'bigint'],
        ['gone', 'integer'],
      ],
      '  tables["s.t"].columns["gone"]: is in the configuration but not in table s.t',
    ],
    [
      'columns in another order',
      [
        ['ts', 'timestamp'],
        ['id', 'integer'],
        ['secret', 'varchar(100)'],
        ['big', 'bigint'],
      ],
      `  tables["s.t"].columns: the configuration lists the columns in another order than table s.t (id, ts, secret, big); allowed: the table's order`,
    ],
    [
      'a type of another kind',
      [
        ['id', 'integer'],
        ['ts', 'date'],
        ['secret', 'varchar(100)'],
        ['big', 'bigint'],
      ],
      '  tables["s.t"].columns["ts"].type: is date in the configuration but TIMESTAMP in table s.t; allowed: the table\'s type',
    ],
    [
      "a wider type (the files would carry the table's, the catalog declare the wider one)",
      [
        ['id', 'bigint'],
        ['ts', 'timestamp'],
        ['secret', 'varchar(100)'],
        ['big', 'bigint'],
      ],
      '  tables["s.t"].columns["id"].type: is bigint in the configuration but INTEGER in table s.t; allowed: the table\'s type',
    ],
  ] as [string, [string, string][], string][])('fails a run with %s', async (_, columns, line) => {
    world = await World.create(configOf(columns), TABLE, { setup: false });
    const run = new Archiver(await world.session()).run(target());
    await expect(run).rejects.toThrow(`${GUARD}\n${line}`);
  });

  test('fails a commit when a column is added between export and commit: nothing of that year is deleted', async () => {
    // given a run whose first batch was exported and verified
    world = await World.create(
      configOf([
        ['id', 'integer'],
        ['ts', 'timestamp'],
        ['secret', 'varchar(100)'],
        ['big', 'bigint'],
      ]),
      TABLE,
    );
    const w = world;
    const hot2023 = await w.rows(`(SELECT * FROM s.t WHERE ts < TIMESTAMP '2024-01-01')`);
    const faults = new Faults(undefined, async (label) => {
      // when another session adds a column just before the commit
      if (label.startsWith('execute 20260101T000000Z.verify.t.2023.a1:'))
        await w.admin.execute(`ALTER TABLE s.t ADD COLUMN note VARCHAR`);
    });
    const run = (await w.archiver(faults.wrap)).run(target());
    // then the commit fails, the schema guard names the column (exit 2), and every row of 2023 is still hot
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(run).rejects.toThrow(
      `${GUARD}\n  tables["s.t"].columns: "note" (VARCHAR) is in table s.t but not in the configuration; allowed: every column of the table, in its order (a column left out would be deleted without being archived)`,
    );
    expect(faults.calls).toContain('transaction 20260101T000000Z.commit.t.2023.a1');
    expect(await w.rows(`(SELECT id, ts, secret, big FROM s.t WHERE ts < TIMESTAMP '2024-01-01')`)).toEqual(
      hot2023,
    );
    expect(await w.committedBatches()).toEqual([]);
  });
});

describe('schema evolution', () => {
  const FOUR = [
    ['id', 'integer'],
    ['ts', 'timestamp'],
    ['secret', 'varchar(100)'],
    ['big', 'bigint'],
  ] as [string, string][];

  test('a column added after some years were archived: old batches read it as NULL, new batches carry it', async () => {
    // given 2023 and 2024 archived with four columns
    world = await World.create(configOf(FOUR), TABLE);
    await (await world.archiver()).run(target('20250101T000000Z', parseCalendarDate('2025-01-01', 'test')));
    // when the table gains a column, the configuration too, and the deploy runs setup again
    await world.admin.execute(`ALTER TABLE s.t ADD COLUMN note VARCHAR`);
    await world.admin.execute(`UPDATE s.t SET note = 'note ' || id`);
    const evolved = world.withConfig(configOf([...FOUR, ['note', 'varchar(50)']]));
    await (await evolved.archiver()).setup();
    const invariants = await Invariants.capture(evolved, CUTOFF);
    // then the view reads the old batches with a NULL note
    const old = await evolved.admin.query(
      `SELECT COUNT(*) AS n, COUNT(note) AS notes FROM s.all_t WHERE ts < TIMESTAMP '2025-01-01'`,
    );
    expect(old).toEqual([{ n: String(await countBefore(evolved, '2025-01-01')), notes: '0' }]);
    // and a new run archives 2025 with the note, old batches untouched
    const report = await (await evolved.archiver()).run(target());
    expect(report.tables[0].years.map((y) => y.year)).toEqual([2025]);
    await invariants.check('after the run with the new column');
    expect(await evolved.admin.query(`SELECT note FROM ext_s.t WHERE id = 150`)).toEqual([
      { note: 'note 150' },
    ]);
    expect(await evolved.admin.query(`SELECT note FROM s.all_t WHERE id = 10`)).toEqual([{ note: null }]);
  });

  test('fails when a column that archived batches hold leaves the table and the configuration, and says how to proceed', async () => {
    world = await World.create(configOf(FOUR), TABLE);
    await (await world.archiver()).run(target('20250101T000000Z', parseCalendarDate('2025-01-01', 'test')));
    await world.admin.execute(`ALTER TABLE s.t DROP COLUMN big`);
    const shrunk = world.withConfig(configOf(FOUR.slice(0, 3)));
    const setup = (await shrunk.archiver()).setup();
    await expect(setup).rejects.toBeInstanceOf(InputError);
    await expect(setup).rejects.toThrow(
      `${GUARD}\n  tables["s.t"].columns: "big bigint" is held by archived batches (run 20250101T000000Z year 2023, run 20250101T000000Z year 2024) ` +
        'but is not at its place in the configuration; allowed: every archived column where it was, new columns after them. ' +
        'A column that archived rows hold cannot leave the table: add it back (nullable, at the same position; ' +
        'ALTER TABLE ... ADD COLUMN appends it) and to the configuration',
    );
  });
});

async function countBefore(world: World, date: string): Promise<number> {
  const [row] = await world.admin.query(`SELECT COUNT(*) AS n FROM s.all_t WHERE ts < TIMESTAMP '${date}'`);
  return Number(row.n);
}
