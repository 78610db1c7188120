/**
 * The Shopify policy with the real governor and governed fetch, on the store's test databases,
 * against a loopback GraphQL endpoint that keeps Shopify's leaky bucket and answers THROTTLED
 * inside an HTTP 200, as Shopify does. Midway, another client of the same app and store empties
 * the bucket, so one request is refused and has to be waited out.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGovernedFetch } from '../../core/sync/governed-fetch.ts';
import { createRateGovernor } from '../../core/sync/rate-governor.ts';
import { databaseVariants, type RateBudgetDatabase } from '../../test/support/rate-budget-databases.ts';
import { shopifyRatePolicyFor } from './rate-policy.ts';

const maximumAvailable = 60;
const restoreRate = 100; // points per second
const queryCost = 20;
const queries = 15;
/** The arrival before which the other client spends the whole bucket. */
const drainedAt = 6;

interface Arrival {
  readonly at: number;
  /** Points in the bucket when the request arrived (after the other client's spending). */
  readonly available: number;
  readonly throttled: boolean;
}

async function startLeakyBucketGraphql() {
  let available = maximumAvailable;
  let last = Date.now();
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = Date.now();
      available = Math.min(maximumAvailable, available + ((now - last) / 1000) * restoreRate);
      last = now;
      if (arrivals.length === drainedAt) available = 0;
      const throttled = available < queryCost;
      arrivals.push({ at: now, available, throttled });
      if (!throttled) available -= queryCost;
      const throttleStatus = { maximumAvailable, currentlyAvailable: Math.floor(available), restoreRate };
      const body = throttled
        ? {
            errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/limits' } }],
            extensions: { cost: { requestedQueryCost: queryCost, actualQueryCost: null, throttleStatus } },
          }
        : { data: { shop: { name: 'Acme' } }, extensions: { cost: { requestedQueryCost: queryCost, actualQueryCost: queryCost, throttleStatus } } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/admin/api/2026-10/graphql.json`, arrivals, close: () => new Promise<void>((r) => server.close(() => r())) };
}

for (const variant of databaseVariants()) {
  describe.skipIf(variant.skipReason !== null)(`Shopify GraphQL cost through the governor on ${variant.label}${variant.skipReason ? ` (skipped: ${variant.skipReason})` : ''}`, () => {
    let db: RateBudgetDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('waits out a THROTTLED-200 so the caller only ever sees data, and sends nothing before the points have restored', { timeout: 20_000 }, async () => {
      const shop = await startLeakyBucketGraphql();
      try {
        const governedFetch = createGovernedFetch({
          installationId: randomUUID(),
          policy: shopifyRatePolicyFor({ restoreRate, maximumAvailable }),
          governor: createRateGovernor({ sql: db.sql }),
          accessToken: () => Promise.resolve('shpat_test_not_real'),
          authHeader: (token) => ['x-shopify-access-token', token],
          classifyError: ({ status }) => (status === 429 ? 'LL_RATE_LIMITED' : 'LL_UPSTREAM'),
        });
        const bodies: unknown[] = [];
        for (let i = 0; i < queries; i++) {
          const response = await governedFetch(shop.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ shop { name } }' }) });
          expect(response.status).toBe(200);
          bodies.push(await response.json());
        }

        // The caller never saw the THROTTLED answer: every body it got carries data.
        expect(bodies).toEqual(Array(queries).fill(expect.objectContaining({ data: { shop: { name: 'Acme' } } })));
        // The only refusal is the one the other client caused; every other request found its
        // points in the bucket, because the policy held it until the shortfall had restored.
        expect(shop.arrivals.map((a, i) => (a.throttled ? i : null)).filter((i) => i !== null)).toEqual([drainedAt]);
        expect(shop.arrivals).toHaveLength(queries + 1);
        // The refused request came back no sooner than its cost needed to restore at 100 points/s.
        const refused = shop.arrivals[drainedAt]!;
        const retried = shop.arrivals[drainedAt + 1]!;
        expect(retried.at - refused.at).toBeGreaterThanOrEqual(((queryCost - Math.floor(refused.available)) / restoreRate) * 1000);
        expect(retried.available).toBeGreaterThanOrEqual(queryCost);
        // 15 queries of 20 points from a 60-point bucket restoring 100 / s take at least 2.4 s; the
        // governor never waited for a full bucket (that would be 0.6 s per hold, 7 s in all).
        const elapsed = shop.arrivals.at(-1)!.at - shop.arrivals[0]!.at;
        expect(elapsed).toBeGreaterThanOrEqual(((queries * queryCost - maximumAvailable) / restoreRate) * 1000);
        expect(elapsed).toBeLessThan(6_000);
      } finally {
        await shop.close();
      }
    });
  });
}
