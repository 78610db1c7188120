/**
 * Zendesk rotates refresh tokens and deletes the old pair the moment it answers a refresh. A process
 * that dies between that answer and saving the new pair would otherwise lock the installation out;
 * the token keeper's journal keeps it. Against the emulator's OAuth server: the crash, the dead old
 * refresh token, and the next sync adopting the rotated pair without another refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenSet } from '../../../core/contract/index.ts';
import { openTokens, sealTokens } from '../../../core/store/index.ts';
import { createTokenKeeper } from '../../../core/sync/token-keeper.ts';
import zendesk from '../index.ts';
import { start, type RunningZendeskEmulator } from '../emulator/server.ts';
import { installThroughBrowser, stackKey, startZendeskStack, type ZendeskStack } from './stack.ts';

// Ledgerline refreshes a token that expires within five minutes: the installed one lives exactly five.
const shortTtlSeconds = 5 * 60;

describe('Zendesk token rotation survives a crash between the token answer and the save', () => {
  let emulator: RunningZendeskEmulator;
  let stack: ZendeskStack;
  let installationId: string;

  beforeAll(async () => {
    emulator = await start({ scale: 'demo', timeScale: 60, accessTokenTtlSeconds: shortTtlSeconds });
    stack = await startZendeskStack(emulator, { timeScale: 60 });
    ({ installationId } = await installThroughBrowser(stack));
    emulator.setAccessTokenTtl(1800);
  });
  afterAll(async () => {
    await stack?.close();
    await emulator?.stop();
  });

  const owner = () => ({ tenantId: stack.tenantId, installationId });
  const storedTokens = async (): Promise<TokenSet> => {
    const [row] = await stack.db.sql.query<{ sealed_tokens: string }>(`select sealed_tokens from installation where id = $1`, [installationId]);
    return openTokens(stackKey, owner(), row!.sealed_tokens);
  };
  const refreshWith = async (refreshToken: string) => {
    const response = await fetch(`${emulator.url}/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: emulator.settings.ZENDESK_CLIENT_ID, client_secret: emulator.settings.ZENDESK_CLIENT_SECRET }),
    });
    return { status: response.status, body: (await response.json()) as { error?: string } };
  };

  it('keeps the rotated pair in the journal when the process dies before saving it, and the next sync adopts it', async () => {
    const installed = await storedTokens();
    const auth = zendesk.auth;
    const client = auth.client(emulator.settings);
    // A worker process exactly as the stream context builds its keeper, whose installation write never happens.
    const dying = createTokenKeeper({
      sql: (text, params) => stack.db.sql.query(text, params),
      installationId,
      auth,
      tokenUrl: auth.endpoints(emulator.settings, {}).tokenUrl,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      load: storedTokens,
      journal: { seal: (tokens) => sealTokens(stackKey, owner(), tokens), open: (sealed) => openTokens(stackKey, owner(), sealed) },
      save: () => Promise.reject(new Error('worker killed after the token answer')),
    });
    await expect(dying.accessToken()).rejects.toThrow('worker killed');
    expect(emulator.stats().tokenRefreshes).toBe(1);
    // Zendesk deleted the pair the installation still holds: without the journal this is a lockout.
    expect((await storedTokens()).refreshToken).toBe(installed.refreshToken);
    expect(await refreshWith(installed.refreshToken!)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const [entry] = await stack.db.sql.query<{ sealed_tokens: string }>(`select sealed_tokens from token_journal where installation_id = $1`, [installationId]);
    const journaled = openTokens(stackKey, owner(), entry!.sealed_tokens);
    expect(journaled.refreshToken).not.toBe(installed.refreshToken);

    // The next sync (a fresh keeper, as in a restarted worker) adopts the journaled pair: no second refresh.
    const [run] = await stack.sync.engine.runNow({ installationId, stream: 'organizations' });
    expect(run!.outcome).toBe('succeeded');
    expect(emulator.stats().tokenRefreshes).toBe(1);
    const adopted = await storedTokens();
    expect(adopted).toMatchObject({ accessToken: journaled.accessToken, refreshToken: journaled.refreshToken });
    expect(await stack.db.sql.query(`select 1 from token_journal where installation_id = $1`, [installationId])).toEqual([]);
    const [row] = await stack.db.sql.query<{ status: string }>(`select status from installation where id = $1`, [installationId]);
    expect(row!.status).toBe('active');
    // Zendesk accepts the adopted pair: the access token reads, the refresh token rotates.
    const me = await fetch(`${emulator.url}/api/v2/users/me.json`, { headers: { authorization: `Bearer ${adopted.accessToken}` } });
    expect(me.status).toBe(200);
    expect((await refreshWith(adopted.refreshToken!)).status).toBe(200);
  });
});
