import type {
  AuditReport,
  LostBatch,
  PlanReport,
  ProgressEvent,
  RepairReport,
  RestoreReport,
  RunReport,
  StatusReport,
} from '../protocol/archive';
import type { PreflightReport } from '../protocol/preflight';

// What the command line prints, on either engine.

/** What a command prints (as JSON with `--json`) and its exit code. */
export interface CommandOutcome {
  readonly result: unknown;
  readonly text: string;
  readonly code: 0 | 1 | 3;
}

/** A count as people read it (1,234). */
const number = (n: number) => n.toLocaleString('en-US');

/** One line of progress on standard error. */
export function progressLine(event: ProgressEvent): string {
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

/** What `plan` prints. */
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
    ...plan.tables
      .filter((t) => t.lateChildren)
      .map(
        (t) =>
          `${t.table}: ${number(t.lateChildren ?? 0)} child rows whose parents are archived stay hot (a child moves only with a hot parent)`,
      ),
    '',
    '-- the commit of each batch compares the hot rows with the figures read back from the lake (:archived_rows, :archived_checksum)',
    ...sql,
  ]
    .filter((l, i, all) => l !== '' || all[i - 1] !== '')
    .join('\n');
}

/** What `run` prints. */
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

/** What `preflight` prints. */
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

/** The batches recorded lost, one line each. */
const lostLines = (lost: readonly LostBatch[] = []) =>
  lost.map((b) => `LOST ${b.table} ${b.year} (run ${b.runId}): ${number(b.rows)} rows; ${b.reason}`);

/** What `status` prints. */
function renderStatus(status: StatusReport): string {
  if (status.notSetUp !== undefined)
    return status.setUpBy === 'deployment'
      ? `no runs yet: schema ${status.notSetUp} holds no ledger; the stack's deployment creates it (its setup custom ` +
          'resource): deploy the stack with this configuration'
      : `no runs yet: the first \`run\` creates the ledger (schema ${status.notSetUp})`;
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
    ...lostLines(status.lost),
  ].join('\n');
}

/** What `audit` prints. */
function renderAudit(report: AuditReport): string {
  if (report.batches.length === 0) return `audit${report.deep ? ' --deep' : ''}: no archived batch yet`;
  const damaged = report.batches.filter((b) => b.problems.length > 0);
  const lost = report.batches.filter((b) => b.lost !== undefined);
  const intact = report.batches.length - damaged.length - lost.length;
  const rows = report.batches.map((b) => [
    b.table,
    String(b.year),
    b.runId,
    b.rows,
    b.files,
    b.bytes,
    b.problems.length ? 'DAMAGED' : b.lost !== undefined ? 'LOST' : 'ok',
  ]);
  const recorded = lost.length ? `; ${lost.length} recorded lost` : '';
  return [
    textTable(
      ['table', 'year', 'run', 'rows', 'files', 'bytes', 'state'],
      rows.length ? rows : [['(none)', '', '', 0, 0, 0, '']],
    ),
    ...damaged.flatMap((b) => b.problems.map((p) => `DAMAGED ${b.table} ${b.year} (run ${b.runId}): ${p}`)),
    ...lostLines(lost.map((b) => ({ ...b, reason: b.lost as string }))),
    report.ok
      ? `audit${report.deep ? ' --deep' : ''}: ${intact} batches intact${recorded}`
      : `audit${report.deep ? ' --deep' : ''}: ${damaged.length} of ${report.batches.length - lost.length} batches damaged${recorded}; ` +
        'the ledger and the run reports say what they held',
  ].join('\n');
}

/** What `restore` prints. */
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

/** What each command prints, with its exit code, from its report: the same on either engine. */
export const printed = {
  plan: (plan: PlanReport): CommandOutcome => ({ result: plan, text: renderPlan(plan), code: 0 }),
  run: (report: RunReport): CommandOutcome => ({ result: report, text: renderRun(report), code: 0 }),
  status: (status: StatusReport): CommandOutcome => ({ result: status, text: renderStatus(status), code: 0 }),
  preflight: (report: PreflightReport): CommandOutcome => ({
    result: report,
    text: renderPreflight(report),
    code: report.ok ? 0 : 1,
  }),
  audit: (report: AuditReport): CommandOutcome => ({
    result: report,
    text: renderAudit(report),
    code: report.ok ? 0 : 3,
  }),
  restore: (report: RestoreReport): CommandOutcome => ({
    result: report,
    text: renderRestore(report),
    code: 0,
  }),
  repair: (report: RepairReport): CommandOutcome => ({
    result: report,
    text: [
      `repair: ${report.registered} partitions of committed batches registered again from the ledger; ` +
        `${report.removed} stray partitions removed`,
      ...(report.lost.length
        ? [
            `recorded lost: ${report.lost.length} batches, ${number(report.lost.reduce((sum, b) => sum + b.rows, 0))} rows; ` +
              'the views and the catalog no longer read them',
            ...lostLines(report.lost),
          ]
        : []),
    ].join('\n'),
    code: 0,
  }),
  aborted: (runId: string | null): CommandOutcome => ({
    result: { aborted: runId },
    text: runId
      ? `run ${runId} aborted: its uncommitted batches are discarded, their rows were never deleted`
      : 'nothing to abort',
    code: 0,
  }),
};
