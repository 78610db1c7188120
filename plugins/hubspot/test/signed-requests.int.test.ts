/**
 * Everything HubSpot sends Ledgerline over HTTP: the install redirect, webhook deliveries and app
 * card fetches. Genuine requests are accepted; forged, stale and altered ones get 401 and change
 * nothing.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';
import { signatureV3 } from '../signature.ts';
import { cookiesOf, installThroughBrowser, startStack, type Stack } from './stack.ts';

const secret = 'sandbox-client-secret-not-real';

describe('HubSpot requests into Ledgerline over HTTP', () => {
  let emulator: RunningHubspotEmulator;
  let stack: Stack;
  let installationId: string;

  beforeAll(async () => {
    emulator = await start({ scale: 'demo', timeScale: 50 });
    stack = await startStack(emulator);
    installationId = (await installThroughBrowser(stack)).installationId;
    await stack.sync.engine.runNow({ installationId });
    emulator.setWebhookTarget(`${stack.url}/webhooks/hubspot`);
  });
  afterAll(async () => {
    await stack?.close();
    await emulator?.stop();
  });

  const hintCount = async (): Promise<number> => Number((await stack.db.sql.query<{ n: string }>(`select count(*)::text as n from refresh_hint`))[0]!.n);

  function signedDelivery(body: string, options: { timestamp?: number; secret?: string; url?: string } = {}) {
    const timestamp = String(options.timestamp ?? Date.now());
    const url = options.url ?? `${stack.url}/webhooks/hubspot`;
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-signature-v3': signatureV3(options.secret ?? secret, 'POST', url, body, timestamp),
        'x-hubspot-request-timestamp': timestamp,
      },
      body,
    };
  }

  const event = (eventId: number, objectId: string) =>
    JSON.stringify([{ eventId, subscriptionId: 1, portalId: emulator.portalId, appId: 424242, occurredAt: Date.now(), subscriptionType: 'contact.propertyChange', attemptNumber: 0, objectId: Number(objectId), propertyName: 'email', propertyValue: 'x@y.example', changeSource: 'CRM_UI' }]);

  it('installs through the console redirect, the HubSpot authorize page and the callback', async () => {
    const [row] = await stack.db.sql.query<{ status: string; platform_account_id: string }>(`select status, platform_account_id from installation where id = $1`, [installationId]);
    expect(row).toEqual({ status: 'active', platform_account_id: String(emulator.portalId) });
  });

  it('refuses a callback that carries a state from another browser', async () => {
    const start = await fetch(`${stack.url}/install/hubspot?tenant=acme`, { redirect: 'manual' });
    const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = await fetch(authorize.headers.get('location')!, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(callback.status).toBe(403);
    expect(await callback.text()).toContain('another browser session');
  });

  it('takes the deliveries HubSpot signs, and drops the duplicate of one it already has', async () => {
    const before = await hintCount();
    emulator.updateObject('contacts', '1000002', { firstname: 'Renamed' });
    expect(await emulator.flushWebhooks({ duplicate: true })).toEqual({ delivered: 2, failed: 0 });
    expect(await hintCount()).toBe(before + 1);
    // The hint refreshes the contact through the sync pipeline.
    const result = await stack.sync.engine.runJob({ tenantId: stack.tenantId, installationId, stream: 'contacts', mode: 'hints' });
    expect(result.outcome).toBe('succeeded');
    const [contact] = await stack.db.sql.query<{ first: string }>(
      `select canonical -> 'persons' -> 0 ->> 'firstName' as first from source_record where installation_id = $1 and object_type = 'contact' and external_id = '1000002'`,
      [installationId],
    );
    expect(contact!.first).toBe('Renamed');
  });

  it.each([
    ['a forged signature', () => signedDelivery(event(9001, '1000003'), { secret: 'not-the-app-secret' })],
    ['a stale timestamp (6 minutes old)', () => signedDelivery(event(9002, '1000003'), { timestamp: Date.now() - 6 * 60_000 })],
    ['an altered body', () => ({ ...signedDelivery(event(9003, '1000003')), body: event(9003, '1000004') })],
    ['a signature over another URL', () => signedDelivery(event(9004, '1000003'), { url: 'https://elsewhere.example/webhooks/hubspot' })],
    ['no signature', () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: event(9005, '1000003') })],
    ['only the replayable v1 signature', () => ({ method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-version': 'v1', 'x-hubspot-signature': createHash('sha256').update(secret + event(9006, '1000003')).digest('hex') }, body: event(9006, '1000003') })],
  ])('answers 401 to a webhook with %s and records nothing', async (_name, request) => {
    const before = await hintCount();
    const response = await fetch(`${stack.url}/webhooks/hubspot`, request());
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('LL_BAD_SIGNATURE');
    expect(await hintCount()).toBe(before);
  });

  it('answers 400 to a signed body that is not a HubSpot event array', async () => {
    const response = await fetch(`${stack.url}/webhooks/hubspot`, signedDelivery(JSON.stringify({ not: 'an array' })));
    expect(response.status).toBe(400);
  });

  function cardUrl(objectId: string): string {
    return `${stack.url}/panels/hubspot/summary?objectType=contact&objectId=${objectId}&userId=12&userEmail=rep%40acme.example&appId=424242&portalId=${emulator.portalId}`;
  }
  const signedCard = (url: string, options: { timestamp?: number; secret?: string } = {}) => {
    const timestamp = String(options.timestamp ?? Date.now());
    return { headers: { 'x-hubspot-signature-v3': signatureV3(options.secret ?? secret, 'GET', url, '', timestamp), 'x-hubspot-request-timestamp': timestamp } };
  };

  it('answers a signed card fetch with the summary JSON', async () => {
    const url = cardUrl('1000002');
    const response = await fetch(url, signedCard(url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Personal data a browser must not keep; sent as is, so no ETag either.
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(response.headers.get('etag')).toBeNull();
    const text = await response.text();
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    const summary = JSON.parse(text) as { subject: { displayName: string }; timeline: unknown[] };
    expect(summary.subject.displayName).toMatch(/^Renamed /);
  });

  it.each([
    ['a forged signature', () => signedCard(cardUrl('1000002'), { secret: 'guess' }), '1000002'],
    ['a stale timestamp', () => signedCard(cardUrl('1000002'), { timestamp: Date.now() - 10 * 60_000 }), '1000002'],
    ['an altered record id', () => signedCard(cardUrl('1000002')), '1000003'],
    ['no signature', () => ({ headers: {} }), '1000002'],
  ])('answers 401 to a card fetch with %s', async (_name, init, objectId) => {
    const response = await fetch(cardUrl(objectId), init());
    expect(response.status).toBe(401);
  });

  it('uninstalls from the console: revokes the refresh token at HubSpot and records it', async () => {
    const page = await fetch(`${stack.url}/tenants/acme/installations/${installationId}`);
    const cookie = cookiesOf(page);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const response = await fetch(`${stack.url}/tenants/acme/installations/${installationId}/uninstall`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: stack.url },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(response.status).toBe(303);
    const events = await stack.db.sql.query<{ kind: string }>(`select kind from installation_event where installation_id = $1 order by id`, [installationId]);
    expect(events.map((e) => e.kind)).toEqual(['installed', 'revoked']);
    const [row] = await stack.db.sql.query<{ status: string; sealed_tokens: string | null }>(`select status, sealed_tokens from installation where id = $1`, [installationId]);
    expect(row).toEqual({ status: 'uninstalled', sealed_tokens: null });
    // The emulator no longer knows any of the installation's tokens: syncing has stopped for good.
    const runs = await stack.sync.engine.runNow({ installationId });
    expect(runs).toEqual([]);
  });
});
