import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedPlugin } from '../contract/index.ts';
import { generateSandboxAppKeyPair } from '../../plugins/zendesk/panel-token.ts';
import { signZendeskSandboxFirstLoad, zendeskPanelLocations, zendeskSidebarLocations, type ZendeskPanelLocation } from '../../plugins/zendesk/panel.ts';
import { frameAncestorsFor } from '../contract/index.ts';
import { frameSessionKeyFrom, startServer, storeBackedDeps } from '../server/index.ts';
import type { FrameHost, PluginSummary, RunningServer, ZendeskHarness } from '../server/index.ts';
import { createTenantDirectory } from '../store/index.ts';
import { createMetricsRegistry } from '../metrics/index.ts';
import { createWebhookIntake, listSyncStatus, openSyncQueue, registerSyncMetrics, startSyncWorker, syncStreamView, type RunningSyncWorker, type SyncQueue } from '../sync/index.ts';
import type { Command } from './commands.ts';
import { untilSignal } from './process-signals.ts';
import { openRuntime } from './runtime.ts';
import { installSandboxes } from './sandboxes.ts';
import { createInstallService } from '../install/install-service.ts';
import { createSummaryService } from '../panels/summary-service.ts';
import { createLedgerService, ledgerOptionsFrom, scheduleCheckpoints } from '../ledger/ledger-service.ts';
import { scheduleSummaryRefresh } from '../panels/summary-refresh.ts';
import { identityOverview, scheduleIdentity } from '../identity/identity-store.ts';
import { deliveryOptionsFrom, scheduleNotifications } from '../triggers/notifications.ts';
import { createTriggerService } from '../triggers/trigger-service.ts';
import { createReportsService, reportsOptionsFrom, scheduleReportWork, type ReportsService } from '../reports/index.ts';

/** What the console shows of a plugin: never a setting's value. */
export function pluginSummary(plugin: LoadedPlugin): PluginSummary {
  return {
    id: plugin.connector.id,
    displayName: plugin.manifest.displayName,
    scopes: plugin.manifest.scopes.map((s) => s.scope),
    panelLocations: plugin.manifest.panelLocations,
    settings: plugin.settingStates.map((s) => ({
      name: s.name,
      state: s.state === 'missing' ? (plugin.connector.sandbox ? 'sandbox' : 'missing') : 'set',
    })),
  };
}

/** How the Zendesk sidebar pages talk to Zendesk (the ZAF SDK), when the Zendesk plugin is loaded. */
function frameHostsFor(plugins: readonly LoadedPlugin[]): Record<string, FrameHost> {
  return plugins.some((p) => p.connector.id === 'zendesk') ? { zendesk: { sdk: 'zaf', displayName: 'Zendesk', locations: zendeskSidebarLocations } } : {};
}

/** The sandbox's stand-in for the Zendesk app's key pair: made once per data directory, like the development keys. */
function zendeskSandboxAppKey(dataDir: string): { publicKeyPem: string; privateKeyPem: string } {
  const file = join(dataDir, 'zendesk-sandbox-app-key.pem');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, generateSandboxAppKeyPair().privateKeyPem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first; read theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const privateKeyPem = readFileSync(file, 'utf8');
  return { privateKeyPem, publicKeyPem: createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * When Zendesk runs against its sandbox and no app public key is configured, Ledgerline plays the
 * Zendesk app's key holder too: ZENDESK_APP_PUBLIC_KEY defaults to the sandbox key's public half,
 * and the console's harness signs first loads with its private half.
 */
export function zendeskSandboxPanel(plugins: readonly LoadedPlugin[], sandboxed: readonly string[], dataDir: string): { plugins: LoadedPlugin[]; harness: ZendeskHarness | null } {
  const zendesk = plugins.find((p) => p.connector.id === 'zendesk');
  if (!zendesk || !sandboxed.includes('zendesk') || (zendesk.settings.ZENDESK_APP_PUBLIC_KEY ?? '') !== '') return { plugins: [...plugins], harness: null };
  const key = zendeskSandboxAppKey(dataDir);
  const appInstallationId = 1;
  const harness: ZendeskHarness = {
    appInstallationId,
    signFirstLoad: ({ platformAccountId, location, agentId, now }) => {
      if (!(zendeskPanelLocations as readonly string[]).includes(location)) throw new Error(`not a Zendesk app location: ${location}`);
      return signZendeskSandboxFirstLoad({ subdomain: platformAccountId, appInstallationId, agentId, location: location as ZendeskPanelLocation, now }, key.privateKeyPem);
    },
  };
  return { plugins: plugins.map((p) => (p === zendesk ? { ...p, settings: { ...p.settings, ZENDESK_APP_PUBLIC_KEY: key.publicKeyPem } } : p)), harness };
}

export const serveCommand: Command = {
  summary: 'Start the server: console, JSON API, webhooks and panels (and a sync worker on the embedded database)',
  options: {
    'no-worker': { type: 'boolean', doc: 'Do not run a sync worker in this process, whatever LEDGERLINE_INLINE_WORKER says' },
  },
  async run(values) {
    const runtime = await openRuntime({ name: 'server', migrate: 'auto', sandboxes: true });
    const { config, log, db, plugins } = runtime;
    const stop = untilSignal();
    let queue: SyncQueue | null = null;
    let worker: RunningSyncWorker | null = null;
    let server: RunningServer | null = null;
    let checkpoints: { stop(): Promise<void> } | null = null;
    let identities: { stop(): Promise<void> } | null = null;
    let snapshots: { stop(): Promise<void> } | null = null;
    let notifications: { stop(): Promise<void> } | null = null;
    let reports: ReportsService | null = null;
    let reportWork: { stop(): Promise<void> } | null = null;
    try {
      // The embedded default is one organisation's Ledgerline: give it a tenant to install into.
      const defaultTenant = db.embedded || runtime.sandboxes.length > 0 ? await createTenantDirectory(() => db.fork()).ensure({ slug: 'default', name: 'Default tenant' }) : null;
      // The queue is opened for sending (webhook hints) even where no worker runs in this process.
      queue = await openSyncQueue({ connectionString: db.url, log, maxConnections: db.embedded ? 2 : 4 });
      const openQueue = queue;
      const metrics = createMetricsRegistry();
      registerSyncMetrics(metrics, () => listSyncStatus(db.sql));
      const deps = storeBackedDeps({ config, log, database: db, plugins: plugins.map(pluginSummary), frameAncestors: frameAncestorsFor(plugins), metrics });
      const installs = createInstallService({
        sql: db.sql,
        plugins,
        encryptionKey: config.encryptionKey,
        publicUrl: config.publicUrl,
        log,
        scheduleBackfill: async (job) => {
          await openQueue.enqueue({ ...job, mode: 'full' });
        },
      });
      const sidebar = zendeskSandboxPanel(plugins, runtime.sandboxes.map((s) => s.pluginId), config.dataDir);
      const summaries = createSummaryService({ sql: db.sql, keyring: runtime.keyring, plugins: sidebar.plugins, publicUrl: config.publicUrl, log });
      const ledger = createLedgerService({ sql: db.sql, ...ledgerOptionsFrom(config) });
      const delivery = await deliveryOptionsFrom(config);
      const reportService = createReportsService({ sql: db.sql, keyring: runtime.keyring, mail: delivery.mail, log, ...reportsOptionsFrom(config) });
      reports = reportService;
      server = await startServer(
        {
          ...deps,
          installs,
          summaries,
          ledger,
          reports: reportService,
          frameSessionKey: frameSessionKeyFrom(config.encryptionKey),
          frameHosts: frameHostsFor(plugins),
          ...(sidebar.harness ? { zendeskHarness: sidebar.harness } : {}),
          triggers: createTriggerService(db.sql, { allowPrivateWebhooks: config.allowPrivateWebhooks }),
          identity: (tenantId) => identityOverview(db.sql, tenantId),
          syncStreams: async (tenantId) => (await listSyncStatus(db.sql, tenantId)).map((row) => syncStreamView(plugins, row)),
          webhooks: createWebhookIntake({ sql: db.sql, plugins, queue: () => openQueue }),
        },
        { port: config.port, host: config.host },
      );
      // Sandboxes start afresh each run: install them (new tokens) before a worker resumes their syncs.
      if (defaultTenant && runtime.sandboxes.length > 0) {
        await installSandboxes({ started: runtime.sandboxes, plugins, installs, tenantId: defaultTenant.id, publicUrl: config.publicUrl, log });
      }
      if (config.inlineWorker && values['no-worker'] !== true) {
        worker = await startSyncWorker({ engine: runtime.sync.engine, queue, sql: db.sql, log, concurrency: config.syncConcurrency });
      }
      checkpoints = scheduleCheckpoints(ledger, config.ledgerCheckpointSeconds * 1000, log);
      identities = scheduleIdentity(db.sql, config.identityIntervalSeconds * 1000, log);
      snapshots = scheduleSummaryRefresh(db.sql, runtime.keyring, config.summaryRefreshSeconds * 1000, log);
      notifications = scheduleNotifications(db.sql, runtime.keyring, delivery, config.notifyIntervalSeconds * 1000, log);
      reportWork = scheduleReportWork(reportService.workflow, config.notifyIntervalSeconds * 1000, log);
      const where = db.embedded ? `embedded database in ${config.dataDir}` : 'PostgreSQL';
      console.log(`Ledgerline is running at ${server.url} (console at ${config.publicUrl}/) on the ${where}${worker ? ', with a sync worker' : ''}. Ctrl-C stops it.`);
      const reason = await stop.stopped;
      log.info({ reason }, 'shutting down');
      return 0;
    } finally {
      // Also when starting failed part-way: nothing may keep polling a database about to close.
      stop.dispose();
      await worker?.stop();
      await notifications?.stop();
      await reportWork?.stop();
      await snapshots?.stop();
      await identities?.stop();
      await checkpoints?.stop();
      await queue?.stop();
      await server?.close();
      await reports?.close();
      await runtime.close();
    }
  },
};
