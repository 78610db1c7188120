import { describe, expect, it } from 'vitest';
import { hubspotRatePolicy, hubspotRatePolicyFor, msUntilMidnight } from './rate-policy.ts';

const crm = 'https://api.hubapi.com/crm/v3/objects/contacts?limit=100&after=200';
const search = 'https://api.hubapi.com/crm/v3/objects/contacts/search';
const headers = (h: Record<string, string>) => new Headers(h);

describe('HubSpot rate policy', () => {
  it('draws CRM calls from the 110-per-10-s bucket and search from its own 5 per second', () => {
    const [rolling, searchBucket] = hubspotRatePolicy.buckets;
    expect(rolling).toMatchObject({ name: 'rolling-10s', capacity: 110, perMs: 10_000 });
    expect(searchBucket).toMatchObject({ name: 'search', capacity: 5, perMs: 1_000 });
    const req = (url: string) => ({ method: 'POST', url: new URL(url) });
    expect(rolling!.appliesTo!(req(crm))).toBe(true);
    expect(rolling!.appliesTo!(req(search))).toBe(false);
    expect(searchBucket!.appliesTo!(req(search))).toBe(true);
    expect(searchBucket!.appliesTo!(req(crm))).toBe(false);
  });

  it('reads the X-HubSpot-RateLimit headers', () => {
    const observation = hubspotRatePolicy.observe({
      status: 200,
      url: crm,
      headers: headers({ 'x-hubspot-ratelimit-max': '110', 'x-hubspot-ratelimit-remaining': '17', 'x-hubspot-ratelimit-interval-milliseconds': '10000' }),
    });
    expect(observation).toEqual({ throttled: false, bucket: 'rolling-10s', limit: 110, remaining: 17, resetInMs: 10_000 });
  });

  it('treats a TEN_SECONDLY_ROLLING 429 as a throttle until the window rolls', () => {
    const body = { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: 'c0ffee', policyName: 'TEN_SECONDLY_ROLLING' };
    expect(hubspotRatePolicy.observe({ status: 429, url: crm, headers: headers({}), body })).toEqual({ throttled: true, bucket: 'rolling-10s', resetInMs: 10_000 });
    expect(hubspotRatePolicy.observe({ status: 429, url: search, headers: headers({}), body })).toEqual({ throttled: true, bucket: 'search', resetInMs: 1_000 });
  });

  it('treats a DAILY 429 as a daily block until midnight in the account’s time zone', () => {
    const now = new Date('2026-11-22T20:30:00.000Z');
    const policy = hubspotRatePolicyFor({ timeZone: 'America/New_York', now: () => now });
    const body = { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', policyName: 'DAILY' };
    // 20:30 UTC is 15:30 in New York (EST): 8 h 30 min to midnight there.
    expect(policy.observe({ status: 429, url: crm, headers: headers({}), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: 8.5 * 3_600_000 });
    expect(msUntilMidnight(new Date('2026-11-22T23:59:59.000Z'), 'UTC')).toBe(1_000);
  });
});
