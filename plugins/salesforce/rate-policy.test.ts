import { describe, expect, it } from 'vitest';
import { parseApiUsage, salesforceRatePolicyFor } from './rate-policy.ts';

const url = 'https://acme.my.salesforce.com/services/data/v67.0/query?q=SELECT+Id+FROM+Account';
const policy = salesforceRatePolicyFor({ dailyShare: 0.4 });

describe('Salesforce rate policy', () => {
  it('parses Sforce-Limit-Info', () => {
    expect(parseApiUsage('api-usage=25001/115000')).toEqual({ used: 25_001, allocation: 115_000 });
    expect(parseApiUsage(null)).toBeNull();
  });

  it('counts usage against the configured share of the org’s daily allocation', () => {
    const headers = new Headers({ 'sforce-limit-info': 'api-usage=40000/115000' });
    expect(policy.observe({ status: 200, url, headers })).toEqual({ throttled: false, bucket: 'daily', limit: 46_000, remaining: 6_000 });
  });

  it('stops for the rolling day once the share is used, before Salesforce refuses', () => {
    const headers = new Headers({ 'sforce-limit-info': 'api-usage=46000/115000' });
    expect(policy.observe({ status: 200, url, headers })).toEqual({ throttled: true, daily: true, bucket: 'daily', limit: 46_000, remaining: 0, resetInMs: 86_400_000 });
  });

  it('treats REQUEST_LIMIT_EXCEEDED as a daily block', () => {
    const body = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    expect(policy.observe({ status: 403, url, headers: new Headers(), body })).toEqual({ throttled: true, daily: true, bucket: 'daily', resetInMs: 86_400_000 });
    expect(policy.observe({ status: 403, url, headers: new Headers(), body: [{ errorCode: 'INSUFFICIENT_ACCESS' }] })).toEqual({ throttled: false });
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => salesforceRatePolicyFor({ dailyShare: 0 })).toThrow(RangeError);
    expect(() => salesforceRatePolicyFor({ dailyShare: 1.5 })).toThrow(RangeError);
  });
});
