/**
 * When a schedule runs next: its local time on the next matching day (every day, its weekday, or
 * its day of the month) in its own time zone, resolved with the zone's rules — so 06:00 in
 * Europe/Berlin stays 06:00 on both sides of a daylight-saving change, and a local time the change
 * skips runs as soon after it as the clocks allow (see zonedTime).
 */
import { LedgerlineError } from '../../errors/index.ts';
import { zonedTime } from '../period.ts';

export type Cadence = 'daily' | 'weekly' | 'monthly';

export interface ScheduleSlot {
  readonly cadence: Cadence;
  readonly timeZone: string;
  /** `HH:MM`, 24-hour. */
  readonly localTime: string;
  /** ISO weekday, 1 = Monday (weekly). */
  readonly weekday: number | null;
  /** 1–28, so every month has it (monthly). */
  readonly dayOfMonth: number | null;
}

const dayMs = 86_400_000;
// A monthly slot lies at most 31 days ahead; a margin covers the day the search starts on.
const searchDays = 33;

function matches(slot: ScheduleSlot, civil: Date): boolean {
  if (slot.cadence === 'daily') return true;
  if (slot.cadence === 'weekly') return ((civil.getUTCDay() + 6) % 7) + 1 === slot.weekday;
  return civil.getUTCDate() === slot.dayOfMonth;
}

/** The first slot strictly after `after`. */
export function nextRunAt(slot: ScheduleSlot, after: Date): Date {
  const [hour, minute] = slot.localTime.split(':').map(Number) as [number, number];
  // Start a day early: the zone's local date may still be the previous day in UTC terms.
  const start = Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate()) - dayMs;
  for (let i = 0; i <= searchDays; i += 1) {
    const civil = new Date(start + i * dayMs);
    if (!matches(slot, civil)) continue;
    const at = zonedTime({ year: civil.getUTCFullYear(), month: civil.getUTCMonth() + 1, day: civil.getUTCDate(), hour, minute }, slot.timeZone);
    if (at > after) return at;
  }
  throw new LedgerlineError('LL_INTERNAL', `no ${slot.cadence} slot within ${searchDays} days of ${after.toISOString()}`);
}
