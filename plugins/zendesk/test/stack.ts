/**
 * Ledgerline as `serve` assembles it — store, install flow, webhook intake, HTTP server, sync
 * services — with the Zendesk plugin pointed at a running emulator. For tests that go through HTTP.
 */
import { createServer } from 'node:net';
import type { LoadedPlugin } from '../../../core/contract/index.ts';
import { createInstallService } from '../../../core/install/install-service.ts';
import { createLogger } from '../../../core/log/index.ts';
import { startServer, storeBackedDeps, type RunningServer } from '../../../core/server/index.ts';
import { createSyncServices, createWebhookIntake } from '../../../core/sync/index.ts';
import { openPgliteTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import zendesk from '../index.ts';
import type { RunningZendeskEmulator } from '../emulator/server.ts';

export const stackKey = Buffer.alloc(32, 13);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface ZendeskStack {
  readonly url: string;
  readonly db: TestDatabase;
  readonly tenantId: string;
  readonly plugins: LoadedPlugin[];
  readonly server: RunningServer;
  readonly sync: ReturnType<typeof createSyncServices>;
  close(): Promise<void>;
}

export async function startZendeskStack(emulator: RunningZendeskEmulator, options: { timeScale: number }): Promise<ZendeskStack> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createLogger({ level: 'silent', name: 'zendesk-stack' });
  const db = await openPgliteTestDatabase();
  const [tenant] = await db.sql.query<{ id: string }>(`insert into tenant (slug, name) values ('acme', 'Acme') returning id`);
  const plugins: LoadedPlugin[] = [{ connector: zendesk, settings: { ...emulator.settings }, manifest: undefined as never, settingStates: [] }];
  const installs = createInstallService({ sql: db.sql, plugins, encryptionKey: stackKey, publicUrl: url, log });
  const config = { env: 'test' as const, adminToken: undefined, publicUrl: url, environment: {}, encryptionKeySource: 'environment' as const };
  const deps = storeBackedDeps({ config, log, database: db, plugins: [{ id: 'zendesk', displayName: 'Zendesk', scopes: [], panelLocations: [], settings: [] }], frameAncestors: [] });
  const server = await startServer({ ...deps, installs, webhooks: createWebhookIntake({ sql: db.sql, plugins, queue: () => null }) }, { port, host: '127.0.0.1' });
  const sync = createSyncServices({ sql: db.sql, plugins, encryptionKey: stackKey, log, leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, timeScale: options.timeScale });
  return {
    url,
    db,
    tenantId: tenant!.id,
    plugins,
    server,
    sync,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

/** Installs through HTTP exactly as a browser would: console → Zendesk authorize → callback. */
export async function installThroughBrowser(stack: ZendeskStack): Promise<{ installationId: string; authorizeUrl: URL }> {
  const start = await fetch(`${stack.url}/install/zendesk?tenant=acme`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`install answered ${start.status}: ${await start.text()}`);
  const cookie = start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const authorizeUrl = new URL(start.headers.get('location')!);
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = await fetch(authorize.headers.get('location')!, { redirect: 'manual', headers: { cookie } });
  if (callback.status !== 303) throw new Error(`callback answered ${callback.status}: ${await callback.text()}`);
  return { installationId: callback.headers.get('location')!.split('/').at(-1)!, authorizeUrl };
}
