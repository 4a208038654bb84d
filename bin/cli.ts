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
import type { PreflightReport } from '../src/protocol/preflight';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The one clock read of a command: it fixes the run id and the default cutoff. */
  readonly now: () => Date;
}

const USAGE = `usage: redshift-archive <plan|run|status|abort> --config <file> --local <warehouse.duckdb> --lake <dir>
                       [--cutoff YYYY-MM-DD] [--json]
  plan    count what a run would move and print the exact SQL; changes nothing
  run     archive everything older than the cutoff, or resume the unfinished run
  status  show the ledger: runs, states, rows
  abort   discard an unfinished run's uncommitted batches (committed ones stay)
  preflight  would the next run work? read-only checks, each with its fix (exit 1 if any fails)
exit codes: 0 done or nothing to do, 1 the run failed (data safe), 2 bad input`;

const COMMANDS = ['plan', 'run', 'status', 'abort', 'preflight'] as const;
type Command = (typeof COMMANDS)[number];

interface Args {
  command: Command;
  config: ArchiveConfig;
  local: string;
  lake: string;
  cutoff?: CalendarDate;
  json: boolean;
}

function parse(argv: readonly string[]): Args {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        local: { type: 'string' },
        lake: { type: 'string' },
        cutoff: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new InputError(
      `${(error as Error).message.split('. ')[0]}; allowed: --config, --local, --lake, --cutoff, --json`,
    );
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  if (!COMMANDS.includes(command as Command) || positionals.length > 1) {
    throw new InputError(
      `command: ${show(positionals.join(' ') || undefined)} is not allowed; allowed: ${COMMANDS.join(', ')}`,
    );
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
  if (values.cutoff !== undefined && command !== 'plan' && command !== 'run') {
    throw new InputError(`--cutoff: not allowed with ${command}; allowed with: plan, run`);
  }
  return {
    command: command as Command,
    config: loadConfig(values.config as string, '--config'),
    local: values.local as string,
    lake: values.lake as string,
    ...(values.cutoff === undefined ? {} : { cutoff: parseCalendarDate(values.cutoff, '--cutoff') }),
    json: values.json ?? false,
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
      (c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ''}`,
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
  readonly code: 0 | 1;
}

/** Each command on the protocol; plan and run are given the run's target. */
const COMMAND_RUNNERS: Record<Command, (archiver: Archiver, target?: RunTarget) => Promise<Outcome>> = {
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
};

/**
 * Runs one command. Never throws: every outcome is an exit code.
 * @returns 0 done or nothing to do, 1 the run failed (data safe), 2 bad input
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let args: Args;
  try {
    args = parse(argv);
  } catch (error) {
    io.stderr(`redshift-archive: ${(error as Error).message}\n${USAGE}`);
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
    // preflight reads only; every other command first makes the ledger and views what they should be
    if (args.command !== 'preflight') await archiver.setup();
    const outcome = await COMMAND_RUNNERS[args.command](archiver, target);
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
