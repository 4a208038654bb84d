import { CalendarDate, defaultCutoff, startOfDayUtc } from '../../src/core/cutoff';
import { InputError, InternalError } from '../../src/core/errors';

/** The UTC cron fields of the yearly trigger. */
export interface YearlyCron {
  readonly minute: string;
  readonly hour: string;
  readonly day: string;
  readonly month: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** Years over which the zone's new-year offset must not change for the derived cron to hold. */
const CHECKED_YEARS = Array.from({ length: 10 }, (_, i) => 2027 + i);

/**
 * EventBridge cron runs in UTC. For another zone, the trigger must fire at local midnight of
 * 1 January (not before: the run would compute last year's cutoff). This derives the UTC minute,
 * hour, day and month of that instant and checks, for ten years, that a run triggered then
 * computes the new year's cutoff; zones whose new-year offset changes are refused.
 * @throws InputError naming the zone when no single cron fits
 */
export function yearlySchedule(timeZone: string): YearlyCron {
  const fields = CHECKED_YEARS.map((year) => {
    const instant = startOfDayUtc(`${year}-01-01` as CalendarDate, timeZone);
    const [date, time] = instant.split(' ');
    const [, month, day] = date.split('-');
    const [hour, minute] = time.split(':');
    const fired = new Date(`${date}T${time}Z`);
    if (defaultCutoff(fired, { keepYears: 1, timeZone }) !== `${year}-01-01`) {
      throw new InternalError(
        `retention.timeZone ${timeZone}: a trigger at ${instant} UTC would not be in ${year} there`,
      );
    }
    return {
      minute: String(Number(minute)),
      hour: String(Number(hour)),
      day: String(Number(day)),
      month: MONTHS[Number(month) - 1],
    };
  });
  const distinct = new Set(fields.map((f) => JSON.stringify(f)));
  if (distinct.size !== 1) {
    throw new InputError(
      `retention.timeZone: "${timeZone}" is not allowed; allowed: a zone whose offset at new year is the same every year ` +
        `(it changes between ${CHECKED_YEARS[0]} and ${CHECKED_YEARS[CHECKED_YEARS.length - 1]}), or UTC`,
    );
  }
  return fields[0];
}
