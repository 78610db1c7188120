/**
 * HubSpot access tokens live 30 minutes: Ledgerline refreshes before expiry, once per installation
 * however many streams need a token at that moment, and a grant HubSpot no longer honours stops the
 * installation's syncs visibly (needs reinstall) instead of failing them forever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';
import { installThroughBrowser, startStack, type Stack } from './stack.ts';

const streams = ['contacts', 'companies', 'deals', 'tickets', 'calls', 'emails', 'meetings', 'notes', 'tasks'];
// Ledgerline refreshes a token expiring within five minutes: this one is fresh for two seconds.
const shortTtlSeconds = 5 * 60 + 2;

describe('HubSpot token refresh', () => {
  let emulator: RunningHubspotEmulator;
  let stack: Stack;
  let installationId: string;

  beforeAll(async () => {
    emulator = await start({ scale: 60, timeScale: 50, accessTokenTtlSeconds: shortTtlSeconds });
    stack = await startStack(emulator);
    ({ installationId } = await installThroughBrowser(stack));
    emulator.setAccessTokenTtl(1800);
  });
  afterAll(async () => {
    await stack?.close();
    await emulator?.stop();
  });

  it('nine streams starting together on an expiring token cause exactly one refresh between them, and all complete', async () => {
    const [before] = await stack.db.sql.query<{ token_expires_at: string }>(`select token_expires_at from installation where id = $1`, [installationId]);
    await new Promise((r) => setTimeout(r, 2_500));
    const runs = await Promise.all(streams.map((stream) => stack.sync.engine.runNow({ installationId, stream })));
    expect(runs.flat().map((r) => r.outcome)).toEqual(Array(9).fill('succeeded'));
    expect(emulator.stats().tokenRefreshes).toBe(1);
    const [after] = await stack.db.sql.query<{ token_expires_at: string; status: string }>(`select token_expires_at, status from installation where id = $1`, [installationId]);
    // The refreshed token (30 minutes) replaced the short one in the store.
    expect(Date.parse(after!.token_expires_at) - Date.parse(before!.token_expires_at)).toBeGreaterThan(20 * 60_000);
    expect(after!.status).toBe('active');
  });

  it('a grant HubSpot revoked marks the installation as needing reinstall, once, and stops scheduling it', async () => {
    emulator.revokeGrants();
    const runs = await Promise.all(['contacts', 'deals'].map((stream) => stack.sync.engine.runNow({ installationId, stream, full: true })));
    for (const [run] of runs) {
      expect(run!.outcome).toBe('failed');
      expect(run!.error?.code).toBe('LL_AUTH_REVOKED');
    }
    const [row] = await stack.db.sql.query<{ status: string }>(`select status from installation where id = $1`, [installationId]);
    expect(row!.status).toBe('needs_reauth');
    const events = await stack.db.sql.query<{ kind: string }>(`select kind from installation_event where installation_id = $1 and kind = 'needs_reauth'`, [installationId]);
    expect(events).toHaveLength(1);
    // No stream of it is a sync target any more, until it is reinstalled.
    expect(await stack.sync.engine.targets({ installationId })).toEqual([]);
    const page = await (await fetch(`${stack.url}/tenants/acme/installations/${installationId}`)).text();
    expect(page).toContain('Reinstall needed.');
    expect(page).toContain(`href="/install/hubspot?tenant=acme"`);
  });

  it('reinstalling through OAuth makes it active again with a working grant', async () => {
    const again = await installThroughBrowser(stack);
    expect(again.installationId).toBe(installationId);
    const [row] = await stack.db.sql.query<{ status: string }>(`select status from installation where id = $1`, [installationId]);
    expect(row!.status).toBe('active');
    const [run] = await stack.sync.engine.runNow({ installationId, stream: 'companies' });
    expect(run!.outcome).toBe('succeeded');
  });
});
