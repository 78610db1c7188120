/**
 * Ledgerline as `serve` assembles it — store, install flow, webhook intake, summaries, HTTP
 * server — with the HubSpot plugin pointed at a running emulator. For tests that go through HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLedgerService, type LedgerService } from '../../../core/ledger/ledger-service.ts';
import { createTriggerService } from '../../../core/triggers/trigger-service.ts';
import { identityOverview } from '../../../core/identity/identity-store.ts';
import type { LoadedPlugin } from '../../../core/contract/index.ts';
import { createInstallService } from '../../../core/install/install-service.ts';
import { createLogger } from '../../../core/log/index.ts';
import { createSummaryService } from '../../../core/panels/summary-service.ts';
import { startServer, storeBackedDeps, type RunningServer } from '../../../core/server/index.ts';
import { createSyncServices, createWebhookIntake } from '../../../core/sync/index.ts';
import { SubjectKeyring } from '../../../core/privacy/index.ts';
import { openPgliteTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import hubspot from '../index.ts';
import type { RunningHubspotEmulator } from '../emulator/server.ts';

export const stackKey = Buffer.alloc(32, 11);

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

export interface Stack {
  readonly url: string;
  readonly db: TestDatabase;
  readonly tenantId: string;
  readonly plugins: LoadedPlugin[];
  readonly server: RunningServer;
  readonly sync: ReturnType<typeof createSyncServices>;
  readonly installs: ReturnType<typeof createInstallService>;
  readonly ledger: LedgerService;
  close(): Promise<void>;
}

export async function startStack(emulator: RunningHubspotEmulator, settings: Record<string, string> = {}): Promise<Stack> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createLogger({ level: 'silent', name: 'hubspot-stack' });
  const db = await openPgliteTestDatabase();
  const [tenant] = await db.sql.query<{ id: string }>(`insert into tenant (slug, name) values ('acme', 'Acme') returning id`);
  const plugins: LoadedPlugin[] = [{ connector: hubspot, settings: { ...emulator.settings, ...settings }, manifest: undefined as never, settingStates: [] }];
  const installs = createInstallService({ sql: db.sql, plugins, encryptionKey: stackKey, publicUrl: url, log });
  const summaries = createSummaryService({ sql: db.sql, keyring: new SubjectKeyring(stackKey), plugins, publicUrl: url, log });
  const config = { env: 'test' as const, adminToken: undefined, publicUrl: url, environment: {}, encryptionKeySource: 'environment' as const };
  const deps = storeBackedDeps({ config, log, database: db, plugins: [{ id: 'hubspot', displayName: 'HubSpot', scopes: [], panelLocations: [], settings: [] }], frameAncestors: [] });
  const checkpointDir = mkdtempSync(join(tmpdir(), 'll-stack-checkpoints-'));
  const ledger = createLedgerService({ sql: db.sql, checkpointDir, archiveDir: join(checkpointDir, 'archive'), signingKey: Buffer.alloc(32, 12) });
  const server = await startServer({ ...deps, installs, summaries, ledger, triggers: createTriggerService(db.sql), identity: (tenantId) => identityOverview(db.sql, tenantId), webhooks: createWebhookIntake({ sql: db.sql, plugins, queue: () => null }) }, { port, host: '127.0.0.1' });
  const sync = createSyncServices({ sql: db.sql, plugins, encryptionKey: stackKey, log, leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, timeScale: 50 });
  return {
    url,
    db,
    tenantId: tenant!.id,
    plugins,
    server,
    sync,
    installs,
    ledger,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

/** The Set-Cookie values of a response as one Cookie header. */
export function cookiesOf(response: Response, previous = ''): string {
  const jar = new Map(previous.split('; ').filter((c) => c.includes('=')).map((c) => [c.slice(0, c.indexOf('=')), c] as const));
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    jar.set(pair.slice(0, pair.indexOf('=')), pair);
  }
  return [...jar.values()].join('; ');
}

/** Installs through HTTP exactly as a browser would: console → HubSpot authorize → callback. */
export async function installThroughBrowser(stack: Stack): Promise<{ installationId: string; location: string }> {
  const start = await fetch(`${stack.url}/install/hubspot?tenant=acme`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`install answered ${start.status}`);
  const cookie = cookiesOf(start);
  const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  const callback = await fetch(authorize.headers.get('location')!, { redirect: 'manual', headers: { cookie } });
  if (callback.status !== 303) throw new Error(`callback answered ${callback.status}: ${await callback.text()}`);
  const location = callback.headers.get('location')!;
  return { installationId: location.split('/').at(-1)!, location };
}
