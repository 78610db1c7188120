/**
 * The connector contract: what a platform plugin declares so the engine can install it, sync it,
 * take its webhooks, stay inside its rate limits and answer its panels. `define*` functions are
 * identity functions that exist for type inference; everything declarative is a plain object.
 */
import type { z } from 'zod';
import type { ErrorCode } from '../errors/index.ts';
import type { CanonicalRecordKind, DriverRef, MappedRecordsInput, SubjectRef } from '../model/index.ts';

/** Values of the settings a plugin declares in plugin.manifest.json (client id, secret, base URLs…). */
export type PluginSettings = Readonly<Record<string, string | undefined>>;

export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The platform account an installation is bound to (HubSpot portal, Salesforce org, Zendesk subdomain, Shopify shop). */
export interface InstallationView {
  readonly id: string;
  readonly tenantId: string;
  readonly platformAccountId: string;
  /** Where this installation's API lives (Salesforce instance URL, Zendesk subdomain URL, shop URL). */
  readonly apiBaseUrl: string;
}

// ---------------------------------------------------------------------------------------------
// Auth

export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  /** null when the platform does not say (Salesforce sessions end by policy, not by a lifetime). */
  readonly expiresAt: Date | null;
  readonly scopes: readonly string[];
  /** Non-secret extras from the token response (instance_url, id, shop…). */
  readonly extra: Readonly<Record<string, string>>;
}

export interface PlatformAccount {
  readonly platformAccountId: string;
  readonly displayName: string;
  readonly apiBaseUrl: string;
}

export interface OAuthEndpoints {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** Where a token is revoked on uninstall; null when the platform has no revoke endpoint. */
  readonly revokeUrl: string | null;
}

export interface OAuth2Auth<InstallParams = Record<string, never>> {
  readonly type: 'oauth2';
  /**
   * What the admin supplies before the redirect: nothing for HubSpot, the subdomain for Zendesk,
   * the shop domain for Shopify, a My Domain / sandbox flag for Salesforce.
   */
  readonly installParams: z.ZodType<InstallParams>;
  readonly endpoints: (settings: PluginSettings, params: InstallParams) => OAuthEndpoints;
  /** The OAuth client (from the plugin's settings) that authorizes and refreshes. */
  readonly client: (settings: PluginSettings) => { readonly clientId: string; readonly clientSecret: string };
  readonly scopes: readonly string[];
  readonly pkce: boolean;
  /** How the client authenticates at the token endpoint. */
  readonly clientAuth: 'body' | 'basic';
  /** Refresh tokens replaced on every refresh (Zendesk, Shopify expiring offline tokens). */
  readonly refreshTokenRotates: boolean;
  /**
   * Whether a failed refresh means the refresh token is dead (reinstall needed), for platforms that
   * do not answer RFC 6749's `invalid_grant` (HubSpot: 400 with status BAD_REFRESH_TOKEN).
   */
  readonly refreshRejected?: (response: { status: number; body: string }) => boolean;
  /** Parse the token endpoint's JSON (validated inside) into a TokenSet. */
  readonly parseToken: (raw: unknown, now: Date) => TokenSet;
  /** Which platform account a fresh token belongs to (portal id, org id, subdomain, shop). */
  readonly identify: (ctx: { token: TokenSet; params: InstallParams; settings: PluginSettings; fetch: typeof fetch }) => Promise<PlatformAccount>;
  /**
   * Revokes the installation's grant on uninstall. When omitted and `revokeUrl` is set, Ledgerline
   * POSTs RFC 7009 (`token=<refresh or access token>`) there; platforms with their own scheme
   * (HubSpot's DELETE /oauth/v1/refresh-tokens/{token}) say how here.
   */
  readonly revoke?: (ctx: { tokens: TokenSet; settings: PluginSettings; fetch: typeof fetch }) => Promise<void>;
  /** Extra work on uninstall after the token is revoked (e.g. deleting webhook subscriptions). */
  readonly onUninstall?: (ctx: { installation: InstallationView; fetch: typeof fetch; settings: PluginSettings }) => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Rate policy

/** What a platform response says about the remaining budget. Every field is optional. */
export interface RateObservation {
  /** Budget name, e.g. 'rolling-10s', 'daily', 'incremental-export', 'graphql-cost'. */
  readonly bucket?: string;
  readonly limit?: number;
  readonly remaining?: number;
  /** Milliseconds until the budget refills (or the window rolls). */
  readonly resetInMs?: number;
  /** The platform told us to wait this long before the next request. */
  readonly retryAfterMs?: number;
  /** The request was refused for budget reasons (429, THROTTLED-200, REQUEST_LIMIT_EXCEEDED). */
  readonly throttled: boolean;
  /** The refusal lasts until the platform's day rolls over (HubSpot DAILY, Salesforce daily allocation). */
  readonly daily?: boolean;
}

export interface ObservedResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  /** Parsed JSON body, present only when the policy sets `readsBody`. */
  readonly body?: unknown;
}

export interface RateBucket {
  readonly name: string;
  /** Requests (or cost points) allowed per `perMs`. */
  readonly capacity: number;
  readonly perMs: number;
  /** Which requests draw from this bucket; all when omitted. */
  readonly appliesTo?: (request: { method: string; url: URL }) => boolean;
  /** Cost of one request in this bucket; 1 when omitted. */
  readonly cost?: (request: { method: string; url: URL }) => number;
}

export interface RatePolicy {
  readonly name: string;
  /** Limits known before the first response (HubSpot 110/10 s, Zendesk export 10/min…). */
  readonly buckets: readonly RateBucket[];
  /** Whether `observe` needs the JSON body (Shopify GraphQL cost and THROTTLED-200). */
  readonly readsBody: boolean;
  /** Read the platform's budget signals from one response. Runs for every response, in order. */
  readonly observe: (response: ObservedResponse) => RateObservation;
}

// ---------------------------------------------------------------------------------------------
// Streams

export interface StreamContext {
  readonly installation: InstallationView;
  readonly settings: PluginSettings;
  /** fetch with the installation's token and the rate governor in front of it; hand it to SDKs. */
  readonly fetch: typeof fetch;
  /** A valid access token (refreshed once per installation when near expiry). */
  readonly accessToken: () => Promise<string>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
}

export interface CursorDefinition<Cursor> {
  /** Validates a stored checkpoint on read; an invalid one is reported, never trusted. */
  readonly schema: z.ZodType<Cursor>;
  /** The checkpoint a backfill (full) or first incremental run starts from. */
  readonly initial: (options: { full: boolean; now: Date }) => Cursor;
  /** A short human description for `ledgerline status` ("modified after 2026-10-01T00:00Z"). */
  readonly describe: (cursor: Cursor) => string;
}

export interface DeletedRecord {
  readonly externalId: string;
  readonly deletedAt: Date;
  /** When the platform merged it into another record: the survivor's id. */
  readonly mergedInto?: string;
}

export interface StreamPage<Cursor> {
  /** Raw platform objects; the engine validates each against the stream's `raw` schema. */
  readonly records: readonly unknown[];
  readonly deleted?: readonly DeletedRecord[];
  /** The checkpoint after this page: committed in the same transaction as the page's records. */
  readonly checkpoint: Cursor;
  /** Records the source says the whole run will return, when it says (progress and ETA). */
  readonly total?: number;
}

export type DeleteDetection =
  | { readonly via: 'archived'; readonly note: string }
  | { readonly via: 'deleted-feed'; readonly note: string }
  | { readonly via: 'tombstone-webhook'; readonly note: string }
  | { readonly via: 'none'; readonly note: string };

export interface StreamDefinition<Raw = unknown, Cursor = unknown> {
  /** Unique within the connector, lower_snake_case: 'contacts', 'ticket_events'. */
  readonly name: string;
  /** The SourceRecord object type this stream stores: 'contact', 'ticket'. */
  readonly objectType: string;
  readonly produces: readonly CanonicalRecordKind[];
  /** The platform's documented shape (`.nullish()` where it may omit). */
  readonly raw: z.ZodType<Raw>;
  readonly cursor: CursorDefinition<Cursor>;
  /** The record's id and platform modification time; an older payload never overwrites newer data. */
  readonly identify: (raw: Raw) => { externalId: string; updatedAt: Date | null };
  /** Pages from the checkpoint on. Yielding a page means: records up to this checkpoint are complete. */
  readonly read: (ctx: StreamContext, checkpoint: Cursor) => AsyncIterable<StreamPage<Cursor>>;
  /** Pure mapping of one validated raw object to canonical records. */
  readonly map: (raw: Raw) => MappedRecordsInput;
  readonly deletes: DeleteDetection;
  /** How often incremental runs are scheduled (seconds); the engine's default when omitted. */
  readonly incrementalEverySeconds?: number;
  /** The source's own count for completeness reconciliation, where the platform gives one. */
  readonly count?: (ctx: StreamContext) => Promise<number | null>;
  /**
   * The current state of one record, for webhook refresh hints without a payload; null when the
   * platform says it is gone. Without it a hint triggers an incremental run of the stream.
   */
  readonly fetchOne?: (ctx: StreamContext, externalId: string) => Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------
// Inbound requests: webhooks and panels

export interface InboundRequest {
  readonly method: string;
  /** The full URL as the platform called it (signature schemes sign it). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
}

/** A webhook event turned into "refresh this record": it enters the sync pipeline, never writes around it. */
export interface RefreshHint {
  /** The platform's event id, the dedupe key. */
  readonly eventId: string;
  /** The platform account the event is for (portal id, subdomain, shop domain). */
  readonly platformAccountId: string;
  readonly stream: string;
  readonly externalId: string;
  readonly occurredAt: Date;
  readonly action: 'upsert' | 'delete' | 'merge';
  /** For merges: the surviving record. */
  readonly mergedInto?: string;
  /**
   * The record as the event carried it, in the stream's raw shape (Shopify webhooks carry the whole
   * object). It goes through the same validate → map → store path; an older one never wins.
   */
  readonly record?: unknown;
}

export interface WebhookContribution {
  readonly topics: readonly string[];
  /** Verify the signature in constant time with a freshness window; throw LL_BAD_SIGNATURE otherwise. */
  readonly verify: (request: InboundRequest, settings: PluginSettings, now: Date) => void;
  /** Parse a verified body (validated inside) into refresh hints. */
  readonly parse: (request: InboundRequest) => readonly RefreshHint[];
  /**
   * Query parameters the endpoint URL configured at the platform must carry for one account, when
   * the payload alone does not say which account it is for (Zendesk: `subdomain`).
   */
  readonly endpointQuery?: (platformAccountId: string) => Readonly<Record<string, string>>;
}

/**
 * What a panel is about: a person or account, or a driver (a deal, ticket, order) whose summary
 * covers the people and accounts involved in it.
 */
export type PanelSubject = SubjectRef | { readonly kind: 'driver'; readonly type: DriverRef['type']; readonly objectType: string; readonly externalId: string };

export interface VerifiedPanelRequest {
  readonly platformAccountId: string;
  /** The platform user looking at the panel, for the access entry in the ledger. */
  readonly userId: string | null;
  readonly subject: PanelSubject;
}

export interface PanelLocation {
  /** The host's name for the place: 'crm.record.tab', 'ticket_sidebar', 'admin.customer-details.block.render'. */
  readonly host: string;
  readonly description: string;
  /** 'json' for cards that fetch JSON (HubSpot, Shopify extensions), 'frame' for iframes (Zendesk, Canvas). */
  readonly render: 'json' | 'frame';
}

export interface PanelContribution {
  readonly locations: readonly PanelLocation[];
  /** Origins allowed to frame Ledgerline's panel pages (CSP frame-ancestors); empty when nothing frames us. */
  readonly frameAncestors: readonly string[];
  /** Verify the host's signature or token and say who is asking about whom. */
  readonly verify: (request: InboundRequest, settings: PluginSettings, now: Date) => Promise<VerifiedPanelRequest>;
}

// ---------------------------------------------------------------------------------------------
// Sandbox and the connector itself

/** A person a sandbox holds, offered to sandboxes started after it so the demo's systems overlap. */
export interface SandboxPerson {
  readonly name: string;
  readonly email: string;
}

export interface RunningSandbox {
  readonly url: string;
  /** Settings that point the plugin at this sandbox (base URLs, fake client id/secret). */
  readonly settings: Readonly<Record<string, string>>;
  /** Some of the people this sandbox's data is about (for overlap with later sandboxes). */
  people?(): readonly SandboxPerson[];
  stop(): Promise<void>;
}

export interface SandboxModule {
  start(options: {
    port?: number;
    scale?: 'demo' | 'bench' | number;
    timeScale?: number;
    /** People who also exist in sandboxes started earlier: a sandbox that can, reuses them. */
    people?: readonly SandboxPerson[];
  }): Promise<RunningSandbox>;
}

/** A stream of any raw and cursor type, as the engine holds them (each is checked where it is defined). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStream = StreamDefinition<any, any>;

export interface ConnectorDefinition {
  /** Matches the plugin's id in plugin.manifest.json. */
  readonly id: string;
  readonly displayName: string;
  // The auth parameters are checked where they are produced (installParams); the engine sees them opaquely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly auth: OAuth2Auth<any>;
  readonly rate: RatePolicy;
  readonly streams: readonly AnyStream[];
  readonly webhooks: WebhookContribution | null;
  readonly panel: PanelContribution | null;
  /** The one place this platform's HTTP statuses and error bodies map to Ledgerline codes. */
  readonly classifyError: (response: { status: number; body: unknown }) => ErrorCode;
  readonly sandbox: (() => Promise<SandboxModule>) | null;
}

export function defineStream<Raw, Cursor>(stream: StreamDefinition<Raw, Cursor>): StreamDefinition<Raw, Cursor> {
  return stream;
}

export function defineConnector<const C extends ConnectorDefinition>(connector: C): C {
  return connector;
}

export function defineRatePolicy(policy: RatePolicy): RatePolicy {
  return policy;
}

export function oauth2<InstallParams>(auth: Omit<OAuth2Auth<InstallParams>, 'type'>): OAuth2Auth<InstallParams> {
  return { type: 'oauth2', ...auth };
}
