import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbWarehouse } from '../../src/engines/local/duckdb-warehouse';
import { openLocalEngine } from '../../src/engines/local/engine';
import { parseConfig } from '../../src/config/config';
import { runTarget } from '../../src/core/cutoff';
import { Archiver } from '../../src/protocol/archive';
import contabyx from '../../config/contabyx.json';
import { cli, sampleWarehouse } from '../support/cli';
import { CRASHED, Faults } from '../support/faults';

// Bad input gets a clear error and changes nothing; commands that only read never write. Each
// test reproduces one defect of /work/shared/research/reliability-defects.md through the CLI.

const CONFIG = resolve('config/contabyx.json');
let dir: string;
let warehouse: string;
let lake: string;

beforeEach(async () => {
  ({ dir, warehouse, lake } = await sampleWarehouse('errors-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const local = (config = CONFIG, w = warehouse, l = lake) => ['--config', config, '--local', w, '--lake', l];
const snapshot = () => ({
  db: readFileSync(warehouse).toString('base64'),
  lake: existsSync(lake) ? readdirSync(lake, { recursive: true }).sort() : null,
});
const writeConfig = (change: (c: typeof contabyx) => unknown) => {
  const file = join(dir, 'changed.json');
  writeFileSync(file, JSON.stringify(change(structuredClone(contabyx))));
  return file;
};
/** Every row of every union view, read from the file after the CLI closed it. */
async function views(): Promise<Record<string, string[]>> {
  const instance = await DuckDBInstance.create(warehouse, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const out: Record<string, string[]> = {};
    for (const t of ['transactions', 'transfers', 'tax']) {
      const reader = await connection.runAndReadAll(`SELECT * FROM contabyx.spectrum_${t}`);
      out[t] = reader
        .getRowObjectsJson()
        .map((r) => JSON.stringify(r))
        .sort();
    }
    return out;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
describe('a wrong lake on the command line', () => {
  test('D3: run and abort with a wrong --lake exit 2 naming --lake, --local and the lake the ledger records; nothing is written', async () => {
    expect((await cli(['run', ...local()])).code).toBe(0);
    const before = await views();
    const other = join(dir, 'other', 'lake');
    for (const command of ['run', 'abort']) {
      const { code, stderr } = await cli(
        [command, ...local(CONFIG, warehouse, other)],
        '2026-01-01T00:00:09Z',
      );
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toMatch(
        new RegExp(
          `^redshift-archive: --lake: ${other} lacks the files of 9 of 9 committed batches \\(the ledger in --local ${warehouse} records them under ${lake}\\); `,
        ),
      );
    }
    expect(existsSync(other)).toBe(false);
    expect(await views()).toEqual(before);
    // status only reads the ledger: it answers, and writes nothing either
    const status = await cli(['status', ...local(CONFIG, warehouse, other)]);
    expect([status.code, existsSync(other)]).toEqual([0, false]);
  });
});

/** The instant the CLI's commands read in these tests, and the run it starts. */
const NOW = '2026-01-01T00:00:05Z';
/** A `run` at {@link NOW} killed right after the call whose label starts with `at`. */
async function killedRun(at: string): Promise<string> {
  const opened = await DuckDbWarehouse.open(warehouse);
  const config = parseConfig(contabyx);
  const engine = await openLocalEngine({
    config,
    warehousePath: '',
    lakeRoot: lake,
    instance: opened.instance,
  });
  const target = runTarget(new Date(NOW), config.retention);
  try {
    const crash = new Faults({ at: at.replace('<run>', target.runId), when: 'after' });
    await expect(new Archiver(crash.wrap(engine)).run(target)).rejects.toThrow(CRASHED);
  } finally {
    engine.close();
    opened.warehouse.close();
    opened.instance.closeSync();
  }
  return target.runId;
}

describe('a wrong lake for an unfinished run', () => {
  test('run and abort with a wrong --lake while the run has exported but committed nothing exit 2 naming --lake, --local and the lake; nothing is written', async () => {
    const runId = await killedRun('execute <run>.verify.transactions');
    const before = snapshot();
    const other = join(dir, 'other2');
    mkdirSync(other);
    for (const command of ['run', 'abort']) {
      const { code, stderr } = await cli(
        [command, ...local(CONFIG, warehouse, other)],
        '2026-01-01T00:00:09Z',
      );
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toBe(
        `redshift-archive: --lake: ${other} is not the lake of the unfinished run ${runId}: the ledger in --local ${warehouse} ` +
          `records 1 of its exported batches under ${lake}; transactions 2023 at ${lake}/contabyx-parquet/transactions/year=2023/` +
          `archive_run=${runId}/year=2023/; allowed: the lake the archive was written to (${lake}); nothing was changed`,
      );
    }
    expect(readdirSync(other)).toEqual([]);
    expect(snapshot()).toEqual(before);
    // and with the right lake the run goes on
    expect((await cli(['run', ...local()], '2026-01-01T00:00:09Z')).code).toBe(0);
  });
});

describe('abort and an unreadable catalog', () => {
  test('abort reads the catalog before it aborts: an unreadable catalog file exits 2, the run still unfinished; repair then abort end it', async () => {
    const runId = await killedRun('execute <run>.verify.transactions');
    const catalog = join(lake, '_catalog', 'contabyx.json');
    truncateSync(catalog, 50);
    const { code, stderr } = await cli(['abort', ...local()], '2026-01-01T00:00:09Z');
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^redshift-archive: --lake: the catalog file ${catalog} cannot be read \\(.+\\); run \`redshift-archive repair\`, ` +
          'which rebuilds it from the ledger; nothing was changed$',
      ),
    );
    expect((await cli(['status', ...local()])).stdout).toContain(`unfinished run: ${runId} (running)`);
    expect((await cli(['repair', ...local()])).code).toBe(0);
    const aborted = await cli(['abort', ...local()], '2026-01-01T00:00:09Z');
    expect([aborted.code, aborted.stdout]).toEqual([
      0,
      `run ${runId} aborted: its uncommitted batches are discarded, their rows were never deleted`,
    ]);
    expect(readdirSync(lake, { recursive: true }).filter((f) => String(f).endsWith('.parquet'))).toEqual([]);
  });
});

describe('a committed file gone for good', () => {
  test('repair names it with its rows and exits 2; repair --accept-lost records it lost, and status and audit say so (exit 0)', async () => {
    expect((await cli(['run', ...local()])).code).toBe(0);
    const file = readdirSync(lake, { recursive: true })
      .map(String)
      .find((f) => f.includes('tax/year=2024/') && f.endsWith('.parquet')) as string;
    rmSync(join(lake, file));
    const refused = await cli(['repair', ...local()], '2026-01-01T00:00:09Z');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^redshift-archive: --lake: ${lake} lacks the files of 1 of 9 committed batches: tax 2024 \\(run 20260101T000005Z, \\d+ rows\\): `,
      ),
    );
    expect((await cli(['run', '--accept-lost', ...local()])).stderr.split('\n')[0]).toBe(
      'redshift-archive: --accept-lost: not allowed with run; allowed with: repair',
    );
    const accepted = await cli(['repair', '--accept-lost', ...local()], '2026-01-01T00:00:09Z');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout.split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(
        /^recorded lost: 1 batches, \d+ rows; the views and the catalog no longer read them$/,
      ),
      expect.stringMatching(
        /^LOST tax 2024 \(run 20260101T000005Z\): \d+ rows; recorded lost by repair --accept-lost: the lake holds 0 files of 0 bytes under /,
      ),
    ]);
    expect((await cli(['status', ...local()])).stdout).toMatch(/^LOST tax 2024 \(run 20260101T000005Z\): /m);
    const audit = await cli(['audit', ...local()]);
    expect([audit.code, audit.stdout.split('\n').at(-1)]).toEqual([
      0,
      'audit: 8 batches intact; 1 recorded lost',
    ]);
    expect((await cli(['run', ...local()], '2026-01-01T00:00:09Z')).code).toBe(0);
  });
});

describe('read-only means read-only', () => {
  test('D8: a configuration refused by the schema guard creates no schema, no ledger, no view and no lake', async () => {
    const config = writeConfig((c) => {
      c.tables[2].columns.pop();
      return { ...c, views: { ...c.views, schema: 'reporting' }, ledger: { schema: 'ledger2' } };
    });
    const before = snapshot();
    const { code, stderr } = await cli(['run', ...local(config)]);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(
      "redshift-archive: schema: the configuration does not match the warehouse's own catalog; nothing was changed",
    );
    expect(snapshot()).toEqual(before);
  });

  test('D8: status, plan, audit and preflight write nothing on a warehouse never set up, and preflight says what the first run creates', async () => {
    const before = snapshot();
    const status = await cli(['status', ...local()]);
    expect([status.code, status.stdout]).toEqual([
      0,
      'no runs yet: the first `run` creates the ledger (schema archive_meta)',
    ]);
    expect((await cli(['plan', ...local()])).code).toBe(0);
    expect((await cli(['audit', ...local()])).stdout).toBe('audit: no archived batch yet');
    const preflight = await cli(['preflight', ...local()]);
    expect(preflight.code).toBe(0);
    expect(preflight.stdout).toContain(
      'ok   ledger: not set up yet; the first run creates schema archive_meta with the ledger tables runs, batches, commit_checks, restore_checks, views_version',
    );
    expect(preflight.stdout).toContain(
      `ok   catalog transactions: not set up yet; the first run defines the catalog table transactions in the catalog file ${lake}/_catalog/contabyx.json, ` +
        'the external table ext_contabyx.transactions and the union view contabyx.spectrum_transactions',
    );
    expect(snapshot()).toEqual(before);
  });

  test.each(['plan', 'run', 'status', 'abort', 'preflight', 'audit', 'repair', 'restore --year 2024'])(
    'D8: `%s` with a --local that does not exist exits 2 naming it, and creates no file',
    async (command) => {
      const typo = join(dir, 'warehous.duckdb');
      const { code, stderr } = await cli([...command.split(' '), ...local(CONFIG, typo)]);
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toBe(
        `redshift-archive: --local: ${JSON.stringify(typo)} does not exist; allowed: the DuckDB file that holds the configured tables ` +
          '(the embedded engine never creates a warehouse: load the tables into one first)',
      );
      expect(existsSync(typo)).toBe(false);
    },
  );
});

describe('bad paths and names exit 2 naming the argument', () => {
  test('D9: --local a directory, --lake a file, an empty views.prefix beside the hot tables', async () => {
    const cases: [string[], string][] = [
      [
        local(CONFIG, dir),
        `--local: ${JSON.stringify(dir)} is a directory; allowed: the DuckDB file that holds the configured tables`,
      ],
      [
        local(CONFIG, warehouse, CONFIG),
        `--lake: ${JSON.stringify(CONFIG)} is a file; allowed: a folder (the first run creates it)`,
      ],
      [
        local(writeConfig((c) => ({ ...c, views: { ...c.views, prefix: '' } }))),
        `${join(dir, 'changed.json')}: invalid configuration`,
      ],
    ];
    for (const [args, message] of cases) {
      const before = snapshot();
      const { code, stderr } = await cli(['run', ...args]);
      expect([code, stderr.split('\n')[0]]).toEqual([2, `redshift-archive: ${message}`]);
      expect(snapshot()).toEqual(before);
    }
    const { stderr } = await cli(['run', ...local(join(dir, 'changed.json'))]);
    expect(stderr.split('\n')[1]).toBe(
      '  views.prefix: "" is not allowed; allowed: a prefix that keeps every union view\'s name apart from the tables ' +
        '(views.schema "contabyx" holds contabyx.transactions, contabyx.transfers, contabyx.tax)',
    );
  });

  const unshare = (() => {
    try {
      execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  // A read-only file system needs a mount of its own: a private mount namespace (root in a container).
  (unshare ? test : test.skip)(
    'D9: a read-only lake exits 2 naming --lake, before anything is written',
    async () => {
      mkdirSync(lake);
      const node = process.execPath;
      const script = `mount --bind ${lake} ${lake} && mount -o remount,ro,bind ${lake} && exec "${node}" ${resolve('node_modules/tsx/dist/cli.mjs')} ${resolve('bin/cli.ts')} run ${local().join(' ')}`;
      let code = 0;
      let stderr = '';
      try {
        execFileSync('unshare', ['-m', 'sh', '-c', script], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, TZ: 'UTC' },
        });
      } catch (error) {
        code = (error as { status: number }).status;
        stderr = String((error as { stderr: Buffer }).stderr);
      }
      expect([code, stderr.split('\n')[0]]).toEqual([
        2,
        `redshift-archive: --lake: ${JSON.stringify(lake)} is not writable (EROFS: read-only file system); allowed: a folder this user may write`,
      ]);
      const runs = await cli(['status', '--json', ...local()]);
      expect(JSON.parse(runs.stdout)).toEqual({ notSetUp: 'archive_meta', setUpBy: 'first run', runs: [] });
    },
    60_000,
  );
});

describe('a damaged catalog or manifest is named, with the way out', () => {
  test('D6: a corrupt catalog file exits 2 naming the file and repair, which rebuilds it from the ledger', async () => {
    expect((await cli(['run', ...local()])).code).toBe(0);
    const before = await views();
    const file = join(lake, '_catalog', 'contabyx.json');
    truncateSync(file, 500);
    const { code, stderr } = await cli(['run', ...local()], '2026-01-01T00:00:09Z');
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^redshift-archive: --lake: the catalog file ${file} cannot be read \\(.*\\); run \`redshift-archive repair\`, which rebuilds it from the ledger; nothing was changed`,
      ),
    );
    expect(await views()).toEqual(before);
    const repaired = await cli(['repair', ...local()]);
    expect([repaired.code, repaired.stdout]).toEqual([
      0,
      'repair: 9 partitions of committed batches registered again from the ledger; 0 stray partitions removed',
    ]);
    expect((await cli(['audit', '--deep', ...local()])).code).toBe(0);
    expect(await views()).toEqual(before);
  });
});

describe('words', () => {
  // $C stands for the sample configuration, $L for --local and --lake
  test.each([
    [
      'run --local $W --lake $L --config $K',
      '$K: invalid configuration\n  retention.keepYears: 1.5 is not allowed; allowed: a whole number',
    ],
    [
      '--config $C --local $W --lake $L',
      'command: is missing; allowed: plan, run, status, abort, preflight, audit, restore, repair',
    ],
    [
      'restore --config $C --local $W --lake $L',
      '--year: is missing; allowed: the archive year to restore, YYYY',
    ],
    [
      'restore --year 0999 --config $C --local $W --lake $L',
      '--year: "0999" is not allowed; allowed: a year from 1000 to 9999',
    ],
  ])('D13: `%s` says what is missing or allowed in plain words', async (line, message) => {
    const keep = writeConfig((c) => ({ ...c, retention: { ...c.retention, keepYears: 1.5 } }));
    const args = line.split(' ').map((a) => ({ $C: CONFIG, $W: warehouse, $L: lake, $K: keep })[a] ?? a);
    const { code, stderr } = await cli(args);
    const expected = `redshift-archive: ${message.replace('$K', keep)}`;
    expect([code, stderr.split('\n').slice(0, expected.split('\n').length).join('\n')]).toEqual([
      2,
      expected,
    ]);
  });

  test('D13: a configuration file that starts with a byte order mark is read like one without', async () => {
    const file = join(dir, 'bom.json');
    writeFileSync(file, `\uFEFF${readFileSync(CONFIG, 'utf8')}`);
    expect((await cli(['plan', ...local(file)])).code).toBe(0);
  });

  test('D13: a warehouse another process holds exits 1 naming --local and what to do', async () => {
    // DuckDB's lock is per process: another process holds it
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require('@duckdb/node-api').DuckDBInstance.create(${JSON.stringify(warehouse)}).then(() => { console.log('ready'); setInterval(() => {}, 1000); })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((ready) => holder.stdout.once('data', () => ready()));
      const { code, stderr } = await cli(['status', ...local()]);
      expect(code).toBe(1);
      expect(stderr).toMatch(
        new RegExp(
          `^redshift-archive: --local: ${warehouse} is in use by another process \\(.*PID ${holder.pid}.*\\); try again once it has ended; nothing was changed$`,
        ),
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('late children', () => {
  test('D12: plan counts the child rows whose parents are archived, which stay hot', async () => {
    expect((await cli(['run', ...local()])).code).toBe(0);
    const opened = await DuckDbWarehouse.open(warehouse);
    await opened.warehouse.execute('INSERT INTO contabyx.tax VALUES (4, 1, 9.5), (4, 2, 9.75)');
    opened.warehouse.close();
    opened.instance.closeSync();
    const { code, stdout } = await cli(['plan', ...local()], '2026-01-01T00:00:09Z');
    expect(code).toBe(0);
    expect(stdout).toContain(
      'tax: 2 child rows whose parents are archived stay hot (a child moves only with a hot parent)',
    );
  });
});
