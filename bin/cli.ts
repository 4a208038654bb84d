import { parseArgs } from 'node:util';
import { ArchiveConfig, loadConfig } from '../src/config/config';
import { CalendarDate, parseCalendarDate, RunTarget, runTarget } from '../src/core/cutoff';
import { InputError, RunFailedError, show } from '../src/core/errors';
import { openLocalEngine } from '../src/engines/local/engine';
import {
  Archiver,
  PlanReport,
  ProgressEvent,
  RunBusyError,
  RunReport,
  StatusReport,
} from '../src/protocol/archive';
import type { AuditReport, RestoreReport } from '../src/protocol/archive';
import type { PreflightReport } from '../src/protocol/preflight';
import { version } from '../package.json';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The one clock read of a command: it fixes the run id and the default cutoff. */
  readonly now: () => Date;
}

const ENGINE = '--config <file> --local <warehouse.duckdb> --lake <dir>';

/** Each command: its line of usage, what it does, and the options it takes besides the engine's. */
const COMMANDS = {
  plan: {
    args: '[--cutoff YYYY-MM-DD]',
    says: 'count what a run would move and print the exact SQL; changes nothing',
  },
  run: {
    args: '[--cutoff YYYY-MM-DD]',
    says: 'archive everything older than the cutoff, or resume the unfinished run',
  },
  status: { args: '', says: 'show the ledger: runs, states, rows' },
  abort: { args: '', says: "discard an unfinished run's uncommitted batches (committed ones stay)" },
  preflight: {
    args: '',
    says: 'would the next run work? read-only checks, each with its fix (exit 1 if any fails)',
  },
  audit: {
    args: '[--deep]',
    says: 'is every archived batch still in the lake and the catalog as the ledger recorded it? (exit 3 if not); --deep also reads each back',
  },
  restore: {
    args: '--year YYYY [--table <root table>] [--delete-files]',
    says: "put a year's archived rows back into the hot tables (children move with their parents); files stay unless --delete-files",
  },
} as const;
type Command = keyof typeof COMMANDS;
const COMMAND_NAMES = Object.keys(COMMANDS) as Command[];
const isCommand = (name: string | undefined): name is Command => COMMAND_NAMES.includes(name as Command);

/** The options each command takes, besides --config, --local, --lake and --json. */
const OPTIONS_OF: Record<string, readonly Command[]> = {
  cutoff: ['plan', 'run'],
  deep: ['audit'],
  year: ['restore'],
  table: ['restore'],
  'delete-files': ['restore'],
};
const ALL_OPTIONS = ['config', 'local', 'lake', 'json', ...Object.keys(OPTIONS_OF), 'help', 'version'];

const EXIT_CODES =
  'exit codes: 0 done or nothing to do, 1 the run failed (data safe) or a preflight check failed, 2 bad input, 3 the audit found damage';

/** The usage of every command, or of one. */
export function usage(command?: Command): string {
  const lines = (c: Command) =>
    `redshift-archive ${c} ${ENGINE}${COMMANDS[c].args ? ` ${COMMANDS[c].args}` : ''} [--json]\n  ${COMMANDS[c].says}`;
  if (command) return `usage: ${lines(command)}\n${EXIT_CODES}`;
  return [
    'usage: redshift-archive <command> --config <file> --local <warehouse.duckdb> --lake <dir> [options] [--json]',
    ...COMMAND_NAMES.map((c) => `  ${c.padEnd(10)} ${COMMANDS[c].says}`),
    'redshift-archive help <command> | --help | --version',
    EXIT_CODES,
  ].join('\n');
}

/** The closest of `names` to `typed`, when it is close enough to be a typo. */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++)
        next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length];
  };
  const [best] = names
    .map((name) => ({ name, d: distance(typed.toLowerCase(), name) }))
    .sort((x, y) => x.d - y.d);
  return best && best.d <= Math.max(1, Math.floor(typed.length / 3)) ? best.name : undefined;
}

const suggest = (typed: string, names: readonly string[], prefix = '') => {
  const near = nearest(typed, names);
  return near ? `; did you mean ${prefix}${near}?` : '';
};

interface Args {
  command: Command;
  config: ArchiveConfig;
  local: string;
  lake: string;
  cutoff?: CalendarDate;
  json: boolean;
  deep: boolean;
  year?: number;
  table?: string;
  deleteFiles: boolean;
}

/** What the command line asks for: a command to run, or text to print (help, version). */
type Parsed = { readonly args: Args } | { readonly print: string };

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        local: { type: 'string' },
        lake: { type: 'string' },
        cutoff: { type: 'string' },
        json: { type: 'boolean', default: false },
        deep: { type: 'boolean', default: false },
        year: { type: 'string' },
        table: { type: 'string' },
        'delete-files': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    const text = (error as Error).message;
    const option = /option '(-{1,2}[^' ]+)'/.exec(text)?.[1] ?? '';
    const hint = option.startsWith('--') ? suggest(option.slice(2), ALL_OPTIONS, '--') : '';
    throw new InputError(
      `${text.split('. ')[0]}; allowed: ${ALL_OPTIONS.map((o) => `--${o}`).join(', ')}${hint}`,
    );
  }
}

function parse(argv: readonly string[], version: string): Parsed {
  const { positionals, values } = parseOptions(argv);
  if (values.version) return { print: `redshift-archive ${version}` };
  const [first, second] = positionals;
  if (first === 'help' || values.help) {
    const named = first === 'help' ? second : first;
    if (named !== undefined && !isCommand(named)) {
      throw new InputError(
        `help: ${show(named)} is not a command; allowed: ${COMMAND_NAMES.join(', ')}${suggest(named, COMMAND_NAMES)}`,
      );
    }
    return { print: usage(named as Command | undefined) };
  }
  if (!isCommand(first) || positionals.length > 1) {
    throw new InputError(
      `command: ${show(positionals.join(' ') || undefined)} is not allowed; allowed: ${COMMAND_NAMES.join(', ')}` +
        (first && positionals.length === 1 ? suggest(first, COMMAND_NAMES) : ''),
    );
  }
  const command = first;
  for (const [option, commands] of Object.entries(OPTIONS_OF)) {
    const value = values[option as keyof typeof values];
    if (value !== undefined && value !== false && !commands.includes(command)) {
      throw new InputError(`--${option}: not allowed with ${command}; allowed with: ${commands.join(', ')}`);
    }
  }
  for (const name of ['config', 'local', 'lake'] as const) {
    if (!values[name]) {
      const why =
        name === 'config'
          ? 'a JSON configuration file'
          : 'a path (the AWS mode is not in this release: --local and --lake select the embedded engine)';
      throw new InputError(`--${name}: is missing; allowed: ${why}`);
    }
  }
  if (command === 'restore' && (values.year === undefined || !/^\d{4}$/.test(values.year))) {
    throw new InputError(
      `--year: ${show(values.year)} is not allowed; allowed: the archive year to restore, YYYY`,
    );
  }
  return {
    args: {
      command,
      config: loadConfig(values.config as string, '--config'),
      local: values.local as string,
      lake: values.lake as string,
      ...(values.cutoff === undefined ? {} : { cutoff: parseCalendarDate(values.cutoff, '--cutoff') }),
      json: values.json ?? false,
      deep: values.deep ?? false,
      ...(values.year === undefined ? {} : { year: Number(values.year) }),
      ...(values.table === undefined ? {} : { table: values.table }),
      deleteFiles: values['delete-files'] ?? false,
    },
  };
}

const number = (n: number) => n.toLocaleString('en-US');

function progressLine(event: ProgressEvent): string {
  const figures = [
    event.rows === undefined ? '' : `${number(event.rows)} rows`,
    event.files === undefined ? '' : `${number(event.files)} files`,
    event.bytes === undefined ? '' : `${number(event.bytes)} bytes`,
  ].filter(Boolean);
  const where = `${event.table ?? ''} ${event.year ?? ''}`.trim();
  return `[${event.phase.padEnd(6)}] ${where.padEnd(18)} ${event.message}${figures.length ? ` (${figures.join(', ')})` : ''}`;
}

/** Renders rows as an aligned text table; numbers right-aligned. */
export function textTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? number(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[], raw?: (string | number)[]) =>
    r
      .map((c, i) => (typeof raw?.[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(cells[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map((r, i) => line(r, rows[i])),
  ].join('\n');
}

function renderPlan(plan: PlanReport): string {
  const rows = plan.tables.flatMap((t) => t.years.map((y) => [t.table, String(y.year), y.rows]));
  const nulls = plan.tables
    .filter((t) => t.nullRows)
    .map((t) => `${t.table}: ${number(t.nullRows ?? 0)} rows with a NULL archive column stay hot`);
  const sql = plan.statements.map(
    (s) =>
      `-- ${s.phase}${s.batch ? ` ${s.batch}` : ''}${s.transactional ? ' (one transaction)' : ''}\n${s.sql.map((q) => `${q};`).join('\n')}`,
  );
  return [
    renderPreflight(plan.preflight),
    '',
    `plan for run ${plan.runId}: rows older than ${plan.cutoff}, ${plan.batches.length} batches (one per family and year, oldest first)`,
    plan.activeRun
      ? `note: run ${plan.activeRun} is unfinished; \`run\` resumes it instead of starting this one`
      : '',
    textTable(['table', 'year', 'rows'], rows.length ? rows : [['(none)', '', 0]]),
    `total: ${number(plan.rows)} rows`,
    ...nulls,
    '',
    '-- the commit of each batch compares the hot rows with the figures read back from the lake (:archived_rows, :archived_checksum)',
    ...sql,
  ]
    .filter((l, i, all) => l !== '' || all[i - 1] !== '')
    .join('\n');
}

function renderRun(report: RunReport): string {
  const headline: Record<RunReport['outcome'], string> = {
    finished: `run ${report.runId} ${report.resumed ? 'resumed and ' : ''}finished: cutoff ${report.cutoff}, ${report.batches} batches`,
    'nothing-to-do': `nothing to do: no rows older than ${report.cutoff}`,
    'already-done': `run ${report.runId} is already ${report.state}; nothing changed`,
  };
  const rows = report.tables.flatMap((t) =>
    t.years.length
      ? t.years.map((y) => [
          t.table,
          String(y.year),
          y.rows,
          y.files,
          y.bytes,
          y.attempts,
          y.committed ? 'yes' : 'no',
        ])
      : [[t.table, '-', 0, 0, 0, 0, '-']],
  );
  return [
    headline[report.outcome],
    textTable(
      ['table', 'year', 'rows', 'files', 'bytes', 'exports', 'committed'],
      rows as (string | number)[][],
    ),
    `total: ${number(report.rows)} rows, ${number(report.files)} files, ${number(report.bytes)} bytes`,
    ...report.warnings.map((w) => `warning: ${w}`),
    report.reportLocation ? `report: ${report.reportLocation}` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function renderPreflight(report: PreflightReport): string {
  return [
    report.ok
      ? 'preflight: every check passed'
      : 'preflight: some checks failed; the next run would not work as it is',
    ...report.checks.map(
      (c) =>
        `${c.skipped ? 'skip' : c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ''}`,
    ),
  ].join('\n');
}

function renderStatus(status: StatusReport): string {
  const rows = status.runs.map((r) => [
    r.runId,
    r.cutoff,
    r.state,
    `${r.committed}/${r.batches}`,
    r.rows,
    r.error ?? '',
  ]);
  return [
    status.active ? `unfinished run: ${status.active.runId} (${status.active.state})` : 'no unfinished run',
    textTable(
      ['run', 'cutoff', 'state', 'batches', 'rows', 'last error'],
      rows.length ? rows : [['(none)', '', '', '', 0, '']],
    ),
  ].join('\n');
}

/** What a command prints (as JSON with `--json`) and its exit code. */
interface Outcome {
  readonly result: unknown;
  readonly text: string;
  readonly code: 0 | 1 | 3;
}

/** Each command on the protocol; plan and run are given the run's target. */
const COMMAND_RUNNERS: Record<
  Command,
  (archiver: Archiver, target: RunTarget | undefined, args: Args, instant: Date) => Promise<Outcome>
> = {
  async plan(archiver, target) {
    const plan = await archiver.plan(target as RunTarget);
    return { result: plan, text: renderPlan(plan), code: 0 };
  },
  async run(archiver, target) {
    const report = await archiver.run(target as RunTarget);
    return { result: report, text: renderRun(report), code: 0 };
  },
  async status(archiver) {
    const status = await archiver.status();
    return { result: status, text: renderStatus(status), code: 0 };
  },
  async preflight(archiver) {
    const report = await archiver.preflight();
    return { result: report, text: renderPreflight(report), code: report.ok ? 0 : 1 };
  },
  async abort(archiver) {
    const aborted = await archiver.abort();
    const text = aborted
      ? `run ${aborted.runId} aborted: its uncommitted batches are discarded, their rows were never deleted`
      : 'nothing to abort';
    return { result: { aborted: aborted ?? null }, text, code: 0 };
  },
  async audit(archiver, _target, args) {
    const report = await archiver.audit(args.deep);
    return { result: report, text: renderAudit(report), code: report.ok ? 0 : 3 };
  },
  async restore(archiver, _target, args, instant) {
    const report = await archiver.restore({
      year: args.year as number,
      deleteFiles: args.deleteFiles,
      restoreId: `R${instant.toISOString().replace(/\D/g, '').slice(0, 14)}`,
      ...(args.table === undefined ? {} : { table: args.table }),
    });
    return { result: report, text: renderRestore(report), code: 0 };
  },
};

function renderAudit(report: AuditReport): string {
  const damaged = report.batches.filter((b) => b.problems.length > 0);
  const rows = report.batches.map((b) => [
    b.table,
    String(b.year),
    b.runId,
    b.rows,
    b.files,
    b.bytes,
    b.problems.length ? 'DAMAGED' : 'ok',
  ]);
  return [
    textTable(
      ['table', 'year', 'run', 'rows', 'files', 'bytes', 'state'],
      rows.length ? rows : [['(none)', '', '', 0, 0, 0, '']],
    ),
    ...damaged.flatMap((b) => b.problems.map((p) => `DAMAGED ${b.table} ${b.year} (run ${b.runId}): ${p}`)),
    report.ok
      ? `audit${report.deep ? ' --deep' : ''}: ${report.batches.length} batches intact`
      : `audit${report.deep ? ' --deep' : ''}: ${damaged.length} of ${report.batches.length} batches damaged; the ledger and the run reports say what they held`,
  ].join('\n');
}

function renderRestore(report: RestoreReport): string {
  const rows = report.tables.map((t) => [t.table, t.runs.join(', '), t.rows]);
  return [
    report.tables.length
      ? `restored ${report.year}: ${number(report.rows)} rows are hot again; the union views return the same rows`
      : `nothing to restore for ${report.year}: no committed batch of that year is in the lake`,
    ...(rows.length ? [textTable(['table', 'runs', 'rows'], rows)] : []),
    `${report.partitionsRemoved} partitions left the catalog; files ${report.filesDeleted ? 'deleted' : 'kept in the lake'}`,
  ].join('\n');
}

/**
 * Runs one command. Never throws: every outcome is an exit code.
 * @returns 0 done or nothing to do, 1 the run failed (data safe) or a check failed, 2 bad input,
 * 3 the audit found damage
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let args: Args;
  try {
    const parsed = parse(argv, version);
    if ('print' in parsed) {
      io.stdout(parsed.print);
      return 0;
    }
    args = parsed.args;
  } catch (error) {
    io.stderr(`redshift-archive: ${(error as Error).message}\nredshift-archive --help shows the usage`);
    return error instanceof InputError ? 2 : 1;
  }
  const instant = io.now();
  let engine;
  try {
    const target =
      args.command === 'plan' || args.command === 'run'
        ? runTarget(instant, args.config.retention, args.cutoff, '--cutoff')
        : undefined;
    engine = await openLocalEngine({
      config: args.config,
      warehousePath: args.local,
      lakeRoot: args.lake,
      progress: (event) => io.stderr(progressLine(event)),
    });
    const archiver = new Archiver(engine);
    // Preflight and audit read only, and restore changes only what it restores; every other command
    // first makes the ledger and views what they should be.
    if (!['preflight', 'audit', 'restore'].includes(args.command)) await archiver.setup();
    const outcome = await COMMAND_RUNNERS[args.command](archiver, target, args, instant);
    io.stdout(args.json ? JSON.stringify(outcome.result) : outcome.text);
    return outcome.code;
  } catch (error) {
    const code = error instanceof InputError ? 2 : 1;
    const busy = error instanceof RunBusyError;
    if (args.json)
      io.stdout(
        JSON.stringify({
          error: (error as Error).message,
          exitCode: code,
          ...(busy ? { activeRun: error.active } : {}),
        }),
      );
    io.stderr(`redshift-archive: ${(error as Error).message}`);
    if (!(error instanceof InputError || error instanceof RunFailedError)) {
      io.stderr('The data is safe: every step that deletes is a transaction that follows a verified copy.');
    }
    return code;
  } finally {
    engine?.close();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    now: () => new Date(),
  }).then((code) => {
    process.exitCode = code;
  });
}
