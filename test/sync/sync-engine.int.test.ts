import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSyncStatus } from '../../core/sync/index.ts';
import { scriptedDeletedAt, scriptedRecord, startScriptedSource, type RunningScriptedSource } from '../fixtures/scripted-source/server.ts';
import { testDatabases, type TestDatabase } from '../support/database.ts';
import { installScripted, scriptedServices, storeContents, uniqueAccount } from './sync-harness.ts';

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`sync engine on ${variant.label}`, () => {
    let db: TestDatabase;
    let source: RunningScriptedSource;
    beforeAll(async () => {
      db = await variant.open();
      source = await startScriptedSource({ records: 1_200, pageSize: 250, deleteEvery: 100 });
    });
    afterAll(async () => {
      await source?.stop();
      await db?.close();
    });

    it('backfills every page into exact canonical records, records deletions, and reconciles the count', async () => {
      const { tenantId, installationId } = await installScripted(db, source.url, uniqueAccount());
      const { engine } = scriptedServices(db);
      const [summary] = await engine.runNow({ installationId });
      expect(summary).toMatchObject({ outcome: 'succeeded', records: 1_200, pages: 5, deleted: 12, rejected: 0, sourceCount: 1_188, storedCount: 1_188 });

      const stored = await db.sql.query<{ canonical: unknown; payload: unknown; deleted_at: string | null }>(
        `select canonical, payload, deleted_at from source_record where installation_id = $1 and external_id = 'r0000007'`,
        [installationId],
      );
      expect(stored).toEqual([
        {
          payload: scriptedRecord(7),
          deleted_at: null,
          canonical: {
            persons: [
              {
                source: { objectType: 'scripted_person', externalId: 'r0000007' },
                email: 'person7@example.com',
                displayName: 'Person 7',
                mergedFrom: [],
                attributes: {},
              },
            ],
            accounts: [],
            activities: [
              {
                kind: 'transaction',
                category: 'purchase',
                occurredAt: scriptedRecord(7).createdAt,
                subject: { kind: 'person', objectType: 'scripted_person', externalId: 'r0000007' },
                source: { objectType: 'scripted_person', externalId: 'r0000007' },
                discriminator: 'main',
                amount: { value: '8.50', currency: 'EUR' },
                summary: 'r0000007 bought for 8.50 EUR',
                attributes: {},
              },
            ],
          },
        },
      ]);
      const deletions = await db.sql.query<{ kind: string; category: string; subject_external_id: string; occurred_at: string }>(
        `select kind, category, subject_external_id, occurred_at from activity
          where installation_id = $1 and source_external_id = 'r0000100' order by discriminator`,
        [installationId],
      );
      expect(deletions.map((d) => ({ ...d, occurred_at: new Date(d.occurred_at).toISOString() }))).toEqual([
        { kind: 'profile_change', category: 'deleted', subject_external_id: 'r0000100', occurred_at: scriptedDeletedAt(100) },
        { kind: 'transaction', category: 'purchase', subject_external_id: 'r0000100', occurred_at: scriptedRecord(100).createdAt },
      ]);
      const [state] = (await listSyncStatus(db.sql, tenantId)).filter((s) => s.installation_id === installationId);
      expect(state).toMatchObject({ stream: 'records', status: 'idle', checkpoint_seq: '5', cursor: { after: 1_200 }, source_count: '1188', stored_count: '1188' });
    });

    it('runs again incrementally without duplicating anything', async () => {
      const { installationId } = await installScripted(db, source.url, uniqueAccount());
      const { engine } = scriptedServices(db);
      await engine.runNow({ installationId });
      const first = await storeContents(db, installationId);
      const [again] = await engine.runNow({ installationId });
      expect(again?.outcome).toBe('succeeded');
      expect(await storeContents(db, installationId)).toEqual(first);
      const full = await engine.runNow({ installationId, full: true });
      expect(full[0]?.records).toBe(1_200);
      expect(await storeContents(db, installationId)).toEqual(first);
    });

    it('rejects a malformed checkpoint visibly and starts over from a backfill', async () => {
      const { installationId } = await installScripted(db, source.url, uniqueAccount());
      const { engine } = scriptedServices(db);
      await engine.runNow({ installationId });
      await db.sql.query(`update sync_state set cursor = '{"after":"not a number"}' where installation_id = $1`, [installationId]);
      const [summary] = await engine.runNow({ installationId });
      expect(summary).toMatchObject({ outcome: 'succeeded', records: 1_200 });
    });

    it('refuses to run a stream another runner holds the lease on', async () => {
      const { installationId } = await installScripted(db, source.url, uniqueAccount());
      await db.sql.query(
        `insert into sync_state (tenant_id, installation_id, stream, lease_owner, lease_until)
         select tenant_id, id, 'records', 'someone-else', now() + interval '1 minute' from installation where id = $1`,
        [installationId],
      );
      const { engine } = scriptedServices(db);
      const [summary] = await engine.runNow({ installationId });
      expect(summary?.outcome).toBe('busy');
      expect((await storeContents(db, installationId)).records).toEqual([]);
    });

    it('records a failing source as a failed run with its error, visible in the status', async () => {
      const { tenantId, installationId } = await installScripted(db, 'http://127.0.0.1:9', uniqueAccount());
      const { engine } = scriptedServices(db);
      const [summary] = await engine.runNow({ installationId });
      expect(summary?.outcome).toBe('failed');
      const [state] = (await listSyncStatus(db.sql, tenantId)).filter((s) => s.installation_id === installationId);
      expect(state?.status).toBe('failed');
      expect(state?.last_error_code).toMatch(/^LL_/);
      expect(state?.last_error_message).toBeTruthy();
    });
  });
}
