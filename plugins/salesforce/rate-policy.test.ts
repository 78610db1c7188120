import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../../core/errors/index.ts';
import { parseApiUsage, salesforceRatePolicy, salesforceRatePolicyFor } from './rate-policy.ts';

const url = 'https://acme.my.salesforce.com/services/data/v67.0/query?q=SELECT+Id+FROM+Account';
const policy = salesforceRatePolicyFor({ dailyShare: 0.4 });
const answer = (limitInfo: string) => new Headers({ 'content-type': 'application/json;charset=UTF-8', 'sforce-limit-info': limitInfo });
const day = 24 * 60 * 60 * 1000;

function thrownBy(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('Salesforce rate policy', () => {
  it('declares no bucket and needs no body of its own', () => {
    expect(policy.buckets).toEqual([]);
    expect(policy.readsBody).toBe(false);
  });

  it('parses Sforce-Limit-Info, ignoring the per-app entry', () => {
    expect(parseApiUsage('api-usage=25001/115000')).toEqual({ used: 25_001, allocation: 115_000 });
    expect(parseApiUsage('api-usage=25/5000; per-app-api-usage=17/250(appName=ledgerline)')).toEqual({ used: 25, allocation: 5_000 });
    expect(parseApiUsage('per-app-api-usage=17/250(appName=ledgerline); api-usage=25/5000')).toEqual({ used: 25, allocation: 5_000 });
    expect(parseApiUsage('per-app-api-usage=17/250(appName=ledgerline)')).toBeNull();
    expect(parseApiUsage(null)).toBeNull();
  });

  it('counts usage against the configured share of the org’s daily allocation', () => {
    expect(policy.observe({ status: 200, url, headers: answer('api-usage=40000/115000') })).toEqual({ throttled: false, bucket: 'daily', limit: 46_000, remaining: 6_000 });
    // Default share: half. 100,000 + 15 licences × 1,000.
    expect(salesforceRatePolicy.observe({ status: 200, url, headers: answer('api-usage=40000/115000') })).toEqual({ throttled: false, bucket: 'daily', limit: 57_500, remaining: 17_500 });
  });

  it('stops for the rolling day once the share is used, without throwing away the answer that used it', () => {
    // A served 200 is not a refusal (governed fetch would discard and retry a "throttled" one):
    // remaining 0 + daily is what makes the governor block the installation for the day.
    expect(policy.observe({ status: 200, url, headers: answer('api-usage=46000/115000') })).toEqual({
      throttled: false,
      daily: true,
      bucket: 'daily',
      limit: 46_000,
      remaining: 0,
      resetInMs: day,
    });
    expect(policy.observe({ status: 200, url, headers: answer('api-usage=90000/115000') })).toMatchObject({ throttled: false, daily: true, remaining: 0 });
  });

  it('treats REQUEST_LIMIT_EXCEEDED for total requests as a daily block', () => {
    const body = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    expect(policy.observe({ status: 403, url, headers: answer('api-usage=115002/115000'), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: day });
    expect(policy.observe({ status: 403, url, headers: new Headers(), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: day });
  });

  it('backs off, without a daily block, when REQUEST_LIMIT_EXCEEDED is about concurrent long requests', () => {
    const body = [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    expect(policy.observe({ status: 403, url, headers: answer('api-usage=30000/115000'), body })).toEqual({ throttled: true, bucket: 'concurrent' });
  });

  it('ignores other errors', () => {
    const body = [{ message: 'insufficient access rights on object id', errorCode: 'INSUFFICIENT_ACCESS' }];
    expect(policy.observe({ status: 403, url, headers: new Headers(), body })).toEqual({ throttled: false });
    expect(policy.observe({ status: 401, url, headers: new Headers(), body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] })).toEqual({ throttled: false });
  });

  it('refuses a share outside (0, 1]', () => {
    for (const dailyShare of [0, -0.1, 1.5, Number.NaN]) {
      expect(isLedgerlineError(thrownBy(() => salesforceRatePolicyFor({ dailyShare })), 'LL_INVALID_INPUT')).toBe(true);
    }
    expect(salesforceRatePolicyFor({ dailyShare: 1 }).name).toBe('salesforce');
  });
});
