/**
 * Ledgerline with the Zendesk sidebar wired as `serve` wires it (frame session key, the ZAF frame
 * host, the sandbox app key and the console's harness), for the sidebar's HTTP and browser tests.
 *
 * `startCrossSystemStack` adds the whole picture: the HubSpot emulator and the Zendesk emulator,
 * each installed through its OAuth flow and synced by the sync engine, Zendesk's first end users
 * being HubSpot's busiest contacts (same names and e-mails), and identities resolved across both.
 */
import { createServer } from 'node:net';
import { z } from 'zod';
import { defineConnector, oauth2, type LoadedPlugin } from '../../../core/contract/index.ts';
import { LedgerlineError } from '../../../core/errors/index.ts';
import { resolveTenant } from '../../../core/identity/identity-store.ts';
import { createInstallService } from '../../../core/install/install-service.ts';
import { createLogger } from '../../../core/log/index.ts';
import { createSummaryService } from '../../../core/panels/summary-service.ts';
import { createReportsService } from '../../../core/reports/index.ts';
import { SubjectKeyring } from '../../../core/privacy/index.ts';
import { startServer, storeBackedDeps, type PluginSummary, type RunningServer, type ZendeskHarness } from '../../../core/server/index.ts';
import type { Database } from '../../../core/store/index.ts';
import { createSyncServices } from '../../../core/sync/index.ts';
import { openPgliteTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import hubspot from '../../hubspot/index.ts';
import { start as startHubspotEmulator, type RunningHubspotEmulator } from '../../hubspot/emulator/server.ts';
import { start as startZendeskEmulator, type RunningZendeskEmulator } from '../emulator/server.ts';
import zendesk from '../index.ts';
import { generateSandboxAppKeyPair, type SandboxAppKeyPair } from '../panel-token.ts';
import { signZendeskSandboxFirstLoad, zendeskPanel, zendeskSidebarLocations, type ZendeskPanelLocation } from '../panel.ts';
import { zendeskRatePolicy } from '../rate-policy.ts';

export const stackEncryptionKey = Buffer.alloc(32, 11);
export const stackKeyring = new SubjectKeyring(stackEncryptionKey);
export const frameSessionKey = Buffer.alloc(32, 23);
export const sandboxAppInstallationId = 7;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const notInTests = (): never => {
  throw new LedgerlineError('LL_INTERNAL', 'the sidebar tests install Zendesk without its OAuth flow');
};

/** The Zendesk plugin as the sidebar needs it: its panel contribution and settings (the app public key). */
export function zendeskPanelPlugin(settings: Record<string, string>): LoadedPlugin {
  const connector = defineConnector({
    id: 'zendesk',
    displayName: 'Zendesk Support',
    auth: oauth2({
      installParams: z.object({}),
      endpoints: notInTests,
      client: notInTests,
      scopes: ['read'],
      pkce: false,
      clientAuth: 'body',
      refreshTokenRotates: true,
      parseToken: notInTests,
      identify: notInTests,
    }),
    rate: zendeskRatePolicy,
    streams: [],
    webhooks: null,
    panel: zendeskPanel,
    classifyError: () => 'LL_UPSTREAM',
    sandbox: null,
  });
  return { connector, settings, manifest: undefined as never, settingStates: [] };
}

export const pluginSummaries: PluginSummary[] = [
  { id: 'hubspot', displayName: 'HubSpot', scopes: [], panelLocations: [], settings: [] },
  { id: 'zendesk', displayName: 'Zendesk', scopes: [], panelLocations: [], settings: [] },
];

/** The console harness's signer, as serve builds it for the sandbox. */
export function harnessFor(key: SandboxAppKeyPair): ZendeskHarness {
  return {
    appInstallationId: sandboxAppInstallationId,
    signFirstLoad: ({ platformAccountId, location, agentId, now }) =>
      signZendeskSandboxFirstLoad({ subdomain: platformAccountId, appInstallationId: sandboxAppInstallationId, agentId, location: location as ZendeskPanelLocation, now }, key.privateKeyPem),
  };
}

export interface SidebarServer {
  readonly url: string;
  readonly server: RunningServer;
  readonly summaries: ReturnType<typeof createSummaryService>;
}

/** The HTTP server over `db` with the sidebar wired; the Zendesk app's public key is `appKey`'s. */
export async function startSidebarServer(
  db: Database,
  options: { appKey: SandboxAppKeyPair; plugins?: LoadedPlugin[]; harness?: boolean; port?: number },
): Promise<SidebarServer> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const log = createLogger({ level: 'silent', name: 'sidebar-stack' });
  // Without plugins given, the Zendesk panel alone, verifying with the app key's public half.
  const plugins = options.plugins ?? [zendeskPanelPlugin({ ZENDESK_APP_PUBLIC_KEY: options.appKey.publicKeyPem })];
  const summaries = createSummaryService({ sql: db.sql, keyring: stackKeyring, plugins, publicUrl: url, log });
  // Requests only: nothing processes them here (no mail, no PDF printer to close).
  const reports = createReportsService({ sql: db.sql, keyring: stackKeyring, mail: null, mailFrom: 'Ledgerline <reports@acme.example>', publicUrl: url, log });
  const config = { env: 'test' as const, adminToken: undefined, publicUrl: url, environment: {}, encryptionKeySource: 'environment' as const };
  const deps = storeBackedDeps({ config, log, database: db, plugins: pluginSummaries, frameAncestors: ['https://*.zendesk.com'] });
  const server = await startServer(
    {
      ...deps,
      summaries,
      reports,
      frameSessionKey,
      frameHosts: { zendesk: { sdk: 'zaf', displayName: 'Zendesk', locations: zendeskSidebarLocations } },
      ...(options.harness ? { zendeskHarness: harnessFor(options.appKey) } : {}),
    },
    { port, host: '127.0.0.1' },
  );
  return { url, server, summaries };
}

/** A Zendesk installation row, as the OAuth install would write it (the platform account is the subdomain). */
export async function insertZendeskInstallation(db: Database, tenantId: string, subdomain: string, apiBaseUrl: string): Promise<string> {
  const [row] = await db.sql.query<{ id: string }>(
    `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', $2, $3, $4) returning id`,
    [tenantId, subdomain, `${subdomain} support`, apiBaseUrl],
  );
  return row!.id;
}

export interface CrossSystemStack {
  readonly url: string;
  readonly db: TestDatabase;
  readonly tenantId: string;
  readonly hubspotInstallationId: string;
  readonly zendeskInstallationId: string;
  readonly hubspot: RunningHubspotEmulator;
  readonly zendesk: RunningZendeskEmulator;
  /** Zendesk users whose profile also holds a HubSpot contact with activity, most Zendesk activity first. */
  readonly sharedPeople: readonly { zendeskUserId: string; hubspotContactId: string; email: string; name: string }[];
  close(): Promise<void>;
}

/** Installs a plugin's emulator account into the tenant through its OAuth flow, as a browser would. */
async function installThroughOAuth(installs: ReturnType<typeof createInstallService>, pluginId: string, tenantId: string): Promise<string> {
  const began = await installs.begin(pluginId, tenantId);
  const authorize = await fetch(began.authorizeUrl, { redirect: 'manual' });
  const location = authorize.headers.get('location');
  if (authorize.status !== 302 || location === null) throw new Error(`${pluginId} authorize answered ${authorize.status}`);
  const done = await installs.complete(pluginId, Object.fromEntries(new URL(location).searchParams), began.browserBinding);
  return done.installationId;
}

async function syncAll(sync: ReturnType<typeof createSyncServices>, installationId: string, what: string): Promise<void> {
  const runs = await sync.engine.runNow({ installationId });
  const failed = runs.filter((r) => r.outcome !== 'succeeded');
  if (runs.length === 0 || failed.length > 0) throw new Error(`${what} sync: ${failed.length} of ${runs.length} stream runs did not succeed`);
}

export async function startCrossSystemStack(options: { sharedPeople?: number } = {}): Promise<CrossSystemStack & { appKey: SandboxAppKeyPair }> {
  const log = createLogger({ level: 'silent', name: 'cross-system-stack' });
  // Closed in reverse order of opening, also when starting fails half-way.
  const closers: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const hubspotEmulator = await startHubspotEmulator({ scale: 120, timeScale: 50 });
    closers.push(() => hubspotEmulator.stop());
    const db = await openPgliteTestDatabase();
    closers.push(() => db.close());
    const [tenant] = await db.sql.query<{ id: string }>(`insert into tenant (slug, name) values ('acme', 'Acme') returning id`);
    const tenantId = tenant!.id;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const appKey = generateSandboxAppKeyPair();

    const hubspotPlugin: LoadedPlugin = { connector: hubspot, settings: { ...hubspotEmulator.settings }, manifest: undefined as never, settingStates: [] };
    const hubspotInstalls = createInstallService({ sql: db.sql, plugins: [hubspotPlugin], encryptionKey: stackEncryptionKey, publicUrl: url, log });
    const hubspotInstallationId = await installThroughOAuth(hubspotInstalls, 'hubspot', tenantId);
    await syncAll(createSyncServices({ sql: db.sql, plugins: [hubspotPlugin], encryptionKey: stackEncryptionKey, log, leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, timeScale: 50 }), hubspotInstallationId, 'HubSpot');

    // HubSpot's busiest contacts, by name and e-mail from the emulator's portal, become Zendesk's first end users.
    const busiest = await db.sql.query<{ external_id: string }>(
      `select subject_external_id as external_id from activity where tenant_id = $1 and installation_id = $2 and subject_object_type = 'contact'
        group by 1 order by count(*) desc, 1 limit $3`,
      [tenantId, hubspotInstallationId, options.sharedPeople ?? 12],
    );
    const people = busiest
      .map((c) => hubspotEmulator.portal.get('contacts', c.external_id))
      .flatMap((c) => (c?.properties.email ? [{ name: `${c.properties.firstname ?? ''} ${c.properties.lastname ?? ''}`.trim() || c.properties.email, email: c.properties.email }] : []));
    const zendeskEmulator = await startZendeskEmulator({ people, timeScale: 50 });
    closers.push(() => zendeskEmulator.stop());
    // The Zendesk connector with the sidebar's panel contribution (`panel: zendeskPanel` in index.ts).
    const zendeskPlugin: LoadedPlugin = {
      connector: { ...zendesk, panel: zendeskPanel },
      settings: { ...zendeskEmulator.settings, ZENDESK_APP_PUBLIC_KEY: appKey.publicKeyPem },
      manifest: undefined as never,
      settingStates: [],
    };
    const zendeskInstalls = createInstallService({ sql: db.sql, plugins: [zendeskPlugin], encryptionKey: stackEncryptionKey, publicUrl: url, log });
    const zendeskInstallationId = await installThroughOAuth(zendeskInstalls, 'zendesk', tenantId);
    await syncAll(createSyncServices({ sql: db.sql, plugins: [zendeskPlugin], encryptionKey: stackEncryptionKey, log, leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, timeScale: 50 }), zendeskInstallationId, 'Zendesk');
    await resolveTenant(db.sql, tenantId);

    const sidebar = await startSidebarServer(db, { appKey, plugins: [hubspotPlugin, zendeskPlugin], harness: true, port });
    closers.push(() => sidebar.server.close());

    const shared = await db.sql.query<{ zendesk_user: string; contact: string; email: string; name: string; n: string }>(
      `select z.external_id as zendesk_user, h.external_id as contact, r.canonical -> 'persons' -> 0 ->> 'email' as email,
              r.canonical -> 'persons' -> 0 ->> 'displayName' as name,
              (select count(*) from activity a where a.tenant_id = $1 and a.installation_id = $2 and a.subject_object_type = 'user' and a.subject_external_id = z.external_id)::text as n
         from identity_member z
         join identity_member h on h.tenant_id = z.tenant_id and h.profile_id = z.profile_id and h.installation_id = $3 and h.object_type = 'contact'
         join source_record r on r.tenant_id = z.tenant_id and r.installation_id = z.installation_id and r.object_type = 'user' and r.external_id = z.external_id
        where z.tenant_id = $1 and z.installation_id = $2 and z.object_type = 'user'
        order by 5 desc, 1`,
      [tenantId, zendeskInstallationId, hubspotInstallationId],
    );
    return {
      url,
      db,
      tenantId,
      hubspotInstallationId,
      zendeskInstallationId,
      hubspot: hubspotEmulator,
      zendesk: zendeskEmulator,
      appKey,
      sharedPeople: shared.filter((s) => Number(s.n) > 0).map((s) => ({ zendeskUserId: s.zendesk_user, hubspotContactId: s.contact, email: s.email, name: s.name })),
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
