/**
 * What the HTTP layer needs from the rest of Ledgerline, as small interfaces: the store, the
 * plugin loader and the sync engine plug in behind them, and tests pass in-memory versions.
 */
import type { IdentityOverview } from '../identity/identity-store.ts';
import type { TriggerService } from '../triggers/trigger-service.ts';
import type { LedgerService } from '../ledger/ledger-service.ts';
import type { ReportsService } from '../reports/index.ts';
import type { Router } from 'express';
import type { InboundRequest, PanelSubject } from '../contract/index.ts';
import type { AccountSummary } from '../panels/summary-schema.ts';
import type { FrameSessionGrant, FrameSummaryOptions } from '../panels/summary-service.ts';
import type { SubjectRef } from '../model/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { Registry } from '../metrics/index.ts';

/** The settings the server reads; a full `Config` satisfies it. */
export type ServerConfig = Pick<Config, 'env' | 'adminToken' | 'publicUrl' | 'environment' | 'encryptionKeySource'> & Partial<Pick<Config, 'trustProxy'>>;

/** What /readyz asks the database. Both reject when the database does not answer. */
export interface ReadinessProbe {
  ping(): Promise<void>;
  /** Names of migrations not yet applied; empty when the schema is current. */
  pendingMigrations(): Promise<readonly string[]>;
}

export interface TenantSummary {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly createdAt: Date;
}

export interface TenantDirectory {
  list(): Promise<readonly TenantSummary[]>;
  findBySlug(slug: string): Promise<TenantSummary | null>;
  /** Throws LL_CONFLICT when the slug is taken. */
  create(input: { slug: string; name: string }): Promise<TenantSummary>;
}

export type InstallationStatus = 'active' | 'uninstalled' | 'needs_reauth';

/** Where the sync engine last left this installation; null fields mean it has never run. */
export interface InstallationSyncSummary {
  readonly status: string | null;
  readonly lastSyncedAt: Date | null;
}

export interface InstallationSummary {
  readonly id: string;
  readonly tenantId: string;
  /** The plugin id from the manifest: 'hubspot', 'zendesk'… */
  readonly platform: string;
  readonly platformAccountId: string;
  readonly accountName: string | null;
  readonly status: InstallationStatus;
  readonly installedAt: Date;
  readonly uninstalledAt: Date | null;
  readonly scopes: readonly string[];
  readonly sync: InstallationSyncSummary;
}

/** Every method is scoped by tenant: an installation of another tenant is simply not found. */
export interface InstallationDirectory {
  listForTenant(tenantId: string): Promise<readonly InstallationSummary[]>;
  find(tenantId: string, installationId: string): Promise<InstallationSummary | null>;
  /** Marks it uninstalled (idempotent) and returns the new state; throws LL_NOT_FOUND when absent. */
  markUninstalled(tenantId: string, installationId: string): Promise<InstallationSummary>;
}

export type PluginSettingState = 'set' | 'missing' | 'sandbox';

/** A plugin as the manifest declares it, with the state of its settings (never their values). */
export interface PluginSummary {
  readonly id: string;
  readonly displayName: string;
  readonly scopes: readonly string[];
  readonly panelLocations: readonly { readonly host: string; readonly description: string }[];
  readonly settings: readonly { readonly name: string; readonly state: PluginSettingState }[];
}

/** One stream's sync state as the console shows it. */
export interface SyncStreamView {
  readonly installationId: string;
  readonly platform: string;
  readonly platformAccountId: string;
  readonly stream: string;
  /** idle, running, waiting, failed or dead (dead: retries exhausted). */
  readonly status: string;
  readonly waitReason: string | null;
  readonly records: number;
  readonly rejected: number;
  readonly lastSuccessAt: Date | null;
  readonly nextRunAt: Date | null;
  /** Where the next run starts, in the plugin's words. */
  readonly checkpoint: string;
  readonly sourceCount: number | null;
  readonly storedCount: number | null;
  readonly lastError: string | null;
}

export interface ServerDeps {
  readonly config: ServerConfig;
  readonly log: Logger;
  /** One registry per server; createApp makes one when omitted. */
  readonly metrics?: Registry;
  readonly readiness: ReadinessProbe;
  readonly tenants: TenantDirectory;
  readonly installations: InstallationDirectory;
  readonly plugins: readonly PluginSummary[];
  /** Origins allowed to frame /panels/* (the union of the plugins' frameAncestors). */
  readonly frameAncestors: readonly string[];
  /** Panel pages, mounted under /panels behind the panel CSP. */
  readonly panels?: Router;
  /** Verifies, parses and stores a platform webhook delivery (POST /webhooks/:plugin). */
  readonly webhooks?: (pluginId: string, request: InboundRequest) => Promise<{ accepted: number; duplicates: number; unknownAccount: number }>;
  /** Every stream's sync state for a tenant (all tenants when omitted); absent before the sync engine is wired. */
  readonly syncStreams?: (tenantId?: string) => Promise<readonly SyncStreamView[]>;
  /** OAuth installs (GET /install/:plugin, GET /oauth/:plugin/callback) and uninstalls with revoke. */
  readonly installs?: InstallFlow;
  /** Account activity summaries for panels and the console preview. */
  readonly summaries?: SummaryService;
  /** A tenant's identity resolution: last run, review items, manual decisions. */
  readonly identity?: (tenantId: string) => Promise<IdentityOverview>;
  /** Trigger rules and notifications (acknowledgements) per tenant. */
  readonly triggers?: TriggerService;
  /** The accountable ledger: verification and entries per tenant. */
  readonly ledger?: LedgerService;
  /** Report templates, segments, spend, on-demand runs and the request-to-delivery workflow. */
  readonly reports?: ReportsService;
  /** How long /readyz waits for the database before calling it down. */
  readonly readinessTimeoutMs?: number;
  /** HMAC key of framed panels' short sessions (frameSessionKeyFrom(encryption key)); no framed panels without it. */
  readonly frameSessionKey?: Buffer;
  /** Per plugin id: how its framed panel pages talk to their host (the plugin's panel module says). */
  readonly frameHosts?: Readonly<Record<string, FrameHost>>;
  /** Sandbox only: plays Zendesk for the console's sidebar harness (signs first loads with the sandbox app key). */
  readonly zendeskHarness?: ZendeskHarness;
}

/** What a framed panel page asks its host for at one location, and which synced record the answer names. */
export interface FrameLocation {
  readonly contextPath: string;
  readonly subject: { readonly kind: 'person' | 'account'; readonly objectType: string };
}

export interface FrameHost {
  /** The host's SDK the page loads: 'zaf', the Zendesk Apps framework's (served from /panels/assets/zaf-sdk.js). */
  readonly sdk: 'zaf';
  readonly displayName: string;
  readonly locations: Readonly<Record<string, FrameLocation>>;
}

export interface ZendeskHarness {
  /** Zendesk's id of the app installation the harness plays (the token's `aud`, the SDK's metadata). */
  readonly appInstallationId: number;
  /** The token Zendesk would POST with the first load of `location` for an agent of the account (the subdomain). */
  signFirstLoad(input: { readonly platformAccountId: string; readonly location: string; readonly agentId: string | null; readonly now: Date }): string;
}

export interface InstallFlow {
  begin(pluginId: string, tenantId: string): Promise<{ authorizeUrl: string; browserBinding: string }>;
  complete(pluginId: string, query: unknown, browserBinding: string | undefined): Promise<{ tenantId: string; installationId: string }>;
  uninstall(tenantId: string, installationId: string): Promise<{ revoked: boolean; revokeError: string | null }>;
  events(tenantId: string, installationId: string): Promise<readonly { kind: string; detail: Record<string, unknown>; at: Date }[]>;
}

/** A record the console can preview a summary for. */
export interface PreviewableSubject {
  readonly kind: 'person' | 'account' | 'deal' | 'ticket';
  readonly objectType: string;
  readonly externalId: string;
  readonly label: string;
  readonly activities: number;
}

export interface SummaryService {
  /** Verifies a host's panel request (signature, token) and answers the summary it asks for, as JSON text (an `AccountSummary`). */
  forPanel(pluginId: string, request: InboundRequest): Promise<string>;
  preview(tenantId: string, installationId: string, subject: PanelSubject, options?: { kind?: string }): Promise<AccountSummary>;
  previewables(tenantId: string, installationId: string): Promise<readonly PreviewableSubject[]>;
  /** Verifies a framed panel's first load (plugin, frame location), records it, and says what the session may read. */
  openFrameSession(pluginId: string, location: string, request: InboundRequest): Promise<FrameSessionGrant>;
  /** A summary within a framed panel's session; recorded as `panel.viewed`. */
  forFrameSession(grant: FrameSessionGrant, subject: SubjectRef, options?: FrameSummaryOptions): Promise<AccountSummary>;
}
