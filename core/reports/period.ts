/**
 * Report periods in the reader's time zone: a month (`2026-10`), an ISO week (`2026-W40`), a day
 * (`2026-10-05`) or inclusive days (`2026-10-01..2026-10-15`). Boundaries are local midnights,
 * computed with Intl (the zone's own rules, daylight saving included); `to` is exclusive, so a
 * period that crosses a DST change is 23 or 25 hours longer or shorter than its days suggest.
 */
import { LedgerlineError } from '../errors/index.ts';
import { PeriodText } from './report-model.ts';

export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  readonly weekday: number;
}

export interface ResolvedPeriod {
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  readonly text: string;
}

interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const dayMs = 86_400_000;
const maxRangeDays = 366;
// IANA names only: Intl also accepts offsets such as "+01:00", which PostgreSQL reads with the opposite sign.
const zoneNamePattern = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isTimeZone(name: string): boolean {
  if (!zoneNamePattern.test(name)) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

function requireTimeZone(timeZone: string): void {
  if (!isTimeZone(timeZone)) throw new LedgerlineError('LL_INVALID_INPUT', `'${timeZone}' is not an IANA time zone (for example Europe/Berlin)`, { details: { field: 'timeZone' } });
}

/** The wall-clock time in a zone, to the second, as milliseconds of the same reading in UTC. */
function wallClockMs(at: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
}

/** How far the zone's clocks are ahead of UTC at an instant (whole seconds: historical offsets have them). */
function offsetMs(at: number, timeZone: string): number {
  const wholeSecond = Math.floor(at / 1000) * 1000;
  return wallClockMs(wholeSecond, timeZone) - wholeSecond;
}

export function localDateTime(at: Date, timeZone: string): LocalDateTime {
  requireTimeZone(timeZone);
  const wall = new Date(wallClockMs(at.getTime(), timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate(), hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), weekday: isoWeekday(wall) };
}

/**
 * The instant a zone's clocks show a wall time. A time skipped by a DST change resolves to the
 * same distance after the change (02:30 on a spring-forward night is 03:30); a time shown twice
 * (the autumn hour) resolves to its first occurrence.
 */
export function zonedTime(parts: { readonly year: number; readonly month: number; readonly day: number; readonly hour: number; readonly minute: number }, timeZone: string): Date {
  requireTimeZone(timeZone);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  // At most one offset change lies within a day of any wall time, in every zone of the IANA database.
  const before = offsetMs(wall - dayMs, timeZone);
  const after = offsetMs(wall + dayMs, timeZone);
  const candidates = [wall - before, wall - after].filter((at) => wallClockMs(at, timeZone) === wall).sort((a, b) => a - b);
  return new Date(candidates[0] ?? wall - before);
}

function isoWeekday(date: Date): number {
  return ((date.getUTCDay() + 6) % 7) + 1;
}

const civil = (ms: number): CivilDate => {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
};
const civilMs = (date: CivilDate): number => Date.UTC(date.year, date.month - 1, date.day);
const addDays = (date: CivilDate, days: number): CivilDate => civil(civilMs(date) + days * dayMs);
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const dayText = (date: CivilDate): string => `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;

/** The Monday that starts ISO week `week` of `year` (week 1 holds the year's first Thursday). */
function isoWeekMonday(year: number, week: number): CivilDate {
  const january4 = Date.UTC(year, 0, 4);
  return civil(january4 - (isoWeekday(new Date(january4)) - 1) * dayMs + (week - 1) * 7 * dayMs);
}

function isoWeekOf(date: CivilDate): { year: number; week: number } {
  const thursday = addDays(date, 4 - isoWeekday(new Date(civilMs(date))));
  return { year: thursday.year, week: Math.floor((civilMs(thursday) - Date.UTC(thursday.year, 0, 1)) / (7 * dayMs)) + 1 };
}

function invalidPeriod(text: string, why: string): LedgerlineError {
  return new LedgerlineError('LL_INVALID_INPUT', `period '${text}': ${why}`, { details: { field: 'period' } });
}

function parseDay(text: string, whole: string): CivilDate {
  const [year, month, day] = text.split('-').map(Number) as [number, number, number];
  const date = civil(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over into March: a day that does not round-trip does not exist.
  if (date.year !== year || date.month !== month || date.day !== day || year < 1) throw invalidPeriod(whole, `${text} is not a calendar day`);
  return date;
}

const midnight = (date: CivilDate, timeZone: string): Date => zonedTime({ ...date, hour: 0, minute: 0 }, timeZone);

export function resolvePeriod(text: string, timeZone: string): ResolvedPeriod {
  requireTimeZone(timeZone);
  if (!PeriodText.safeParse(text).success) throw invalidPeriod(text, 'expected 2026-10, 2026-W40, 2026-10-05 or 2026-10-01..2026-10-15');
  let first: CivilDate;
  let next: CivilDate;
  const week = /^(\d{4})-W(\d{2})$/.exec(text);
  if (week) {
    const [year, number] = [Number(week[1]), Number(week[2])];
    const monday = isoWeekMonday(year, number);
    if (number < 1 || isoWeekOf(monday).year !== year) throw invalidPeriod(text, `${year} has no ISO week ${number}`);
    first = monday;
    next = addDays(monday, 7);
  } else if (/^\d{4}-\d{2}$/.test(text)) {
    const [year, month] = text.split('-').map(Number) as [number, number];
    if (month < 1 || month > 12 || year < 1) throw invalidPeriod(text, 'no such month');
    first = { year, month, day: 1 };
    next = month === 12 ? { year: year + 1, month: 1, day: 1 } : { year, month: month + 1, day: 1 };
  } else {
    const [start, end = start] = text.split('..') as [string, string?];
    first = parseDay(start, text);
    const last = parseDay(end, text);
    const days = (civilMs(last) - civilMs(first)) / dayMs + 1;
    if (days < 1) throw invalidPeriod(text, 'the range ends before it starts');
    if (days > maxRangeDays) throw invalidPeriod(text, `a range covers at most ${maxRangeDays} days`);
    next = addDays(last, 1);
  }
  return { from: midnight(first, timeZone), to: midnight(next, timeZone), text };
}

/** The last complete day, ISO week or month before `at`, in the zone, as period text. */
export function previousPeriod(cadence: 'daily' | 'weekly' | 'monthly', at: Date, timeZone: string): string {
  const local = localDateTime(at, timeZone);
  const today: CivilDate = { year: local.year, month: local.month, day: local.day };
  if (cadence === 'daily') return dayText(addDays(today, -1));
  if (cadence === 'weekly') {
    const { year, week } = isoWeekOf(addDays(today, -7));
    return `${pad(year, 4)}-W${pad(week)}`;
  }
  return local.month === 1 ? `${pad(local.year - 1, 4)}-12` : `${pad(local.year, 4)}-${pad(local.month - 1)}`;
}

/** The local calendar days a period covers, as `YYYY-MM-DD` (for zero-filled day charts). */
export function periodDays(period: { readonly from: Date; readonly to: Date }, timeZone: string): string[] {
  const start = localDateTime(period.from, timeZone);
  const days: string[] = [];
  for (let date: CivilDate = start; midnight(date, timeZone) < period.to && days.length <= maxRangeDays; date = addDays(date, 1)) days.push(dayText(date));
  return days;
}

/** The Monday (`YYYY-MM-DD`) of the ISO week a local day falls in. */
export function weekStartOf(day: string): string {
  const date = parseDay(day, day);
  return dayText(addDays(date, 1 - isoWeekday(new Date(civilMs(date)))));
}
