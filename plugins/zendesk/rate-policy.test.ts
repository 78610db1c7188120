import { describe, expect, it } from 'vitest';
import { zendeskRatePolicyFor } from './rate-policy.ts';

const policy = zendeskRatePolicyFor({ requestsPerMinute: 700 });
const exportUrl = 'https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTU3NjYxMzUzOS4wfHw0Njd8';
const ticketsUrl = 'https://acme.zendesk.com/api/v2/tickets/123.json';

describe('Zendesk rate policy', () => {
  it('draws every call from the plan budget and incremental exports also from 10 per minute', () => {
    const [plan, exports] = policy.buckets;
    expect(plan).toMatchObject({ name: 'plan', capacity: 700, perMs: 60_000 });
    expect(plan!.appliesTo).toBeUndefined();
    expect(exports).toMatchObject({ name: 'incremental-export', capacity: 10, perMs: 60_000 });
    expect(exports!.appliesTo!({ method: 'GET', url: new URL(exportUrl) })).toBe(true);
    expect(exports!.appliesTo!({ method: 'GET', url: new URL(ticketsUrl) })).toBe(false);
  });

  it('reads Retry-After on a 429, for the budget the request drew from', () => {
    expect(policy.observe({ status: 429, url: exportUrl, headers: new Headers({ 'retry-after': '42' }) })).toEqual({ throttled: true, bucket: 'incremental-export', retryAfterMs: 42_000 });
    expect(policy.observe({ status: 429, url: ticketsUrl, headers: new Headers({ 'retry-after': '7' }) })).toEqual({ throttled: true, bucket: 'plan', retryAfterMs: 7_000 });
  });

  it('reads X-Rate-Limit and the ratelimit-* headers as the plan budget', () => {
    expect(policy.observe({ status: 200, url: ticketsUrl, headers: new Headers({ 'x-rate-limit': '700', 'x-rate-limit-remaining': '693' }) })).toEqual({
      throttled: false,
      bucket: 'plan',
      limit: 700,
      remaining: 693,
    });
    expect(policy.observe({ status: 200, url: exportUrl, headers: new Headers({ 'ratelimit-limit': '700', 'ratelimit-remaining': '3', 'ratelimit-reset': '12' }) })).toEqual({
      throttled: false,
      bucket: 'plan',
      limit: 700,
      remaining: 3,
      resetInMs: 12_000,
    });
  });
});
