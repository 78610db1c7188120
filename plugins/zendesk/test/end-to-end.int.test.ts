/**
 * The Zendesk plugin against the live emulator, over HTTP end to end: install through OAuth
 * (authorize with state and PKCE, code exchange, the admin identified), a backfill of every stream
 * through the engine that meets the incremental-export limit's 429 + Retry-After and waits it out,
 * a webhook the emulator signs refreshing a ticket through the sync pipeline, and forged, stale or
 * unaddressed deliveries refused with nothing stored.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTokens } from '../../../core/store/index.ts';
import { start, type RunningZendeskEmulator } from '../emulator/server.ts';
import { installThroughBrowser, stackKey, startZendeskStack, type ZendeskStack } from './stack.ts';

// The emulator's windows run 60× faster (a minute lasts one second) and the governor matches it.
const timeScale = 60;

describe('Zendesk plugin end to end against the emulator', () => {
  let emulator: RunningZendeskEmulator;
  let stack: ZendeskStack;
  let installationId: string;
  let authorizeUrl: URL;

  beforeAll(async () => {
    // Two export calls a minute: the four streams' backfill cannot fit in one window.
    emulator = await start({ scale: 60, timeScale, exportsPerMinute: 2 });
    stack = await startZendeskStack(emulator, { timeScale });
    ({ installationId, authorizeUrl } = await installThroughBrowser(stack));
  });
  afterAll(async () => {
    await stack?.close();
    await emulator?.stop();
  });

  const hintCount = async (): Promise<number> => Number((await stack.db.sql.query<{ n: string }>(`select count(*)::text as n from refresh_hint where installation_id = $1`, [installationId]))[0]!.n);
  const webhookUrl = (query = '?subdomain=ledgerline-sandbox'): string => `${stack.url}/webhooks/zendesk${query}`;

  it('installs through the subdomain’s authorize page with state and PKCE, and seals the rotating pair', async () => {
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${emulator.url}/oauth/authorizations/new`);
    expect(Object.fromEntries([...authorizeUrl.searchParams].filter(([k]) => k !== 'state' && k !== 'code_challenge'))).toEqual({
      client_id: 'll-sandbox-zendesk-client',
      redirect_uri: `${stack.url}/oauth/zendesk/callback`,
      scope: 'read',
      response_type: 'code',
      code_challenge_method: 'S256',
    });
    expect(authorizeUrl.searchParams.get('state')!.length).toBeGreaterThanOrEqual(32);
    const [row] = await stack.db.sql.query<{ status: string; platform_account_id: string; api_base_url: string; sealed_tokens: string; scopes: string[]; token_expires_at: string }>(
      `select status, platform_account_id, api_base_url, sealed_tokens, scopes, token_expires_at from installation where id = $1`,
      [installationId],
    );
    expect(row).toMatchObject({ status: 'active', platform_account_id: 'ledgerline-sandbox', api_base_url: emulator.url, scopes: ['read'] });
    const tokens = openTokens(stackKey, { tenantId: stack.tenantId, installationId }, row!.sealed_tokens);
    expect(row!.sealed_tokens).not.toContain(tokens.accessToken);
    expect(tokens.refreshToken).toMatch(/^[0-9a-f]{64}$/);
    // Zendesk's default for new OAuth clients: access tokens expire after 30 minutes.
    expect(Date.parse(row!.token_expires_at) - Date.now()).toBeGreaterThan(25 * 60_000);
  });

  it('backfills every stream through the engine, waiting out the export limit’s 429 and Retry-After', async () => {
    const cutoff = Date.now() / 1000 - 60;
    const started = performance.now();
    const runs = await stack.sync.engine.runNow({ installationId });
    expect(runs.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const stats = emulator.stats();
    expect(stats.throttled.export).toBeGreaterThan(0);
    // Each 429 was waited out, not retried blindly: at most two export calls per (one-second) minute.
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(stats.exportRequests - stats.throttled.export).toBe(4);

    const account = emulator.account;
    const before = (iso: string): boolean => Date.parse(iso) / 1000 <= cutoff;
    const users = Array.from({ length: account.shape.users }, (_, i) => account.user(380_000_000_001 + i)!).filter((u) => before(u.updated_at));
    const tickets = Array.from({ length: account.shape.tickets }, (_, i) => account.ticket(i + 1)!).filter((t) => before(t.updated_at));
    const counts = await stack.db.sql.query<{ object_type: string; live: string; deleted: string }>(
      `select object_type, count(*) filter (where deleted_at is null)::text as live, count(*) filter (where deleted_at is not null)::text as deleted
         from source_record where installation_id = $1 and object_type in ('user', 'ticket', 'organization') group by 1`,
      [installationId],
    );
    const inactive = users.filter((u) => u.role === 'end-user' && !u.active).length;
    const deleted = tickets.filter((t) => t.status === 'deleted').length;
    expect(inactive).toBeGreaterThan(0);
    expect(Object.fromEntries(counts.map((c) => [c.object_type, [Number(c.live), Number(c.deleted)]]))).toEqual({
      user: [users.length - inactive, inactive],
      ticket: [tickets.length - deleted, deleted],
      organization: [account.shape.organizations, 0],
    });
    const [activities] = await stack.db.sql.query<{ n: string }>(`select count(*)::text as n from activity where installation_id = $1 and driver_object_type = 'ticket'`, [installationId]);
    expect(Number(activities!.n)).toBeGreaterThan(tickets.length);
  });

  it('takes a webhook the emulator signs and refreshes the ticket through the sync pipeline', async () => {
    emulator.setWebhookTarget(webhookUrl());
    const ticket = Array.from({ length: 120 }, (_, i) => emulator.account.ticket(i + 1)!).find((t) => t.status === 'open')!;
    const before = await hintCount();
    emulator.updateTicket(ticket.id, { status: 'solved', subject: 'Renamed by an agent' });
    expect(await emulator.flushWebhooks()).toEqual({ delivered: 2, failed: 0 });
    // Two events (status, subject), each a hint for the ticket and one for its events.
    expect(await hintCount()).toBe(before + 4);
    const result = await stack.sync.engine.runJob({ tenantId: stack.tenantId, installationId, stream: 'tickets', mode: 'hints' });
    expect(result.outcome).toBe('succeeded');
    const [row] = await stack.db.sql.query<{ status: string; subject: string }>(
      `select payload ->> 'status' as status, payload ->> 'subject' as subject from source_record where installation_id = $1 and object_type = 'ticket' and external_id = $2`,
      [installationId, String(ticket.id)],
    );
    expect(row).toEqual({ status: 'solved', subject: 'Renamed by an agent' });
    const processed = await stack.db.sql.query<{ outcome: string }>(`select outcome from refresh_hint where installation_id = $1 and stream = 'tickets' and external_id = $2`, [installationId, String(ticket.id)]);
    expect(processed.map((p) => p.outcome)).toEqual(['applied', 'applied']);
  });

  function delivery(options: { secret?: string; timestamp?: string; query?: string; type?: string } = {}) {
    const body = JSON.stringify({
      type: options.type ?? 'zen:event-type:ticket.priority_changed',
      account_id: emulator.accountId,
      id: `forged-${Math.random().toString(36).slice(2)}`,
      time: new Date().toISOString(),
      zendesk_event_version: '2022-11-06',
      subject: 'zen:ticket:1',
      detail: { id: '1' },
      event: { current: 'HIGH', previous: 'LOW' },
    });
    const timestamp = options.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signature = createHmac('sha256', options.secret ?? emulator.settings.ZENDESK_WEBHOOK_SIGNING_SECRET!).update(timestamp + body).digest('base64');
    return fetch(webhookUrl(options.query), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-zendesk-webhook-signature': signature, 'x-zendesk-webhook-signature-timestamp': timestamp },
      body,
    });
  }

  it('refuses a delivery signed with another secret, and one whose timestamp is six minutes old, with 401 and nothing stored', async () => {
    const before = await hintCount();
    expect((await delivery({ secret: 'not-the-signing-secret' })).status).toBe(401);
    const stale = new Date(Date.now() - 6 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await delivery({ timestamp: stale })).status).toBe(401);
    expect(await hintCount()).toBe(before);
    // The same delivery signed now, with the right secret, is taken.
    expect((await delivery()).status).toBe(200);
    expect(await hintCount()).toBe(before + 2);
  });

  it('acknowledges event types it does not sync without storing anything, and refuses a delivery that names no account', async () => {
    const before = await hintCount();
    const ignored = await delivery({ type: 'zen:event-type:article.published' });
    expect(ignored.status).toBe(200);
    expect(await ignored.json()).toMatchObject({ accepted: 0 });
    expect((await delivery({ query: '' })).status).toBe(400);
    expect(await hintCount()).toBe(before);
  });
});
