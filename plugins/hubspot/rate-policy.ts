/**
 * HubSpot's budgets (https://developers.hubspot.com/docs/api/usage-details): marketplace apps get
 * 110 requests per rolling 10 s per installing account; CRM search has its own 5 requests/s, is
 * not counted in the 110, and sends no rate headers. Other responses carry X-HubSpot-RateLimit-Max
 * / -Remaining / -Interval-Milliseconds. A 429 has no Retry-After; its JSON body names the policy
 * that refused: TEN_SECONDLY_ROLLING, or DAILY (reset at midnight in the account's time zone).
 */
import { z } from 'zod';
import { defineRatePolicy, numericHeader, type Clock, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';

const rollingWindowMs = 10_000;
const searchWindowMs = 1_000;

/** `POST /crm/v3/objects/{objectType}/search`: the only calls outside the 110 / 10 s budget. */
export const isHubspotSearch = (request: { url: URL }): boolean => /^\/crm\/v3\/objects\/[^/]+\/search\/?$/.test(request.url.pathname);

const RateLimitBody = z.object({ errorType: z.string().nullish(), policyName: z.string().nullish() }).loose();

function wallClock(format: Intl.DateTimeFormat, at: number) {
  const parts = format.formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? Number.NaN);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch (error) {
    throw new LedgerlineError('LL_INVALID_INPUT', `hubspot rate policy: unknown time zone ${JSON.stringify(timeZone)}`, { cause: error, details: { field: 'timeZone' } });
  }
}

/**
 * Milliseconds from `now` to the next midnight in `timeZone`. Not 24 h minus the time of day: a
 * DST change before midnight makes that day 23 or 25 hours long, and where the change happens at
 * midnight (America/Santiago) the day starts at 01:00.
 */
export function msUntilMidnight(now: Date, timeZone: string, format: Intl.DateTimeFormat = zoneFormat(timeZone)): number {
  const at = now.getTime();
  const today = wallClock(format, at);
  const nextMidnightAsUtc = Date.UTC(today.year, today.month - 1, today.day + 1);
  const offsetAt = (instant: number): number => {
    const w = wallClock(format, instant);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (instant - (((instant % 1000) + 1000) % 1000));
  };
  // The offset at midnight may differ from the offset now; a second pass settles on it. Of the
  // candidates, the earliest instant that is already "tomorrow" on the wall clock wins.
  const first = nextMidnightAsUtc - offsetAt(at);
  const second = nextMidnightAsUtc - offsetAt(first);
  const isTomorrow = (instant: number): boolean => {
    const w = wallClock(format, instant);
    return Date.UTC(w.year, w.month - 1, w.day) >= nextMidnightAsUtc;
  };
  const starts = [first, second].filter(isTomorrow);
  return (starts.length > 0 ? Math.min(...starts) : Math.max(first, second)) - at;
}


export interface HubspotRatePolicyOptions {
  /** The account's time zone (account-info `timeZone`, IANA name); its midnight resets DAILY. UTC when omitted. */
  readonly timeZone?: string;
  readonly clock?: Pick<Clock, 'now'>;
}

export function hubspotRatePolicyFor(options: HubspotRatePolicyOptions = {}): RatePolicy {
  const timeZone = options.timeZone ?? 'UTC';
  const format = zoneFormat(timeZone);
  const now = (): Date => options.clock?.now() ?? new Date();
  return defineRatePolicy({
    name: 'hubspot',
    buckets: [
      { name: 'rolling-10s', capacity: 110, perMs: rollingWindowMs, appliesTo: (r) => !isHubspotSearch(r) },
      { name: 'search', capacity: 5, perMs: searchWindowMs, appliesTo: isHubspotSearch },
    ],
    // Only the 429 body matters, and governed fetch reads every 4xx body anyway.
    readsBody: false,
    observe: (response): RateObservation => {
      const search = isHubspotSearch({ url: new URL(response.url) });
      const bucket = search ? 'search' : 'rolling-10s';
      const limit = numericHeader(response.headers, 'x-hubspot-ratelimit-max');
      const remaining = numericHeader(response.headers, 'x-hubspot-ratelimit-remaining');
      // The window's length, not the time until it rolls: an upper bound on the wait for a rolling window.
      const interval = numericHeader(response.headers, 'x-hubspot-ratelimit-interval-milliseconds');
      if (response.status === 429) {
        const policyName = RateLimitBody.safeParse(response.body).data?.policyName;
        if (policyName === 'DAILY') {
          return { throttled: true, daily: true, bucket: 'daily', resetInMs: msUntilMidnight(now(), timeZone, format) };
        }
        if (policyName === 'TEN_SECONDLY_ROLLING') return { throttled: true, bucket: 'rolling-10s', resetInMs: interval ?? rollingWindowMs };
        // Any other policy (search's own per-second one): the window of the budget the request drew from.
        return { throttled: true, bucket, resetInMs: interval ?? (search ? searchWindowMs : rollingWindowMs) };
      }
      // A rolling window frees slots continuously: at Remaining 0 with requests spread evenly (as the
      // governor spreads them), the next one frees after about interval / max, not a whole window.
      // Were they not spread, the next request would get a 429, and that blocks for the window.
      const slotMs = interval !== undefined && limit !== undefined && limit > 0 ? Math.ceil(interval / limit) : interval;
      return {
        throttled: false,
        bucket,
        ...(limit !== undefined ? { limit } : {}),
        ...(remaining !== undefined ? { remaining } : {}),
        ...(slotMs !== undefined ? { resetInMs: slotMs } : {}),
      };
    },
  });
}

/** For accounts whose time zone is not known yet: DAILY resets at UTC midnight. */
export const hubspotRatePolicy = hubspotRatePolicyFor();
