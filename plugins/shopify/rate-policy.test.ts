import { describe, expect, it } from 'vitest';
import { shopifyRatePolicyFor } from './rate-policy.ts';

const policy = shopifyRatePolicyFor({ restoreRate: 100, maximumAvailable: 2_000 });
const url = 'https://acme.myshopify.com/admin/api/2026-10/graphql.json';

describe('Shopify rate policy', () => {
  it('models the leaky bucket in cost points and reads bodies', () => {
    expect(policy.readsBody).toBe(true);
    expect(policy.buckets).toEqual([{ name: 'graphql-cost', capacity: 2_000, perMs: 20_000 }]);
  });

  it('reads extensions.cost.throttleStatus on every answer', () => {
    const body = {
      data: { customers: { nodes: [] } },
      extensions: { cost: { requestedQueryCost: 252, actualQueryCost: 12, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1500, restoreRate: 100 } } },
    };
    expect(policy.observe({ status: 200, url, headers: new Headers(), body })).toEqual({ throttled: false, bucket: 'graphql-cost', limit: 2_000, remaining: 1_500, resetInMs: 5_000 });
  });

  it('sees THROTTLED inside an HTTP 200 and waits until the requested cost has restored', () => {
    const body = {
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
      extensions: { cost: { requestedQueryCost: 752, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 352, restoreRate: 100 } } },
    };
    expect(policy.observe({ status: 200, url, headers: new Headers(), body })).toEqual({ throttled: true, bucket: 'graphql-cost', limit: 2_000, remaining: 352, retryAfterMs: 4_000 });
  });

  it('throttles a 429 without a cost report for a second', () => {
    expect(policy.observe({ status: 429, url, headers: new Headers(), body: 'Too Many Requests' })).toEqual({ throttled: true, bucket: 'graphql-cost', retryAfterMs: 1_000 });
  });
});
