/**
 * The Shopify policy with the real governor and governed fetch, against a loopback GraphQL endpoint
 * that keeps Shopify's leaky bucket and answers THROTTLED inside an HTTP 200, as Shopify does.
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

async function startLeakyBucketGraphql() {
  let available = maximumAvailable;
  let last = Date.now();
  const log: { at: number; throttled: boolean; availableBefore: number }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = Date.now();
      available = Math.min(maximumAvailable, available + ((now - last) / 1000) * restoreRate);
      last = now;
      const throttled = available < queryCost;
      log.push({ at: now, throttled, availableBefore: available });
      if (!throttled) available -= queryCost;
      const throttleStatus = { maximumAvailable, currentlyAvailable: Math.floor(available), restoreRate };
      const body = throttled
        ? { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }], extensions: { cost: { requestedQueryCost: queryCost, actualQueryCost: null, throttleStatus } } }
        : { data: { shop: { name: 'Acme' } }, extensions: { cost: { requestedQueryCost: queryCost, actualQueryCost: queryCost, throttleStatus } } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/admin/api/2026-10/graphql.json`, log, close: () => new Promise<void>((r) => server.close(() => r())) };
}

for (const variant of databaseVariants()) {
  describe.skipIf(variant.skipReason !== null)(`Shopify GraphQL cost through the governor on ${variant.label}`, () => {
    let db: RateBudgetDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('waits out THROTTLED-200 answers so the caller only ever sees data', async () => {
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
        for (let i = 0; i < 15; i++) {
          const response = await governedFetch(shop.url, { method: 'POST', body: JSON.stringify({ query: '{ shop { name } }' }) });
          bodies.push(await response.json());
        }
        expect(bodies.every((b) => JSON.stringify(b).includes('"Acme"'))).toBe(true);
        // 15 queries of 20 points from a 60-point bucket restoring 100/s need at least 2.4 s.
        const served = shop.log.filter((e) => !e.throttled);
        expect(served).toHaveLength(15);
        expect(served.at(-1)!.at - shop.log[0]!.at).toBeGreaterThanOrEqual(2_300);
        // After a THROTTLED answer, the next request waits until the points have restored.
        for (const [i, entry] of shop.log.entries()) {
          if (entry.throttled) expect(shop.log[i + 1]?.throttled).toBe(false);
        }
      } finally {
        await shop.close();
      }
    });
  });
}
