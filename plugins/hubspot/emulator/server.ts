/**
 * The HubSpot emulator: a loopback HTTP server speaking the parts of HubSpot's API Ledgerline uses,
 * in HubSpot's documented shapes, so `@hubspot/api-client` works against it with only its base path
 * changed. Used by the demo (`npm start` without HubSpot credentials), the tests and the benchmark.
 *
 * - OAuth: GET /oauth/authorize (auto-approves as the portal's admin and redirects back with a
 *   code), POST /oauth/v1/token and /oauth/2026-03/token (authorization_code, refresh_token;
 *   30-minute access tokens; refresh tokens do not rotate), GET /oauth/v1/access-tokens/{token},
 *   DELETE /oauth/v1/refresh-tokens/{token}.
 * - GET /account-info/v3/details.
 * - CRM v3 objects (contacts, companies, deals, tickets, calls, emails, meetings, notes, tasks):
 *   list (`limit` ≤ 100, `after`, `properties`, `associations`, `archived`), read by id (a merged
 *   contact's id answers the survivor), batch read, and search (`limit` ≤ 200, 10,000-result cap,
 *   filter groups, one sort; ties broken by id, which HubSpot does not promise).
 * - Associations v4: GET /crm/v4/objects/{from}/{id}/associations/{to}, POST batch read.
 * - Limits: 110 requests per rolling 10 s (search excluded) with X-HubSpot-RateLimit-* headers,
 *   search 5 per second without headers, a daily allowance; 429 bodies name the policy
 *   (TEN_SECONDLY_ROLLING, SECONDLY, DAILY), with no Retry-After. `timeScale` shortens the
 *   enforced windows; headers keep the documented values.
 * - Webhooks: changes made through the control methods (or POST /_sandbox/…) are delivered to the
 *   target as signed (v3 and v1) JSON arrays, optionally duplicated and shuffled, retried on failure.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningSandbox } from '../../../core/contract/index.ts';
import { signatureV3 } from '../signature.ts';
import type { engagementTypes} from './data.ts';
import { Portal, objectTypeIds, objectTypes, shapeFor, typeIdOf, type CrmObject, type ObjectType } from './data.ts';

export interface HubspotEmulatorOptions {
  readonly port?: number;
  readonly scale?: 'demo' | 'bench' | number;
  /** Divides the enforced rate windows (a 10 s window lasts 10/N s); headers keep documented values. */
  readonly timeScale?: number;
  readonly seed?: number;
  readonly portalId?: number;
  readonly now?: () => Date;
  readonly rateLimits?: { readonly tenSecondly?: number; readonly searchPerSecond?: number; readonly daily?: number };
  readonly accessTokenTtlSeconds?: number;
}

export interface EmulatorStats {
  requests: number;
  searchRequests: number;
  throttled: { TEN_SECONDLY_ROLLING: number; SECONDLY: number; DAILY: number };
  webhookDeliveries: number;
  webhookFailures: number;
  /** Successful refresh_token grants. */
  tokenRefreshes: number;
}

export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  objectTypeId?: string;
  propertyName?: string;
  propertyValue?: string;
  changeSource: string;
  mergedObjectIds?: number[];
  primaryObjectId?: number;
  newObjectId?: number;
  numberOfPropertiesMoved?: number;
}

export interface AppCardFetchOptions {
  readonly method?: string;
  readonly body?: unknown;
  readonly timeout?: number;
}

const cardResponseLimit = 1024 * 1024;

export interface RunningHubspotEmulator extends RunningSandbox {
  readonly portalId: number;
  readonly portal: Portal;
  stats(): EmulatorStats;
  /** Where webhook deliveries go (the app's target URL); none are sent without one. */
  setWebhookTarget(url: string | null): void;
  updateObject(type: ObjectType, id: string, properties: Record<string, string>): CrmObject;
  createEngagement(type: (typeof engagementTypes)[number], contactId: string, properties: Record<string, string>): CrmObject;
  archive(type: ObjectType, id: string): void;
  mergeContacts(primaryId: string, mergedId: string): void;
  /** Modifies `count` objects of a type (a changed property each), as a busy portal would. */
  touch(type: ObjectType, count: number): string[];
  /**
   * What HubSpot does with an app card's `hubspot.fetch(url, options)`: only permitted URLs, the
   * viewer's `userId`, `portalId`, `userEmail` and `appId` appended to the query, signed with
   * signature v3, JSON bodies only, one retry on a 5xx, a 15 s default timeout, answers over 1 MB
   * refused. Cards rendered in tests fetch through this as they would through HubSpot.
   */
  /** How long access tokens issued from now on live (HubSpot: 30 minutes). */
  setAccessTokenTtl(seconds: number): void;
  /** Every refresh token and its access tokens stop working, as when the portal uninstalls the app. */
  revokeGrants(): void;
  /** Adds an origin to the app's `permittedUrls.fetch` (the Ledgerline the app was configured for). */
  permitFetch(origin: string): void;
  appCardFetch(url: string, options?: AppCardFetchOptions, viewer?: { userId: number; userEmail: string }): Promise<Response>;
  /** Sends the queued events: batches of < 100, optionally each delivered twice and shuffled. */
  flushWebhooks(options?: { duplicate?: boolean; shuffle?: boolean }): Promise<{ delivered: number; failed: number }>;
}

const clientId = 'sandbox-client-id';
const clientSecret = 'sandbox-client-secret-not-real';
const appId = 424242;
const knownScopes = new Set(['oauth', 'crm.objects.contacts.read', 'crm.objects.companies.read', 'crm.objects.deals.read', 'tickets', 'sales-email-read', 'crm.objects.contacts.write']);

class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

const errorBody = (message: string, category: string, extra: Record<string, unknown> = {}) => ({ status: 'error', message, correlationId: randomUUID(), category, ...extra });

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 5_000_000) throw new HttpError(413, errorBody('Request body too large', 'VALIDATION_ERROR'));
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function jsonOf(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new HttpError(400, errorBody('Invalid input JSON on line 1', 'VALIDATION_ERROR'));
  }
}

/** A rolling window of request instants. */
class Window {
  private readonly times: number[] = [];
  private readonly capacity: number;
  private readonly spanMs: number;
  constructor(capacity: number, spanMs: number) {
    this.capacity = capacity;
    this.spanMs = spanMs;
  }
  take(now: number): { ok: boolean; remaining: number } {
    while (this.times.length > 0 && (this.times[0] ?? 0) <= now - this.spanMs) this.times.shift();
    if (this.times.length >= this.capacity) return { ok: false, remaining: 0 };
    this.times.push(now);
    return { ok: true, remaining: this.capacity - this.times.length };
  }
}

const dateProperties = new Set(['createdate', 'lastmodifieddate', 'hs_lastmodifieddate', 'closedate', 'closed_date', 'hs_timestamp', 'hs_createdate', 'hs_meeting_start_time', 'hs_meeting_end_time']);

/** Filter values for datetime properties come as epoch milliseconds (or ISO); numbers compare as numbers. */
function comparable(property: string, value: string | null | undefined): number | string | null {
  if (value === null || value === undefined) return null;
  if (dateProperties.has(property)) return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value.toLowerCase();
}

interface Filter {
  propertyName: string;
  operator: string;
  value?: string;
  highValue?: string;
  values?: string[];
}

function matches(object: CrmObject, filter: Filter): boolean {
  const actual = comparable(filter.propertyName, filter.propertyName === 'hs_object_id' ? object.id : object.properties[filter.propertyName]);
  const wanted = comparable(filter.propertyName, filter.value);
  switch (filter.operator) {
    case 'HAS_PROPERTY': return actual !== null;
    case 'NOT_HAS_PROPERTY': return actual === null;
    case 'IN': return (filter.values ?? []).some((v) => comparable(filter.propertyName, v) === actual);
    case 'NOT_IN': return !(filter.values ?? []).some((v) => comparable(filter.propertyName, v) === actual);
    case 'BETWEEN': {
      const high = comparable(filter.propertyName, filter.highValue);
      return actual !== null && wanted !== null && high !== null && actual >= wanted && actual <= high;
    }
  }
  if (actual === null || wanted === null) return filter.operator === 'NEQ';
  switch (filter.operator) {
    case 'EQ': return actual === wanted;
    case 'NEQ': return actual !== wanted;
    case 'LT': return actual < wanted;
    case 'LTE': return actual <= wanted;
    case 'GT': return actual > wanted;
    case 'GTE': return actual >= wanted;
    case 'CONTAINS_TOKEN': return String(actual).includes(String(wanted));
    default: throw new HttpError(400, errorBody(`Invalid operator ${filter.operator}`, 'VALIDATION_ERROR'));
  }
}

export async function start(options: HubspotEmulatorOptions = {}): Promise<RunningHubspotEmulator> {
  const now = (): number => (options.now?.() ?? new Date()).getTime();
  const timeScale = options.timeScale ?? 1;
  const portalId = options.portalId ?? 9_000_001;
  let ttlSeconds = options.accessTokenTtlSeconds ?? 1800;
  const limits = { tenSecondly: options.rateLimits?.tenSecondly ?? 110, searchPerSecond: options.rateLimits?.searchPerSecond ?? 5, daily: options.rateLimits?.daily ?? 500_000 };
  const startedAt = now();
  // The data is "as of" the start of the current hour, so two emulators started in one hour agree.
  const portal = new Portal({ seed: options.seed ?? 1, anchor: startedAt - (startedAt % 3_600_000), shape: shapeFor(options.scale) });
  const tenSecondly = new Window(limits.tenSecondly, 10_000 / timeScale);
  const searchWindow = new Window(limits.searchPerSecond, 1000 / timeScale);
  let daily = 0;
  const stats: EmulatorStats = { requests: 0, searchRequests: 0, throttled: { TEN_SECONDLY_ROLLING: 0, SECONDLY: 0, DAILY: 0 }, webhookDeliveries: 0, webhookFailures: 0, tokenRefreshes: 0 };
  const codes = new Map<string, { redirectUri: string; scopes: string[]; expiresAt: number }>();
  const accessTokens = new Map<string, { refreshToken: string; expiresAt: number; scopes: string[] }>();
  const refreshTokens = new Map<string, { scopes: string[] }>();
  let webhookTarget: string | null = null;
  const pending: WebhookEvent[] = [];
  let eventSeq = 1000;
  let baseUrl = '';

  function authorize(req: IncomingMessage): { scopes: string[] } {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    const grant = token ? accessTokens.get(token) : undefined;
    if (!grant) throw new HttpError(401, errorBody('Authentication credentials not found. This API supports OAuth 2.0 authentication.', 'INVALID_AUTHENTICATION'));
    if (grant.expiresAt <= now()) {
      throw new HttpError(401, errorBody(`The OAuth token used to make this call expired ${Math.round((now() - grant.expiresAt) / 1000)} second(s) ago.`, 'EXPIRED_AUTHENTICATION'));
    }
    return grant;
  }

  function rateLimit(search: boolean): Record<string, string> {
    // Rate windows run on the real clock even when the data's clock (`now`) is pinned.
    const at = performance.now();
    if (daily >= limits.daily) {
      stats.throttled.DAILY += 1;
      throw new HttpError(429, errorBody('You have reached your daily limit.', 'RATE_LIMITS', { errorType: 'RATE_LIMIT', policyName: 'DAILY', groupName: `daily:${appId}` }));
    }
    if (search) {
      if (!searchWindow.take(at).ok) {
        stats.throttled.SECONDLY += 1;
        throw new HttpError(429, errorBody('You have reached your secondly limit.', 'RATE_LIMITS', { errorType: 'RATE_LIMIT', policyName: 'SECONDLY', groupName: `search:${portalId}` }));
      }
      daily += 1;
      return {};
    }
    const taken = tenSecondly.take(at);
    const headers = {
      'X-HubSpot-RateLimit-Max': String(limits.tenSecondly),
      'X-HubSpot-RateLimit-Remaining': String(taken.remaining),
      'X-HubSpot-RateLimit-Interval-Milliseconds': '10000',
      'X-HubSpot-RateLimit-Daily': String(limits.daily),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, limits.daily - daily - (taken.ok ? 1 : 0))),
    };
    if (!taken.ok) {
      stats.throttled.TEN_SECONDLY_ROLLING += 1;
      throw new HttpError(429, errorBody('You have reached your ten_secondly_rolling limit.', 'RATE_LIMITS', { errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING', groupName: `ten_secondly:${appId}:${portalId}` }), headers);
    }
    daily += 1;
    return headers;
  }

  const typeOf = (name: string): ObjectType => {
    const type = objectTypeIds[name] ?? (objectTypes as readonly string[]).find((t) => t === name);
    if (!type) throw new HttpError(400, errorBody(`Unable to infer object type from: ${name}`, 'VALIDATION_ERROR'));
    return type as ObjectType;
  };

  function view(object: CrmObject, properties: readonly string[], associations: readonly string[]): Record<string, unknown> {
    const props: Record<string, string | null> = {
      createdate: object.properties.createdate ?? null,
      hs_object_id: object.id,
      [portal.modifiedProperty(object.type)]: object.properties[portal.modifiedProperty(object.type)] ?? null,
    };
    for (const name of properties) props[name] = object.properties[name] ?? null;
    const out: Record<string, unknown> = {
      id: object.id,
      properties: props,
      createdAt: new Date(object.createdAt).toISOString(),
      updatedAt: new Date(object.updatedAt).toISOString(),
      archived: object.archivedAt !== null,
      ...(object.archivedAt !== null ? { archivedAt: new Date(object.archivedAt).toISOString() } : {}),
    };
    const assoc: Record<string, unknown> = {};
    for (const name of associations) {
      const to = typeOf(name);
      const ids = object.associations[to] ?? [];
      if (ids.length > 0) assoc[name] = { results: ids.map((id) => ({ id, type: `${object.type.replace(/ies$/, 'y').replace(/s$/, '')}_to_${to.replace(/ies$/, 'y').replace(/s$/, '')}` })) };
    }
    if (associations.length > 0 && Object.keys(assoc).length > 0) out.associations = assoc;
    return out;
  }

  /** HubSpot takes both `properties=a,b` and repeated `properties=a&properties=b` (the SDK sends the latter). */
  const csv = (values: string[]): string[] => values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');

  function list(type: ObjectType, url: URL): unknown {
    const limit = Number(url.searchParams.get('limit') ?? '10');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, errorBody('limit must be between 1 and 100', 'VALIDATION_ERROR'));
    const after = url.searchParams.get('after');
    const archived = url.searchParams.get('archived') === 'true';
    const properties = csv(url.searchParams.getAll('properties'));
    const associations = csv(url.searchParams.getAll('associations'));
    const results: unknown[] = [];
    let next: string | null = null;
    for (const id of portal.ids(type)) {
      if (after !== null && Number(id) < Number(after)) continue;
      const object = portal.get(type, id);
      if (!object || (object.archivedAt !== null) !== archived) continue;
      if (results.length === limit) {
        next = id;
        break;
      }
      results.push(view(object, properties, associations));
    }
    return { results, ...(next ? { paging: { next: { after: next, link: `${baseUrl}/crm/v3/objects/${type}?after=${next}` } } } : {}) };
  }

  function search(type: ObjectType, body: Record<string, unknown>): unknown {
    const limit = body.limit === undefined ? 10 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > 200) throw new HttpError(400, errorBody(`Invalid input JSON: limit must be 200 or less (was ${String(body.limit)})`, 'VALIDATION_ERROR'));
    const after = Number(body.after ?? 0);
    if (!Number.isInteger(after) || after < 0) throw new HttpError(400, errorBody('after must be a non-negative integer', 'VALIDATION_ERROR'));
    if (after + limit > 10_000) throw new HttpError(400, errorBody('There was a problem with the request.', 'VALIDATION_ERROR', { subCategory: 'SEARCH_PAGINATION_LIMIT', message: 'Paging past 10,000 results is not supported.' }));
    const groups = Array.isArray(body.filterGroups) ? (body.filterGroups as { filters?: Filter[] }[]) : [];
    const filterCount = groups.reduce((n, g) => n + (g.filters?.length ?? 0), 0);
    if (groups.length > 5 || groups.some((g) => (g.filters?.length ?? 0) > 6) || filterCount > 18) throw new HttpError(400, errorBody('Too many filters or filter groups', 'VALIDATION_ERROR'));
    const sorts = Array.isArray(body.sorts) ? (body.sorts as unknown[]) : [];
    if (sorts.length > 1) throw new HttpError(400, errorBody('Only one sort is supported', 'VALIDATION_ERROR'));
    const sort = sorts[0] === undefined ? null : typeof sorts[0] === 'string' ? { propertyName: sorts[0].replace(/^-/, ''), direction: sorts[0].startsWith('-') ? 'DESCENDING' : 'ASCENDING' } : (sorts[0] as { propertyName: string; direction?: string });
    const properties = Array.isArray(body.properties) ? (body.properties as string[]) : [];
    const modified = portal.modifiedProperty(type);
    const index = portal.index(type);
    // Fast path: a window on the modification date narrows the candidates by binary search.
    let lo = 0;
    let hi = index.ids.length;
    if (groups.length === 1) {
      for (const f of groups[0]?.filters ?? []) {
        if (f.propertyName !== modified || f.value === undefined) continue;
        const v = comparable(modified, f.value) as number;
        const bound = (x: number, strict: boolean): number => {
          let a = 0;
          let b = index.modified.length;
          while (a < b) {
            const m = (a + b) >> 1;
            if ((index.modified[m] ?? 0) < x || (strict && (index.modified[m] ?? 0) === x)) a = m + 1;
            else b = m;
          }
          return a;
        };
        if (f.operator === 'GTE' || f.operator === 'EQ') lo = Math.max(lo, bound(v, false));
        if (f.operator === 'GT') lo = Math.max(lo, bound(v, true));
        if (f.operator === 'LTE' || f.operator === 'EQ') hi = Math.min(hi, bound(v, true));
        if (f.operator === 'LT') hi = Math.min(hi, bound(v, false));
      }
    }
    const narrowing = new Set(['GTE', 'GT', 'LTE', 'LT', 'EQ']);
    const windowOnly = groups.length === 1 && (groups[0]?.filters ?? []).every((f) => f.propertyName === modified && narrowing.has(f.operator)) && (!sort || sort.propertyName === modified) && sort?.direction !== 'DESCENDING';
    if (windowOnly) {
      // The index alone answers a pure modification-date window: no need to look at every object.
      const ids = index.ids.slice(lo + after, Math.min(hi, lo + after + limit));
      const total = hi - lo;
      return {
        total,
        results: ids.map((id) => portal.get(type, id)).filter((o): o is CrmObject => o !== null).map((o) => view(o, properties, [])),
        ...(after + limit < total ? { paging: { next: { after: String(after + limit), link: '' } } } : {}),
      };
    }
    const found: CrmObject[] = [];
    for (let i = lo; i < hi; i++) {
      const object = portal.get(type, index.ids[i] ?? '');
      if (!object) continue;
      if (groups.length === 0 || groups.some((g) => (g.filters ?? []).every((f) => matches(object, f)))) found.push(object);
    }
    if (sort && sort.propertyName !== modified) {
      const dir = sort.direction === 'DESCENDING' ? -1 : 1;
      const key = (o: CrmObject) => comparable(sort.propertyName, sort.propertyName === 'hs_object_id' ? o.id : o.properties[sort.propertyName]) ?? '';
      found.sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : Number(a.id) - Number(b.id)));
    } else if (sort?.direction === 'DESCENDING') {
      found.reverse();
    }
    const page = found.slice(after, after + limit);
    const nextAfter = after + limit;
    return {
      total: found.length,
      results: page.map((o) => view(o, properties, [])),
      ...(nextAfter < found.length ? { paging: { next: { after: String(nextAfter), link: '' } } } : {}),
    };
  }

  function associationsOf(from: ObjectType, id: string, to: ObjectType): { toObjectId: number; associationTypes: { category: string; typeId: number; label: null }[] }[] {
    const object = portal.get(from, id);
    if (!object) return [];
    const forward = object.associations[to] ?? [];
    return forward.map((toId) => ({ toObjectId: Number(toId), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: associationTypeId(from, to), label: null }] }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    let m: RegExpExecArray | null;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };

    // --- OAuth -------------------------------------------------------------------------------
    if (method === 'GET' && path === '/oauth/authorize') {
      const redirect = url.searchParams.get('redirect_uri');
      const scopes = (url.searchParams.get('scope') ?? '').split(/[ +]/).filter((s) => s !== '');
      if (url.searchParams.get('client_id') !== clientId || !redirect) {
        res.writeHead(400, { 'content-type': 'text/html' }).end('<h1>Invalid client_id or redirect_uri</h1>');
        return;
      }
      const unknown = scopes.filter((s) => !knownScopes.has(s));
      if (unknown.length > 0) {
        res.writeHead(400, { 'content-type': 'text/html' }).end(`<h1>Unknown scopes: ${unknown.join(', ').replace(/[<>&]/g, '')}</h1>`);
        return;
      }
      const code = randomBytes(18).toString('hex');
      codes.set(code, { redirectUri: redirect, scopes, expiresAt: now() + 10 * 60_000 });
      const target = new URL(redirect);
      target.searchParams.set('code', code);
      const state = url.searchParams.get('state');
      if (state !== null) target.searchParams.set('state', state);
      res.writeHead(302, { location: target.toString() }).end();
      return;
    }
    if (method === 'POST' && (path === '/oauth/v1/token' || path === '/oauth/2026-03/token')) {
      const form = new URLSearchParams((await readBody(req)).toString('utf8'));
      if (form.get('client_id') !== clientId) return send(400, { status: 'BAD_CLIENT_ID', message: 'missing or unknown client id', correlationId: randomUUID() });
      if (form.get('client_secret') !== clientSecret) return send(400, { status: 'BAD_CLIENT_SECRET', message: 'missing or invalid client secret', correlationId: randomUUID() });
      let refreshToken: string;
      let scopes: string[];
      if (form.get('grant_type') === 'authorization_code') {
        const code = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        if (!code || code.expiresAt < now()) return send(400, { status: 'BAD_AUTH_CODE', message: 'missing or unknown auth code', correlationId: randomUUID() });
        if (code.redirectUri !== form.get('redirect_uri')) return send(400, { status: 'BAD_REDIRECT_URI', message: 'redirect_uri does not match', correlationId: randomUUID() });
        refreshToken = `rt-${randomUUID()}`;
        scopes = code.scopes;
        refreshTokens.set(refreshToken, { scopes });
      } else if (form.get('grant_type') === 'refresh_token') {
        refreshToken = form.get('refresh_token') ?? '';
        const grant = refreshTokens.get(refreshToken);
        if (!grant) return send(400, { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token', correlationId: randomUUID() });
        scopes = grant.scopes;
        stats.tokenRefreshes += 1;
      } else {
        return send(400, { status: 'BAD_GRANT_TYPE', message: 'unsupported grant_type', correlationId: randomUUID() });
      }
      const accessToken = `at-${randomBytes(24).toString('base64url')}`;
      accessTokens.set(accessToken, { refreshToken, expiresAt: now() + ttlSeconds * 1000, scopes });
      return send(200, { token_type: 'bearer', refresh_token: refreshToken, access_token: accessToken, expires_in: ttlSeconds });
    }
    if (method === 'GET' && (m = /^\/oauth\/v1\/access-tokens\/(.+)$/.exec(path))) {
      const token = decodeURIComponent(m[1] ?? '');
      const grant = accessTokens.get(token);
      if (!grant || grant.expiresAt <= now()) return send(404, errorBody('Token not found', 'OBJECT_NOT_FOUND'));
      return send(200, {
        token,
        user: 'sandbox-admin@ledgerline-sandbox.example',
        hub_domain: 'ledgerline-sandbox.example',
        scopes: grant.scopes,
        scope_to_scope_group_pks: [],
        trial_scopes: [],
        trial_scope_to_scope_group_pks: [],
        hub_id: portalId,
        app_id: appId,
        expires_in: Math.max(0, Math.round((grant.expiresAt - now()) / 1000)),
        user_id: 1,
        token_type: 'access',
      });
    }
    if ((m = /^\/oauth\/v1\/refresh-tokens\/(.+)$/.exec(path))) {
      const token = decodeURIComponent(m[1] ?? '');
      const grant = refreshTokens.get(token);
      if (!grant) return send(404, errorBody('Refresh token not found', 'OBJECT_NOT_FOUND'));
      if (method === 'DELETE') {
        refreshTokens.delete(token);
        for (const [access, g] of accessTokens) if (g.refreshToken === token) accessTokens.delete(access);
        res.writeHead(204).end();
        return;
      }
      return send(200, { token, user: 'sandbox-admin@ledgerline-sandbox.example', hub_domain: 'ledgerline-sandbox.example', scopes: grant.scopes, hub_id: portalId, client_id: clientId, user_id: 1, token_type: 'refresh' });
    }

    // --- Emulator controls (not HubSpot) ------------------------------------------------------
    if (path.startsWith('/_sandbox/')) {
      const body = method === 'POST' ? jsonOf(await readBody(req)) : {};
      if (path === '/_sandbox/webhook-target' && method === 'POST') {
        control.setWebhookTarget(typeof body.url === 'string' ? body.url : null);
        return send(200, { target: webhookTarget });
      }
      if (path === '/_sandbox/touch' && method === 'POST') {
        const ids = control.touch(typeOf(typeof body.type === 'string' ? body.type : 'contacts'), Math.min(1000, Number(body.count ?? 1)));
        return send(200, { touched: ids });
      }
      if (path === '/_sandbox/flush-webhooks' && method === 'POST') return send(200, await control.flushWebhooks({ duplicate: body.duplicate === true, shuffle: body.shuffle === true }));
      if (path === '/_sandbox/stats' && method === 'GET') return send(200, stats);
      return send(404, errorBody('unknown sandbox control', 'OBJECT_NOT_FOUND'));
    }

    // --- The API: authenticated and rate limited ----------------------------------------------
    authorize(req);
    const isSearch = method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/search\/?$/.test(path);
    stats.requests += 1;
    if (isSearch) stats.searchRequests += 1;
    const headers = rateLimit(isSearch);

    if (method === 'GET' && path === '/account-info/v3/details') {
      return send(200, { portalId, accountType: 'STANDARD', timeZone: 'Europe/Berlin', companyCurrency: 'EUR', additionalCurrencies: [], utcOffset: '+01:00', utcOffsetMilliseconds: 3_600_000, uiDomain: 'app.hubspot.com', dataHostingLocation: 'eu1' }, headers);
    }
    if (isSearch && (m = /^\/crm\/v3\/objects\/([^/]+)\/search\/?$/.exec(path))) {
      return send(200, search(typeOf(m[1] ?? ''), jsonOf(await readBody(req))), headers);
    }
    if (method === 'POST' && (m = /^\/crm\/v3\/objects\/([^/]+)\/batch\/read$/.exec(path))) {
      const type = typeOf(m[1] ?? '');
      const body = jsonOf(await readBody(req));
      const inputs = Array.isArray(body.inputs) ? (body.inputs as { id: string }[]) : [];
      if (inputs.length > 100) throw new HttpError(400, errorBody('Batch size must be 100 or less', 'VALIDATION_ERROR'));
      const properties = Array.isArray(body.properties) ? (body.properties as string[]) : [];
      const found = inputs.map((i) => portal.get(type, String(i.id))).filter((o): o is CrmObject => o !== null && o.archivedAt === null);
      const missing = inputs.filter((i) => !found.some((o) => o.id === String(i.id)));
      const at = new Date(now()).toISOString();
      const payload = { status: 'COMPLETE', results: found.map((o) => view(o, properties, [])), startedAt: at, completedAt: at };
      if (missing.length > 0) return send(207, { ...payload, numErrors: missing.length, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some records', context: { ids: missing.map((i) => String(i.id)) } }] }, headers);
      return send(200, payload, headers);
    }
    if (method === 'GET' && (m = /^\/crm\/v3\/objects\/([^/]+)\/?$/.exec(path))) return send(200, list(typeOf(m[1] ?? ''), url), headers);
    if (method === 'GET' && (m = /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/.exec(path))) {
      const type = typeOf(m[1] ?? '');
      let id = decodeURIComponent(m[2] ?? '');
      if (type === 'contacts') id = portal.mergedInto.get(id) ?? id;
      const object = portal.get(type, id);
      const archived = url.searchParams.get('archived') === 'true';
      if (!object || (object.archivedAt !== null) !== archived) return send(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'), headers);
      return send(200, view(object, csv(url.searchParams.getAll('properties')), csv(url.searchParams.getAll('associations'))), headers);
    }
    if (method === 'GET' && (m = /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)$/.exec(path))) {
      const results = associationsOf(typeOf(m[1] ?? ''), decodeURIComponent(m[2] ?? ''), typeOf(m[3] ?? ''));
      return send(200, { results }, headers);
    }
    if (method === 'POST' && (m = /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/read$/.exec(path))) {
      const from = typeOf(m[1] ?? '');
      const to = typeOf(m[2] ?? '');
      const body = jsonOf(await readBody(req));
      const inputs = Array.isArray(body.inputs) ? (body.inputs as { id: string }[]) : [];
      if (inputs.length > 1000) throw new HttpError(400, errorBody('Batch size must be 1000 or less', 'VALIDATION_ERROR'));
      const at = new Date(now()).toISOString();
      const results = inputs
        .map((i) => ({ _from: { id: String(i.id) }, to: associationsOf(from, String(i.id), to) }))
        .filter((r) => r.to.length > 0)
        .map((r) => ({ from: r._from, to: r.to }));
      return send(200, { status: 'COMPLETE', results, startedAt: at, completedAt: at }, headers);
    }
    send(404, errorBody(`No route for ${method} ${path}`, 'OBJECT_NOT_FOUND'), headers);
  }

  function queue(event: Omit<WebhookEvent, 'eventId' | 'subscriptionId' | 'portalId' | 'appId' | 'attemptNumber' | 'changeSource'>): void {
    if (webhookTarget === null) return;
    pending.push({ eventId: eventSeq++, subscriptionId: 5000, portalId, appId, attemptNumber: 0, changeSource: 'CRM_UI', ...event });
  }

  function subscriptionFor(type: ObjectType, action: string): { subscriptionType: string; objectTypeId?: string } {
    const simple: Partial<Record<ObjectType, string>> = { contacts: 'contact', companies: 'company', deals: 'deal', tickets: 'ticket' };
    const name = simple[type];
    return name ? { subscriptionType: `${name}.${action}` } : { subscriptionType: `object.${action}`, objectTypeId: typeIdOf[type] };
  }

  async function deliver(batch: WebhookEvent[], attempt: number): Promise<boolean> {
    if (webhookTarget === null) return false;
    const body = JSON.stringify(batch.map((e) => ({ ...e, attemptNumber: attempt })));
    const timestamp = String(now());
    try {
      const response = await fetch(webhookTarget, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'X-HubSpot-Signature-v3': signatureV3(clientSecret, 'POST', webhookTarget, body, timestamp),
          'X-HubSpot-Request-Timestamp': timestamp,
          'X-HubSpot-Signature': createHash('sha256').update(clientSecret + body).digest('hex'),
          'X-HubSpot-Signature-Version': 'v1',
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer();
      stats.webhookDeliveries += 1;
      if (!response.ok) stats.webhookFailures += 1;
      return response.ok;
    } catch {
      stats.webhookFailures += 1;
      return false;
    }
  }

  const permittedFetchOrigins = new Set<string>();

  const control = {
    setWebhookTarget(url: string | null): void {
      webhookTarget = url;
    },
    setAccessTokenTtl(seconds: number): void {
      ttlSeconds = seconds;
    },
    revokeGrants(): void {
      refreshTokens.clear();
      accessTokens.clear();
    },
    /** The app's `permittedUrls.fetch`. */
    permitFetch(origin: string): void {
      permittedFetchOrigins.add(new URL(origin).origin);
    },
    async appCardFetch(url: string, options: AppCardFetchOptions = {}, viewer = { userId: 77, userEmail: 'rep@ledgerline-sandbox.example' }): Promise<Response> {
      const target = new URL(url);
      if (!permittedFetchOrigins.has(target.origin)) throw new Error(`hubspot.fetch: ${target.origin} is not in the app's permittedUrls.fetch`);
      target.searchParams.append('userId', String(viewer.userId));
      target.searchParams.append('portalId', String(portalId));
      target.searchParams.append('userEmail', viewer.userEmail);
      target.searchParams.append('appId', String(appId));
      const method = (options.method ?? 'GET').toUpperCase();
      const body = options.body === undefined ? '' : JSON.stringify(options.body);
      const timeout = Math.min(options.timeout ?? 15_000, 120_000);
      for (let attempt = 1; ; attempt += 1) {
        const timestamp = String(Date.now());
        const response = await fetch(target, {
          method,
          headers: {
            'x-hubspot-signature-v3': signatureV3(clientSecret, method, target.toString(), body, timestamp),
            'x-hubspot-request-timestamp': timestamp,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body } : {}),
          signal: AbortSignal.timeout(timeout),
        });
        if (response.status >= 500 && attempt === 1) {
          await response.arrayBuffer();
          continue;
        }
        const bytes = Buffer.from(await response.arrayBuffer());
        if (bytes.length > cardResponseLimit) throw new Error(`hubspot.fetch: the answer is ${bytes.length} bytes, over the 1 MB limit`);
        return new Response(bytes, { status: response.status, headers: response.headers });
      }
    },
    updateObject(type: ObjectType, id: string, properties: Record<string, string>): CrmObject {
      const object = portal.get(type, id);
      if (!object) throw new Error(`no ${type} ${id}`);
      const at = now();
      const changed: CrmObject = { ...object, properties: { ...object.properties, ...properties, [portal.modifiedProperty(type)]: new Date(at).toISOString() }, updatedAt: at };
      portal.put(changed);
      for (const [name, value] of Object.entries(properties)) queue({ ...subscriptionFor(type, 'propertyChange'), occurredAt: at, objectId: Number(id), propertyName: name, propertyValue: value });
      return changed;
    },
    createEngagement(type: (typeof engagementTypes)[number], contactId: string, properties: Record<string, string>): CrmObject {
      const at = now();
      const object = portal.create(type, { hs_timestamp: new Date(at).toISOString(), hs_createdate: new Date(at).toISOString(), ...properties }, { contacts: [contactId] }, at);
      queue({ ...subscriptionFor(type, 'creation'), occurredAt: at, objectId: Number(object.id) });
      return object;
    },
    archive(type: ObjectType, id: string): void {
      const object = portal.get(type, id);
      if (!object) throw new Error(`no ${type} ${id}`);
      const at = now();
      portal.put({ ...object, archivedAt: at });
      queue({ ...subscriptionFor(type, 'deletion'), occurredAt: at, objectId: Number(id) });
    },
    mergeContacts(primaryId: string, mergedId: string): void {
      const at = now();
      portal.merge(primaryId, mergedId, at);
      queue({ subscriptionType: 'contact.merge', occurredAt: at, objectId: Number(primaryId), mergedObjectIds: [Number(primaryId), Number(mergedId)], primaryObjectId: Number(primaryId), newObjectId: Number(primaryId), numberOfPropertiesMoved: 3 });
    },
    touch(type: ObjectType, count: number): string[] {
      const ids: string[] = [];
      for (const id of portal.ids(type)) {
        if (ids.length >= count) break;
        const object = portal.get(type, id);
        if (!object || object.archivedAt !== null) continue;
        const property = type === 'contacts' ? 'lifecyclestage' : type === 'deals' ? 'dealstage' : type === 'tickets' ? 'hs_pipeline_stage' : 'hubspot_owner_id';
        const value = type === 'contacts' ? 'customer' : type === 'deals' ? 'closedwon' : type === 'tickets' ? '4' : '105';
        const extra: Record<string, string> = type === 'deals' ? { hs_is_closed_won: 'true', hs_is_closed: 'true', closedate: new Date(now()).toISOString() } : type === 'tickets' ? { closed_date: new Date(now()).toISOString() } : {};
        control.updateObject(type, id, { [property]: value, ...extra });
        ids.push(id);
      }
      return ids;
    },
    async flushWebhooks(flush: { duplicate?: boolean; shuffle?: boolean } = {}): Promise<{ delivered: number; failed: number }> {
      let events = pending.splice(0, pending.length);
      if (flush.duplicate) events = events.flatMap((e) => [e, e]);
      if (flush.shuffle) events = events.map((e, i) => [((i * 7919) % 104729) / 104729, e] as const).sort((a, b) => a[0] - b[0]).map(([, e]) => e);
      let delivered = 0;
      let failed = 0;
      for (let i = 0; i < events.length; i += 99) {
        const batch = events.slice(i, i + 99);
        let ok = false;
        // HubSpot retries failed deliveries (up to 10 times over a day); here, quickly.
        for (let attempt = 0; attempt < 4 && !ok; attempt++) {
          ok = await deliver(batch, attempt);
          if (!ok) await new Promise((resolve) => setTimeout(resolve, 200 / timeScale));
        }
        if (ok) delivered += batch.length;
        else failed += batch.length;
      }
      return { delivered, failed };
    },
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        res.writeHead(error.status, { 'content-type': 'application/json;charset=utf-8', ...error.headers }).end(JSON.stringify(error.body));
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody(error instanceof Error ? error.message : 'internal error', 'INTERNAL_ERROR')));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    settings: {
      HUBSPOT_API_BASE_URL: baseUrl,
      HUBSPOT_AUTHORIZE_URL: `${baseUrl}/oauth/authorize`,
      HUBSPOT_CLIENT_ID: clientId,
      HUBSPOT_CLIENT_SECRET: clientSecret,
      HUBSPOT_APP_ID: String(appId),
    },
    portalId,
    portal,
    // The first contacts, so that a sandbox started after this one (Zendesk) can hold the same people.
    people: () => {
      const people: { name: string; email: string }[] = [];
      for (const id of portal.ids('contacts')) {
        const contact = portal.get('contacts', id);
        const email = contact?.properties.email;
        if (contact && email) people.push({ name: `${contact.properties.firstname ?? ''} ${contact.properties.lastname ?? ''}`.trim(), email });
        if (people.length === 12) break;
      }
      return people;
    },
    stats: () => structuredClone(stats),
    ...control,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** HubSpot's default association type ids (primary where there is one). */
function associationTypeId(from: ObjectType, to: ObjectType): number {
  const table: Partial<Record<string, number>> = {
    'contacts→companies': 1, 'deals→contacts': 3, 'deals→companies': 5, 'tickets→contacts': 16, 'tickets→companies': 26,
    'calls→contacts': 194, 'emails→contacts': 198, 'meetings→contacts': 200, 'notes→contacts': 202, 'tasks→contacts': 204,
    'calls→companies': 182, 'emails→companies': 186, 'meetings→companies': 188, 'notes→companies': 190, 'tasks→companies': 192,
    'calls→deals': 206, 'emails→deals': 210, 'meetings→deals': 212, 'notes→deals': 214, 'tasks→deals': 216,
    'calls→tickets': 220, 'emails→tickets': 224, 'meetings→tickets': 226, 'notes→tickets': 228, 'tasks→tickets': 230,
  };
  return table[`${from}→${to}`] ?? 0;
}
