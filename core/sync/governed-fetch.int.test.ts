import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateBucket, RatePolicy } from '../contract/index.ts';
import { isLedgerlineError, type ErrorCode } from '../errors/index.ts';
import { databaseVariants, type RateBudgetDatabase } from '../../test/support/rate-budget-databases.ts';
import { startRateLimitedServer, type RateLimitedServer } from '../../test/support/rate-limited-server.ts';
import { createGovernedFetch, type GovernedFetchOptions } from './governed-fetch.ts';
import { createRateGovernor, type RateGovernor, type RateGovernorOptions, type RateWait } from './rate-governor.ts';

const policyName = (body: unknown): unknown => (body && typeof body === 'object' && 'policyName' in body ? body.policyName : undefined);
const throttledIn200 = (body: unknown): boolean => JSON.stringify(body ?? null).includes('"THROTTLED"');

/** Reads the loopback servers' signals the way a platform plugin's policy would. */
const loopbackPolicy = (buckets: RateBucket[] = []): RatePolicy => ({
  name: 'loopback',
  buckets,
  readsBody: true,
  observe: (r) => {
    if (r.status === 429 && policyName(r.body) === 'DAILY') return { throttled: true, daily: true, resetInMs: Number(r.headers.get('x-daily-reset-ms')) };
    const retryAfter = r.headers.get('retry-after');
    return { throttled: r.status === 429 || throttledIn200(r.body), ...(retryAfter ? { retryAfterMs: Number(retryAfter) * 1000 } : {}) };
  },
});
const classifyError = ({ status }: { status: number }): ErrorCode => (status === 429 ? 'LL_RATE_LIMITED' : status === 401 ? 'LL_AUTH_EXPIRED' : 'LL_UPSTREAM');

async function startScriptedServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function fetchAll(fetcher: typeof fetch, urls: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const url of urls) {
    const response = await fetcher(url);
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}

/** How long after each of the installation's block windows ended its next request arrived. */
const resumeDelays = (server: RateLimitedServer, installation: string): number[] =>
  server.blocks
    .filter((b) => b.installation === installation)
    .map((b) => (server.arrivals.find((a) => a.installation === installation && a.at >= b.until)?.at ?? Infinity) - b.until);

const paths = (server: RateLimitedServer, installation: string, count: number) => Array.from({ length: count }, (_, i) => `${server.url}/${installation}/items/${i}`);

for (const variant of databaseVariants()) {
  describe.skipIf(variant.skipReason !== null)(`governed fetch on ${variant.label}${variant.skipReason ? ` (skipped: ${variant.skipReason})` : ''}`, () => {
    let db: RateBudgetDatabase;
    const servers: { close(): Promise<void> }[] = [];
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await db?.close();
    });
    const governor = (options: Partial<RateGovernorOptions> = {}, sql = db.sql) => createRateGovernor({ sql, ...options });
    const governed = (installationId: string, g: RateGovernor, options: Partial<GovernedFetchOptions> = {}) =>
      createGovernedFetch({ installationId, policy: loopbackPolicy(), governor: g, accessToken: () => Promise.resolve('token'), classifyError, ...options });
    const limited = async (options: Parameters<typeof startRateLimitedServer>[0]) => {
      const server = await startRateLimitedServer(options);
      servers.push(server);
      return server;
    };

    it('keeps two processes of one installation inside the window: the server never refuses', async () => {
      const server = await limited({ limit: 10, windowMs: 300, refusal: 'retry-after' });
      const installation = randomUUID();
      const policy = loopbackPolicy([{ name: 'rolling', capacity: 10, perMs: 300 }]);
      const [a, b] = [governed(installation, governor(), { policy }), governed(installation, governor({}, db.otherProcess), { policy })];
      const results = await Promise.all([a, a, b, b].map((f, i) => fetchAll(f, paths(server, installation, 8).map((p) => `${p}?worker=${i}`))));
      expect(results.flat()).toEqual(Array(32).fill(200));
      expect(server.arrivals.filter((r) => r.status !== 200)).toEqual([]);
    });

    it('pauses on a 429 with Retry-After until then, resumes, and sends nothing inside the block', async () => {
      // Retry-After: 1 platform second on a sandbox clock 4x faster = 250 ms.
      const server = await limited({ limit: 5, windowMs: 200, refusal: 'retry-after', retryAfterSeconds: 1, timeScale: 4 });
      const installation = randomUUID();
      const waits: RateWait[] = [];
      const fetcher = governed(installation, governor({ timeScale: 4 }), { onWait: (w) => waits.push(w) });
      expect(await fetchAll(fetcher, paths(server, installation, 12))).toEqual(Array(12).fill(200));
      expect(server.arrivals.filter((r) => r.status === 429)).toHaveLength(2);
      expect(server.arrivalsInsideBlocks(installation)).toEqual([]);
      for (const delay of resumeDelays(server, installation)) expect(delay).toBeLessThan(100);
      expect(waits.length).toBeGreaterThanOrEqual(2);
      expect(waits[0]).toMatchObject({ reason: 'rate limit', bucket: '*', detail: 'throttled' });
      expect(waits[0]!.ms).toBeGreaterThan(200);
      expect(waits[0]!.ms).toBeLessThanOrEqual(250);
    });

    it('backs off exponentially on HubSpot-style 429s without Retry-After until the window frees', async () => {
      const server = await limited({ limit: 5, windowMs: 200, refusal: 'hubspot-body' });
      const installation = randomUUID();
      const fetcher = governed(installation, governor({ backoff: { baseMs: 60, maxMs: 1000 } }));
      expect(await fetchAll(fetcher, paths(server, installation, 12))).toEqual(Array(12).fill(200));
      const arrivals = server.arrivals;
      let streak = 0;
      for (const [i, arrival] of arrivals.entries()) {
        const next = arrivals[i + 1];
        streak = arrival.status === 429 ? streak + 1 : 0;
        if (arrival.status === 429 && next) expect(next.at - arrival.at).toBeGreaterThanOrEqual(60 * 2 ** (streak - 1) - 2);
      }
      expect(arrivals.filter((r) => r.status === 429).length).toBeLessThanOrEqual(6);
    });

    it('holds every process of an installation until the daily reset while other installations carry on', async () => {
      const server = await limited({ limit: 1000, windowMs: 1000, refusal: 'retry-after', dailyLimit: 6, dailyResetMs: 500 });
      const [installation, other] = [randomUUID(), randomUUID()];
      let secondProcess: Promise<number[]> | undefined;
      let otherInstallation: Promise<number[]> | undefined;
      const first = governed(installation, governor(), {
        onWait: () => {
          // Once the first process knows of the block, a second process and another installation start.
          secondProcess ??= fetchAll(governed(installation, governor({}, db.otherProcess)), paths(server, installation, 2));
          otherInstallation ??= fetchAll(governed(other, governor()), paths(server, other, 5));
        },
      });
      expect(await fetchAll(first, paths(server, installation, 8))).toEqual(Array(8).fill(200));
      expect(await secondProcess).toEqual([200, 200]);
      expect(await otherInstallation).toEqual(Array(5).fill(200));
      const [block] = server.blocks.filter((b) => b.installation === installation);
      expect(block).toMatchObject({ kind: 'daily' });
      expect(server.arrivals.filter((a) => a.installation === installation && a.status === 429)).toHaveLength(1);
      expect(server.arrivalsInsideBlocks(installation)).toEqual([]);
      expect(resumeDelays(server, installation)[0]).toBeLessThan(100);
      expect(server.arrivals.filter((a) => a.installation === other && a.at > block!.from && a.at < block!.until).length).toBeGreaterThan(0);
    });

    it('gives up with LL_RATE_LIMITED and a retry time after the bounded attempts', async () => {
      const server = await limited({ limit: 0, windowMs: 1000, refusal: 'retry-after', retryAfterSeconds: 1, timeScale: 20 });
      const installation = randomUUID();
      const error: unknown = await governed(installation, governor({ timeScale: 20 }), { maxAttempts: 3 })(`${server.url}/${installation}/x`).catch((e: unknown) => e);
      expect(isLedgerlineError(error, 'LL_RATE_LIMITED')).toBe(true);
      expect(isLedgerlineError(error) && error.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(server.arrivals).toHaveLength(3);
    });

    it('renews an expired token once and retries; a second 401 reaches the caller', async () => {
      const seen: string[] = [];
      const server = await startScriptedServer((req, res) => {
        seen.push(req.headers.authorization ?? '');
        res.writeHead(req.headers.authorization === 'Bearer fresh' && !req.url?.includes('revoked') ? 200 : 401).end('{}');
      });
      servers.push(server);
      let token = 'stale';
      let renewals = 0;
      const options = {
        accessToken: () => Promise.resolve(token),
        onAuthExpired: () => {
          renewals += 1;
          token = 'fresh';
          return Promise.resolve();
        },
      };
      const fetcher = governed(randomUUID(), governor(), options);
      expect((await fetcher(`${server.url}/ok`)).status).toBe(200);
      expect(seen).toEqual(['Bearer stale', 'Bearer fresh']);
      expect((await fetcher(`${server.url}/revoked`)).status).toBe(401);
      expect(renewals).toBe(2);
    });

    it('retries a throttle the policy found in a 200 body; the caller reads the body untouched', async () => {
      let calls = 0;
      const server = await startScriptedServer((req, res) => {
        calls += 1;
        const body = calls === 1 ? { errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] } : { data: { shop: { name: 'loopback' } } };
        res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify(body));
      });
      servers.push(server);
      const response = await governed(randomUUID(), governor())(`${server.url}/graphql`, { method: 'POST', body: '{"query":"{shop{name}}"}' });
      expect(await response.json()).toEqual({ data: { shop: { name: 'loopback' } } });
      expect(calls).toBe(2);
    });

    it('adds the bearer token unless the request already carries credentials', async () => {
      const seen: (string | undefined)[] = [];
      const server = await startScriptedServer((req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(204).end();
      });
      servers.push(server);
      const fetcher = governed(randomUUID(), governor());
      await fetcher(`${server.url}/a`);
      await fetcher(new Request(`${server.url}/b`, { headers: { authorization: 'Basic c2RrOm93bg==' } }));
      expect(seen).toEqual(['Bearer token', 'Basic c2RrOm93bg==']);
    });
  });
}
