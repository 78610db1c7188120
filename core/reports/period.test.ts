/**
 * Periods as local midnights: month, ISO week, day and range texts, zones on both sides of UTC,
 * the daylight-saving nights (23- and 25-hour days, a zone whose DST starts at midnight), ISO
 * weeks around new year, and the refusals naming the field at fault.
 */
import { describe, expect, it } from 'vitest';
import { LedgerlineError } from '../errors/index.ts';
import { isTimeZone, localDateTime, periodDays, previousPeriod, resolvePeriod, weekStartOf, zonedTime } from './period.ts';

const iso = (p: { from: Date; to: Date }) => [p.from.toISOString(), p.to.toISOString()];

function refusal(run: () => unknown): { code: string; field: string | undefined } {
  try {
    run();
  } catch (error) {
    if (error instanceof LedgerlineError) return { code: error.code, field: error.details.field };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('resolvePeriod', () => {
  it('resolves a month to local midnights, across the autumn DST change in Berlin', () => {
    // October 2026 starts in CEST (UTC+2) and ends in CET (UTC+1): 31 days and one hour.
    expect(iso(resolvePeriod('2026-10', 'Europe/Berlin'))).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
    expect(resolvePeriod('2026-10', 'Europe/Berlin').text).toBe('2026-10');
  });

  it('resolves December into the next year and a month in UTC', () => {
    expect(iso(resolvePeriod('2026-12', 'UTC'))).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });

  it('resolves an ISO week whose Monday lies in the previous year', () => {
    // 2026-W01 runs from Monday 2025-12-29; New York is UTC−5 in winter.
    expect(iso(resolvePeriod('2026-W01', 'America/New_York'))).toEqual(['2025-12-29T05:00:00.000Z', '2026-01-05T05:00:00.000Z']);
    // 2026 starts on a Thursday, so it has 53 ISO weeks; 2027 has 52.
    expect(iso(resolvePeriod('2026-W53', 'UTC'))).toEqual(['2026-12-28T00:00:00.000Z', '2027-01-04T00:00:00.000Z']);
  });

  it('gives the spring-forward day 23 hours and the autumn day 25', () => {
    const spring = resolvePeriod('2026-03-29', 'Europe/Berlin');
    expect(iso(spring)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(spring.to.getTime() - spring.from.getTime()).toBe(23 * 3_600_000);
    const autumn = resolvePeriod('2026-11-01', 'America/New_York');
    expect(autumn.to.getTime() - autumn.from.getTime()).toBe(25 * 3_600_000);
  });

  it('starts a day at 01:00 where DST begins at midnight (Santiago skips 00:00–01:00)', () => {
    // Chile moves to UTC−3 at local midnight on 2026-09-06: that day's first local time is 01:00 (04:00Z).
    expect(iso(resolvePeriod('2026-09-06', 'America/Santiago'))).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
  });

  it('resolves inclusive day ranges east of UTC, one-day ranges included', () => {
    expect(iso(resolvePeriod('2026-10-01..2026-10-15', 'Asia/Tokyo'))).toEqual(['2026-09-30T15:00:00.000Z', '2026-10-15T15:00:00.000Z']);
    expect(iso(resolvePeriod('2026-10-05..2026-10-05', 'UTC'))).toEqual(['2026-10-05T00:00:00.000Z', '2026-10-06T00:00:00.000Z']);
    expect(iso(resolvePeriod('2024-01-01..2024-12-31', 'UTC'))).toEqual(['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
  });

  it.each([
    ['2026-13', 'period'],
    ['2026-00', 'period'],
    ['2026-02-30', 'period'],
    ['2027-W53', 'period'],
    ['2026-W00', 'period'],
    ['2026-10-15..2026-10-01', 'period'],
    ['2024-01-01..2025-01-01', 'period'],
    ['October', 'period'],
    ['2026-10-01..', 'period'],
  ])('refuses the period %s', (text, field) => {
    expect(refusal(() => resolvePeriod(text, 'UTC'))).toEqual({ code: 'LL_INVALID_INPUT', field });
  });

  it.each(['Mars/Olympus', '+01:00', '', 'Europe/Berlin; drop table'])('refuses the time zone %j', (zone) => {
    expect(refusal(() => resolvePeriod('2026-10', zone))).toEqual({ code: 'LL_INVALID_INPUT', field: 'timeZone' });
  });
});

describe('previousPeriod', () => {
  // Monday 2026-10-05 00:30 in Berlin is still Sunday 22:30 in UTC.
  const at = new Date('2026-10-04T22:30:00Z');

  it('names the last complete day in the zone, not in UTC', () => {
    expect(previousPeriod('daily', at, 'Europe/Berlin')).toBe('2026-10-04');
    expect(previousPeriod('daily', at, 'UTC')).toBe('2026-10-03');
  });

  it('names the last complete ISO week, including the week that ends a year', () => {
    expect(previousPeriod('weekly', at, 'Europe/Berlin')).toBe('2026-W40');
    expect(previousPeriod('weekly', at, 'UTC')).toBe('2026-W39');
    expect(previousPeriod('weekly', new Date('2027-01-06T12:00:00Z'), 'UTC')).toBe('2026-W53');
  });

  it('names the last complete month, December of the previous year in January', () => {
    expect(previousPeriod('monthly', new Date('2026-10-31T23:30:00Z'), 'Europe/Berlin')).toBe('2026-10');
    expect(previousPeriod('monthly', new Date('2026-10-31T23:30:00Z'), 'UTC')).toBe('2026-09');
    expect(previousPeriod('monthly', new Date('2027-01-01T08:00:00Z'), 'Asia/Tokyo')).toBe('2026-12');
  });
});

describe('local time', () => {
  it('reads the wall clock and ISO weekday in a zone', () => {
    expect(localDateTime(new Date('2026-10-04T22:30:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 10, day: 5, hour: 0, minute: 30, weekday: 1 });
    expect(localDateTime(new Date('2026-10-04T22:30:00Z'), 'America/Los_Angeles')).toEqual({ year: 2026, month: 10, day: 4, hour: 15, minute: 30, weekday: 7 });
  });

  it('inverts the wall clock, skipping forward over the spring gap and taking the first autumn 02:30', () => {
    expect(zonedTime({ year: 2026, month: 7, day: 1, hour: 9, minute: 15 }, 'Asia/Kolkata').toISOString()).toBe('2026-07-01T03:45:00.000Z');
    expect(zonedTime({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(zonedTime({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin').toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('lists the local days of a period and the Monday of a day', () => {
    expect(periodDays(resolvePeriod('2026-10-24..2026-10-26', 'Europe/Berlin'), 'Europe/Berlin')).toEqual(['2026-10-24', '2026-10-25', '2026-10-26']);
    expect(weekStartOf('2026-10-04')).toBe('2026-09-28');
    expect(weekStartOf('2026-10-05')).toBe('2026-10-05');
  });

  it('recognizes IANA zone names only', () => {
    expect([isTimeZone('UTC'), isTimeZone('Europe/Berlin'), isTimeZone('Etc/GMT+5'), isTimeZone('Nowhere/City'), isTimeZone('-05:00')]).toEqual([true, true, true, false, false]);
  });
});
