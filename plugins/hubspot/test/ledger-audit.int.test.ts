/**
 * What the ledger records of a HubSpot installation's life, through the HTTP API: the install,
 * every synced activity, each card view with the HubSpot user who looked, the uninstall and its
 * revoke; everything under one ticket; and a chain that verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overrideIdentity, resolveTenant } from '../../../core/identity/identity-store.ts';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';
import { cookiesOf, installThroughBrowser, startStack, type Stack } from './stack.ts';

interface Entry {
  seq: number;
  kind: string;
  body: Record<string, unknown> & { driver?: { type: string; objectType: string; externalId: string } | null };
  prevHash: string;
  hash: string;
}

describe('the ledger of a HubSpot installation', () => {
  let emulator: RunningHubspotEmulator;
  let stack: Stack;
  let installationId: string;
  const all = async (query = ''): Promise<Entry[]> => {
    const out: Entry[] = [];
    for (let after = 0; ; ) {
      const page = (await (await fetch(`${stack.url}/api/v1/tenants/acme/ledger?limit=1000&after=${after}${query}`)).json()) as { entries: Entry[] };
      out.push(...page.entries);
      if (page.entries.length < 1000) return out;
      after = page.entries.at(-1)!.seq;
    }
  };

  beforeAll(async () => {
    emulator = await start({ scale: 40, timeScale: 50 });
    stack = await startStack(emulator);
    emulator.permitFetch(stack.url);
    ({ installationId } = await installThroughBrowser(stack));
    const runs = await stack.sync.engine.runNow({ installationId });
    expect(runs.every((r) => r.outcome === 'succeeded')).toBe(true);
  });
  afterAll(async () => {
    await stack?.close();
    await emulator?.stop();
  });

  it('starts with the install and holds one entry per stored activity, chained', async () => {
    const entries = await all();
    expect(entries[0]).toMatchObject({ seq: 1, kind: 'install.installed', body: { installationId, platform: 'hubspot', platformAccountId: String(emulator.portalId) }, prevHash: '0'.repeat(64) });
    entries.slice(1).forEach((e, i) => expect(e.prevHash).toBe(entries[i]!.hash));
    const [{ n }] = (await stack.db.sql.query<{ n: string }>(`select count(*)::text as n from activity where installation_id = $1`, [installationId])) as [{ n: string }];
    expect(entries.filter((e) => e.kind === 'activity')).toHaveLength(Number(n));
  });

  it('records each card view with the HubSpot user who looked and the record they looked at', async () => {
    const contact = [...emulator.portal.ids('contacts')][3]!;
    const response = await emulator.appCardFetch(`${stack.url}/panels/hubspot/summary?objectType=contact&objectId=${contact}`, {}, { userId: 4242, userEmail: 'rep@acme.example' });
    expect(response.status).toBe(200);
    const views = await all('&kind=panel.viewed');
    expect(views.map((v) => v.body)).toEqual([
      { plugin: 'hubspot', installationId, platformAccountId: String(emulator.portalId), platformUserId: '4242', subject: { kind: 'person', objectType: 'contact', externalId: contact } },
    ]);
  });

  it('lists everything that happened under one ticket, and nothing else', async () => {
    const activities = await all('&kind=activity');
    const ticket = activities.find((e) => e.body.driver?.type === 'ticket')!.body.driver!;
    const under = await all(`&driverObjectType=${ticket.objectType}&driverExternalId=${ticket.externalId}`);
    expect(under.length).toBeGreaterThan(0);
    expect(under.map((e) => e.seq)).toEqual(activities.filter((e) => e.body.driver?.externalId === ticket.externalId && e.body.driver.objectType === ticket.objectType).map((e) => e.seq));
    const bad = await fetch(`${stack.url}/api/v1/tenants/acme/ledger?driverObjectType=ticket`);
    expect(bad.status).toBe(400);
  });

  it('takes trigger rules over the API, validated, never echoing a webhook secret, and records them on the ledger', async () => {
    const post = (body: unknown) => fetch(`${stack.url}/api/v1/tenants/acme/trigger-rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post({ name: 'x', definition: { match: {}, channels: [{ type: 'email', to: ['not an address'] }] } });
    expect(bad.status).toBe(400);
    const internal = await post({ name: 'x', definition: { match: {}, channels: [{ type: 'webhook', url: 'http://169.254.169.254/latest/meta-data', secret: 'whsec-not-a-real-secret-value' }] } });
    expect(internal.status).toBe(400);
    expect(await internal.text()).toMatch(/169\.254\.169\.254 is a private or loopback address; set LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS=true/);
    const created = await post({
      name: 'Deal won',
      definition: { match: { kind: 'transaction', category: 'purchase' }, channels: [{ type: 'webhook', url: 'https://hooks.acme.example/ledgerline', secret: 'whsec-not-a-real-secret-value' }], acknowledge: { withinMinutes: 60, escalateTo: ['lead@acme.example'] } },
    });
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain('whsec-not-a-real-secret-value');
    const rules = (await (await fetch(`${stack.url}/api/v1/tenants/acme/trigger-rules`)).json()) as { rules: { name: string; definition: { channels: Record<string, unknown>[] } }[] };
    expect(rules.rules.map((r) => [r.name, r.definition.channels])).toEqual([['Deal won', [{ type: 'webhook', url: 'https://hooks.acme.example/ledgerline' }]]]);
    expect((await all('&kind=admin.trigger_rule_created')).map((e) => e.body.name)).toEqual(['Deal won']);
    expect((await fetch(`${stack.url}/api/v1/tenants/acme/notifications?status=bogus`)).status).toBe(400);
    const unknown = await fetch(`${stack.url}/api/v1/tenants/acme/notifications/00000000-0000-4000-8000-000000000000/acknowledge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'ops' }) });
    expect(unknown.status).toBe(404);

    // A notification that failed every attempt is listed on the console's overview.
    const [rule] = await stack.db.sql.query<{ id: string }>(`select id from trigger_rule where tenant_id = $1`, [stack.tenantId]);
    await stack.db.sql.query(
      `insert into notification (tenant_id, rule_id, dedupe_key, channel, subject, message, status, attempts, last_error)
       values ($1, $2, 'k', '{"type": "webhook", "url": "https://hooks.acme.example/ledgerline", "secret": "whsec-not-a-real-secret-value"}', '{}', 'Deal won: Renewal 7', 'dead', 5, 'the webhook answered HTTP 503')`,
      [stack.tenantId, rule!.id],
    );
    const overview = await (await fetch(`${stack.url}/`)).text();
    expect(overview).toContain('Undelivered notifications');
    expect(overview).toMatch(/Deal won: Renewal 7<\/td><td>webhook https:\/\/hooks.acme.example\/ledgerline<\/td><td>5<\/td><td>the webhook answered HTTP 503/);
    expect(overview).not.toContain('whsec-not-a-real-secret-value');
  });

  it("shows the tenant's identities in the console: last resolution, review items, manual decisions", async () => {
    const empty = await (await fetch(`${stack.url}/tenants/acme/identity`)).text();
    expect(empty).toContain('Not resolved yet');
    await resolveTenant(stack.db.sql, stack.tenantId);
    const contacts = [...emulator.portal.ids('contacts')].slice(0, 2).map((id) => `${installationId}/contact/${id}`) as [string, string];
    await overrideIdentity(stack.db.sql, stack.tenantId, { action: 'split', records: contacts, by: 'ops@acme.example', reason: 'two people' });
    const page = await (await fetch(`${stack.url}/tenants/acme/identity`)).text();
    expect(page).toMatch(/Last resolved .* UTC: \d+ records in \d+ profiles\./);
    expect(page).toContain('Nothing to review');
    expect(page).toMatch(/<td>split<\/td><td><code>[^<]+<\/code><br><code>[^<]+<\/code><\/td><td>ops@acme.example<\/td><td>two people<\/td>/);
    expect((await fetch(`${stack.url}/tenants/NOPE/identity`)).status).toBe(400);
  });

  it('records the uninstall and its revoke, and the chain verifies', async () => {
    const page = await fetch(`${stack.url}/tenants/acme/installations/${installationId}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const uninstall = await fetch(`${stack.url}/tenants/acme/installations/${installationId}/uninstall`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(uninstall.status).toBe(303);
    expect((await all()).at(-1)).toMatchObject({ kind: 'install.revoked', body: { installationId, platform: 'hubspot' } });
    const verify = (await (await fetch(`${stack.url}/api/v1/ledger/verify?tenant=acme`)).json()) as { ok: boolean; tenants: { verified: number; firstBreak: unknown }[] };
    expect(verify.ok).toBe(true);
    expect(verify.tenants[0]!.verified).toBe((await all()).length);
  });
});
