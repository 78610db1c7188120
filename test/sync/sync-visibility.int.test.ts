/**
 * What a sync leaves is visible where admins look: the installation page's stream table, the
 * overview's dead-lettered syncs, and /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log/index.ts';
import { createMetricsRegistry } from '../../core/metrics/index.ts';
import { startServer, storeBackedDeps, type RunningServer } from '../../core/server/index.ts';
import { listSyncStatus, registerSyncMetrics, syncStreamView } from '../../core/sync/index.ts';
import scriptedConnector from '../fixtures/scripted-source/connector.ts';
import { startScriptedSource, type RunningScriptedSource } from '../fixtures/scripted-source/server.ts';
import { testDatabases, type TestDatabase } from '../support/database.ts';
import { installScripted, scriptedServices, uniqueAccount } from './sync-harness.ts';

const plugins = [{ connector: scriptedConnector, settings: {} }];

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`sync state in the console and metrics on ${variant.label}`, () => {
    let db: TestDatabase;
    let source: RunningScriptedSource;
    let server: RunningServer;
    let synced: { tenantId: string; installationId: string };
    let dead: { tenantId: string; installationId: string };
    let slug: string;

    beforeAll(async () => {
      db = await variant.open();
      source = await startScriptedSource({ records: 600, pageSize: 200, deleteEvery: 100 });
      synced = await installScripted(db, source.url, uniqueAccount());
      dead = await installScripted(db, 'http://127.0.0.1:9', uniqueAccount());
      const { engine } = scriptedServices(db);
      await engine.runNow({ installationId: synced.installationId });
      await engine.runNow({ installationId: dead.installationId });
      // What the dead-letter worker does once retries run out.
      await db.sql.query(`update sync_state set status = 'dead' where installation_id = $1`, [dead.installationId]);
      [{ slug }] = (await db.sql.query<{ slug: string }>(`select slug from tenant where id = $1`, [synced.tenantId])) as [{ slug: string }];

      const metrics = createMetricsRegistry({ processMetrics: false });
      registerSyncMetrics(metrics, () => listSyncStatus(db.sql));
      const log = createLogger({ level: 'silent' });
      const config = { env: 'test' as const, adminToken: undefined, publicUrl: 'http://localhost', environment: {}, encryptionKeySource: 'environment' as const };
      const deps = storeBackedDeps({ config, log, database: db, plugins: [], frameAncestors: [], metrics });
      server = await startServer(
        { ...deps, syncStreams: async (tenantId) => (await listSyncStatus(db.sql, tenantId)).map((row) => syncStreamView(plugins, row)) },
        { port: 0, host: '127.0.0.1' },
      );
    });
    afterAll(async () => {
      await server?.close();
      await source?.stop();
      await db?.close();
    });

    it('shows each stream with its records, checkpoint and completeness on the installation page', async () => {
      const page = await (await fetch(`${server.url}/tenants/${slug}/installations/${synced.installationId}`)).text();
      const row = /<tr class="stream">([\s\S]*?)<\/tr>/.exec(page)?.[1] ?? '';
      expect(row).toContain('<td>records</td>');
      expect(row).toContain('status-idle');
      expect(row).toContain('<td>600');
      expect(row).toContain('<code>record 600</code>');
      expect(row).toContain('gap 0 (source 594, stored 594)');
    });

    it('lists dead-lettered streams on the overview with their last error', async () => {
      const page = await (await fetch(`${server.url}/`)).text();
      const rows = [...page.matchAll(/<tr class="dead-letter">([\s\S]*?)<\/tr>/g)].map((m) => m[1]!);
      const row = rows.find((r) => r.includes(dead.installationId) || r.includes('records'));
      expect(rows).toHaveLength(1);
      expect(row).toMatch(/LL_[A-Z_]+: /);
    });

    it('exports gaps, records and dead streams at /metrics', async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const labels = `platform="scripted",installation="${synced.installationId}",stream="records"`;
      expect(text).toContain(`ledgerline_sync_gap_records{${labels}} 0`);
      expect(text).toContain(`ledgerline_sync_records{${labels}} 600`);
      expect(text).toContain(`ledgerline_sync_dead{${labels}} 0`);
      expect(text).toContain(`ledgerline_sync_dead{platform="scripted",installation="${dead.installationId}",stream="records"} 1`);
    });
  });
}
