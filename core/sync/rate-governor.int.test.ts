import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateBucket, RatePolicy } from '../contract/index.ts';
import { isLedgerlineError } from '../errors/index.ts';
import { databaseVariants, type RateBudgetDatabase } from '../../test/support/rate-budget-databases.ts';
import { createRateGovernor, type RateGovernorOptions, type RateWait } from './rate-governor.ts';

const policy = (buckets: RateBucket[] = []): RatePolicy => ({ name: 'test', buckets, readsBody: false, observe: () => ({ throttled: false }) });
const get = (path = '/items') => ({ method: 'GET', url: `http://platform.test${path}` });

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The largest number of timestamps inside any window of `windowMs`. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (const [i, start] of sorted.entries()) most = Math.max(most, sorted.slice(i).filter((t) => t < start + windowMs).length);
  return most;
}

for (const variant of databaseVariants()) {
  describe.skipIf(variant.skipReason !== null)(`rate governor on ${variant.label}${variant.skipReason ? ` (skipped: ${variant.skipReason})` : ''}`, () => {
    let db: RateBudgetDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });
    const governor = (options: Partial<RateGovernorOptions> = {}, sql = db.sql) => createRateGovernor({ sql, random: () => 0, ...options });

    it('grants the burst at once, then spaces requests at the refill rate and says why it waits', async () => {
      const waits: RateWait[] = [];
      const onWait = (w: RateWait) => waits.push(w);
      const g = governor({ burstFraction: 0.5 });
      // Burst 5, then 5.5 tokens per second: one per ~182 ms.
      const p = policy([{ name: 'rolling', capacity: 10, perMs: 1000 }]);
      const installation = randomUUID();
      const started = performance.now();
      for (let i = 0; i < 5; i += 1) await g.acquire(installation, p, get(), { onWait });
      expect(waits).toEqual([]);
      for (let i = 0; i < 2; i += 1) await g.acquire(installation, p, get(), { onWait });
      // The bucket was full when created: two more tokens take ~364 ms of refill from then.
      expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 182 - 10);
      expect(waits[0]).toMatchObject({ reason: 'rate limit', bucket: 'rolling', detail: null });
      expect(waits[0]!.ms).toBeGreaterThan(0);
      expect(waits[0]!.ms).toBeLessThanOrEqual(200);
    });

    it('keeps two processes of one installation together inside the window limit', async () => {
      const p = policy([{ name: 'rolling', capacity: 10, perMs: 200 }]);
      const installation = randomUUID();
      const grants: number[] = [];
      const started = performance.now();
      const worker = async (g: ReturnType<typeof governor>, count: number) => {
        for (let i = 0; i < count; i += 1) {
          await g.acquire(installation, p, get());
          grants.push(performance.now());
        }
      };
      const [a, b] = [governor(), governor({}, db.otherProcess)];
      await Promise.all([worker(a, 8), worker(a, 7), worker(b, 8), worker(b, 7)]);
      expect(busiestWindow(grants, 200)).toBeLessThanOrEqual(10);
      // 30 grants at 9.5 per 200 ms after a burst of 1: at least ~610 ms.
      expect(performance.now() - started).toBeGreaterThanOrEqual(580);
    });

    it('only draws from the buckets a request falls in, at its cost, and a costly request leaves debt', async () => {
      const g = governor({ burstFraction: 0.5 });
      const p = policy([
        { name: 'search', capacity: 2, perMs: 60_000, appliesTo: (r) => r.url.pathname.startsWith('/search') },
        { name: 'points', capacity: 10, perMs: 200, cost: (r) => (r.url.pathname.startsWith('/heavy') ? 8 : 1) },
      ]);
      const installation = randomUUID();
      // No wait for a token (a wait would be a minute here): the bound only allows for a slow machine.
      expect(await timed(() => g.acquire(installation, p, get('/search')))).toBeLessThan(500);
      // The search bucket (burst 1, one token a minute) is empty; other requests do not care.
      await expect(g.acquire(installation, p, get('/search'), { signal: AbortSignal.timeout(80) })).rejects.toThrow();
      expect(await timed(() => g.acquire(installation, p, get('/heavy')))).toBeLessThan(200);
      // 8 points drawn from a burst of 5 left a debt of ~3: one more point takes ~4 tokens of refill (~36 ms each).
      expect(await timed(() => g.acquire(installation, p, get('/cheap')))).toBeGreaterThanOrEqual(120);
    });

    it('blocks every bucket of the installation after a Retry-After throttle, and not other installations', async () => {
      const g = governor();
      const p = policy([{ name: 'rolling', capacity: 100, perMs: 1000, appliesTo: (r) => r.url.pathname === '/items' }]);
      const [blocked, other] = [randomUUID(), randomUUID()];
      await g.acquire(blocked, p, get());
      // Measured from just before the throttle is recorded: the block runs 150 ms from then, however
      // long the steps in between take on a busy machine.
      const observedAt = performance.now();
      const { blockedMs } = await g.observe(blocked, p, { throttled: true, retryAfterMs: 150 });
      expect(blockedMs).toBeGreaterThan(120);
      expect(await timed(() => g.acquire(other, p, get()))).toBeLessThan(50);
      const waits: RateWait[] = [];
      const sinceObserved = async (work: Promise<unknown>) => {
        await work;
        return performance.now() - observedAt;
      };
      const [inBucket, outside] = await Promise.all([
        sinceObserved(g.acquire(blocked, p, get(), { onWait: (w) => waits.push(w) })),
        sinceObserved(governor({}, db.otherProcess).acquire(blocked, p, get('/elsewhere'))),
      ]);
      expect(inBucket).toBeGreaterThanOrEqual(145);
      expect(outside).toBeGreaterThanOrEqual(145);
      expect(waits[0]).toMatchObject({ reason: 'rate limit', bucket: '*', detail: 'throttled' });
    });

    it('backs off exponentially per consecutive throttle without Retry-After, and a success resets it', async () => {
      const g = governor({ backoff: { baseMs: 40, maxMs: 1000 } });
      const p = policy();
      const installation = randomUUID();
      const throttle = async () => (await g.observe(installation, p, { throttled: true })).blockedMs;
      expect(await throttle()).toBeGreaterThan(30);
      expect(await throttle()).toBeGreaterThan(70);
      expect(await throttle()).toBeGreaterThan(150);
      await g.acquire(installation, p, get());
      await g.observe(installation, p, { throttled: false });
      const afterReset = await throttle();
      expect(afterReset).toBeGreaterThan(30);
      expect(afterReset).toBeLessThan(50);
    });

    it('holds a daily refusal for the whole installation until the reset, failing fast past maxWaitMs', async () => {
      const [a, b] = [governor({ maxWaitMs: 1000 }), governor({ maxWaitMs: 1000 }, db.otherProcess)];
      const p = policy([{ name: 'rolling', capacity: 100, perMs: 1000 }]);
      const [installation, other] = [randomUUID(), randomUUID()];
      await a.observe(installation, p, { throttled: true, daily: true, bucket: 'rolling', resetInMs: 60_000 });
      for (const g of [a, b]) {
        const error: unknown = await g.acquire(installation, p, get()).catch((e: unknown) => e);
        expect(isLedgerlineError(error, 'LL_RATE_LIMITED')).toBe(true);
        expect(isLedgerlineError(error) && error.details.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      }
      await b.acquire(other, p, get());
    });

    it('tightens the bucket to what the platform reports, and blocks until the reset at remaining 0', async () => {
      const g = governor({ burstFraction: 0.5 });
      // Burst 50, refilled at one token per ~198 ms.
      const p = policy([{ name: 'rolling', capacity: 100, perMs: 10_000 }]);
      const installation = randomUUID();
      await g.acquire(installation, p, get());
      await g.observe(installation, p, { throttled: false, bucket: 'rolling', remaining: 2, limit: 100 });
      const waits: RateWait[] = [];
      for (let i = 0; i < 3; i += 1) await g.acquire(installation, p, get(), { onWait: (w) => waits.push(w) });
      expect(waits[0]).toMatchObject({ bucket: 'rolling', detail: null });
      expect(waits[0]!.ms).toBeGreaterThan(100);
      await g.observe(installation, p, { throttled: false, bucket: 'rolling', remaining: 0, resetInMs: 120 });
      const waited = await timed(() => g.acquire(installation, p, get(), { onWait: (w) => waits.push(w) }));
      expect(waited).toBeGreaterThanOrEqual(105);
      expect(waits.find((w) => w.detail !== null)).toMatchObject({ bucket: 'rolling', detail: 'budget exhausted' });
    });

    it('divides waits by timeScale to match a sandbox with a faster clock', async () => {
      const g = governor({ timeScale: 10 });
      const { blockedMs } = await g.observe(randomUUID(), policy(), { throttled: true, retryAfterMs: 1000 });
      expect(blockedMs).toBeGreaterThan(80);
      expect(blockedMs).toBeLessThanOrEqual(100);
    });

    it('stops waiting at once when the run is cancelled', async () => {
      const g = governor();
      const installation = randomUUID();
      await g.observe(installation, policy(), { throttled: true, retryAfterMs: 5000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('cancelled')), 30);
      const started = performance.now();
      await expect(g.acquire(installation, policy(), get(), { signal: controller.signal })).rejects.toThrow('cancelled');
      expect(performance.now() - started).toBeLessThan(500);
    });
  });
}
