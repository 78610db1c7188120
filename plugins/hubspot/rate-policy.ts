/**
 * HubSpot's budgets (https://developers.hubspot.com/docs/api/usage-details): marketplace apps get
 * 110 requests per rolling 10 s per installing account; CRM search has its own 5 requests/s and
 * sends no rate headers. Other responses carry X-HubSpot-RateLimit-Max/-Remaining/
 * -Interval-Milliseconds. A 429 has no Retry-After; its JSON body names the policy that refused:
 * TEN_SECONDLY_ROLLING, or DAILY (reset at midnight in the account's time zone).
 */
import { z } from 'zod';
import { defineRatePolicy, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';

const isSearch = (request: { url: URL }): boolean => /^\/crm\/v3\/objects\/[^/]+\/search$/.test(request.url.pathname);

const RateLimitBody = z.object({ errorType: z.string().nullish(), policyName: z.string().nullish() }).loose();

/** Milliseconds from `now` to the next midnight in `timeZone`. */
export function msUntilMidnight(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(now);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  // Some runtimes print midnight as hour 24 with hour12: false.
  const elapsed = (((get('hour') % 24) * 60 + get('minute')) * 60 + get('second')) * 1000 + now.getMilliseconds();
  return 86_400_000 - elapsed;
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export function hubspotRatePolicyFor(options: { timeZone?: string; now?: () => Date } = {}): RatePolicy {
  const timeZone = options.timeZone ?? 'UTC';
  const now = options.now ?? (() => new Date());
  return defineRatePolicy({
    name: 'hubspot',
    buckets: [
      { name: 'rolling-10s', capacity: 110, perMs: 10_000, appliesTo: (r) => !isSearch(r) },
      { name: 'search', capacity: 5, perMs: 1_000, appliesTo: isSearch },
    ],
    // The 429 body says which policy refused; governed fetch reads 4xx bodies anyway.
    readsBody: false,
    observe: (response): RateObservation => {
      const search = /\/crm\/v3\/objects\/[^/]+\/search/.test(new URL(response.url).pathname);
      const bucket = search ? 'search' : 'rolling-10s';
      const limit = headerNumber(response.headers, 'x-hubspot-ratelimit-max');
      const remaining = headerNumber(response.headers, 'x-hubspot-ratelimit-remaining');
      const interval = headerNumber(response.headers, 'x-hubspot-ratelimit-interval-milliseconds');
      if (response.status === 429) {
        const body = RateLimitBody.safeParse(response.body);
        if (body.success && body.data.policyName === 'DAILY') {
          return { throttled: true, daily: true, bucket: 'daily', resetInMs: msUntilMidnight(now(), timeZone) };
        }
        return { throttled: true, bucket, resetInMs: interval ?? (search ? 1_000 : 10_000) };
      }
      return {
        throttled: false,
        bucket,
        ...(limit !== undefined ? { limit } : {}),
        ...(remaining !== undefined ? { remaining } : {}),
        ...(interval !== undefined ? { resetInMs: interval } : {}),
      };
    },
  });
}

export const hubspotRatePolicy = hubspotRatePolicyFor();
