/**
 * Starts a real server on 127.0.0.1 (port 0) over in-memory directories, for the server tests.
 * Log lines are captured so tests can assert what was (and was not) written.
 */
import type { Router } from 'express';
import { createLogger } from '../log/index.ts';
import { InMemoryInstallations, InMemoryTenants, ScriptedReadiness } from './in-memory-directories.ts';
import type { PluginSummary, ServerConfig, ServerDeps } from './server-deps.ts';
import { startServer } from './start-server.ts';

export const testAdminToken = 'test-admin-token-0123456789abcdef';

export const samplePlugins: readonly PluginSummary[] = [
  {
    id: 'zendesk',
    displayName: 'Zendesk Support',
    scopes: ['read', 'tickets:read'],
    panelLocations: [{ host: 'ticket_sidebar', description: 'Requester history beside a ticket' }],
    settings: [
      { name: 'ZENDESK_CLIENT_ID', state: 'set' },
      { name: 'ZENDESK_CLIENT_SECRET', state: 'missing' },
    ],
  },
];

export interface HarnessOptions {
  readonly env?: ServerConfig['env'];
  readonly adminToken?: string;
  readonly publicUrl?: string;
  readonly frameAncestors?: readonly string[];
  readonly panels?: Router;
  readonly environment?: Record<string, string>;
  readonly jsonBodyLimit?: string;
  readonly trustProxy?: number;
  readonly tenants?: ServerDeps['tenants'];
}

export interface TestServer {
  readonly url: string;
  readonly tenants: InMemoryTenants;
  readonly installations: InMemoryInstallations;
  readonly readiness: ScriptedReadiness;
  /** Every log line written so far, raw JSON text. */
  readonly logLines: string[];
  close(): Promise<void>;
}

export async function startTestServer(options: HarnessOptions = {}): Promise<TestServer> {
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  const tenants = new InMemoryTenants();
  const installations = new InMemoryInstallations();
  const readiness = new ScriptedReadiness();
  const config: ServerConfig = {
    env: options.env ?? 'test',
    adminToken: options.adminToken,
    publicUrl: options.publicUrl ?? 'http://localhost:3000',
    environment: options.environment ?? {},
    encryptionKeySource: 'environment',
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
  };
  const deps: ServerDeps = {
    config,
    log,
    readiness,
    tenants: options.tenants ?? tenants,
    installations,
    plugins: samplePlugins,
    frameAncestors: options.frameAncestors ?? [],
    readinessTimeoutMs: 500,
    ...(options.panels === undefined ? {} : { panels: options.panels }),
  };
  const running = await startServer(deps, {
    port: 0,
    host: '127.0.0.1',
    ...(options.jsonBodyLimit === undefined ? {} : { jsonBodyLimit: options.jsonBodyLimit }),
  });
  return { url: running.url, tenants, installations, readiness, logLines, close: () => running.close() };
}

/** A tenant with two installations, one synced and one never synced. */
export async function seedAcme(server: TestServer) {
  const tenant = await server.tenants.create({ slug: 'acme', name: 'Acme Corp' });
  const zendesk = server.installations.add({
    tenantId: tenant.id,
    platform: 'zendesk',
    platformAccountId: 'acme.zendesk.com',
    accountName: 'Acme Support',
    scopes: ['read'],
    installedAt: new Date('2026-10-01T09:30:00Z'),
  });
  const hubspot = server.installations.add({
    tenantId: tenant.id,
    platform: 'hubspot',
    platformAccountId: '4412345',
    accountName: 'Acme Sales',
    scopes: ['crm.objects.contacts.read'],
    sync: { status: 'succeeded', lastSyncedAt: new Date('2026-11-20T08:00:00Z') },
  });
  return { tenant, zendesk, hubspot };
}
