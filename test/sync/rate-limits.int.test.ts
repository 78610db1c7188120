import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSyncQueue, startSyncWorker } from '../../core/sync/index.ts';
import { startScriptedSource, type RunningScriptedSource } from '../fixtures/scripted-source/server.ts';
import { testDatabases, type TestDatabase } from '../support/database.ts';
import { installScripted, quietLog, scriptedServices, storeContents, uniqueAccount } from './sync-harness.ts';

/**
 * Every request that arrived while the source had told us to wait. A window block starts at the
 * 429 that announced it; a daily block starts silently, so the one request that discovered it (and
 * was refused) is not a violation.
 */
function requestsInsideBlocks(source: RunningScriptedSource): { at: number; block: { from: number; to: number; kind: string } }[] {
  const violations = [];
  for (const block of source.blocks) {
    // 15 ms of slack for timer granularity between the two clocks' readings.
    const inside = source.log.filter((entry) => entry.at > block.from && entry.at < block.to - 15);
    const discovering = block.kind === 'daily' && inside[0]?.status === 429 ? 1 : 0;
    for (const entry of inside.slice(discovering)) violations.push({ at: entry.at, block });
  }
  return violations;
}

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`rate limits during a sync on ${variant.label}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('a 429 storm: the run pauses for each Retry-After, sends nothing while blocked, and completes', async () => {
      // No rate headers: the only signal is the 429 and its Retry-After.
      // Two requests a second: any machine, however loaded, runs into the limit.
      const source = await startScriptedSource({ records: 1_000, pageSize: 100, windowLimit: 2, windowMs: 1_000, advertiseLimits: false });
      try {
        const { installationId } = await installScripted(db, source.url, uniqueAccount());
        const waits: string[] = [];
        const [summary] = await scriptedServices(db).engine.runNow({ installationId }, (event) => {
          if (event.type === 'waiting') waits.push(event.reason);
        });
        expect(summary).toMatchObject({ outcome: 'succeeded', records: 1_000 });
        const throttled = source.log.filter((e) => e.status === 429).length;
        expect(throttled).toBeGreaterThan(0);
        expect(waits.length).toBeGreaterThan(0);
        expect(requestsInsideBlocks(source)).toEqual([]);
        expect((await storeContents(db, installationId)).records).toHaveLength(1_000);
      } finally {
        await source.stop();
      }
    });

    it('daily quota exhaustion: nothing is sent until the reset, then the run resumes where it stopped', async () => {
      const source = await startScriptedSource({ records: 2_000, pageSize: 100, dailyQuota: 8, dailyResetMs: 1_500 });
      try {
        const { installationId } = await installScripted(db, source.url, uniqueAccount());
        const started = Date.now();
        const [summary] = await scriptedServices(db).engine.runNow({ installationId });
        expect(summary).toMatchObject({ outcome: 'succeeded', records: 2_000 });
        const daily = source.blocks.find((b) => b.kind === 'daily');
        expect(daily).toBeDefined();
        expect(requestsInsideBlocks(source)).toEqual([]);
        // Exactly one request learned of the exhaustion; the next came after the reset.
        const refused = source.log.filter((e) => e.status === 429);
        expect(refused).toHaveLength(1);
        const after = source.log.filter((e) => e.at > refused[0]!.at);
        expect(after[0]!.at).toBeGreaterThanOrEqual(daily!.to - 15);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
        expect((await storeContents(db, installationId)).records).toHaveLength(2_000);
      } finally {
        await source.stop();
      }
    });

    it('a worker defers a stream stopped by a daily quota until the reset instead of burning retries into the dead-letter queue', async () => {
      const source = await startScriptedSource({ records: 1_500, pageSize: 100, dailyQuota: 5, dailyResetMs: 2_500 });
      const { tenantId, installationId } = await installScripted(db, source.url, uniqueAccount());
      // Waits past half a second go back to the queue, as a day-long wait would.
      const { engine } = scriptedServices(db, { maxRateWaitMs: 500 });
      const queue = await openSyncQueue({ connectionString: db.connectionUrl, log: quietLog, retryLimit: 1, retryDelaySeconds: 1, maxConnections: 2 });
      const worker = await startSyncWorker({ engine, queue, sql: db.sql, log: quietLog, concurrency: 1, scheduleEveryMs: 60_000, pollingIntervalSeconds: 0.5 });
      const statuses = new Set<string>();
      try {
        await queue.enqueue({ tenantId, installationId, stream: 'records', mode: 'incremental' });
        const deadline = Date.now() + 60_000;
        for (;;) {
          const [state] = await db.sql.query<{ status: string; last_success_at: string | null }>(
            `select status, last_success_at from sync_state where installation_id = $1`,
            [installationId],
          );
          if (state) statuses.add(state.status);
          if (state?.last_success_at) break;
          if (Date.now() > deadline) throw new Error(`no success; statuses seen: ${[...statuses].join(', ')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await worker.stop();
        await queue.stop();
        await source.stop();
      }
      expect(statuses.has('waiting')).toBe(true);
      expect(statuses.has('dead')).toBe(false);
      expect(requestsInsideBlocks(source)).toEqual([]);
      expect((await storeContents(db, installationId)).records).toHaveLength(1_500);
    });
  });
}
