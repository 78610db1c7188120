/**
 * Verification of Zendesk's signed first load of a sidebar (the request as the plugin sees it):
 * which tokens, requests and settings open a panel, and what each refusal says.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../core/contract/index.ts';
import { isLedgerlineError, type ErrorCode } from '../../core/errors/index.ts';
import { generateSandboxAppKeyPair, signZendeskPanelToken, verifyZendeskPanelToken, zendeskInstallationAudience, type SandboxAppKeyPair, type ZendeskPanelClaims } from './panel-token.ts';
import { signZendeskSandboxFirstLoad, verifyZendeskFirstLoad, zendeskPanel } from './panel.ts';

const now = new Date('2026-11-23T10:00:00Z');
const nowSeconds = now.getTime() / 1000;
const appGuid = '4b4b5d4e-1c1a-4f4e-9d3b-0a1b2c3d4e5f';

let app: SandboxAppKeyPair;
let stranger: SandboxAppKeyPair;
beforeAll(() => {
  app = generateSandboxAppKeyPair();
  stranger = generateSandboxAppKeyPair();
});

const claims = (overrides: Partial<ZendeskPanelClaims> = {}): ZendeskPanelClaims => ({
  iss: 'acme.zendesk.com',
  aud: zendeskInstallationAudience('acme', 360001),
  iat: nowSeconds - 5,
  exp: nowSeconds + 300,
  sub: '42',
  context: { product: 'support', location: 'ticket_sidebar' },
  ...overrides,
});

function firstLoad(token: string, options: { location?: string; query?: Record<string, string>; method?: string; contentType?: string } = {}): InboundRequest {
  const query = new URLSearchParams(options.query ?? { origin: 'https://acme.zendesk.com', app_guid: appGuid });
  return {
    method: options.method ?? 'POST',
    url: `https://ledgerline.example.com/panels/zendesk/${options.location ?? 'ticket_sidebar'}?${query.toString()}`,
    headers: { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded' },
    rawBody: Buffer.from(new URLSearchParams({ token }).toString()),
  };
}

const settings = () => ({ ZENDESK_APP_PUBLIC_KEY: app.publicKeyPem });

async function refusal(request: InboundRequest, s: Record<string, string> = settings()): Promise<{ code: ErrorCode; message: string }> {
  try {
    await verifyZendeskFirstLoad(request, s, now);
  } catch (error) {
    if (isLedgerlineError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the first load was accepted');
}

describe('Zendesk sidebar first load', () => {
  it('declares three framed locations that Zendesk pages may frame', () => {
    expect(zendeskPanel.locations.map((l) => [l.host, l.render])).toEqual([
      ['ticket_sidebar', 'frame'],
      ['user_sidebar', 'frame'],
      ['organization_sidebar', 'frame'],
    ]);
    expect(zendeskPanel.frameAncestors).toEqual(['https://*.zendesk.com']);
  });

  it('accepts a token Zendesk signed for this app: the account is the subdomain, the user the agent in sub', async () => {
    const verified = await verifyZendeskFirstLoad(firstLoad(signZendeskPanelToken(claims(), app.privateKeyPem)), settings(), now);
    expect(verified).toEqual({ platformAccountId: 'acme', userId: '42', subject: { kind: 'account', objectType: 'zendesk_account', externalId: 'acme' } });
  });

  it("reads the agent from an API URL in sub, and has no user when there is no sub", async () => {
    const asUrl = signZendeskPanelToken(claims({ sub: 'https://acme.zendesk.com/api/v2/users/380000000007.json' }), app.privateKeyPem);
    expect((await verifyZendeskFirstLoad(firstLoad(asUrl), settings(), now)).userId).toBe('380000000007');
    const { sub: _sub, ...withoutSub } = claims();
    expect((await verifyZendeskFirstLoad(firstLoad(signZendeskPanelToken(withoutSub, app.privateKeyPem)), settings(), now)).userId).toBeNull();
  });

  it('takes the public key as a one-line PEM with literal \\n, as environment files carry it', async () => {
    const oneLine = { ZENDESK_APP_PUBLIC_KEY: app.publicKeyPem.trim().replace(/\n/g, '\\n') };
    expect((await verifyZendeskFirstLoad(firstLoad(signZendeskPanelToken(claims(), app.privateKeyPem)), oneLine, now)).platformAccountId).toBe('acme');
  });

  it.each([
    ['forged with another key', () => signZendeskPanelToken(claims(), stranger.privateKeyPem), /signature does not verify/],
    ['expired', () => signZendeskPanelToken(claims({ iat: nowSeconds - 900, exp: nowSeconds - 600 }), app.privateKeyPem), /expired 600 s ago/],
    ["another account's installation", () => signZendeskPanelToken(claims({ aud: zendeskInstallationAudience('globex', 1) }), app.privateKeyPem), /another audience/],
    ['an audience that is no installation', () => signZendeskPanelToken(claims({ aud: ['https://acme.zendesk.com/api/v2/users/1.json'] }), app.privateKeyPem), /another audience/],
    ['an issuer that is not a Zendesk host', () => signZendeskPanelToken(claims({ iss: 'acme.zendesk.com.evil.example' }), app.privateKeyPem), /not a Zendesk account host/],
    ['another location', () => signZendeskPanelToken(claims({ context: { product: 'support', location: 'organization_sidebar' } }), app.privateKeyPem), /issued for the organization_sidebar, not the ticket_sidebar/],
    ['another product', () => signZendeskPanelToken(claims({ context: { product: 'chat', location: 'ticket_sidebar' } }), app.privateKeyPem), /issued for chat/],
    ['alg none', () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, /alg 'none' is refused/],
  ])('refuses a token %s (LL_BAD_SIGNATURE)', async (_what, token, message) => {
    expect(await refusal(firstLoad(token()))).toEqual({ code: 'LL_BAD_SIGNATURE', message: expect.stringMatching(message) });
  });

  it('refuses a first load that is not a form POST', async () => {
    const token = signZendeskPanelToken(claims(), app.privateKeyPem);
    expect((await refusal(firstLoad(token, { method: 'GET' }))).message).toMatch(/form POST/);
    expect((await refusal(firstLoad(token, { contentType: 'application/json' }))).message).toMatch(/form POST/);
  });

  it("refuses a query without the SDK's origin and app guid, and a location Zendesk does not have", async () => {
    const token = signZendeskPanelToken(claims(), app.privateKeyPem);
    expect(await refusal(firstLoad(token, { query: { app_guid: appGuid } }))).toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringMatching(/origin/) });
    expect(await refusal(firstLoad(token, { query: { origin: 'https://acme.zendesk.com/x', app_guid: appGuid } }))).toMatchObject({ code: 'LL_INVALID_INPUT' });
    expect(await refusal(firstLoad(token, { query: { origin: 'https://acme.zendesk.com', app_guid: 'guid' } }))).toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringMatching(/app_guid/) });
    expect(await refusal(firstLoad(token, { location: 'nav_bar' }))).toMatchObject({ code: 'LL_INVALID_INPUT', message: expect.stringMatching(/location/) });
  });

  it('says which setting is missing when the app public key is not configured', async () => {
    expect(await refusal(firstLoad(signZendeskPanelToken(claims(), app.privateKeyPem)), {})).toMatchObject({ code: 'LL_INVALID_CONFIG', message: expect.stringMatching(/ZENDESK_APP_PUBLIC_KEY/) });
  });

  it("signs the sandbox harness's first load as Zendesk would, and the verifier accepts it", async () => {
    const token = signZendeskSandboxFirstLoad({ subdomain: 'ledgerline-sandbox', appInstallationId: 7, agentId: '380000000001', location: 'user_sidebar', now }, app.privateKeyPem);
    expect(verifyZendeskPanelToken(token, { publicKeyPem: app.publicKeyPem, audience: zendeskInstallationAudience('ledgerline-sandbox', 7), now })).toMatchObject({
      iss: 'ledgerline-sandbox.zendesk.com',
      sub: '380000000001',
      exp: nowSeconds + 300,
      context: { product: 'support', location: 'user_sidebar' },
    });
    const request = firstLoad(token, { location: 'user_sidebar', query: { origin: 'http://127.0.0.1:4100', app_guid: appGuid } });
    expect(await verifyZendeskFirstLoad(request, settings(), now)).toMatchObject({ platformAccountId: 'ledgerline-sandbox', userId: '380000000001' });
  });
});
