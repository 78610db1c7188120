/**
 * The Zendesk sidebar over HTTP: Zendesk's signed first load opens a short panel session (and
 * nothing else does), the session reads one installation's cross-system history as an HTML
 * fragment, and every refusal is a 401/403/404 that leaves the ledger untouched.
 */
import { sign } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listEntries } from '../../../core/ledger/ledger.ts';
import { resolveTenant } from '../../../core/identity/identity-store.ts';
import type { ActivityRecord } from '../../../core/model/index.ts';
import { frameSessionHeader, mintFrameSession } from '../../../core/server/frame-session.ts';
import { ingestBatch } from '../../../core/store/index.ts';
import { describeOnTestDatabases, type TestDatabase } from '../../../test/support/database.ts';
import { generateSandboxAppKeyPair, signZendeskPanelToken, zendeskInstallationAudience, type SandboxAppKeyPair, type ZendeskPanelClaims } from '../panel-token.ts';
import { frameSessionKey, insertZendeskInstallation, stackKeyring, startSidebarServer, type SidebarServer } from './cross-system-stack.ts';

const appGuid = '4b4b5d4e-1c1a-4f4e-9d3b-0a1b2c3d4e5f';
const zendeskOrigin = 'https://acme.zendesk.com';
const dayMs = 86_400_000;
const daysAgo = (n: number): Date => new Date(Date.now() - n * dayMs);
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

let appKey: SandboxAppKeyPair;
let strangerKey: SandboxAppKeyPair;
beforeAll(() => {
  appKey = generateSandboxAppKeyPair();
  strangerKey = generateSandboxAppKeyPair();
});

function claims(overrides: Partial<ZendeskPanelClaims> = {}): ZendeskPanelClaims {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'acme.zendesk.com', aud: zendeskInstallationAudience('acme', 360001), iat: now - 5, exp: now + 300, sub: '42', context: { product: 'support', location: 'ticket_sidebar' }, ...overrides };
}

const activity = (objectType: string, subject: string, key: string, fields: Partial<ActivityRecord>): ActivityRecord => ({
  kind: 'interaction',
  category: 'email',
  occurredAt: daysAgo(10),
  subject: { kind: 'person', objectType, externalId: subject },
  driver: null,
  source: { objectType: 'activity', externalId: key },
  discriminator: 'main',
  amount: null,
  summary: key,
  actor: null,
  attributes: {},
  ...fields,
});

async function person(db: TestDatabase, tenantId: string, installationId: string, objectType: string, id: string, email: string, displayName: string, activities: ActivityRecord[]): Promise<void> {
  await db.sql.transaction((tx) =>
    ingestBatch((s, p) => tx.query(s, p), {
      tenantId,
      installationId,
      sourceRecords: [{ objectType, externalId: id, updatedAt: daysAgo(30), payload: { id }, canonical: { persons: [{ source: { objectType, externalId: id }, email, displayName, mergedFrom: [], attributes: {} }], accounts: [], activities: [] } }],
      activities,
      keyring: stackKeyring,
    }),
  );
}

describeOnTestDatabases('Zendesk sidebar: signed first load, panel session, cross-system history', (db) => {
  let server: SidebarServer;
  let acme: { tenantId: string; zendesk: string; hubspot: string };
  let globex: { tenantId: string; zendesk: string };

  beforeAll(async () => {
    const tenant = async (slug: string) => (await db().sql.query<{ id: string }>(`insert into tenant (slug, name) values ($1, $1) returning id`, [slug]))[0]!.id;
    const acmeId = await tenant('acme');
    const [hub] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'hubspot', '4412345', 'Acme Sales', 'http://127.0.0.1:9') returning id`,
      [acmeId],
    );
    acme = { tenantId: acmeId, hubspot: hub!.id, zendesk: await insertZendeskInstallation(db(), acmeId, 'acme', 'http://127.0.0.1:9') };
    const globexId = await tenant('globex');
    globex = { tenantId: globexId, zendesk: await insertZendeskInstallation(db(), globexId, 'globex', 'http://127.0.0.1:9') };

    const ticket = { type: 'ticket' as const, objectType: 'ticket', externalId: '71' };
    const ticketState = { driverState: { title: 'Invoice shows the wrong VAT number', status: 'open', open: true }, priority: 'HIGH' };
    await person(db(), acmeId, acme.hubspot, 'contact', '1001', 'maya@birch.example', 'Maya Ortiz', [
      activity('contact', '1001', 'Deal won: Birch renewal', { kind: 'transaction', category: 'purchase', occurredAt: daysAgo(40), amount: { value: '1200', currency: 'EUR' }, driver: { type: 'deal', objectType: 'deal', externalId: 'd1' }, attributes: { driverState: { title: 'Birch renewal', status: 'closedwon', open: false } } }),
      activity('contact', '1001', 'Email: quarterly review', { occurredAt: daysAgo(20) }),
    ]);
    await person(db(), acmeId, acme.zendesk, 'user', '501', 'maya@birch.example', 'Maya Ortiz', [
      activity('user', '501', 'Ticket #71 opened: Invoice shows the wrong VAT number', { category: 'ticket', occurredAt: daysAgo(5), driver: ticket, source: { objectType: 'ticket', externalId: '71' }, discriminator: 'opened', attributes: ticketState }),
      activity('user', '501', 'Reply on #71: a corrected invoice is attached', { category: 'ticket_comment', occurredAt: daysAgo(4), driver: ticket, source: { objectType: 'ticket', externalId: '71' }, discriminator: 'comment-1', attributes: ticketState }),
    ]);
    await person(db(), globexId, globex.zendesk, 'user', '777', 'kim@globex.example', 'Kim Globex', [activity('user', '777', 'Globex confidential ticket', { category: 'ticket', occurredAt: daysAgo(3) })]);
    await resolveTenant(db().sql, acmeId);
    server = await startSidebarServer(db(), { appKey, harness: true });
  });
  afterAll(async () => {
    await server?.server.close();
  });

  const panelEntries = async (tenantId: string) => (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).filter((e) => e.kind.startsWith('panel.'));

  async function firstLoad(token: string | null, options: { location?: string; origin?: string } = {}): Promise<Response> {
    const query = new URLSearchParams({ origin: options.origin ?? zendeskOrigin, app_guid: appGuid });
    return fetch(`${server.url}/panels/zendesk/${options.location ?? 'ticket_sidebar'}?${query.toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: token === null ? '' : new URLSearchParams({ token }).toString(),
    });
  }

  const sessionOf = (html: string): string | null => /<meta name="ledgerline-panel-session" content="([^"]+)"/.exec(html)?.[1] ?? null;

  async function history(session: string | null, query: Record<string, string> = {}): Promise<Response> {
    return fetch(`${server.url}/panels/zendesk/history?${new URLSearchParams({ objectType: 'user', objectId: '501', ...query }).toString()}`, {
      headers: session === null ? {} : { [frameSessionHeader]: session },
    });
  }

  it('refuses forged, expired, wrong-audience and alg-none first loads with 401, and records nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const refused: [string, string, RegExp][] = [
      ['forged with another key', signZendeskPanelToken(claims(), strangerKey.privateKeyPem), /signature does not verify/],
      ['expired', signZendeskPanelToken(claims({ iat: now - 900, exp: now - 600 }), appKey.privateKeyPem), /expired \d+ s ago/],
      ['for another account’s installation', signZendeskPanelToken(claims({ aud: zendeskInstallationAudience('globex', 360001) }), appKey.privateKeyPem), /another audience/],
      ['for no installation at all', signZendeskPanelToken(claims({ aud: 'https://acme.zendesk.com/' }), appKey.privateKeyPem), /another audience/],
      ['unsigned (alg none)', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`, /alg &#39;none&#39; is refused/],
      ['signed for another location', signZendeskPanelToken(claims({ context: { product: 'support', location: 'user_sidebar' } }), appKey.privateKeyPem), /issued for the user_sidebar/],
      ['issued by a host that is not Zendesk', signZendeskPanelToken(claims({ iss: 'acme.zendesk.com.evil.example' }), appKey.privateKeyPem), /not a Zendesk account host/],
    ];
    for (const [what, token, message] of refused) {
      const response = await firstLoad(token);
      const html = await response.text();
      expect(response.status, what).toBe(401);
      expect(html, what).toMatch(message);
      expect(html, what).toContain('Ledgerline could not confirm this panel');
      expect(sessionOf(html), what).toBeNull();
      expect(response.headers.get('set-cookie'), what).toBeNull();
    }
    // RS256 over the right claims, but with a signature made for other bytes.
    const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims())}`;
    const wrongBytes = sign('RSA-SHA256', Buffer.from(`${input}x`), appKey.privateKeyPem).toString('base64url');
    expect((await firstLoad(`${input}.${wrongBytes}`)).status).toBe(401);
    // No token at all: the form is invalid.
    expect((await firstLoad(null)).status).toBe(400);
    expect(await panelEntries(acme.tenantId)).toEqual([]);
  });

  it('refuses a first load whose SDK origin may not frame the panel, and a location Zendesk does not have', async () => {
    const token = signZendeskPanelToken(claims(), appKey.privateKeyPem);
    const foreign = await firstLoad(token, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('may not frame this panel');
    expect((await firstLoad(token, { location: 'nav_bar' })).status).toBe(404);
    expect(await panelEntries(acme.tenantId)).toEqual([]);
  });

  it('opens a session from a valid first load: the shell page with the session in it, the SDK, a strict CSP, no cookie; recorded with who and where', async () => {
    const response = await firstLoad(signZendeskPanelToken(claims(), appKey.privateKeyPem));
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(sessionOf(html)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(html).toMatch(/<script src="\/panels\/assets\/zaf-sdk\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    expect(html).toContain('data-context-path="ticket.requester.id"');
    expect(html).not.toMatch(/<script>|<script [^>]*nonce|\son[a-z]+="/);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('frame-ancestors https://*.zendesk.com');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBeNull();

    const entries = await panelEntries(acme.tenantId);
    expect(entries.map((e) => e.kind)).toEqual(['panel.session_opened']);
    expect(entries[0]!.body).toEqual({ plugin: 'zendesk', location: 'ticket_sidebar', installationId: acme.zendesk, platformAccountId: 'acme', platformUserId: '42' });
  });

  it("answers the requester's history across HubSpot and Zendesk within the session, recorded as panel.viewed; filters narrow it", async () => {
    const session = sessionOf(await (await firstLoad(signZendeskPanelToken(claims(), appKey.privateKeyPem))).text())!;
    const before = (await panelEntries(acme.tenantId)).length;
    const response = await history(session);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const platforms = [...html.matchAll(/<li class="item kind-[a-z_]+" data-platform="([a-z]+)"/g)].map((m) => m[1]);
    expect(platforms).toEqual(['zendesk', 'zendesk', 'hubspot', 'hubspot']);
    expect(html).toContain('Ticket #71 opened: Invoice shows the wrong VAT number');
    expect(html).toContain('Deal won: Birch renewal');
    expect(html).toContain('1,200 EUR');
    expect(html).toContain('History from HubSpot, Zendesk');
    expect(html).toMatch(/<dt>Open items<\/dt><dd>1<\/dd>/);
    expect(html).toContain('1 open high-priority ticket');

    const onlyHubspot = await (await history(session, { source: 'hubspot' })).text();
    expect([...onlyHubspot.matchAll(/data-platform="([a-z]+)" data-kind/g)].map((m) => m[1])).toEqual(['hubspot', 'hubspot']);
    const onlyTransactions = await (await history(session, { kind: 'transaction' })).text();
    expect([...onlyTransactions.matchAll(/data-kind="([a-z_]+)"/g)].map((m) => m[1])).toEqual(['transaction']);
    const lastWeek = await (await history(session, { from: daysAgo(7).toISOString().slice(0, 10) })).text();
    expect([...lastWeek.matchAll(/data-platform="([a-z]+)" data-kind/g)].map((m) => m[1])).toEqual(['zendesk', 'zendesk']);

    const viewed = (await panelEntries(acme.tenantId)).slice(before);
    expect(viewed.map((e) => e.kind)).toEqual(['panel.viewed', 'panel.viewed', 'panel.viewed', 'panel.viewed']);
    expect(viewed[0]!.body).toEqual({
      plugin: 'zendesk',
      location: 'ticket_sidebar',
      installationId: acme.zendesk,
      platformAccountId: 'acme',
      platformUserId: '42',
      subject: { kind: 'person', objectType: 'user', externalId: '501' },
    });
  });

  it('refuses the history without a session, with an expired or tampered one, or one minted with another key (401, nothing recorded)', async () => {
    const session = sessionOf(await (await firstLoad(signZendeskPanelToken(claims(), appKey.privateKeyPem))).text())!;
    const before = (await panelEntries(acme.tenantId)).length;
    const grant = { tenantId: acme.tenantId, installationId: acme.zendesk, plugin: 'zendesk', location: 'ticket_sidebar', platformAccountId: 'acme', platformUserId: '42' };
    const [payload, mac] = session.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const cases: [string, string | null, RegExp][] = [
      ['no session', null, /has no session/],
      ['expired', mintFrameSession(frameSessionKey, grant, new Date(Date.now() - 16 * 60_000)).token, /has expired/],
      ['tampered expiry', `${b64url({ ...decoded, expiresAt: Number(decoded.expiresAt) + 86_400 })}.${mac}`, /not issued by this server/],
      ['minted with another key', mintFrameSession(Buffer.alloc(32, 99), grant, new Date()).token, /not issued by this server/],
      ['garbage', 'not-a-session', /malformed/],
    ];
    for (const [what, value, message] of cases) {
      const response = await history(value);
      const html = await response.text();
      expect(response.status, what).toBe(401);
      expect(html, what).toMatch(message);
      expect(html, what).toContain('role="alert"');
      expect(html, what).not.toContain('<html');
    }
    expect((await panelEntries(acme.tenantId)).slice(before)).toEqual([]);
  });

  it("keeps a tenant's session to its installation: tenant B's records and tenant B's tenant id are out of reach", async () => {
    const session = sessionOf(await (await firstLoad(signZendeskPanelToken(claims(), appKey.privateKeyPem))).text())!;
    // Tenant B's user id through A's session: not a record of A's installation.
    const other = await history(session, { objectId: '777' });
    const html = await other.text();
    expect(other.status).toBe(404);
    expect(html).toContain('has not been synced from this installation');
    expect(html).not.toContain('Globex confidential');
    // Rewriting the claims to B's tenant and installation breaks the MAC.
    const [payload, mac] = session.split('.') as [string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const retargeted = `${b64url({ ...decoded, tenantId: globex.tenantId, installationId: globex.zendesk, platformAccountId: 'globex' })}.${mac}`;
    expect((await history(retargeted, { objectId: '777' })).status).toBe(401);
    // A ticket sidebar's session reads users, not organizations.
    expect((await history(session, { objectType: 'organization', objectId: '9' })).status).toBe(403);
    // Globex's own agents do get Globex's history, through Globex's own first load.
    const globexSession = sessionOf(
      await (await firstLoad(signZendeskPanelToken(claims({ iss: 'globex.zendesk.com', aud: zendeskInstallationAudience('globex', 5) }), appKey.privateKeyPem), { origin: 'https://globex.zendesk.com' })).text(),
    )!;
    expect(await (await history(globexSession, { objectId: '777' })).text()).toContain('Globex confidential ticket');
    expect((await history(globexSession, { objectId: '501' })).status).toBe(404);
    expect((await panelEntries(globex.tenantId)).map((e) => e.kind)).toEqual(['panel.session_opened', 'panel.viewed']);
  });

  it("requests, on the requester's behalf, last month's summary sent to their e-mail as a secure link with a code; recorded with the agent who asked", async () => {
    const session = sessionOf(await (await firstLoad(signZendeskPanelToken(claims(), appKey.privateKeyPem))).text())!;
    const html = await (await history(session)).text();
    expect(html).toMatch(/<button type="button" data-action="send-summary" data-url="\/panels\/zendesk\/summary-requests" data-object-type="user" data-object-id="501">E-mail Maya Ortiz their account activity summary<\/button>/);
    const send = (token: string | null, body: unknown) =>
      fetch(`${server.url}/panels/zendesk/summary-requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === null ? {} : { [frameSessionHeader]: token }) },
        body: JSON.stringify(body),
      });
    // No session, another location's object type, a record of another tenant: refused, nothing requested.
    expect((await send(null, { objectType: 'user', objectId: '501' })).status).toBe(401);
    expect((await send(session, { objectType: 'organization', objectId: '9' })).status).toBe(403);
    expect((await send(session, { objectType: 'user', objectId: '777' })).status).toBe(404);
    expect((await send(session, { objectType: 'user', objectId: '501', extra: true })).status).toBe(400);
    expect(await db().sql.query(`select 1 from report_request`)).toEqual([]);

    const response = await send(session, { objectType: 'user', objectId: '501' });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { requestId: string; message: string };
    expect(answer.message).toContain('maya@birch.example will receive a secure link');
    const [request] = await db().sql.query<Record<string, unknown>>(
      `select tenant_id, template_slug, parameters, format, requested_by, requested_via, on_behalf_of, recipient, delivery, status from report_request where id = $1`,
      [answer.requestId],
    );
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
    expect(request).toMatchObject({
      tenant_id: acme.tenantId,
      template_slug: 'account-activity',
      format: 'pdf',
      requested_by: 'zendesk user 42',
      requested_via: 'agent',
      on_behalf_of: 'zendesk user 501',
      recipient: 'maya@birch.example',
      delivery: 'link',
      status: 'requested',
      parameters: expect.objectContaining({ period: lastMonth, role: 'customer', subject: { installationId: acme.zendesk, kind: 'person', objectType: 'user', externalId: '501' } }),
    });
    const requested = (await listEntries((q, p) => db().sql.query(q, p), acme.tenantId, { limit: 1000 })).filter((e) => e.kind === 'report.requested');
    expect(requested).toHaveLength(1);
    expect(JSON.stringify(requested[0]!.body)).toContain('zendesk user 42');
  });

  it("plays Zendesk in the console's harness (sandbox only): a first load the plugin accepts, framed from the console's origin, linked from the installation and the summary", async () => {
    const installationPage = await (await fetch(`${server.url}/tenants/acme/installations/${acme.zendesk}`)).text();
    const harnessPath = `/tenants/acme/installations/${acme.zendesk}/zendesk-harness?location=ticket_sidebar&amp;objectType=user&amp;objectId=501`;
    expect(installationPage).toContain(`href="${harnessPath}"`);
    const preview = await (await fetch(`${server.url}/tenants/acme/installations/${acme.zendesk}/summaries/person/user/501`)).text();
    expect(preview).toContain(`href="${harnessPath}"`);
    const hubspotPreview = await (await fetch(`${server.url}/tenants/acme/installations/${acme.hubspot}/summaries/person/contact/1001`)).text();
    expect(hubspotPreview).not.toContain('zendesk-harness');

    const response = await fetch(`${server.url}${harnessPath.replaceAll('&amp;', '&')}&agentId=380000000001`);
    const page = await response.text();
    expect(response.status).toBe(200);
    expect(page).toContain('Ticket #71: Invoice shows the wrong VAT number');
    const action = /<form id="zendesk-first-load"[^>]* action="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    const token = /<input type="hidden" name="token" value="([^"]+)">/.exec(page)![1]!;
    const url = new URL(action, server.url);
    expect(url.pathname).toBe('/panels/zendesk/ticket_sidebar');
    expect(url.searchParams.get('origin')).toBe(server.url);
    expect(url.searchParams.get('app_guid')).toMatch(/^[0-9a-f-]{36}$/);
    const answers = JSON.parse(/data-answers="([^"]+)"/.exec(page)![1]!.replaceAll('&#34;', '"')) as unknown;
    expect(answers).toEqual({ 'ticket.requester.id': 501, 'ticket.id': 71, 'currentUser.id': 380000000001 });

    const load = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
    expect(load.status).toBe(200);
    expect(load.headers.get('content-security-policy')).toContain(`frame-ancestors https://*.zendesk.com ${server.url}`);
    const [opened] = (await panelEntries(acme.tenantId)).filter((e) => e.kind === 'panel.session_opened').slice(-1);
    expect(opened!.body).toMatchObject({ platformAccountId: 'acme', platformUserId: '380000000001' });

    // Without the harness (production), the console's origin may not frame panels, and there is no harness page.
    const plain = await startSidebarServer(db(), { appKey });
    try {
      const refused = await fetch(`${plain.url}/panels/zendesk/ticket_sidebar?${new URLSearchParams({ origin: plain.url, app_guid: appGuid }).toString()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-security-policy')).toMatch(/frame-ancestors https:\/\/\*\.zendesk\.com(;|$)/);
      expect((await fetch(`${plain.url}${harnessPath.replaceAll('&amp;', '&')}`)).status).toBe(404);
    } finally {
      await plain.server.close();
    }
  });

  it('serves the ZAF SDK as one browser script built from the installed package', async () => {
    const response = await fetch(`${server.url}/panels/assets/zaf-sdk.js`);
    const script = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script).toContain('window.ZAFClient = load("index.js")');
    expect(script).toContain("client.on('app.registered'");
    expect(script).toContain('"client.js": [');
    expect((await fetch(`${server.url}/panels/assets/other.js`)).status).toBe(404);
  });
});
