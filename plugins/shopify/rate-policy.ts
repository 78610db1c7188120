/**
 * Shopify's GraphQL Admin API budget is a leaky bucket of cost points per app and store: up to
 * `maximumAvailable` points (1,000 per query at most), restored at 100 / 200 / 1,000 / 2,000
 * points per second by plan. Every response reports `extensions.cost.throttleStatus`; throttling
 * arrives as HTTP 200 with `errors[].extensions.code == "THROTTLED"`, so the policy reads bodies.
 * https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits
 */
import { z } from 'zod';
import { defineRatePolicy, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';

const bucket = 'graphql-cost';

/** `POST /admin/api/{version}/graphql.json`; REST calls and bulk-operation downloads have other budgets. */
export const isShopifyGraphql = (request: { url: URL }): boolean => /^\/admin\/api\/(?:[^/]+\/)?graphql\.json$/.test(request.url.pathname);

const GraphqlErrors = z.object({ errors: z.array(z.object({ extensions: z.object({ code: z.string().nullish() }).loose().nullish() }).loose()) }).loose();
const GraphqlCost = z
  .object({
    extensions: z
      .object({
        cost: z
          .object({
            requestedQueryCost: z.number().nullish(),
            actualQueryCost: z.number().nullish(),
            throttleStatus: z.object({ maximumAvailable: z.number().positive(), currentlyAvailable: z.number().min(0), restoreRate: z.number().positive() }).loose(),
          })
          .loose(),
      })
      .loose(),
  })
  .loose();

function positive(value: number, field: string): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new LedgerlineError('LL_INVALID_INPUT', `shopify rate policy: ${field} must be a positive number, got ${value}`, { details: { field } });
  }
  return value;
}

export interface ShopifyRatePolicyOptions {
  /** Points restored per second: 100 Standard, 200 Advanced, 1,000 Plus, 2,000 Enterprise. 100 when omitted. */
  readonly restoreRate?: number;
  /** Bucket size in points; 2,000 (Standard) when omitted. */
  readonly maximumAvailable?: number;
}

export function shopifyRatePolicyFor(options: ShopifyRatePolicyOptions = {}): RatePolicy {
  const restoreRate = positive(options.restoreRate ?? 100, 'restoreRate');
  const maximumAvailable = positive(options.maximumAvailable ?? 2_000, 'maximumAvailable');
  return defineRatePolicy({
    name: 'shopify',
    // A query's cost is unknown before Shopify answers, so each request draws the 1-point minimum
    // and the reported throttleStatus corrects the governor's view after every answer.
    buckets: [{ name: bucket, capacity: maximumAvailable, perMs: (maximumAvailable / restoreRate) * 1000, appliesTo: isShopifyGraphql }],
    readsBody: true,
    observe: (response): RateObservation => {
      const graphql = isShopifyGraphql({ url: new URL(response.url) });
      const errors = GraphqlErrors.safeParse(response.body).data?.errors ?? [];
      const cost = GraphqlCost.safeParse(response.body).data?.extensions.cost;
      const throttled = response.status === 429 || errors.some((e) => e.extensions?.code === 'THROTTLED');
      const status = cost?.throttleStatus;
      if (!status) {
        if (!throttled) return { throttled: false };
        // A 429 without a cost report (REST-style): Retry-After is in seconds, though
        // @shopify/shopify-api reads it as milliseconds (PLATFORMS.md).
        const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
        return { throttled: true, ...(graphql ? { bucket } : {}), retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1_000 };
      }
      const msToRestore = (points: number): number => Math.ceil((points / status.restoreRate) * 1000);
      const reported = { bucket, limit: status.maximumAvailable, remaining: status.currentlyAvailable };
      // Shopify deducts the requested (estimated) cost before running a query, so that is what the
      // next query, usually the next page of the same one, needs to find in the bucket.
      const requested = Math.max(1, cost.requestedQueryCost ?? 1);
      const shortfall = requested - status.currentlyAvailable;
      if (throttled) return { throttled: true, ...reported, retryAfterMs: msToRestore(Math.max(1, shortfall)) };
      // Served, but another query like it would come back THROTTLED: report the budget spent so the
      // governor holds the next request until the shortfall has restored instead of wasting a round trip.
      if (shortfall > 0) return { throttled: false, ...reported, remaining: 0, resetInMs: msToRestore(shortfall) };
      return { throttled: false, ...reported, resetInMs: msToRestore(status.maximumAvailable - status.currentlyAvailable) };
    },
  });
}

export const shopifyRatePolicy = shopifyRatePolicyFor();
