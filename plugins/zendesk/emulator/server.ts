/**
 * The Zendesk Support emulator: a loopback HTTP server speaking the parts of Zendesk's API
 * Ledgerline uses, in Zendesk's documented shapes, so `node-zendesk` works against it with only its
 * `endpointUri` changed. Used by the demo (`npm start` without Zendesk credentials), the tests and
 * the benchmark. The URL stands in for `https://{subdomain}.zendesk.com`.
 *
 * - OAuth (oauth.ts): GET /oauth/authorizations/new (auto-approves as the account's admin),
 *   POST /oauth/tokens (authorization_code, refresh_token; 30-minute access tokens; refresh tokens
 *   rotate and the old pair is deleted), GET and DELETE /api/v2/oauth/tokens/current (uninstall).
 *   API calls take `Authorization: Bearer`; a missing, expired or revoked token is 401
 *   `invalid_token`.
 * - Incremental exports (exports.ts): tickets and users cursor-based, organizations and ticket
 *   events (with `include=comment_events`) time-based; the last minute is never exported.
 * - Reads: /users/me, /users/{id}, /organizations/{id}, /tickets/{id}, /tickets/show_many, /tickets/{id}/audits and
 *   /comments (offset pagination, or cursor pagination with `page[size]`), /deleted_tickets,
 *   /account/settings.
 * - Limits: the plan's requests per minute (default 700) on every API call, with `X-Rate-Limit`,
 *   `X-Rate-Limit-Remaining`, `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset`; and 10
 *   incremental-export calls per minute on top. Over either: 429 with `Retry-After` (whole
 *   seconds until the rolling window frees a slot). The plan's 429 body is the plain text
 *   "Number of allowed API requests per minute exceeded"; the export limit's is
 *   `{"error": "APIRateLimitExceeded", "description": "Number of allowed incremental export API
 *   requests per minute exceeded"}` (as reported in https://github.com/airbytehq/airbyte/issues/11899).
 *   `timeScale` N runs the windows N times faster (a minute lasts 60/N s) while Retry-After and
 *   ratelimit-reset stay in platform seconds, so a client dividing waits by the same N (the rate
 *   governor's `timeScale`) waits exactly long enough: the export ceiling is exportsPerMinute × N
 *   calls per real minute.
 * - Webhooks (webhooks.ts): changes made through the control methods are delivered to the target
 *   as signed Zendesk event webhooks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningSandbox } from '../../../core/contract/index.ts';
import {
  ZendeskAccount, shapeFor, ticketStatuses, type Person, type Scale, type TicketPatch, type ZendeskTicket, type ZendeskUser,
} from './data.ts';
import { cursorExport, ticketEventsExport, timeExport, type ExportRequest } from './exports.ts';
import { OAuthServer } from './oauth.ts';
import { auditOf, commentOf, emptyState, applyStep, type TicketState } from './ticket-history.ts';
import { WebhookSender, type WebhookOutcome } from './webhooks.ts';
import { HttpError, RollingWindow, apiError, fieldsOf, readBody } from './wire.ts';

export interface ZendeskEmulatorOptions {
  readonly port?: number;
  readonly scale?: Scale;
  /** Divides the enforced rate windows (a 60 s window lasts 60/N s); Retry-After stays in platform seconds. */
  readonly timeScale?: number;
  readonly seed?: number;
  /** The data clock (token expiry, the last-minute cutoff, timestamps of changes); rate windows use the real clock. */
  readonly now?: () => Date;
  readonly subdomain?: string;
  readonly accountId?: number;
  /** The plan's limit: 700 when omitted (Zendesk lists 400 for Professional, 700 for Enterprise). */
  readonly requestsPerMinute?: number;
  /** The incremental export limit: 10 (30 with the High Volume add-on). */
  readonly exportsPerMinute?: number;
  /** 1800 (Zendesk's default for new OAuth clients) when omitted. */
  readonly accessTokenTtlSeconds?: number;
  /** 30 days when omitted. */
  readonly refreshTokenTtlSeconds?: number;
  /** People who also exist in another connected system: the first end users take their names and emails. */
  readonly people?: readonly Person[];
}

export interface ZendeskEmulatorStats {
  /** Authenticated API calls, throttled ones included. */
  requests: number;
  /** Of those, incremental export calls. */
  exportRequests: number;
  throttled: { plan: number; export: number };
  /** Successful refresh_token grants. */
  tokenRefreshes: number;
  /** Webhook attempts the target answered (any status). */
  webhookDeliveries: number;
  /** Webhook attempts that failed (non-2xx or no answer). */
  webhookFailures: number;
}

export interface RunningZendeskEmulator extends RunningSandbox {
  readonly account: ZendeskAccount;
  readonly accountId: number;
  readonly subdomain: string;
  stats(): ZendeskEmulatorStats;
  /** Where webhooks go, signed with `signingSecret` (the sandbox's ZENDESK_WEBHOOK_SIGNING_SECRET when omitted). */
  setWebhookTarget(url: string | null, signingSecret?: string): void;
  /** An agent edits a ticket; sends ticket.status_changed / priority_changed / subject_changed. */
  updateTicket(id: number, patch: TicketPatch): ZendeskTicket;
  /** Adds a comment (public unless said otherwise, by the admin unless `authorId`); sends ticket.comment_added. */
  addComment(ticketId: number, body: string, options?: { readonly public?: boolean; readonly authorId?: number }): Record<string, unknown>;
  /** Merges an end user into another; returns the tickets whose requester moved. Sends user.merged. */
  mergeUsers(loserId: number, winnerId: number): number[];
  /** Changes the priority of `count` tickets, as a busy account would; returns their ids. */
  touchTickets(count: number): number[];
  /** Every token stops working, as when the app is uninstalled. */
  revokeGrants(): void;
  /** How long access tokens issued from now on live. */
  setAccessTokenTtl(seconds: number): void;
  /** Waits for the webhook deliveries queued so far (retries included). */
  flushWebhooks(): Promise<WebhookOutcome>;
}

const clientId = 'll-sandbox-zendesk-client';
const clientSecret = 'll-sandbox-zendesk-secret-not-real';
const defaultSigningSecret = 'll-sandbox-zendesk-webhook-secret-not-real';

const upper = (value: string | null): string | null => (value === null ? null : value.toUpperCase());
const idString = (value: number | null): string | null => (value === null ? null : String(value));

/** The ticket `detail` of event webhooks: ids as strings, enums upper-case. */
function ticketDetail(t: ZendeskTicket, actorId: number): Record<string, unknown> {
  return {
    actor_id: String(actorId), assignee_id: idString(t.assignee_id), brand_id: String(t.brand_id), created_at: t.created_at, custom_status: null,
    description: t.description, external_id: t.external_id, form_id: String(t.ticket_form_id), group_id: idString(t.group_id), id: String(t.id),
    is_public: t.is_public, organization_id: idString(t.organization_id), priority: upper(t.priority), requester_id: String(t.requester_id),
    status: upper(t.status), subject: t.subject, submitter_id: String(t.submitter_id), tags: t.tags, type: upper(t.type), updated_at: t.updated_at,
    via: { channel: t.via.channel },
  };
}

/** The user `detail` of event webhooks (https://developer.zendesk.com/api-reference/webhooks/event-types/user-events/). */
function userDetail(u: ZendeskUser): Record<string, unknown> {
  return {
    created_at: u.created_at, email: u.email, external_id: u.external_id ?? '', default_group_id: String(u.default_group_id ?? 0), id: String(u.id),
    organization_id: String(u.organization_id ?? 0), role: u.role, updated_at: u.updated_at,
  };
}

const b64 = (n: number): string => Buffer.from(String(n)).toString('base64url');
const unb64 = (s: string): number => {
  const n = Number(Buffer.from(s, 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0) throw apiError(400, 'InvalidPaginationParameter', 'page cursor is invalid');
  return n;
};

/**
 * A list endpoint's page: cursor pagination (`page[size]` ≤ 100, `page[after]`, `meta.has_more`,
 * `links.next`) when asked for, offset pagination (`page`, `per_page` ≤ 100, `next_page`) otherwise
 * (https://developer.zendesk.com/api-reference/introduction/pagination/).
 */
function paginate(key: string, items: readonly unknown[], url: URL): Record<string, unknown> {
  const q = url.searchParams;
  const link = (params: Record<string, string>): string => {
    const next = new URL(url);
    for (const name of ['page[after]', 'page[before]', 'page']) next.searchParams.delete(name);
    for (const [name, value] of Object.entries(params)) next.searchParams.set(name, value);
    return next.toString();
  };
  const clamp = (raw: string | null): number => Math.min(100, Math.max(1, Number.isInteger(Number(raw)) && raw !== null ? Number(raw) : 100));
  if (q.has('page[size]') || q.has('page[after]') || q.has('page[before]')) {
    const size = clamp(q.get('page[size]'));
    const before = q.get('page[before]');
    const end = before !== null ? unb64(before) : null;
    const start = end !== null ? Math.max(0, end - size) : q.has('page[after]') ? unb64(q.get('page[after]') ?? '') : 0;
    const page = items.slice(start, end ?? start + size);
    const stop = start + page.length;
    const hasMore = stop < items.length;
    return {
      [key]: page,
      meta: { has_more: hasMore, after_cursor: page.length > 0 ? b64(stop) : null, before_cursor: page.length > 0 ? b64(start) : null },
      links: { prev: start > 0 ? link({ 'page[before]': b64(start), 'page[size]': String(size) }) : null, next: hasMore ? link({ 'page[after]': b64(stop), 'page[size]': String(size) }) : null },
    };
  }
  const perPage = clamp(q.get('per_page'));
  const pageNo = Math.max(1, Number.parseInt(q.get('page') ?? '1', 10) || 1);
  const page = items.slice((pageNo - 1) * perPage, pageNo * perPage);
  return {
    [key]: page,
    next_page: pageNo * perPage < items.length ? link({ page: String(pageNo + 1), per_page: String(perPage) }) : null,
    previous_page: pageNo > 1 ? link({ page: String(pageNo - 1), per_page: String(perPage) }) : null,
    count: items.length,
  };
}

export async function start(options: ZendeskEmulatorOptions = {}): Promise<RunningZendeskEmulator> {
  const nowMs = (): number => (options.now?.() ?? new Date()).getTime();
  const nowSec = (): number => Math.floor(nowMs() / 1000);
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('timeScale must be > 0');
  const requestsPerMinute = options.requestsPerMinute ?? 700;
  const exportsPerMinute = options.exportsPerMinute ?? 10;
  const accountId = options.accountId ?? 9_100_001;
  const startedAt = nowMs();
  const account = new ZendeskAccount({
    seed: options.seed ?? 1,
    // The data is "as of" the start of the current hour, so two emulators started in one hour agree.
    anchorMs: startedAt - (startedAt % 3_600_000),
    shape: shapeFor(options.scale),
    ...(options.subdomain !== undefined ? { subdomain: options.subdomain } : {}),
    ...(options.people !== undefined ? { people: options.people } : {}),
  });
  const stats: ZendeskEmulatorStats = { requests: 0, exportRequests: 0, throttled: { plan: 0, export: 0 }, tokenRefreshes: 0, webhookDeliveries: 0, webhookFailures: 0 };
  const oauth = new OAuthServer({
    client: { id: clientId, secret: clientSecret },
    now: nowMs,
    userId: account.adminId,
    accessTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    refreshTtlSeconds: options.refreshTokenTtlSeconds ?? 30 * 86_400,
    onRefresh: () => {
      stats.tokenRefreshes += 1;
    },
  });
  const webhooks = new WebhookSender({
    accountId,
    now: nowMs,
    onAttempt: (ok, answered) => {
      if (answered) stats.webhookDeliveries += 1;
      if (!ok) stats.webhookFailures += 1;
    },
  });
  const planWindow = new RollingWindow(requestsPerMinute, 60_000 / timeScale);
  const exportWindow = new RollingWindow(exportsPerMinute, 60_000 / timeScale);
  // Whole platform seconds, rounded up (less a hair of float noise, so 1000 ms × 60 / 1000 stays 60).
  const platformSeconds = (ms: number): string => String(Math.max(1, Math.ceil((ms * timeScale) / 1000 - 1e-6)));
  let baseUrl = '';

  function rateLimit(isExport: boolean): Record<string, string> {
    // Rate windows run on the real clock even when the data's clock (`now`) is pinned.
    const at = performance.now();
    const plan = planWindow.take(at);
    const headers = {
      'X-Rate-Limit': String(requestsPerMinute),
      'X-Rate-Limit-Remaining': String(plan.remaining),
      'ratelimit-limit': String(requestsPerMinute),
      'ratelimit-remaining': String(plan.remaining),
      'ratelimit-reset': platformSeconds(plan.freesInMs),
    };
    if (!plan.ok) {
      stats.throttled.plan += 1;
      throw new HttpError(429, 'Number of allowed API requests per minute exceeded', { ...headers, 'Retry-After': platformSeconds(plan.freesInMs) });
    }
    if (isExport) {
      const exports = exportWindow.take(at);
      if (!exports.ok) {
        stats.throttled.export += 1;
        throw apiError(429, 'APIRateLimitExceeded', 'Number of allowed incremental export API requests per minute exceeded', { ...headers, 'Retry-After': platformSeconds(exports.freesInMs) });
      }
    }
    return headers;
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    const text = typeof body === 'string';
    res.writeHead(status, { 'content-type': text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers }).end(text ? body : JSON.stringify(body));
  }

  const ticketOr404 = (id: number): ZendeskTicket => {
    const ticket = account.ticket(id);
    if (!ticket || ticket.status === 'deleted') throw apiError(404, 'RecordNotFound', 'Not found');
    return ticket;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname.replace(/\.json$/, '').replace(/\/$/, '');
    const method = req.method ?? 'GET';

    if (method === 'GET' && path === '/oauth/authorizations/new') {
      res.writeHead(302, { location: oauth.authorize(url) }).end();
      return;
    }
    if (method === 'POST' && path === '/oauth/tokens') {
      const fields = fieldsOf(await readBody(req), req.headers['content-type']);
      send(res, 200, oauth.token(fields, req.headers.authorization), { 'cache-control': 'no-store' });
      return;
    }
    if (!path.startsWith('/api/v2/')) throw apiError(404, 'InvalidEndpoint', 'Not found');

    const grant = oauth.authenticate(req.headers.authorization);
    const isExport = path.startsWith('/api/v2/incremental/');
    stats.requests += 1;
    if (isExport) stats.exportRequests += 1;
    const headers = rateLimit(isExport);
    const ok = (body: unknown, status = 200): void => send(res, status, body, headers);
    let m: RegExpExecArray | null;

    if (isExport && method === 'GET') {
      const request: ExportRequest = { account, url, now: nowSec(), baseUrl };
      const kind = path.slice('/api/v2/incremental/'.length);
      if (kind === 'tickets/cursor' || kind === 'users/cursor') return ok(cursorExport(kind === 'tickets/cursor' ? 'tickets' : 'users', request));
      if (kind === 'organizations' || kind === 'tickets' || kind === 'users') return ok(timeExport(kind, request));
      if (kind === 'ticket_events') return ok(ticketEventsExport(request));
    }
    if (path === '/api/v2/oauth/tokens/current') {
      if (method === 'GET') return ok(oauth.describe(grant, baseUrl));
      if (method === 'DELETE') {
        oauth.revoke(grant);
        return ok(null, 204);
      }
    }
    if (method !== 'GET') throw apiError(405, 'MethodNotAllowed', `${method} is not supported by the emulator here`);
    if (path === '/api/v2/users/me') return ok({ user: account.user(grant.userId) });
    if (path === '/api/v2/account/settings') {
      return ok({ settings: { branding: { header_color: '03363D', page_background_color: '333333', tab_background_color: '7FA239', text_color: 'FFFFFF', header_logo_url: null, favicon_url: null }, localization: { locale_ids: [1] }, tickets: { comments_public_by_default: true, list_newest_comments_first: true, collaboration: true, emoji_autocompletion: true }, user: { tagging: true, multiple_organizations: false } } });
    }
    if (path === '/api/v2/deleted_tickets') return ok(paginate('deleted_tickets', account.deletedTickets(), url));
    if ((m = /^\/api\/v2\/users\/(\d+)$/.exec(path))) {
      const user = account.user(Number(m[1]));
      if (!user) throw apiError(404, 'RecordNotFound', 'Not found');
      return ok({ user });
    }
    if ((m = /^\/api\/v2\/organizations\/(\d+)$/.exec(path))) {
      const organization = account.organization(Number(m[1]));
      if (!organization) throw apiError(404, 'RecordNotFound', 'Not found');
      return ok({ organization });
    }
    if (path === '/api/v2/tickets/show_many') {
      // https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-multiple-tickets: up to 100 ids; unknown and deleted ones are left out.
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter((id) => id !== '');
      if (ids.length === 0 || ids.length > 100 || ids.some((id) => !/^\d+$/.test(id))) throw apiError(400, 'InvalidValue', 'ids must be a comma-separated list of at most 100 ticket ids');
      return ok({ tickets: ids.map((id) => account.ticket(Number(id))).filter((t): t is ZendeskTicket => t !== null && t.status !== 'deleted') });
    }
    if ((m = /^\/api\/v2\/tickets\/(\d+)$/.exec(path))) return ok({ ticket: ticketOr404(Number(m[1])) });
    if ((m = /^\/api\/v2\/tickets\/(\d+)\/(audits|comments)$/.exec(path))) {
      const id = Number(m[1]);
      ticketOr404(id);
      const steps = account.history(id) ?? [];
      if (m[2] === 'comments') return ok(paginate('comments', steps.flatMap((step, k) => commentOf(id, k, step) ?? []), url));
      const state: TicketState = emptyState();
      const audits = steps.map((step, k) => {
        applyStep(state, step);
        return auditOf(id, k, step, state);
      });
      return ok(paginate('audits', audits, url));
    }
    throw apiError(404, 'InvalidEndpoint', 'Not found');
  }

  const sendTicketEvent = (type: string, ticket: ZendeskTicket, actorId: number, event: Record<string, unknown>): void =>
    webhooks.send({ type: `zen:event-type:ticket.${type}`, subject: `zen:ticket:${ticket.id}`, detail: ticketDetail(ticket, actorId), event });

  const control = {
    stats: (): ZendeskEmulatorStats => structuredClone(stats),
    setWebhookTarget(url: string | null, signingSecret: string = defaultSigningSecret): void {
      webhooks.setTarget(url, signingSecret);
    },
    updateTicket(id: number, patch: TicketPatch): ZendeskTicket {
      const before = account.ticket(id);
      if (!before) throw new Error(`no ticket ${id}`);
      if (patch.status !== undefined && !ticketStatuses.includes(patch.status)) throw new Error(`unknown status ${String(patch.status)}`);
      if (patch.assignee_id !== undefined && patch.assignee_id !== null && account.user(patch.assignee_id)?.role === 'end-user') throw new Error('tickets are assigned to agents');
      const set: Partial<TicketState> = {};
      for (const field of ['status', 'priority', 'type', 'subject', 'assignee_id', 'tags'] as const) {
        const value = patch[field];
        if (value !== undefined) set[field] = field === 'tags' && Array.isArray(value) ? [...(value as readonly string[])].sort() : value;
      }
      const step = account.appendStep(id, nowSec(), account.adminId, 'web', set);
      const after = account.ticket(id) ?? before;
      for (const change of step?.changes ?? []) {
        if (change.field === 'status') sendTicketEvent('status_changed', after, account.adminId, { current: upper(after.status), previous: upper(before.status) });
        if (change.field === 'priority') sendTicketEvent('priority_changed', after, account.adminId, { current: upper(after.priority), previous: upper(before.priority) });
        if (change.field === 'subject') sendTicketEvent('subject_changed', after, account.adminId, { current: after.subject, previous: before.subject });
      }
      return after;
    },
    addComment(ticketId: number, body: string, comment: { readonly public?: boolean; readonly authorId?: number } = {}): Record<string, unknown> {
      const authorId = comment.authorId ?? account.adminId;
      const author = account.user(authorId);
      if (!author) throw new Error(`no user ${authorId}`);
      const step = account.appendStep(ticketId, nowSec(), authorId, 'web', {}, { body, public: comment.public ?? true, authorId });
      const index = (account.history(ticketId)?.length ?? 1) - 1;
      const view = step ? commentOf(ticketId, index, step) : null;
      const ticket = account.ticket(ticketId);
      if (!view || !ticket) throw new Error(`could not comment on ticket ${ticketId}`);
      sendTicketEvent('comment_added', ticket, authorId, { comment: { id: view.id, body, is_public: view.public, author: { id: authorId, is_staff: author.role !== 'end-user', name: author.name } } });
      return view;
    },
    mergeUsers(loserId: number, winnerId: number): number[] {
      const moved = account.mergeUsers(loserId, winnerId, nowSec());
      const loser = account.user(loserId);
      // The event object of user.merged is not shown in Zendesk's reference; the emulator sends it empty.
      if (loser) webhooks.send({ type: 'zen:event-type:user.merged', subject: `zen:user:${loserId}`, detail: userDetail(loser), event: {} });
      return moved;
    },
    touchTickets(count: number): number[] {
      const touched: number[] = [];
      for (let id = 1; id <= account.shape.tickets && touched.length < count; id++) {
        const ticket = account.ticket(id);
        if (!ticket || ticket.status === 'deleted') continue;
        control.updateTicket(id, { priority: ticket.priority === 'urgent' ? 'high' : 'urgent' });
        touched.push(id);
      }
      return touched;
    },
    revokeGrants(): void {
      oauth.revokeAll();
    },
    setAccessTokenTtl(seconds: number): void {
      oauth.setAccessTtl(seconds);
    },
    flushWebhooks: (): Promise<WebhookOutcome> => webhooks.flush(),
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        send(res, error.status, error.body, { ...error.headers });
        return;
      }
      send(res, 500, { error: 'InternalError', description: error instanceof Error ? error.message : 'internal error' });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  account.baseUrl = baseUrl;
  webhooks.setTarget(null, defaultSigningSecret);

  return {
    url: baseUrl,
    settings: {
      // The plugin's setting that replaces https://{subdomain}.zendesk.com; ZENDESK_BASE_URL is the same URL under its earlier name.
      ZENDESK_API_BASE_URL: baseUrl,
      ZENDESK_BASE_URL: baseUrl,
      ZENDESK_SUBDOMAIN: account.subdomain,
      ZENDESK_CLIENT_ID: clientId,
      ZENDESK_CLIENT_SECRET: clientSecret,
      ZENDESK_WEBHOOK_SIGNING_SECRET: defaultSigningSecret,
    },
    account,
    accountId,
    subdomain: account.subdomain,
    ...control,
    stop: async () => {
      await webhooks.close();
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
