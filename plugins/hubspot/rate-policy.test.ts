import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../../core/errors/index.ts';
import { hubspotRatePolicy, hubspotRatePolicyFor, msUntilMidnight } from './rate-policy.ts';

const crm = 'https://api.hubapi.com/crm/v3/objects/contacts?limit=100&after=200';
const search = 'https://api.hubapi.com/crm/v3/objects/contacts/search';
const associations = 'https://api.hubapi.com/crm/v4/objects/contacts/51/associations/companies';
const rateHeaders = (max: string, remaining: string) =>
  new Headers({ 'content-type': 'application/json;charset=utf-8', 'x-hubspot-ratelimit-max': max, 'x-hubspot-ratelimit-remaining': remaining, 'x-hubspot-ratelimit-interval-milliseconds': '10000' });
const refusal = (policyName: string, message: string) => ({ status: 'error', message, errorType: 'RATE_LIMIT', correlationId: '5ad6a9ff-0b3e-4c8e-9b53-52b1b9b4a1f0', policyName, groupsErrorCode: null });
const hours = (h: number) => h * 3_600_000;

describe('HubSpot rate policy', () => {
  it('draws CRM calls from the 110-per-10-s bucket and search only from its own 5 per second', () => {
    expect(hubspotRatePolicy.buckets.map(({ name, capacity, perMs }) => ({ name, capacity, perMs }))).toEqual([
      { name: 'rolling-10s', capacity: 110, perMs: 10_000 },
      { name: 'search', capacity: 5, perMs: 1_000 },
    ]);
    const [rolling, searchBucket] = hubspotRatePolicy.buckets;
    const draws = (method: string, url: string) => hubspotRatePolicy.buckets.filter((b) => b.appliesTo?.({ method, url: new URL(url) }) ?? true).map((b) => b.name);
    expect(rolling?.appliesTo).toBeTypeOf('function');
    expect(searchBucket?.appliesTo).toBeTypeOf('function');
    expect(draws('GET', crm)).toEqual(['rolling-10s']);
    expect(draws('GET', associations)).toEqual(['rolling-10s']);
    expect(draws('POST', search)).toEqual(['search']);
    expect(draws('POST', 'https://api.hubapi.com/crm/v3/objects/2-3456789/search/')).toEqual(['search']);
    // A batch read is not a search, whatever its name says.
    expect(draws('POST', 'https://api.hubapi.com/crm/v3/objects/contacts/batch/read')).toEqual(['rolling-10s']);
    expect(draws('GET', 'https://api.hubapi.com/crm/v3/objects/contacts/search-history')).toEqual(['rolling-10s']);
  });

  it('needs no body of its own: governed fetch reads the 4xx bodies it looks at', () => {
    expect(hubspotRatePolicy.readsBody).toBe(false);
  });

  it('reads the X-HubSpot-RateLimit headers of a CRM answer; a slot of the rolling window frees every interval / max', () => {
    expect(hubspotRatePolicy.observe({ status: 200, url: crm, headers: rateHeaders('110', '17') })).toEqual({
      throttled: false,
      bucket: 'rolling-10s',
      limit: 110,
      remaining: 17,
      resetInMs: 91,
    });
  });

  it('reports nothing but the bucket for a search answer, which has no rate headers', () => {
    expect(hubspotRatePolicy.observe({ status: 200, url: search, headers: new Headers({ 'content-type': 'application/json;charset=utf-8' }) })).toEqual({
      throttled: false,
      bucket: 'search',
    });
  });

  it('treats a TEN_SECONDLY_ROLLING 429 as a throttle until the window rolls', () => {
    const body = refusal('TEN_SECONDLY_ROLLING', 'You have reached your ten_secondly_rolling limit.');
    expect(hubspotRatePolicy.observe({ status: 429, url: crm, headers: rateHeaders('110', '0'), body })).toEqual({ throttled: true, bucket: 'rolling-10s', resetInMs: 10_000 });
    expect(hubspotRatePolicy.observe({ status: 429, url: crm, headers: new Headers(), body })).toEqual({ throttled: true, bucket: 'rolling-10s', resetInMs: 10_000 });
  });

  it('throttles a search 429 on the search bucket for its one-second window', () => {
    const body = refusal('SECONDLY', 'You have reached your secondly limit.');
    expect(hubspotRatePolicy.observe({ status: 429, url: search, headers: new Headers(), body })).toEqual({ throttled: true, bucket: 'search', resetInMs: 1_000 });
    expect(hubspotRatePolicy.observe({ status: 429, url: search, headers: new Headers() })).toEqual({ throttled: true, bucket: 'search', resetInMs: 1_000 });
  });

  it('treats a DAILY 429 as a daily block until midnight in the account’s time zone', () => {
    const clock = { now: () => new Date('2026-11-22T20:30:00.000Z') };
    const policy = hubspotRatePolicyFor({ timeZone: 'America/New_York', clock });
    const body = refusal('DAILY', 'You have reached your daily limit.');
    // 20:30 UTC is 15:30 in New York (EST): 8 h 30 min to midnight there.
    expect(policy.observe({ status: 429, url: crm, headers: new Headers(), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: hours(8.5) });
    // The same refusal on a search call stops the whole installation too.
    expect(policy.observe({ status: 429, url: search, headers: new Headers(), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: hours(8.5) });
    // The default policy resets at UTC midnight.
    expect(hubspotRatePolicyFor({ clock }).observe({ status: 429, url: crm, headers: new Headers(), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: hours(3.5) });
  });

  it('counts to midnight on the wall clock, across DST changes', () => {
    expect(msUntilMidnight(new Date('2026-11-22T23:59:59.000Z'), 'UTC')).toBe(1_000);
    expect(msUntilMidnight(new Date('2026-11-22T00:00:00.000Z'), 'UTC')).toBe(hours(24));
    expect(msUntilMidnight(new Date('2026-11-22T12:00:00.000Z'), 'Asia/Kolkata')).toBe(hours(6.5));
    // 01:00 EST on 8 March 2026; clocks spring forward at 02:00, so midnight is 22 h away, not 23.
    expect(msUntilMidnight(new Date('2026-03-08T06:00:00.000Z'), 'America/New_York')).toBe(hours(22));
    // 00:30 BST on 25 October 2026; clocks fall back at 02:00, so midnight is 24.5 h away.
    expect(msUntilMidnight(new Date('2026-10-24T23:30:00.000Z'), 'Europe/London')).toBe(hours(24.5));
    // Chile springs forward at midnight (5 September 2026 24:00 → 6 September 01:00): the day starts at 01:00.
    expect(msUntilMidnight(new Date('2026-09-06T00:00:00.000Z'), 'America/Santiago')).toBe(hours(4));
  });

  it('refuses an unknown time zone when the policy is built, not on the first DAILY refusal', () => {
    let thrown: unknown;
    try {
      hubspotRatePolicyFor({ timeZone: 'Mars/Olympus_Mons' });
    } catch (error) {
      thrown = error;
    }
    expect(isLedgerlineError(thrown, 'LL_INVALID_INPUT')).toBe(true);
    expect(hubspotRatePolicyFor({ timeZone: 'US/Eastern' }).name).toBe('hubspot');
  });
});
