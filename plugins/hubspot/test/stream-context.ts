/** A stream context straight against the emulator: a bearer token from its OAuth, no governor. */
import type { StreamContext } from '../../../core/contract/index.ts';
import { systemClock } from '../../../core/sync/clock.ts';
import { createLogger } from '../../../core/log/index.ts';
import type { RunningHubspotEmulator } from '../emulator/server.ts';

export async function emulatorToken(emulator: RunningHubspotEmulator): Promise<string> {
  const redirect = 'https://ledgerline.test/oauth/hubspot/callback';
  const authorize = await fetch(`${emulator.url}/oauth/authorize?client_id=${emulator.settings.HUBSPOT_CLIENT_ID}&redirect_uri=${encodeURIComponent(redirect)}&scope=oauth`, { redirect: 'manual' });
  const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
  const token = await fetch(`${emulator.url}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: emulator.settings.HUBSPOT_CLIENT_ID!, client_secret: emulator.settings.HUBSPOT_CLIENT_SECRET! }),
  });
  return ((await token.json()) as { access_token: string }).access_token;
}

export function emulatorContext(emulator: RunningHubspotEmulator, token: string, now?: () => Date): StreamContext {
  return {
    installation: { id: '00000000-0000-4000-8000-000000000001', tenantId: '00000000-0000-4000-8000-000000000002', platformAccountId: String(emulator.portalId), apiBaseUrl: emulator.url },
    settings: emulator.settings,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
    accessToken: () => Promise.resolve(token),
    log: createLogger({ level: 'silent', name: 'hubspot-stream-test' }),
    clock: now ? { now, sleep: (ms, signal) => systemClock.sleep(ms, signal) } : systemClock,
    signal: new AbortController().signal,
  };
}
