/**
 * Stopping a worker mid-backfill: it returns without waiting the backfill out, sends nothing after,
 * and the job's retry continues from the checkpoint instead of starting over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSyncQueue, startSyncWorker } from '../../core/sync/index.ts';
import { startScriptedSource } from '../fixtures/scripted-source/server.ts';
import { testDatabases, type TestDatabase } from '../support/database.ts';
import { installScripted, quietLog, scriptedServices, storeContents, uniqueAccount } from './sync-harness.ts';

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`worker shutdown on ${variant.label}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('a stopped worker interrupts its running backfill, and the retry resumes from the checkpoint', async () => {
      // 40 pages at 4 requests per 400 ms: four seconds of backfill at the least.
      const source = await startScriptedSource({ records: 4_000, pageSize: 100, windowLimit: 4, windowMs: 400 });
      const { tenantId, installationId } = await installScripted(db, source.url, uniqueAccount());
      const { engine } = scriptedServices(db);
      const queue = await openSyncQueue({ connectionString: db.connectionUrl, log: quietLog, retryLimit: 3, retryDelaySeconds: 1, maxConnections: 2 });
      try {
        const first = await startSyncWorker({ engine, queue, sql: db.sql, log: quietLog, concurrency: 1, scheduleEveryMs: 60_000, pollingIntervalSeconds: 0.5 });
        await queue.enqueue({ tenantId, installationId, stream: 'records', mode: 'full' });
        const stored = async (): Promise<number> => (await storeContents(db, installationId)).records.length;
        while ((await stored()) < 500) await new Promise((r) => setTimeout(r, 50));
        await first.stop();
        const atStop = await stored();
        const requestsAtStop = source.log.filter((e) => e.path === '/v1/records').length;
        expect(atStop).toBeLessThan(4_000);
        await new Promise((r) => setTimeout(r, 600));
        // Nothing was sent nor written once stop() returned.
        expect(source.log.filter((e) => e.path === '/v1/records').length).toBe(requestsAtStop);
        expect(await stored()).toBe(atStop);

        const second = await startSyncWorker({ engine, queue, sql: db.sql, log: quietLog, concurrency: 1, scheduleEveryMs: 60_000, pollingIntervalSeconds: 0.5 });
        try {
          const deadline = Date.now() + 60_000;
          while ((await stored()) < 4_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        } finally {
          await second.stop();
        }
        expect(await stored()).toBe(4_000);
        // The retry asked for the first page once in all: it continued from the checkpoint.
        const firstPages = source.log.filter((e) => e.path === '/v1/records' && e.status === 200 && e.after === 0);
        expect(firstPages).toHaveLength(1);
      } finally {
        await queue.stop();
        await source.stop();
      }
    });
  });
}
