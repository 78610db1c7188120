import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../../core/errors/index.ts';
import { shopifyRatePolicy, shopifyRatePolicyFor } from './rate-policy.ts';

const policy = shopifyRatePolicyFor({ restoreRate: 100, maximumAvailable: 2_000 });
const url = 'https://acme.myshopify.com/admin/api/2026-10/graphql.json';
const headers = () => new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': '0e5a6f32-8e55-4a2f-9d43-3b0b5c1c6d1e' });
const cost = (requestedQueryCost: number, actualQueryCost: number | null, currentlyAvailable: number) => ({
  cost: { requestedQueryCost, actualQueryCost, throttleStatus: { maximumAvailable: 2000, currentlyAvailable, restoreRate: 100 } },
});
const throttledBody = (requested: number, available: number) => ({
  errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/limits' } }],
  extensions: cost(requested, null, available),
});

describe('Shopify rate policy', () => {
  it('models the leaky bucket in cost points for GraphQL Admin calls only, and reads bodies', () => {
    expect(policy.readsBody).toBe(true);
    expect(policy.buckets.map(({ name, capacity, perMs, cost }) => ({ name, capacity, perMs, cost }))).toEqual([{ name: 'graphql-cost', capacity: 2_000, perMs: 20_000, cost: undefined }]);
    const draws = (u: string) => policy.buckets.filter((b) => b.appliesTo?.({ method: 'POST', url: new URL(u) }) ?? true).map((b) => b.name);
    expect(draws(url)).toEqual(['graphql-cost']);
    expect(draws('https://acme.myshopify.com/admin/api/graphql.json')).toEqual(['graphql-cost']);
    expect(draws('https://acme.myshopify.com/admin/api/2026-10/customers.json')).toEqual([]);
    expect(draws('https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/abc-final?GoogleAccessId=x')).toEqual([]);
    expect(shopifyRatePolicy.buckets[0]).toMatchObject({ capacity: 2_000, perMs: 20_000 });
    expect(shopifyRatePolicyFor({ restoreRate: 1_000, maximumAvailable: 10_000 }).buckets[0]).toMatchObject({ capacity: 10_000, perMs: 10_000 });
  });

  it('reads extensions.cost.throttleStatus on every answer', () => {
    const body = { data: { customers: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } }, extensions: cost(252, 12, 1500) };
    // 500 points missing at 100 / s: full again in 5 s.
    expect(policy.observe({ status: 200, url, headers: headers(), body })).toEqual({ throttled: false, bucket: 'graphql-cost', limit: 2_000, remaining: 1_500, resetInMs: 5_000 });
  });

  it('holds the next request when another query like this one would not fit', () => {
    const body = { data: { orders: { nodes: [] } }, extensions: cost(252, 240, 100) };
    // 252 needed, 100 left: 1.52 s until it has restored.
    expect(policy.observe({ status: 200, url, headers: headers(), body })).toEqual({ throttled: false, bucket: 'graphql-cost', limit: 2_000, remaining: 0, resetInMs: 1_520 });
  });

  it('sees THROTTLED inside an HTTP 200 and waits until the requested cost has restored', () => {
    expect(policy.observe({ status: 200, url, headers: headers(), body: throttledBody(752, 352) })).toEqual({
      throttled: true,
      bucket: 'graphql-cost',
      limit: 2_000,
      remaining: 352,
      retryAfterMs: 4_000,
    });
    // Refused although the points are there (another client of the app spent them first): wait one point.
    expect(policy.observe({ status: 200, url, headers: headers(), body: throttledBody(50, 60) })).toMatchObject({ throttled: true, retryAfterMs: 10 });
  });

  it('throttles a 429 without a cost report for its Retry-After seconds, else a second', () => {
    expect(policy.observe({ status: 429, url, headers: new Headers({ 'retry-after': '2.0' }), body: { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' } })).toEqual({
      throttled: true,
      bucket: 'graphql-cost',
      retryAfterMs: 2_000,
    });
    expect(policy.observe({ status: 429, url, headers: headers(), body: 'Too Many Requests' })).toEqual({ throttled: true, bucket: 'graphql-cost', retryAfterMs: 1_000 });
  });

  it('reports nothing for answers without a cost: errors that are not throttles, downloads', () => {
    expect(policy.observe({ status: 401, url, headers: headers(), body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } })).toEqual({ throttled: false });
    const download = 'https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-operation-outputs/abc-final';
    expect(policy.observe({ status: 200, url: download, headers: new Headers({ 'content-type': 'application/jsonl' }), body: '{"id":"gid://shopify/Customer/1"}' })).toEqual({ throttled: false });
  });

  it('refuses a rate or bucket size that is not positive', () => {
    for (const options of [{ restoreRate: 0 }, { maximumAvailable: -1 }, { restoreRate: Number.NaN }]) {
      let thrown: unknown;
      try {
        shopifyRatePolicyFor(options);
      } catch (error) {
        thrown = error;
      }
      expect(isLedgerlineError(thrown, 'LL_INVALID_INPUT')).toBe(true);
    }
  });
});
