/**
 * `@hubspot/api-client` as anyone would use it — `new Client({ accessToken, basePath })`, nothing
 * else changed — against the emulator: OAuth token and token info, list paging, read, batch read,
 * search with paging and its 10,000-result cap, archived objects, v4 associations, the 429 of the
 * rolling limit with its documented body, and the SDK's own webhook signature check accepting the
 * emulator's deliveries. If the emulator answered in the connector's convenience instead of
 * HubSpot's documented shapes, the SDK would fail here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@hubspot/api-client';
import { Signature } from '@hubspot/api-client/lib/src/utils/signature.js';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';

const redirectUri = 'https://ledgerline.test/oauth/hubspot/callback';

describe('@hubspot/api-client against the emulator, unmodified but for its base path', () => {
  let emulator: RunningHubspotEmulator;
  let client: Client;
  let refreshToken: string;

  beforeAll(async () => {
    emulator = await start({ scale: 300, timeScale: 50 });
    const authorize = await fetch(`${emulator.url}/oauth/authorize?client_id=${emulator.settings.HUBSPOT_CLIENT_ID}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=oauth%20crm.objects.contacts.read`, { redirect: 'manual' });
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
    const anonymous = new Client({ basePath: emulator.url });
    const tokens = await anonymous.oauth.tokensApi.create('authorization_code', code, redirectUri, emulator.settings.HUBSPOT_CLIENT_ID, emulator.settings.HUBSPOT_CLIENT_SECRET);
    expect(tokens.tokenType).toBe('bearer');
    expect(tokens.expiresIn).toBe(1800);
    refreshToken = tokens.refreshToken;
    client = new Client({ accessToken: tokens.accessToken, basePath: emulator.url });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('OAuth: token info names the portal, and a refresh gives a new access token for the same refresh token', async () => {
    const refreshed = await client.oauth.tokensApi.create('refresh_token', undefined, undefined, emulator.settings.HUBSPOT_CLIENT_ID, emulator.settings.HUBSPOT_CLIENT_SECRET, refreshToken);
    expect(refreshed.refreshToken).toBe(refreshToken);
    const info = await client.oauth.accessTokensApi.get(refreshed.accessToken);
    expect(info.hubId).toBe(emulator.portalId);
    expect(info.scopes).toEqual(['oauth', 'crm.objects.contacts.read']);
    client.setAccessToken(refreshed.accessToken);
  });

  it('lists contacts page by page with associations, and getAll walks every page', async () => {
    const page = await client.crm.contacts.basicApi.getPage(100, undefined, ['email', 'firstname'], undefined, ['companies']);
    expect(page.results).toHaveLength(100);
    expect(page.paging?.next?.after).toBeTruthy();
    expect(page.results[0]!.properties.email).toMatch(/@/);
    expect(page.results.some((c) => (c.associations?.companies?.results.length ?? 0) > 0)).toBe(true);
    const all = await client.crm.contacts.getAll(100);
    const live = [...emulator.portal.ids('contacts')].filter((id) => emulator.portal.get('contacts', id)?.archivedAt === null);
    expect(all.map((c) => c.id).sort()).toEqual(live.sort());
  });

  it('reads one deal, a batch of companies, and archived contacts', async () => {
    const dealId = [...emulator.portal.ids('deals')][0]!;
    const deal = await client.crm.deals.basicApi.getById(dealId, ['dealname', 'amount', 'dealstage']);
    expect(deal.id).toBe(dealId);
    expect(deal.properties.dealname).toBeTruthy();
    const companyIds = [...emulator.portal.ids('companies')].slice(0, 3);
    const batch = await client.crm.companies.batchApi.read({ inputs: companyIds.map((id) => ({ id })), properties: ['name', 'domain'], propertiesWithHistory: [] });
    expect(batch.results.map((c) => c.id).sort()).toEqual([...companyIds].sort());
    const archived = await client.crm.contacts.basicApi.getPage(100, undefined, undefined, undefined, undefined, true);
    expect(archived.results.length).toBeGreaterThan(0);
    expect(archived.results.every((c) => c.archived === true && c.archivedAt instanceof Date)).toBe(true);
  });

  it('searches by modification date with sorting, paging and a total, and refuses to page past 10,000', async () => {
    const request = {
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: FilterOperatorEnum.Gte, value: '0' }] }],
      sorts: ['lastmodifieddate'],
      properties: ['email', 'lastmodifieddate'],
      limit: 200,
      after: '0',
    };
    const first = await client.crm.contacts.searchApi.doSearch(request);
    expect(first.results).toHaveLength(200);
    expect(first.total).toBe([...emulator.portal.ids('contacts')].filter((id) => emulator.portal.get('contacts', id)?.archivedAt === null).length);
    const stamps = first.results.map((c) => Date.parse(c.properties.lastmodifieddate!));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    const second = await client.crm.contacts.searchApi.doSearch({ ...request, after: first.paging!.next!.after });
    expect(second.results[0]!.id).not.toBe(first.results[0]!.id);
    await expect(client.crm.contacts.searchApi.doSearch({ ...request, after: '10000' })).rejects.toMatchObject({ code: 400 });
  });

  it('reads v4 associations in batch', async () => {
    const contactIds = [...emulator.portal.ids('contacts')].slice(0, 5);
    const answer = await client.crm.associations.v4.batchApi.getPage('contacts', 'companies', { inputs: contactIds.map((id) => ({ id })) });
    expect(answer.results.length).toBeGreaterThan(0);
    for (const r of answer.results) {
      expect(contactIds).toContain(r._from.id);
      expect(r.to[0]!.toObjectId).toBeTruthy();
    }
  });

  it("throws the SDK's ApiException with HubSpot's 429 body when the rolling limit is exceeded", async () => {
    const tight = await start({ scale: 5, rateLimits: { tenSecondly: 2 } });
    try {
      const authorize = await fetch(`${tight.url}/oauth/authorize?client_id=${tight.settings.HUBSPOT_CLIENT_ID}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=oauth`, { redirect: 'manual' });
      const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
      const tokens = await new Client({ basePath: tight.url }).oauth.tokensApi.create('authorization_code', code, redirectUri, tight.settings.HUBSPOT_CLIENT_ID, tight.settings.HUBSPOT_CLIENT_SECRET);
      const sdk = new Client({ accessToken: tokens.accessToken, basePath: tight.url });
      await sdk.crm.contacts.basicApi.getPage(1);
      await sdk.crm.contacts.basicApi.getPage(1);
      const refused = await sdk.crm.contacts.basicApi.getPage(1).then(
        () => null,
        (error: unknown) => error as { code: number; body: { status: string; errorType: string; policyName: string }; headers: Record<string, string> },
      );
      expect(refused?.code).toBe(429);
      expect(refused?.body).toMatchObject({ status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
      expect(refused?.headers['x-hubspot-ratelimit-remaining']).toBe('0');
    } finally {
      await tight.stop();
    }
  });

  it("the SDK's Signature.isValid accepts the emulator's v3 webhook signatures", async () => {
    const received: { url: string; body: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '/', body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/hubspot`;
      emulator.setWebhookTarget(target);
      emulator.updateObject('contacts', [...emulator.portal.ids('contacts')][1]!, { firstname: 'Signed' });
      expect(await emulator.flushWebhooks()).toEqual({ delivered: 1, failed: 0 });
      const [delivery] = received;
      expect(
        Signature.isValid({
          signatureVersion: 'v3',
          signature: String(delivery!.headers['x-hubspot-signature-v3']),
          clientSecret: emulator.settings.HUBSPOT_CLIENT_SECRET!,
          requestBody: delivery!.body,
          url: target,
          method: 'POST',
          timestamp: Number(delivery!.headers['x-hubspot-request-timestamp']),
        }),
      ).toBe(true);
    } finally {
      emulator.setWebhookTarget(null);
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
