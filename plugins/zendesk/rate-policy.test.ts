import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../../core/errors/index.ts';
import { zendeskRatePolicy, zendeskRatePolicyFor } from './rate-policy.ts';

const policy = zendeskRatePolicyFor({ requestsPerMinute: 700 });
const exportUrl = 'https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTU3NjYxMzUzOS4wfHw0Njd8';
const ticketEventsUrl = 'https://acme.zendesk.com/api/v2/incremental/ticket_events.json?start_time=1763800000&include=comment_events';
const ticketsUrl = 'https://acme.zendesk.com/api/v2/tickets/123.json';
const draws = (url: string) => policy.buckets.filter((b) => b.appliesTo?.({ method: 'GET', url: new URL(url) }) ?? true).map((b) => b.name);

function thrownBy(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('Zendesk rate policy', () => {
  it('draws every call from the plan budget and incremental exports also from 10 per minute', () => {
    expect(policy.buckets.map(({ name, capacity, perMs }) => ({ name, capacity, perMs }))).toEqual([
      { name: 'plan', capacity: 700, perMs: 60_000 },
      { name: 'incremental-export', capacity: 10, perMs: 60_000 },
    ]);
    expect(draws(exportUrl)).toEqual(['plan', 'incremental-export']);
    expect(draws(ticketEventsUrl)).toEqual(['plan', 'incremental-export']);
    expect(draws(ticketsUrl)).toEqual(['plan']);
    expect(draws('https://acme.zendesk.com/api/v2/search/export.json?query=type:ticket')).toEqual(['plan']);
  });

  it('defaults to the 200-per-minute plan and takes High Volume’s 30 exports per minute', () => {
    expect(zendeskRatePolicy.buckets.map((b) => b.capacity)).toEqual([200, 10]);
    expect(zendeskRatePolicyFor({ requestsPerMinute: 2_500, exportsPerMinute: 30 }).buckets.map((b) => b.capacity)).toEqual([2_500, 30]);
    expect(zendeskRatePolicy.readsBody).toBe(false);
  });

  it('reads Retry-After on a 429, for the budget that refused', () => {
    const refused = (url: string, headers: Record<string, string>) => policy.observe({ status: 429, url, headers: new Headers({ 'content-type': 'text/plain', ...headers }) });
    expect(refused(exportUrl, { 'retry-after': '42', 'x-rate-limit': '700', 'x-rate-limit-remaining': '655' })).toEqual({ throttled: true, bucket: 'incremental-export', retryAfterMs: 42_000 });
    expect(refused(exportUrl, { 'retry-after': '42' })).toEqual({ throttled: true, bucket: 'incremental-export', retryAfterMs: 42_000 });
    expect(refused(ticketsUrl, { 'retry-after': '7', 'x-rate-limit': '700', 'x-rate-limit-remaining': '0' })).toEqual({ throttled: true, bucket: 'plan', retryAfterMs: 7_000 });
    // An export refused while the plan headers say the plan is spent: the plan refused it.
    expect(refused(exportUrl, { 'retry-after': '7', 'x-rate-limit': '700', 'x-rate-limit-remaining': '0' })).toEqual({ throttled: true, bucket: 'plan', retryAfterMs: 7_000 });
    // Without Retry-After the plan's ratelimit-reset stands in; with neither, the governor backs off.
    expect(refused(ticketsUrl, { 'ratelimit-limit': '700', 'ratelimit-remaining': '0', 'ratelimit-reset': '13' })).toEqual({ throttled: true, bucket: 'plan', retryAfterMs: 13_000 });
    expect(refused(ticketsUrl, {})).toEqual({ throttled: true, bucket: 'plan' });
  });

  it('reads X-Rate-Limit and the ratelimit-* headers as the plan budget', () => {
    expect(policy.observe({ status: 200, url: ticketsUrl, headers: new Headers({ 'x-rate-limit': '700', 'x-rate-limit-remaining': '693' }) })).toEqual({
      throttled: false,
      bucket: 'plan',
      limit: 700,
      remaining: 693,
    });
    const both = new Headers({ 'x-rate-limit': '700', 'x-rate-limit-remaining': '3', 'ratelimit-limit': '700', 'ratelimit-remaining': '3', 'ratelimit-reset': '12' });
    expect(policy.observe({ status: 200, url: exportUrl, headers: both })).toEqual({ throttled: false, bucket: 'plan', limit: 700, remaining: 3, resetInMs: 12_000 });
    expect(policy.observe({ status: 200, url: ticketsUrl, headers: new Headers() })).toEqual({ throttled: false, bucket: 'plan' });
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const requestsPerMinute of [0, -200, 199.5]) {
      expect(isLedgerlineError(thrownBy(() => zendeskRatePolicyFor({ requestsPerMinute })), 'LL_INVALID_INPUT')).toBe(true);
    }
    expect(isLedgerlineError(thrownBy(() => zendeskRatePolicyFor({ exportsPerMinute: 0 })), 'LL_INVALID_INPUT')).toBe(true);
  });
});
