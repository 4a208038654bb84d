import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDbWarehouse } from '../../src/engines/local/duckdb-warehouse';
import contabyx from '../../config/contabyx.json';
import { cli, sampleWarehouse } from '../support/cli';

const CONFIG = resolve('config/contabyx.json');
let dir: string;
let warehouse: string;
let lake: string;

beforeEach(async () => {
  ({ dir, warehouse, lake } = await sampleWarehouse('cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const local = () => ['--config', CONFIG, '--local', warehouse, '--lake', lake];
const snapshot = () => ({
  db: readFileSync(warehouse).toString('base64'),
  lake: existsSync(lake) ? readdirSync(lake) : null,
});

describe('redshift-archive', () => {
  test('run archives the sample, prints a summary table with the durations of each batch and step, and exits 0', async () => {
    // given an engine clock that moves on one second at every reading (the command's own clock is read once)
    const { code, stdout, stderr, clockReads } = await cli(['run', ...local()]);
    expect(code).toBe(0);
    expect(clockReads).toBe(1);
    expect(stdout.split('\n')[0]).toBe(
      'run 20260101T000005Z finished: cutoff 2026-01-01, 3 batches in 26.0 s (started 2026-01-01 00:00:05 UTC)',
    );
    // each batch took 8 readings of the clock: its start, two per table (export, verify), its end
    expect(stdout).toMatch(/^transactions {2}2025 +124 +1 +[\d,]+ +1 +yes +8\.0 s +2\.0 s +1\.0 s +1\.0 s$/m);
    expect(stdout).toMatch(/^tax {11}2023 +41 +1 +[\d,]+ +1 +yes +8\.0 s +1\.0 s +1\.0 s +1\.0 s$/m);
    expect(stdout).toMatch(
      /^the warehouse frees 691\.6 KiB once vacuumed; the lake holds [\d.]+ KiB \(measured\); a year: <\$0\.01 saved, <\$0\.01 in the lake, net <\$0\.01 \(us-east-1 list prices of 2026-11, S3 Standard-IA\)$/m,
    );
    expect(stderr).toContain(
      '[batch ]                    batch 1 of 3: transactions 2023 (elapsed 2.0 s, an estimate of what is left after the first batch)',
    );
    expect(stderr).toContain(
      '[batch ]                    batch 3 of 3: transactions 2025 (elapsed 18.0 s, about 8.0 s left)',
    );
    expect(stdout).toMatch(/^total: [\d,]+ rows, 9 files, [\d,]+ bytes$/m);
    expect(stderr).toMatch(/^\[verify\] tax 2024 +read back: 41 rows, checksum -?\d+ \(41 rows\)$/m);
    expect(stderr).toMatch(
      /^\[commit\] transactions 2024 +committed: transactions, transfers, tax 2024 left the hot tables; the views read the batch \(227 rows\)$/m,
    );
    // and the run's report in the lake records the measured figures and the instants
    const lakeReport = JSON.parse(
      readFileSync(join(lake, 'archive-reports', '20260101T000005Z.json'), 'utf8'),
    );
    expect(lakeReport).toMatchObject({
      startedAt: '2026-01-01T00:00:05.000Z',
      endedAt: '2026-01-01T00:00:31.000Z',
      durationMs: 26_000,
      savings: { lakeBytes: lakeReport.bytes, lakeBasis: 'measured', warehouseBytes: 708_183 },
    });
    expect(lakeReport.tables[0].years[0]).toMatchObject({
      year: 2023,
      startedAt: '2026-01-01T00:00:06.000Z',
      durationMs: 8000,
      steps: { exportMs: 2000, verifyMs: 1000, commitMs: 1000 },
    });
    const status = await cli(['status', ...local()]);
    expect(status.stdout).toMatch(
      /^20260101T000005Z {2}2026-01-01 {2}finished {2}2026-01-01 00:00:05 {2}26\.0 s {2}3\/3 +675 +0$/m,
    );
  });

  test('--json prints one JSON report on standard output and progress on standard error', async () => {
    const { code, stdout, stderr } = await cli(['run', '--json', ...local()]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      outcome: 'finished',
      runId: '20260101T000005Z',
      cutoff: '2026-01-01',
      state: 'finished',
    });
    expect(report.tables.map((t: { table: string }) => t.table)).toEqual([
      'transactions',
      'transfers',
      'tax',
    ]);
    expect(stderr).toContain('[commit]');
    const again = await cli(['run', '--json', ...local()], '2026-01-02T00:00:00Z');
    expect([again.code, JSON.parse(again.stdout).outcome]).toEqual([0, 'nothing-to-do']);
  });

  test('plan prints the counts and the exact SQL and changes nothing', async () => {
    const { code, stdout } = await cli(['plan', ...local(), '--cutoff', '2025-01-01']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'plan for run 20260101T000005Z: rows older than 2025-01-01, 2 batches (one per family and year, oldest first)',
    );
    expect(stdout).toContain('-- commit transactions 2024 (one transaction)');
    expect(stdout).toContain(
      `DELETE FROM "contabyx"."transactions" WHERE "time" >= TIMESTAMP '2024-01-01 00:00:00' AND "time" < TIMESTAMP '2025-01-01 00:00:00';`,
    );
    // not even the ledger: plan only reads
    const status = await cli(['status', '--json', ...local()]);
    expect(JSON.parse(status.stdout)).toEqual({
      notSetUp: 'archive_meta',
      setUpBy: 'first run',
      runs: [],
      restores: [],
    });
  });

  test('plan --summary prints what the run frees and adds, and its dollars a year, without the SQL; after a run, the lake bytes come from its batches', async () => {
    // given nothing archived yet: the lake's bytes are assumed to be the warehouse's
    const first = await cli(['plan', '--summary', ...local(), '--cutoff', '2025-01-01']);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain('DELETE FROM');
    const table = (out: string) =>
      out.split('\n').slice(out.split('\n').findIndex((l) => l.startsWith('what the run frees')));
    expect(table(first.stdout)).toEqual([
      'what the run frees and adds (estimates; prices: us-east-1 list prices of 2026-11, S3 Standard-IA, $0.024/GB-month in the warehouse, $0.0125/GB-month in the lake):',
      'table         rows  warehouse frees  lake adds  lake bytes                saved/year  lake/year  net/year',
      '------------  ----  ---------------  ---------  ------------------------  ----------  ---------  --------',
      'transactions   245  154.1 KiB        154.1 KiB  assumed as the warehouse  <$0.01      <$0.01     <$0.01',
      'transfers      121  151.8 KiB        151.8 KiB  assumed as the warehouse  <$0.01      <$0.01     <$0.01',
      'tax             81  151.4 KiB        151.4 KiB  assumed as the warehouse  <$0.01      <$0.01     <$0.01',
      'total          447  457.3 KiB        457.3 KiB  assumed as the warehouse  <$0.01      <$0.01     <$0.01',
      'a deep audit reads these 457.3 KiB back: <$0.01 ($5.00 per TB scanned by Spectrum or Athena, $0.01 per GB retrieved from the storage class)',
    ]);
    // when 2023 and 2024 are archived, the plan of 2025 takes each table's bytes per row from them
    expect((await cli(['run', ...local(), '--cutoff', '2025-01-01'])).code).toBe(0);
    const next = await cli(['plan', '--summary', '--json', ...local()]);
    const plan = JSON.parse(next.stdout);
    const ran = JSON.parse((await cli(['status', '--json', ...local()])).stdout);
    expect(ran.runs).toHaveLength(1);
    expect(
      plan.tables.map((t: { table: string; savings: { lakeBasis: string } }) => [
        t.table,
        t.savings.lakeBasis,
      ]),
    ).toEqual([
      ['transactions', 'earlier batches'],
      ['transfers', 'earlier batches'],
      ['tax', 'earlier batches'],
    ]);
    expect(plan.savings.lakeBytes).toBeGreaterThan(0);
    expect(plan.savings.lakeBytes).toBeLessThan(plan.savings.warehouseBytes);
  });

  test('preflight passes on the sample (exit 0), and fails naming the fix once a column was added (exit 1)', async () => {
    // before anything set the sample up there is no external table: restore's read is skipped, and says so
    const fresh = await cli(['preflight', ...local()]);
    expect(fresh.stdout).toContain(
      'skip restore reads the archive in a transaction: skipped: no table whose hot and external tables can both be read yet',
    );
    // a run with nothing to move sets the embedded engine up
    expect((await cli(['run', ...local(), '--cutoff', '2000-01-01'])).code).toBe(0);
    const passed = await cli(['preflight', ...local()]);
    expect([passed.code, passed.stdout.split('\n')[0]]).toEqual([0, 'preflight: every check passed']);
    expect(passed.stdout).toContain(
      'ok   restore reads the archive in a transaction: the warehouse reads the external table transactions inside a transaction, as restore does',
    );
    const opened = await DuckDbWarehouse.open(warehouse);
    await opened.warehouse.execute('ALTER TABLE contabyx.tax ADD COLUMN note VARCHAR');
    opened.warehouse.close();
    opened.instance.closeSync();
    const failed = await cli(['preflight', ...local()]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      'FAIL columns: tables["contabyx.tax"].columns: "note" (VARCHAR) is in table contabyx.tax but not in the configuration',
    );
    expect(failed.stdout).toContain(
      '       fix: make the configuration list every column of each table, in its order, with its type (or change the table)',
    );
  });

  test.each([['--help'], ['-h'], ['help'], ['run', '--help'], ['help', 'restore']])(
    '`%s` prints the usage on standard output and exits 0',
    async (...args) => {
      const { code, stdout, stderr } = await cli(args);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      const command = args.find((a) => !a.startsWith('-') && a !== 'help');
      expect(stdout).toMatch(
        command
          ? new RegExp(`^usage: redshift-archive ${command} --config`)
          : /^usage: redshift-archive <command>/,
      );
      expect(stdout).toContain('3 the audit found damage');
    },
  );

  test('--version prints the version of the package', async () => {
    const { code, stdout } = await cli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`redshift-archive ${JSON.parse(readFileSync('package.json', 'utf8')).version}`);
  });

  test('audit exits 0 on an intact archive and 3 naming the damaged batch once a file is gone', async () => {
    // given a run that archived the sample
    expect((await cli(['run', ...local()])).code).toBe(0);
    const intact = await cli(['audit', '--deep', ...local()]);
    expect(intact.code).toBe(0);
    expect(intact.stdout.split('\n').at(-1)).toBe('audit --deep: 9 batches intact');
    // when a tax file of 2024 disappears
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
      );
    const file = walk(lake).find(
      (f) => f.includes('/tax/') && f.includes('/year=2024/') && f.endsWith('.parquet'),
    );
    rmSync(file as string);
    // then the audit exits 3 and names it
    const damaged = await cli(['audit', ...local()]);
    expect(damaged.code).toBe(3);
    expect(damaged.stdout).toContain(
      'DAMAGED tax 2024 (run 20260101T000005Z): the lake holds 0 files of 0 bytes',
    );
    expect(damaged.stdout.split('\n').at(-1)).toBe(
      'audit: 1 of 9 batches damaged; the ledger and the run reports say what they held',
    );
  });

  test('restore puts a year back and the next run archives it again', async () => {
    expect((await cli(['run', ...local()])).code).toBe(0);
    const restored = await cli(['restore', '--year', '2024', ...local()], '2026-03-01T10:00:00Z');
    expect(restored.code).toBe(0);
    expect(restored.stdout.split('\n')[0]).toMatch(
      /^restored 2024: \d+ rows are hot again; the union views return the same rows$/,
    );
    expect(restored.stdout.split('\n').at(-1)).toBe('3 partitions left the catalog; files kept in the lake');
    // status shows the restore, and the run's restored year no longer counts as archived
    const status = await cli(['status', ...local()], '2026-03-01T10:30:00Z');
    expect(status.stdout.split('\n').slice(4)).toEqual([
      'restores (their rows are hot again and no longer count as archived):',
      'restore          at (UTC)             year  tables                        rows',
      '---------------  -------------------  ----  ----------------------------  ----',
      'R20260301100000  2026-03-01 10:00:00  2024  tax, transactions, transfers   227',
    ]);
    expect(status.stdout).toMatch(/^20260101T000005Z {2}2026-01-01 {2}finished .* 3\/3 +448 +227$/m);
    const again = await cli(['run', '--json', ...local()], '2026-03-01T11:00:00Z');
    expect(JSON.parse(again.stdout).tables[0].years.map((y: { year: number }) => y.year)).toEqual([2024]);
  });

  test('abort with no unfinished run has nothing to do and exits 0', async () => {
    const { code, stdout } = await cli(['abort', ...local()]);
    expect([code, stdout]).toEqual([0, 'nothing to abort']);
  });

  test('fails with exit 2 when the warehouse lacks a configured table, and changes nothing', async () => {
    const config = join(dir, 'other.json');
    writeFileSync(
      config,
      JSON.stringify({ ...contabyx, tables: [{ ...contabyx.tables[0], schema: 'missing' }] }),
    );
    const { code, stderr } = await cli(['run', '--config', config, '--local', warehouse, '--lake', lake]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "redshift-archive: schema: the configuration does not match the warehouse's own catalog; nothing was changed\n" +
        '  tables["missing.transactions"]: table missing.transactions does not exist in the warehouse (or this database user may not see it)',
    );
  });

  // $C, $W and $L stand for the sample configuration, the warehouse file and the lake folder
  test.each([
    [
      'archive --config $C',
      'command: "archive" is not allowed; allowed: plan, run, status, abort, preflight, audit, restore, repair',
    ],
    ['run --local $W --lake $L', '--config: is missing; allowed: a JSON configuration file'],
    [
      'run --config $C',
      '--local: is missing; allowed: a path (--local <warehouse.duckdb> --lake <dir> selects the embedded engine; --stack <name> [--region R] the deployed stack)',
    ],
    [
      'run --verbose --config $C --local $W --lake $L',
      "Unknown option '--verbose'; allowed: --config, --local, --lake, --stack, --region, --json, --cutoff, --summary, --deep, --year, --table, --delete-files, --accept-lost, --tables, --schema, --archive-by, --parent, --update, --force, --cluster, --workgroup, --database, --db-user, --secret-arn, --help, --version",
    ],
    [
      'run --cutoff 2026-02-30 --config $C --local $W --lake $L',
      '--cutoff: "2026-02-30" is not allowed; allowed: a real calendar date YYYY-MM-DD from 1900 on',
    ],
    [
      'run --cutoff 2027-01-01 --config $C --local $W --lake $L',
      '--cutoff: "2027-01-01" is not allowed; allowed: a date no later than 2026-01-01 (1 January of the current year in UTC, keepYears 1)',
    ],
    [
      'status --cutoff 2025-01-01 --config $C --local $W --lake $L',
      '--cutoff: not allowed with status; allowed with: plan, run',
    ],
    [
      'stauts --config $C',
      'command: "stauts" is not allowed; allowed: plan, run, status, abort, preflight, audit, restore, repair; did you mean status?',
    ],
    [
      'run --cutof 2025-01-01 --config $C',
      "Unknown option '--cutof'; allowed: --config, --local, --lake, --stack, --region, --json, --cutoff, --summary, --deep, --year, --table, --delete-files, --accept-lost, --tables, --schema, --archive-by, --parent, --update, --force, --cluster, --workgroup, --database, --db-user, --secret-arn, --help, --version; did you mean --cutoff?",
    ],
    [
      'restore --config $C --local $W --lake $L',
      '--year: is missing; allowed: the archive year to restore, YYYY',
    ],
    [
      'restore --year 24 --config $C --local $W --lake $L',
      '--year: "24" is not allowed; allowed: the archive year to restore, YYYY',
    ],
    [
      'restore --year 2024 --table tax --config $C --local $W --lake $L',
      'table: "tax" is contabyx.tax, archived with its parent "transactions"; allowed: a root table, by its alias or as schema.name (transactions), whose children are restored with it',
    ],
    [
      'audit --year 2024 --config $C --local $W --lake $L',
      '--year: not allowed with audit; allowed with: restore',
    ],
    [
      'help stauts',
      'help: "stauts" is not a command; allowed: plan, run, status, abort, preflight, audit, restore, repair; did you mean status?',
    ],
    [
      'run --config /nonexistent/app.json --local $W --lake $L',
      '--config: cannot read "/nonexistent/app.json" (ENOENT); allowed: a readable JSON file',
    ],
  ])('fails with exit 2 for `%s`, naming the argument, and changes nothing', async (line, message) => {
    const before = snapshot();
    const args = line.split(' ').map((a) => ({ $C: CONFIG, $W: warehouse, $L: lake })[a] ?? a);
    const { code, stderr, stdout } = await cli(args);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`redshift-archive: ${message}`);
    expect(stdout).toBe('');
    expect(snapshot()).toEqual(before);
  });

  test('fails with exit 2 for a configuration that would inject SQL, and changes nothing', async () => {
    const config = join(dir, 'evil.json');
    writeFileSync(
      config,
      JSON.stringify({ ...contabyx, tables: [{ ...contabyx.tables[0], name: 'orders; DROP TABLE x' }] }),
    );
    const before = snapshot();
    const { code, stderr } = await cli(['run', '--config', config, '--local', warehouse, '--lake', lake]);
    expect(code).toBe(2);
    expect(stderr.split('\n').slice(0, 2)).toEqual([
      `redshift-archive: ${config}: invalid configuration`,
      '  tables["contabyx.orders; DROP TABLE x"].name: "orders; DROP TABLE x" is not allowed; allowed: letters, digits, _ or $, not starting with a digit, at most 127 bytes',
    ]);
    expect(snapshot()).toEqual(before);
  });
});
