import { InputError, show } from './errors';

/**
 * The cutoff of a run: rows strictly older than it are archived. It is computed once, from one
 * instant, and is from then on a plain calendar date: no statement of the run reads a clock.
 */

/** A calendar date `YYYY-MM-DD`, validated. */
export type CalendarDate = string & { readonly __calendarDate: unique symbol };

/** The run's identity and its one fixed cutoff. */
export interface RunTarget {
  /** Sortable, unique per trigger: `YYYYMMDDTHHMMSSZ` of the triggering instant. */
  readonly runId: string;
  readonly cutoff: CalendarDate;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const RUN_ID = /^\d{8}T\d{6}Z$/;

/**
 * Parses a `YYYY-MM-DD` date from input, refusing impossible dates (2026-02-30).
 * @param field - the argument or field name for the message
 */
export function parseCalendarDate(text: unknown, field: string): CalendarDate {
  const match = typeof text === 'string' ? DATE.exec(text) : null;
  if (match) {
    const [y, m, d] = match.slice(1).map(Number);
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (
      y >= 1900 &&
      probe.getUTCFullYear() === y &&
      probe.getUTCMonth() === m - 1 &&
      probe.getUTCDate() === d
    ) {
      return text as CalendarDate;
    }
  }
  throw new InputError(
    `${field}: ${show(text)} is not allowed; allowed: a real calendar date YYYY-MM-DD from 1900 on`,
  );
}

/** The calendar year of `instant` in `timeZone`. */
export function yearIn(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).formatToParts(instant);
  return Number(parts.find((p) => p.type === 'year')?.value);
}

/**
 * The default cutoff for a run triggered at `instant`: 1 January of the current year in
 * `timeZone`, minus `keepYears - 1` years.
 */
export function defaultCutoff(
  instant: Date,
  retention: { keepYears: number; timeZone: string },
): CalendarDate {
  const year = yearIn(instant, retention.timeZone) - (retention.keepYears - 1);
  return `${String(year).padStart(4, '0')}-01-01` as CalendarDate;
}

/** The run id of a trigger at `instant`: `YYYYMMDDTHHMMSSZ` (UTC). */
export function runIdAt(instant: Date): string {
  return instant
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The first run id from `runId` on, a second at a time, that `taken` says is free: a run started
 * in the second of an aborted one gets an id of its own (ids stay sortable and of one format).
 */
export function nextRunId(runId: string, taken: (id: string) => boolean): string {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(runId) ?? [];
  if (!y) throw new InputError(`run: ${show(runId)} is not allowed; allowed: a run id YYYYMMDDTHHMMSSZ`);
  let instant = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  let id = runId;
  while (taken(id)) {
    instant += 1000;
    id = runIdAt(new Date(instant));
  }
  return id;
}

/** Whether `text` is a run id (it reaches SQL, S3 keys and Glue partition values). */
export function isRunId(text: unknown): text is string {
  return typeof text === 'string' && RUN_ID.test(text);
}

/**
 * The target of a run triggered at `instant`, with an optional explicit cutoff, which may not be
 * later than the default: that would archive rows of the year that is still being written.
 * `field` names where the cutoff came from (an event's `cutoff`, the CLI's `--cutoff`).
 */
export function runTarget(
  instant: Date,
  retention: { keepYears: number; timeZone: string },
  explicitCutoff?: CalendarDate,
  field = 'cutoff',
): RunTarget {
  const latest = defaultCutoff(instant, retention);
  if (explicitCutoff !== undefined && explicitCutoff > latest) {
    throw new InputError(
      `${field}: ${show(explicitCutoff)} is not allowed; allowed: a date no later than ${latest} ` +
        `(1 January of the current year in ${retention.timeZone}, keepYears ${retention.keepYears})`,
    );
  }
  return { runId: runIdAt(instant), cutoff: explicitCutoff ?? latest };
}

/**
 * The UTC instant at which `date` begins in `timeZone`, as `YYYY-MM-DD HH:MM:SS`: the cutoff of a
 * TIMESTAMPTZ column, which holds instants, not wall-clock times.
 */
export function startOfDayUtc(date: CalendarDate, timeZone: string): string {
  const [y, m, d] = date.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d);
  // Two passes settle the offset even when the zone's offset differs on either side of midnight.
  let instant = wall - offsetMs(new Date(wall), timeZone);
  instant = wall - offsetMs(new Date(instant), timeZone);
  return new Date(instant).toISOString().slice(0, 19).replace('T', ' ');
}

function offsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}
