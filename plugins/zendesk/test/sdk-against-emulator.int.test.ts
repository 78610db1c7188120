/**
 * `node-zendesk` 6 as anyone would use it — `createClient({ endpointUri, oauth: true, token })`,
 * nothing else changed — against the Zendesk emulator: reads of the authorizing admin, a ticket,
 * a user and an organization; the cursor-based ticket export driven page by page (its own
 * `requestAll` stops incremental exports after the first page unless a page reports `count` ≥
 * 1000 on the response object, which no response does); and what it does with a 429 and a 401.
 * If the emulator answered in shapes node-zendesk does not parse, these would fail.
 *
 * What node-zendesk 6.0.1 does, read from dist/index.js:
 * - OAuth when `oauth` or `useOAuth` is true: `Authorization: Bearer <token>`.
 * - `checkRequestResponse` returns (does not throw) an Error with `statusCode: 429` for any
 *   response carrying `Retry-After`; the client resolves `{ response, result: Error }`. Other
 *   4xx/5xx in its table throw "Request processing failed: Zendesk Error (401): Not Authorized".
 * - GETs to paths it believes cursor-paginated (including `incremental/tickets/…`) get
 *   `page[size]=100` appended; the emulator, like the incremental export docs, pages by `per_page`.
 * - A client's `jsonAPINames` pick one key out of the body (the tickets client returns only
 *   `tickets`, dropping `after_cursor`), so the export is read through the ticketexport client,
 *   whose names match no export key and which therefore returns the whole body.
 */
import { createClient, type ZendeskClient } from 'node-zendesk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningZendeskEmulator } from '../emulator/server.ts';

const redirectUri = 'https://ledgerline.test/oauth/zendesk/callback';

interface SdkResponse {
  readonly response: { readonly status: number; readonly headers: { get(name: string): string | null } };
  readonly result: unknown;
}

/** node-zendesk declares `get` as returning `Promise<NodeModule>`; it resolves `{ response, result }`. */
const sdkGet = async (client: ZendeskClient, resource: unknown[]): Promise<SdkResponse> => (await client.ticketexport.get(resource)) as unknown as SdkResponse;

async function oauthToken(emulator: RunningZendeskEmulator): Promise<string> {
  const q = new URLSearchParams({ response_type: 'code', client_id: emulator.settings.ZENDESK_CLIENT_ID!, redirect_uri: redirectUri, scope: 'read', state: 's' });
  const authorized = await fetch(`${emulator.url}/oauth/authorizations/new?${q.toString()}`, { redirect: 'manual' });
  const code = new URL(authorized.headers.get('location')!).searchParams.get('code')!;
  const response = await fetch(`${emulator.url}/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'authorization_code', code, client_id: emulator.settings.ZENDESK_CLIENT_ID, client_secret: emulator.settings.ZENDESK_CLIENT_SECRET, redirect_uri: redirectUri }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('node-zendesk against the emulator, unmodified but for its endpointUri', () => {
  let emulator: RunningZendeskEmulator;
  let client: ZendeskClient;

  beforeAll(async () => {
    emulator = await start({ scale: 600, timeScale: 60 });
    client = createClient({ endpointUri: `${emulator.url}/api/v2`, oauth: true, token: await oauthToken(emulator) });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('reads the authorizing admin, a ticket, its requester and their organization', async () => {
    const me = (await client.users.me()) as unknown as SdkResponse;
    expect(me.response.status).toBe(200);
    expect(me.result).toMatchObject({ id: emulator.account.adminId, role: 'admin', active: true });

    const expected = emulator.account.ticket(1)!;
    const ticket = (await client.tickets.show(1)) as unknown as SdkResponse;
    expect(ticket.result).toEqual(expected);

    const requester = (await client.users.show(expected.requester_id)) as unknown as SdkResponse;
    expect(requester.result).toMatchObject({ id: expected.requester_id, role: 'end-user' });
    const organizationId = (requester.result as { organization_id: number | null }).organization_id;
    if (organizationId !== null) {
      const organization = (await client.organizations.show(organizationId)) as unknown as SdkResponse;
      expect(organization.result).toMatchObject({ id: organizationId, domain_names: [expect.stringMatching(/\.example$/)] });
    }
  });

  it('drives the cursor ticket export page by page to every ticket, where requestAll stops after the first page', async () => {
    const seen: number[] = [];
    let page = await sdkGet(client, ['incremental', 'tickets', 'cursor', { start_time: 0, per_page: 500 }]);
    let pages = 1;
    for (;;) {
      const body = page.result as { tickets: { id: number }[]; after_cursor: string; end_of_stream: boolean };
      seen.push(...body.tickets.map((t) => t.id));
      if (body.end_of_stream) break;
      page = await sdkGet(client, ['incremental', 'tickets', 'cursor', { cursor: body.after_cursor, per_page: 500 }]);
      pages += 1;
    }
    const cutoff = Date.now() / 1000 - 60;
    const expected = Array.from({ length: 1200 }, (_, i) => emulator.account.ticket(i + 1)!).filter((t) => Date.parse(t.updated_at) / 1000 <= cutoff).map((t) => t.id);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));

    // The SDK's own walk of the time-based export: one page of 1,000, though the stream goes on.
    const walked = await client.tickets.incremental('0');
    expect(walked).toHaveLength(1000);
    expect(walked.length).toBeLessThan(expected.length);
  });

  it('returns a 429 as an Error value, not a throw, with Retry-After readable on the response', async () => {
    const limited = await start({ scale: 'demo', exportsPerMinute: 1 });
    try {
      const sdk = createClient({ endpointUri: `${limited.url}/api/v2`, oauth: true, token: await oauthToken(limited) });
      const first = await sdkGet(sdk, ['incremental', 'organizations', { start_time: 0 }]);
      expect(first.response.status).toBe(200);
      const refused = await sdkGet(sdk, ['incremental', 'organizations', { start_time: 0 }]);
      expect(refused.response.status).toBe(429);
      expect(refused.response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(refused.result).toBeInstanceOf(Error);
      expect(refused.result).toMatchObject({ statusCode: 429, result: { error: 'APIRateLimitExceeded' } });
    } finally {
      await limited.stop();
    }
  });

  it('throws on a revoked token: 401 is in the table of errors it raises', async () => {
    const other = await start({ scale: 'demo' });
    try {
      const sdk = createClient({ endpointUri: `${other.url}/api/v2`, oauth: true, token: await oauthToken(other) });
      other.revokeGrants();
      await expect(sdk.users.me()).rejects.toThrow(/Zendesk Error \(401\)/);
    } finally {
      await other.stop();
    }
  });
});
