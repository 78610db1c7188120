/**
 * Recorded Zendesk HTTP for the connector tests: the emulator at a small scale, synced once through
 * the engine with nock's recorder on, scrubbed (the loopback address becomes
 * https://ledgerline-sandbox.zendesk.com, as on Zendesk) and saved as `fixtures/backfill.json`. The
 * tests replay it with nock (no emulator running) and assert the canonical records the engine stores.
 *
 * Re-record (after a change to the requests the connector makes):
 *   npx node plugins/zendesk/test/replay.ts record
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import type { Clock, LoadedPlugin } from '../../../core/contract/index.ts';
import { createLogger } from '../../../core/log/index.ts';
import { openDatabase, sealTokens, type Database } from '../../../core/store/index.ts';
import { createSyncServices } from '../../../core/sync/index.ts';
import { seedInstallation } from '../../../test/support/database.ts';
import zendesk from '../index.ts';
import type { RunningZendeskEmulator } from '../emulator/server.ts';

export const fixturePath = fileURLToPath(new URL('./fixtures/backfill.json', import.meta.url));
/** The instant the recording was made at; the replay's clock stands still there. */
export const recordedAt = new Date('2026-11-20T12:00:00.000Z');
export const recordedToken = 'at-recorded-token';
/** The emulator scale recorded: 20 users (17 end users, one merged into another), 4 organizations, 40 tickets. */
export const recordedScale = 20;
/** Where the recording says it was made: Zendesk's address for the sandbox's subdomain. */
export const recordedBaseUrl = 'https://ledgerline-sandbox.zendesk.com';
export const recordedSubdomain = 'ledgerline-sandbox';
const key = Buffer.alloc(32, 5);

export interface Recording {
  readonly baseUrl: string;
  readonly subdomain: string;
  readonly definitions: nock.Definition[];
}

const stillClock: Clock = { now: () => recordedAt, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))) };

export const zendeskSettingsFor = (baseUrl: string): Record<string, string> => ({
  ZENDESK_API_BASE_URL: baseUrl,
  ZENDESK_SUBDOMAIN: recordedSubdomain,
  ZENDESK_CLIENT_ID: 'll-sandbox-zendesk-client',
  ZENDESK_CLIENT_SECRET: 'll-sandbox-zendesk-secret-not-real',
});

/** Syncs every stream of a Zendesk installation at `baseUrl` into `db`; returns the installation. */
export async function syncOnce(db: Database, baseUrl: string, subdomain: string, token: string): Promise<{ tenantId: string; installationId: string; outcomes: string[] }> {
  const plugins: LoadedPlugin[] = [{ connector: zendesk, settings: zendeskSettingsFor(baseUrl), manifest: undefined as never, settingStates: [] }];
  const ids = await seedInstallation(db, { platform: 'zendesk', platformAccountId: subdomain, apiBaseUrl: baseUrl });
  await db.sql.query(`update installation set sealed_tokens = $2 where id = $1`, [
    ids.installationId,
    sealTokens(key, ids, { accessToken: token, refreshToken: null, expiresAt: null, scopes: ['read'], extra: {} }),
  ]);
  const services = createSyncServices({ sql: db.sql, plugins, encryptionKey: key, log: createLogger({ level: 'silent', name: 'zendesk-replay' }), leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, clock: stillClock });
  const runs = await services.engine.runNow({ installationId: ids.installationId });
  return { ...ids, outcomes: runs.map((r) => (r.error ? `${r.outcome}: ${r.error.message}` : r.outcome)) };
}

export function loadRecording(): Recording {
  return JSON.parse(readFileSync(fixturePath, 'utf8')) as Recording;
}

/** An access token from the emulator's OAuth: authorize (auto-approved as its admin), then the code exchange. */
export async function emulatorToken(emulator: RunningZendeskEmulator): Promise<string> {
  const redirect = 'https://ledgerline.test/oauth/zendesk/callback';
  const q = new URLSearchParams({ response_type: 'code', client_id: emulator.settings.ZENDESK_CLIENT_ID!, redirect_uri: redirect, scope: 'read', state: 'recording' });
  const authorized = await fetch(`${emulator.url}/oauth/authorizations/new?${q.toString()}`, { redirect: 'manual' });
  const code = new URL(authorized.headers.get('location')!).searchParams.get('code')!;
  const response = await fetch(`${emulator.url}/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: emulator.settings.ZENDESK_CLIENT_ID!, client_secret: emulator.settings.ZENDESK_CLIENT_SECRET! }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Replaces the emulator's loopback origin with Zendesk's, in scopes and in every URL the bodies carry. */
function scrub(definitions: nock.Definition[], from: string): nock.Definition[] {
  return JSON.parse(JSON.stringify(definitions).split(from).join(recordedBaseUrl)) as nock.Definition[];
}

async function record(): Promise<void> {
  const { start } = await import('../emulator/server.ts');
  const emulator = await start({ scale: recordedScale, now: () => recordedAt });
  const db = await openDatabase({ inMemory: true });
  try {
    await db.migrate();
    const token = await emulatorToken(emulator);
    nock.recorder.rec({ dont_print: true, output_objects: true });
    const result = await syncOnce(db, emulator.url, emulator.subdomain, token);
    const definitions = scrub(nock.recorder.play() as nock.Definition[], emulator.url);
    nock.restore();
    const recording: Recording = { baseUrl: recordedBaseUrl, subdomain: emulator.subdomain, definitions };
    writeFileSync(fixturePath, `${JSON.stringify(recording, null, 1)}\n`);
    // eslint-disable-next-line no-console -- a command-line recorder reports what it wrote
    console.log(`recorded ${definitions.length} requests (${result.outcomes.join(', ')}) into ${fixturePath}`);
  } finally {
    await db.close();
    await emulator.stop();
  }
}

if (process.argv[2] === 'record') await record();
