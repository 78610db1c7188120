/**
 * Shopify's GraphQL Admin API budget is a leaky bucket of cost points per app and store: up to
 * `maximumAvailable` points (1,000 per query at most), restored at 100 / 200 / 1,000 / 2,000
 * points per second by plan. Every response reports `extensions.cost.throttleStatus`; throttling
 * arrives as HTTP 200 with `errors[].extensions.code == "THROTTLED"`, so the policy reads bodies.
 */
import { z } from 'zod';
import { defineRatePolicy, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';

const GraphqlCost = z
  .object({
    errors: z.array(z.object({ extensions: z.object({ code: z.string().nullish() }).loose().nullish() }).loose()).nullish(),
    extensions: z
      .object({
        cost: z
          .object({
            requestedQueryCost: z.number().nullish(),
            actualQueryCost: z.number().nullish(),
            throttleStatus: z.object({ maximumAvailable: z.number(), currentlyAvailable: z.number(), restoreRate: z.number().positive() }).nullish(),
          })
          .loose()
          .nullish(),
      })
      .loose()
      .nullish(),
  })
  .loose();

export function shopifyRatePolicyFor(options: { restoreRate?: number; maximumAvailable?: number } = {}): RatePolicy {
  const restoreRate = options.restoreRate ?? 100;
  const maximumAvailable = options.maximumAvailable ?? 2_000;
  return defineRatePolicy({
    name: 'shopify',
    // Cost is unknown before the answer; one point per request, and the reported status corrects it.
    buckets: [{ name: 'graphql-cost', capacity: maximumAvailable, perMs: (maximumAvailable / restoreRate) * 1000 }],
    readsBody: true,
    observe: (response): RateObservation => {
      const parsed = GraphqlCost.safeParse(response.body);
      const body = parsed.success ? parsed.data : undefined;
      const status = body?.extensions?.cost?.throttleStatus;
      const throttled = response.status === 429 || (body?.errors ?? []).some((e) => e.extensions?.code === 'THROTTLED');
      if (!status) return { throttled, bucket: 'graphql-cost', ...(throttled ? { retryAfterMs: 1_000 } : {}) };
      const missing = status.maximumAvailable - status.currentlyAvailable;
      if (throttled) {
        const requested = body?.extensions?.cost?.requestedQueryCost ?? 1;
        const wait = Math.max(0, requested - status.currentlyAvailable) / status.restoreRate;
        return { throttled: true, bucket: 'graphql-cost', limit: status.maximumAvailable, remaining: status.currentlyAvailable, retryAfterMs: Math.ceil(wait * 1000) };
      }
      return {
        throttled: false,
        bucket: 'graphql-cost',
        limit: status.maximumAvailable,
        remaining: status.currentlyAvailable,
        resetInMs: Math.ceil((missing / status.restoreRate) * 1000),
      };
    },
  });
}

export const shopifyRatePolicy = shopifyRatePolicyFor();
