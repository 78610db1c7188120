/**
 * The Zendesk emulator over plain HTTP: what a connector relies on — cursor exports that visit every
 * record once, the last-minute cutoff, both rate limits with Retry-After, rotating refresh tokens,
 * signed and retried webhooks, user merges, and data that is a function of the seed.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxModule } from '../../../core/contract/index.ts';
import { ZendeskAccount, shapeFor, userIdForPerson, type ZendeskTicket, type ZendeskUser } from './data.ts';
import { start, type RunningZendeskEmulator, type ZendeskEmulatorOptions } from './server.ts';

const redirectUri = 'https://ledgerline.test/oauth/zendesk/callback';

interface Tokens { access_token: string; refresh_token: string; expires_in: number }
interface ChildEvent { id: number; event_type: string; previous_value?: unknown; [field: string]: unknown }
interface TicketEvent { id: number; ticket_id: number; timestamp: number; via: string; child_events: ChildEvent[] }
interface EventsPage { ticket_events: TicketEvent[]; end_of_stream: boolean; count: number }
interface TicketPage { tickets: ZendeskTicket[]; after_url: string; after_cursor: string; end_of_stream: boolean }
interface Audit { id: number; events: { id: number; type: string }[] }
interface AuditPage { audits: Audit[]; meta: { has_more: boolean }; links: { next: string | null }; next_page: string | null; previous_page: string | null; count: number }
const running: RunningZendeskEmulator[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function emulator(options: ZendeskEmulatorOptions = {}): Promise<RunningZendeskEmulator> {
  const e = await start(options);
  running.push(e);
  return e;
}

async function authorize(e: RunningZendeskEmulator, state = 'state-1'): Promise<URL> {
  const q = new URLSearchParams({ response_type: 'code', client_id: e.settings.ZENDESK_CLIENT_ID!, redirect_uri: redirectUri, scope: 'read', state });
  const response = await fetch(`${e.url}/oauth/authorizations/new?${q.toString()}`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!);
}

async function tokenRequest(e: RunningZendeskEmulator, fields: Record<string, string>, form = false): Promise<{ status: number; body: Tokens & { error?: string } }> {
  const all = { client_id: e.settings.ZENDESK_CLIENT_ID!, client_secret: e.settings.ZENDESK_CLIENT_SECRET!, ...fields };
  const response = await fetch(`${e.url}/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(all).toString() : JSON.stringify(all),
  });
  return { status: response.status, body: (await response.json()) as Tokens & { error?: string } };
}

async function connect(e: RunningZendeskEmulator): Promise<Tokens> {
  const code = (await authorize(e)).searchParams.get('code')!;
  const { status, body } = await tokenRequest(e, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
  expect(status).toBe(200);
  return body;
}

/** A GET with a bearer token; the body as the caller expects it (JSON, or text when not JSON). */
async function get<T = Record<string, unknown>>(e: RunningZendeskEmulator, token: string, path: string): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await fetch(`${e.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: ((response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T };
}

const pathOf = (url: string): string => new URL(url).pathname + new URL(url).search;

const seconds = (isoTime: string): number => Date.parse(isoTime) / 1000;

/** Every ticket the cursor export gives, from `start_time`, page by page. */
async function exportTickets(e: RunningZendeskEmulator, token: string, startTime: number, perPage: number): Promise<{ tickets: ZendeskTicket[]; pages: TicketPage[] }> {
  const pages: TicketPage[] = [];
  let page = await get<TicketPage>(e, token, `/api/v2/incremental/tickets/cursor.json?start_time=${startTime}&per_page=${perPage}`);
  for (;;) {
    expect(page.status).toBe(200);
    pages.push(page.body);
    if (page.body.end_of_stream) break;
    page = await get<TicketPage>(e, token, pathOf(page.body.after_url));
  }
  return { tickets: pages.flatMap((p) => p.tickets), pages };
}

/** A webhook receiver answering with the statuses given, then 200. */
async function receiver(statuses: number[] = []): Promise<{ url: string; calls: { headers: IncomingHttpHeaders; body: string }[] }> {
  const calls: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/zendesk`, calls };
}

describe('Zendesk emulator', () => {
  it('pages the cursor ticket export through every ticket changed before the last minute, each exactly once, deleted ones included', async () => {
    const e = await emulator({ scale: 'demo', timeScale: 60 });
    const { access_token } = await connect(e);
    const { tickets, pages } = await exportTickets(e, access_token, 0, 10);
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages.slice(0, -1)) {
      expect(page.tickets).toHaveLength(10);
      expect(page.end_of_stream).toBe(false);
    }
    const ids = tickets.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cutoff = Date.now() / 1000 - 60;
    const expected = Array.from({ length: 60 }, (_, i) => e.account.ticket(i + 1)!).filter((t) => seconds(t.updated_at) <= cutoff).map((t) => t.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    const order = tickets.map((t) => [seconds(t.updated_at), t.id] as const);
    expect(order.every(([ts, id], k) => k === 0 || ts > order[k - 1]![0] || (ts === order[k - 1]![0] && id > order[k - 1]![1]))).toBe(true);
    expect(tickets.some((t) => t.status === 'deleted')).toBe(true);
    // The cursor of the last page resumes the stream: nothing new yet.
    const last = pages.at(-1)!;
    expect(Buffer.from(last.after_cursor, 'base64').toString()).toMatch(/^\d+\.0\|\|\d+\|$/);
    const resumed = await get(e, access_token, `/api/v2/incremental/tickets/cursor.json?cursor=${encodeURIComponent(last.after_cursor)}`);
    expect(resumed.body).toMatchObject({ tickets: [], end_of_stream: true, after_cursor: last.after_cursor });
  });

  it('keeps a change out of the exports until it is a minute old, and refuses a start_time inside the last minute', async () => {
    let clock = Date.now();
    const e = await emulator({ now: () => new Date(clock) });
    const { access_token } = await connect(e);
    const changedAt = Math.floor(clock / 1000);
    const before = e.account.ticket(5)!;
    e.updateTicket(5, { priority: before.priority === 'urgent' ? 'low' : 'urgent' });
    const hourAgo = changedAt - 3600;

    const early = await exportTickets(e, access_token, hourAgo, 1000);
    expect(early.tickets.map((t) => t.id)).not.toContain(5);
    const tooRecent = await get(e, access_token, `/api/v2/incremental/tickets/cursor.json?start_time=${changedAt - 30}`);
    expect(tooRecent.status).toBe(400);
    expect(tooRecent.body).toMatchObject({ error: 'InvalidValue', description: expect.stringMatching(/Too recent start_time/) });

    clock += 61_000;
    const later = await exportTickets(e, access_token, hourAgo, 1000);
    const five = later.tickets.find((t) => t.id === 5);
    expect(five?.updated_at).toBe(new Date(changedAt * 1000).toISOString().replace('.000Z', 'Z'));
    expect(five?.priority).not.toBe(before.priority);
    const events = await get<EventsPage>(e, access_token, `/api/v2/incremental/ticket_events.json?start_time=${changedAt - 10}`);
    const change = events.body.ticket_events.find((ev) => ev.ticket_id === 5);
    expect(change?.child_events).toContainEqual(expect.objectContaining({ event_type: 'Change', priority: five?.priority, previous_value: before.priority }));
  });

  it('answers the eleventh incremental export call within a minute with 429 and a whole-second Retry-After, leaving other calls alone', async () => {
    const timeScale = 30;
    const e = await emulator({ timeScale });
    const { access_token } = await connect(e);
    const exportCall = () => get(e, access_token, '/api/v2/incremental/organizations.json?start_time=0&per_page=1');
    for (let i = 0; i < 10; i++) expect((await exportCall()).status).toBe(200);
    const refused = await exportCall();
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'APIRateLimitExceeded', description: 'Number of allowed incremental export API requests per minute exceeded' });
    const retryAfter = refused.headers.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    // The plan budget still has room: the export limit refused it.
    expect(Number(refused.headers.get('x-rate-limit-remaining'))).toBeGreaterThan(0);
    expect((await get(e, access_token, '/api/v2/tickets/1.json')).status).toBe(200);
    expect(e.stats()).toMatchObject({ exportRequests: 11, throttled: { export: 1, plan: 0 } });
    await new Promise((resolve) => setTimeout(resolve, (Number(retryAfter) * 1000) / timeScale));
    expect((await exportCall()).status).toBe(200);
  });

  it('counts every API call against the plan limit with X-Rate-Limit and ratelimit headers, and refuses beyond it in plain text', async () => {
    const e = await emulator({ requestsPerMinute: 3 });
    const { access_token } = await connect(e);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ok = await get(e, access_token, '/api/v2/users/me.json');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-rate-limit')).toBe('3');
      expect(ok.headers.get('ratelimit-limit')).toBe('3');
      expect(ok.headers.get('ratelimit-remaining')).toBe(ok.headers.get('x-rate-limit-remaining'));
      expect(Number(ok.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
      remaining.push(ok.headers.get('x-rate-limit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await get<string>(e, access_token, '/api/v2/tickets/1.json');
    expect(refused.status).toBe(429);
    expect(refused.body).toBe('Number of allowed API requests per minute exceeded');
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(e.stats().throttled).toEqual({ plan: 1, export: 0 });
  });

  it('authorizes with a redirect carrying code and state, and exchanges a code once only', async () => {
    const e = await emulator();
    const location = await authorize(e, 'csrf-42');
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('csrf-42');
    const code = location.searchParams.get('code')!;
    const wrongSecret = await tokenRequest(e, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_secret: 'guess' });
    expect(wrongSecret).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const exchanged = await tokenRequest(e, { grant_type: 'authorization_code', code, redirect_uri: redirectUri }, true);
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({ token_type: 'bearer', scope: 'read', expires_in: 1800, refresh_token_expires_in: 2_592_000 });
    const again = await tokenRequest(e, { grant_type: 'authorization_code', code, redirect_uri: redirectUri });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const me = await get<{ user: ZendeskUser }>(e, exchanged.body.access_token, '/api/v2/users/me.json');
    expect(me.body.user).toMatchObject({ id: e.account.adminId, role: 'admin' });
  });

  it('rotates refresh tokens: a refresh deletes the old access and refresh token', async () => {
    const e = await emulator();
    const first = await connect(e);
    const refreshed = await tokenRequest(e, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);
    expect(refreshed.body.access_token).not.toBe(first.access_token);
    const oldAccess = await get(e, first.access_token, '/api/v2/users/me.json');
    expect(oldAccess.status).toBe(401);
    expect(oldAccess.body).toEqual({ error: 'invalid_token', error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.' });
    expect((await get(e, refreshed.body.access_token, '/api/v2/users/me.json')).status).toBe(200);
    const reused = await tokenRequest(e, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const next = await tokenRequest(e, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token });
    expect(next.status).toBe(200);
    expect(e.stats().tokenRefreshes).toBe(2);
  });

  it('expires access tokens after their lifetime, and revocation or revokeGrants ends every token', async () => {
    let clock = Date.now();
    const e = await emulator({ now: () => new Date(clock), accessTokenTtlSeconds: 600 });
    const tokens = await connect(e);
    expect((await get(e, tokens.access_token, '/api/v2/users/me.json')).status).toBe(200);
    clock += 601_000;
    const expired = await get(e, tokens.access_token, '/api/v2/users/me.json');
    expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    const refreshed = await tokenRequest(e, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.body.expires_in).toBe(600);
    const revoke = await fetch(`${e.url}/api/v2/oauth/tokens/current.json`, { method: 'DELETE', headers: { authorization: `Bearer ${refreshed.body.access_token}` } });
    expect(revoke.status).toBe(204);
    expect((await get(e, refreshed.body.access_token, '/api/v2/users/me.json')).status).toBe(401);
    expect((await tokenRequest(e, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token })).status).toBe(400);
    const other = await connect(e);
    e.revokeGrants();
    expect((await get(e, other.access_token, '/api/v2/users/me.json')).status).toBe(401);
    expect((await tokenRequest(e, { grant_type: 'refresh_token', refresh_token: other.refresh_token })).status).toBe(400);
    expect((await get(e, '', '/api/v2/users/me.json')).status).toBe(401);
  });

  it('signs webhooks so that an independent HMAC over timestamp and raw body verifies', async () => {
    const e = await emulator();
    const hook = await receiver();
    e.setWebhookTarget(hook.url, 'test-signing-secret');
    const id = Array.from({ length: 60 }, (_, i) => i + 1).find((n) => e.account.ticket(n)!.status === 'open')!;
    e.updateTicket(id, { status: 'solved' });
    expect(await e.flushWebhooks()).toEqual({ delivered: 1, failed: 0 });
    expect(hook.calls).toHaveLength(1);
    const { headers, body } = hook.calls[0]!;
    const timestamp = String(headers['x-zendesk-webhook-signature-timestamp']);
    expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const expected = createHmac('sha256', 'test-signing-secret').update(timestamp + body).digest('base64');
    expect(headers['x-zendesk-webhook-signature']).toBe(expected);
    expect(createHmac('sha256', 'another-secret').update(timestamp + body).digest('base64')).not.toBe(expected);
    expect(headers['x-zendesk-account-id']).toBe(String(e.accountId));
    expect(headers['x-zendesk-webhook-id']).toBeTruthy();
    expect(headers['x-zendesk-webhook-invocation-id']).toBeTruthy();
    expect(JSON.parse(body)).toMatchObject({
      type: 'zen:event-type:ticket.status_changed',
      account_id: e.accountId,
      zendesk_event_version: '2022-11-06',
      subject: `zen:ticket:${id}`,
      detail: { id: String(id), status: 'SOLVED' },
      event: { current: 'SOLVED', previous: 'OPEN' },
    });
  });

  it('retries a webhook the target refused, with the same invocation, and counts the failed attempt', async () => {
    const e = await emulator();
    const hook = await receiver([503]);
    e.setWebhookTarget(hook.url);
    e.addComment(2, 'We have shipped a fix, please try again.');
    expect(await e.flushWebhooks()).toEqual({ delivered: 1, failed: 0 });
    expect(hook.calls).toHaveLength(2);
    expect(hook.calls[1]!.headers['x-zendesk-webhook-invocation-id']).toBe(hook.calls[0]!.headers['x-zendesk-webhook-invocation-id']);
    const payload = JSON.parse(hook.calls[1]!.body);
    expect(payload).toMatchObject({ type: 'zen:event-type:ticket.comment_added', event: { comment: { body: 'We have shipped a fix, please try again.', is_public: true, author: { id: e.account.adminId, is_staff: true } } } });
    // Signed with the sandbox's own secret when none was given.
    const timestamp = String(hook.calls[1]!.headers['x-zendesk-webhook-signature-timestamp']);
    expect(hook.calls[1]!.headers['x-zendesk-webhook-signature']).toBe(createHmac('sha256', e.settings.ZENDESK_WEBHOOK_SIGNING_SECRET!).update(timestamp + hook.calls[1]!.body).digest('base64'));
    expect(e.stats()).toMatchObject({ webhookDeliveries: 2, webhookFailures: 1 });
  });

  it('shows merged users as inactive duplicates and moves their tickets with a requester change, generated and live', async () => {
    let clock = Date.now();
    const e = await emulator({ now: () => new Date(clock) });
    const { access_token } = await connect(e);
    const hook = await receiver();
    e.setWebhookTarget(hook.url);

    // Generated: one duplicate in the demo, merged into the user before it.
    const users = (await get<{ users: ZendeskUser[] }>(e, access_token, '/api/v2/incremental/users/cursor.json?start_time=0')).body.users;
    const merged = users.filter((u) => !u.active);
    expect(merged).toHaveLength(1);
    const loser = merged[0]!;
    const winner = users.find((u) => u.id === loser.id - 1)!;
    expect(winner).toMatchObject({ active: true, name: loser.name });
    const tickets = (await exportTickets(e, access_token, 0, 1000)).tickets;
    expect(tickets.filter((t) => t.requester_id === loser.id && t.status !== 'deleted')).toEqual([]);
    const events = (await get<EventsPage>(e, access_token, '/api/v2/incremental/ticket_events.json?start_time=0')).body.ticket_events;
    const requesterChanges = events.filter((ev) => ev.child_events.some((c) => c.requester_id === winner.id && c.previous_value === loser.id));
    expect(requesterChanges.length).toBeGreaterThan(0);
    expect(requesterChanges.every((ev) => ev.timestamp === seconds(loser.updated_at) && ev.via === 'Merge')).toBe(true);

    // Live: an end user with tickets merged into another.
    const liveLoser = users.find((u) => u.role === 'end-user' && u.active && u.id !== winner.id && tickets.some((t) => t.requester_id === u.id && t.status !== 'deleted'))!;
    const liveWinner = users.find((u) => u.role === 'end-user' && u.active && u.id !== liveLoser.id)!;
    const theirs = tickets.filter((t) => t.requester_id === liveLoser.id && t.status !== 'deleted').map((t) => t.id).sort((a, b) => a - b);
    const mergedAt = Math.floor(clock / 1000);
    expect(e.mergeUsers(liveLoser.id, liveWinner.id)).toEqual(theirs);
    expect(() => e.mergeUsers(liveLoser.id, liveWinner.id)).toThrow(/no longer active/);
    expect(() => e.mergeUsers(e.account.adminId, liveWinner.id)).toThrow(/end users/);
    await e.flushWebhooks();
    expect(JSON.parse(hook.calls[0]!.body) as unknown).toMatchObject({ type: 'zen:event-type:user.merged', subject: `zen:user:${liveLoser.id}`, detail: { id: String(liveLoser.id) } });
    clock += 61_000;
    const after = (await get<{ users: ZendeskUser[] }>(e, access_token, `/api/v2/incremental/users/cursor.json?start_time=${mergedAt}`)).body.users;
    expect(after.find((u) => u.id === liveLoser.id)).toMatchObject({ active: false, updated_at: new Date(mergedAt * 1000).toISOString().replace('.000Z', 'Z') });
    expect(after.map((u) => u.id)).toContain(liveWinner.id);
    const moved = (await exportTickets(e, access_token, mergedAt, 1000)).tickets;
    expect(moved.map((t) => t.id).sort((a, b) => a - b)).toEqual(theirs);
    expect(moved.every((t) => t.requester_id === liveWinner.id)).toBe(true);
    expect((await get<{ user: ZendeskUser }>(e, access_token, `/api/v2/users/${liveLoser.id}.json`)).body.user.active).toBe(false);
  });

  it('writes comment bodies into ticket events only with include=comment_events, and shows reopened and badly rated tickets', async () => {
    const e = await emulator();
    const { access_token } = await connect(e);
    const bare = (await get<EventsPage>(e, access_token, '/api/v2/incremental/ticket_events.json?start_time=0')).body;
    const full = (await get<EventsPage>(e, access_token, '/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events')).body;
    expect(bare).toMatchObject({ end_of_stream: true, count: bare.ticket_events.length });
    expect(full.ticket_events.map((ev) => ev.id)).toEqual(bare.ticket_events.map((ev) => ev.id));
    const bareComment = bare.ticket_events.flatMap((ev) => ev.child_events).find((c) => c.event_type === 'Comment')!;
    expect(bareComment).toMatchObject({ comment_present: true });
    expect(bareComment.body).toBeUndefined();
    const fullComment = full.ticket_events.flatMap((ev) => ev.child_events).find((c) => c.id === bareComment.id);
    expect(fullComment).toMatchObject({ type: 'Comment', event_type: 'Comment', body: expect.any(String), public: expect.any(Boolean), author_id: expect.any(Number) });

    const childrenOf = (ticketId: number): ChildEvent[] => bare.ticket_events.filter((ev) => ev.ticket_id === ticketId).flatMap((ev) => ev.child_events);
    const reopenings = childrenOf(3).filter((c) => c.status === 'open' && c.previous_value === 'solved');
    expect(reopenings).toHaveLength(2);
    expect(e.account.ticket(4)!.satisfaction_rating).toMatchObject({ score: 'bad' });
    expect(childrenOf(4)).toContainEqual(expect.objectContaining({ satisfaction_score: 'bad', previous_value: 'offered' }));
    expect(e.account.ticket(7)!.status).toBe('deleted');
    expect((await get(e, access_token, '/api/v2/tickets/7.json')).status).toBe(404);
    const deleted = (await get<{ deleted_tickets: { id: number; previous_state: string }[] }>(e, access_token, '/api/v2/deleted_tickets.json')).body.deleted_tickets;
    expect(deleted.map((d) => d.id).sort((a, b) => a - b)).toEqual([7, 40]);
  });

  it('serves audits and comments with cursor pagination whose links.next walks to the same list as offset pagination', async () => {
    const e = await emulator();
    const { access_token } = await connect(e);
    const offset = (await get<AuditPage>(e, access_token, '/api/v2/tickets/3/audits.json')).body;
    expect(offset).toMatchObject({ next_page: null, previous_page: null, count: offset.audits.length });
    const walked: Audit[] = [];
    let page = (await get<AuditPage>(e, access_token, '/api/v2/tickets/3/audits.json?page[size]=2')).body;
    for (;;) {
      walked.push(...page.audits);
      if (!page.meta.has_more) break;
      expect(page.links.next).toBeTruthy();
      page = (await get<AuditPage>(e, access_token, pathOf(page.links.next ?? ''))).body;
    }
    expect(page.links.next).toBeNull();
    expect(walked).toEqual(offset.audits);
    expect(walked.length).toBeGreaterThan(2);
    const comments = (await get<{ comments: { id: number; body: string }[] }>(e, access_token, '/api/v2/tickets/3/comments.json')).body.comments;
    const auditComments = offset.audits.flatMap((a) => a.events.filter((ev) => ev.type === 'Comment').map((ev) => ev.id));
    expect(comments.map((c) => c.id)).toEqual(auditComments);
    expect(comments[0]!.body).toBe(e.account.ticket(3)!.description);
  });

  it('shows up to 100 tickets at once with show_many, leaving out deleted and unknown ids', async () => {
    const e = await emulator();
    const { access_token } = await connect(e);
    const many = await get<{ tickets: ZendeskTicket[] }>(e, access_token, '/api/v2/tickets/show_many.json?ids=1,7,2,999');
    expect(many.status).toBe(200);
    // Ticket 7 is deleted and 999 does not exist in the demo account.
    expect(many.body.tickets).toEqual([e.account.ticket(1), e.account.ticket(2)]);
    const tooMany = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
    expect((await get(e, access_token, `/api/v2/tickets/show_many.json?ids=${tooMany}`)).status).toBe(400);
  });

  it('generates the same account from the same seed and another from a different seed', () => {
    const anchorMs = Date.UTC(2026, 9, 1, 12);
    const dump = (seed: number) => {
      const a = new ZendeskAccount({ seed, anchorMs, shape: shapeFor('demo') });
      const shape = a.shape;
      return JSON.stringify({
        users: Array.from({ length: shape.users }, (_, i) => a.user(380_000_000_001 + i)),
        organizations: Array.from({ length: shape.organizations }, (_, i) => a.organization(360_000_000_001 + i)),
        tickets: Array.from({ length: shape.tickets }, (_, i) => [a.ticket(i + 1), a.history(i + 1)]),
      });
    };
    expect(dump(7)).toBe(dump(7));
    expect(dump(7)).not.toBe(dump(8));
    const first = new ZendeskAccount({ seed: 7, anchorMs, shape: shapeFor('demo') }).ticket(1)!;
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(seconds(first.updated_at)).toBeLessThanOrEqual(anchorMs / 1000);
  });

  it('gives the first end users the names and emails of people shared with another system, never a merged duplicate', () => {
    const people = Array.from({ length: 16 }, (_, i) => ({ name: `Shared Person ${i}`, email: `shared.${i}@hubspot-contacts.example` }));
    const shape = shapeFor('demo');
    const a = new ZendeskAccount({ seed: 1, anchorMs: Date.UTC(2026, 9, 1, 12), shape, people });
    const ids = people.map((_, i) => userIdForPerson(shape, i));
    expect(new Set(ids).size).toBe(people.length);
    people.forEach((person, i) => {
      expect(a.user(ids[i]!)).toMatchObject({ name: person.name, email: person.email, role: 'end-user', active: true });
    });
  });

  it('starts as the plugin sandbox from the sandbox options alone, its settings pointing at itself', async () => {
    const module: SandboxModule = await import('./server.ts');
    const sandbox = await module.start({ scale: 'demo', timeScale: 2 });
    try {
      expect(sandbox.settings).toEqual({
        ZENDESK_API_BASE_URL: sandbox.url,
        ZENDESK_BASE_URL: sandbox.url,
        ZENDESK_SUBDOMAIN: 'ledgerline-sandbox',
        ZENDESK_CLIENT_ID: 'll-sandbox-zendesk-client',
        ZENDESK_CLIENT_SECRET: expect.stringMatching(/not-real/),
        ZENDESK_WEBHOOK_SIGNING_SECRET: expect.stringMatching(/not-real/),
      });
      const unauthenticated = await fetch(`${sandbox.url}/api/v2/tickets/1.json`);
      expect(unauthenticated.status).toBe(401);
    } finally {
      await sandbox.stop();
    }
  });

  it('shapes demo, bench and numeric scales as documented and reads a bench ticket without generating the rest', () => {
    expect(shapeFor('demo')).toEqual({ users: 40, organizations: 8, tickets: 60 });
    expect(shapeFor('bench')).toEqual({ users: 100_000, organizations: 20_000, tickets: 200_000 });
    expect(shapeFor(250)).toMatchObject({ users: 250, tickets: 500 });
    const bench = new ZendeskAccount({ seed: 1, anchorMs: Date.UTC(2026, 9, 1, 12), shape: shapeFor('bench') });
    const startedAt = performance.now();
    const last = bench.ticket(200_000)!;
    expect(bench.user(last.requester_id)).toMatchObject({ role: 'end-user' });
    expect(bench.ticket(200_001)).toBeNull();
    expect(performance.now() - startedAt).toBeLessThan(200);
  });
});
