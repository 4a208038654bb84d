import { defaultCutoff, parseCalendarDate, runIdAt, runTarget, startOfDayUtc } from '../../src/core/cutoff';

const at = (iso: string) => new Date(iso);
const utc = { keepYears: 1, timeZone: 'UTC' };

describe('the cutoff', () => {
  test.each([
    ['2025-12-31T23:59:59.999Z', utc, '2025-01-01'],
    ['2026-01-01T00:00:00.000Z', utc, '2026-01-01'],
    // Berlin is an hour ahead: its new year starts at 23:00 UTC
    ['2025-12-31T22:59:59.999Z', { keepYears: 1, timeZone: 'Europe/Berlin' }, '2025-01-01'],
    ['2025-12-31T23:00:00.000Z', { keepYears: 1, timeZone: 'Europe/Berlin' }, '2026-01-01'],
    // Los Angeles is eight hours behind: its new year starts at 08:00 UTC
    ['2026-01-01T07:59:59.999Z', { keepYears: 1, timeZone: 'America/Los_Angeles' }, '2025-01-01'],
    ['2026-01-01T08:00:00.000Z', { keepYears: 1, timeZone: 'America/Los_Angeles' }, '2026-01-01'],
    ['2026-06-15T12:00:00.000Z', { keepYears: 3, timeZone: 'UTC' }, '2024-01-01'],
  ])('at %s with %j is %s', (instant, retention, cutoff) => {
    expect(defaultCutoff(at(instant), retention)).toBe(cutoff);
  });

  test('is fixed with the run id from one instant, so a repeated trigger computes the same run', () => {
    const instant = at('2026-01-01T00:00:07.123Z');
    expect(runTarget(instant, utc)).toEqual({ runId: '20260101T000007Z', cutoff: '2026-01-01' });
    expect(runTarget(new Date(instant.getTime()), utc)).toEqual(runTarget(instant, utc));
    expect(runIdAt(at('2031-12-05T13:14:15Z'))).toBe('20311205T131415Z');
  });

  test('takes an explicit earlier cutoff', () => {
    expect(
      runTarget(at('2026-03-01T00:00:00Z'), utc, parseCalendarDate('2024-07-01', '--cutoff')).cutoff,
    ).toBe('2024-07-01');
  });

  test('fails for an explicit cutoff after the default one, naming the setting it came from', () => {
    const late = parseCalendarDate('2026-01-02', 'cutoff');
    expect(() => runTarget(at('2026-03-01T00:00:00Z'), utc, late)).toThrow(
      'cutoff: "2026-01-02" is not allowed;',
    );
    expect(() => runTarget(at('2026-03-01T00:00:00Z'), utc, late, '--cutoff')).toThrow(
      '--cutoff: "2026-01-02" is not allowed; allowed: a date no later than 2026-01-01 (1 January of the current year in UTC, keepYears 1)',
    );
  });

  test.each(['2026-02-30', '2026-13-01', '2025-02-29', '26-01-01', '2026-1-1', '1899-12-31', 'tomorrow'])(
    'fails for the impossible date %s',
    (text) => {
      expect(() => parseCalendarDate(text, '--cutoff')).toThrow(
        `--cutoff: "${text}" is not allowed; allowed: a real calendar date YYYY-MM-DD from 1900 on`,
      );
    },
  );

  test.each([
    ['2026-01-01', 'UTC', '2026-01-01 00:00:00'],
    ['2026-01-01', 'Europe/Berlin', '2025-12-31 23:00:00'],
    ['2026-01-01', 'Asia/Kolkata', '2025-12-31 18:30:00'],
    ['2026-01-01', 'America/Los_Angeles', '2026-01-01 08:00:00'],
    ['2026-07-01', 'Europe/Berlin', '2026-06-30 22:00:00'],
  ])('%s begins in %s at %s UTC', (date, zone, instant) => {
    expect(startOfDayUtc(parseCalendarDate(date, 'd'), zone)).toBe(instant);
  });
});
