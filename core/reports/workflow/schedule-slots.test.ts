import { describe, expect, it } from 'vitest';
import { nextRunAt, type ScheduleSlot } from './schedule-slots.ts';

const slot = (s: Partial<ScheduleSlot>): ScheduleSlot => ({ cadence: 'daily', timeZone: 'Europe/Berlin', localTime: '06:00', weekday: null, dayOfMonth: null, ...s });
const next = (s: Partial<ScheduleSlot>, after: string) => nextRunAt(slot(s), new Date(after)).toISOString();

describe('schedule slots', () => {
  it('keeps a daily 06:00 in Europe/Berlin at 06:00 local across the spring and autumn changes', () => {
    // 2026-03-29 02:00 CET → 03:00 CEST; 2026-10-25 03:00 CEST → 02:00 CET.
    expect(next({}, '2026-03-28T05:00:00.000Z')).toBe('2026-03-29T04:00:00.000Z');
    expect(next({}, '2026-03-29T04:00:00.000Z')).toBe('2026-03-30T04:00:00.000Z');
    expect(next({}, '2026-10-24T04:00:00.000Z')).toBe('2026-10-25T05:00:00.000Z');
  });

  it('runs a local time the spring change skips as soon after it as the clocks allow', () => {
    expect(next({ localTime: '02:30' }, '2026-03-28T12:00:00.000Z')).toBe('2026-03-29T01:30:00.000Z');
  });

  it('is strictly after the given instant, so a run never repeats its own slot', () => {
    expect(next({}, '2026-03-28T04:59:59.999Z')).toBe('2026-03-28T05:00:00.000Z');
    expect(next({}, '2026-03-28T05:00:00.000Z')).toBe('2026-03-29T04:00:00.000Z');
  });

  it('finds the weekday of a weekly slot and the day of a monthly one', () => {
    // 2026-11-04 is a Wednesday; the next Monday is the 9th.
    expect(next({ cadence: 'weekly', weekday: 1, localTime: '09:30', timeZone: 'UTC' }, '2026-11-04T12:00:00.000Z')).toBe('2026-11-09T09:30:00.000Z');
    expect(next({ cadence: 'monthly', dayOfMonth: 1 }, '2026-10-15T00:00:00.000Z')).toBe('2026-11-01T05:00:00.000Z');
    expect(next({ cadence: 'monthly', dayOfMonth: 28 }, '2027-01-28T05:00:00.000Z')).toBe('2027-02-28T05:00:00.000Z');
  });

  it('reads the local date in zones far from UTC', () => {
    // 23:00 on 1 January in Kiritimati (UTC+14) is 09:00 UTC the same day.
    expect(next({ timeZone: 'Pacific/Kiritimati', localTime: '00:30' }, '2026-01-01T09:00:00.000Z')).toBe('2026-01-01T10:30:00.000Z');
    expect(next({ timeZone: 'Pacific/Pago_Pago', localTime: '23:30' }, '2026-01-02T09:00:00.000Z')).toBe('2026-01-02T10:30:00.000Z');
  });
});
