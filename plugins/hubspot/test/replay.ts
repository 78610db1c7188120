/**
 * Recorded HubSpot HTTP for the connector tests: the emulator at a tiny scale, synced once through
 * the engine with nock's recorder on, saved as `fixtures/backfill.json`. The tests replay it with
 * nock (no emulator running) and assert the canonical records the engine stores.
 *
 * Re-record (after a change to the requests the connector makes):
 *   npx node plugins/hubspot/test/replay.ts record
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import type { Clock, LoadedPlugin } from '../../../core/contract/index.ts';
import { createLogger } from '../../../core/log/index.ts';
import { openDatabase, sealTokens, type Database } from '../../../core/store/index.ts';
import { createSyncServices } from '../../../core/sync/index.ts';
import { seedInstallation } from '../../../test/support/database.ts';
import hubspot from '../index.ts';

export const fixturePath = fileURLToPath(new URL('./fixtures/backfill.json', import.meta.url));
/** The instant the recording was made at; the replay's clock stands still there. */
export const recordedAt = new Date('2026-11-20T12:00:00.000Z');
export const recordedToken = 'at-recorded-token';
const key = Buffer.alloc(32, 5);

export interface Recording {
  readonly baseUrl: string;
  readonly portalId: string;
  readonly definitions: nock.Definition[];
}

const stillClock: Clock = { now: () => recordedAt, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))) };

/** Syncs every stream of a HubSpot installation at `baseUrl` into `db`; returns the installation. */
export async function syncOnce(db: Database, baseUrl: string, portalId: string, token: string): Promise<{ tenantId: string; installationId: string; outcomes: string[] }> {
  const plugins: LoadedPlugin[] = [
    {
      connector: hubspot,
      settings: { HUBSPOT_API_BASE_URL: baseUrl, HUBSPOT_CLIENT_ID: 'sandbox-client-id', HUBSPOT_CLIENT_SECRET: 'sandbox-client-secret-not-real' },
      manifest: undefined as never,
      settingStates: [],
    },
  ];
  const ids = await seedInstallation(db, { platform: 'hubspot', platformAccountId: portalId, apiBaseUrl: baseUrl });
  await db.sql.query(`update installation set sealed_tokens = $2 where id = $1`, [
    ids.installationId,
    sealTokens(key, ids, { accessToken: token, refreshToken: null, expiresAt: null, scopes: [], extra: {} }),
  ]);
  const services = createSyncServices({ sql: db.sql, plugins, encryptionKey: key, log: createLogger({ level: 'silent', name: 'replay' }), leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, clock: stillClock });
  const runs = await services.engine.runNow({ installationId: ids.installationId });
  return { ...ids, outcomes: runs.map((r) => (r.error ? `${r.outcome}: ${r.error.message}` : r.outcome)) };
}

export function loadRecording(): Recording {
  return JSON.parse(readFileSync(fixturePath, 'utf8')) as Recording;
}

async function record(): Promise<void> {
  const { start } = await import('../emulator/server.ts');
  const { emulatorToken } = await import('./stream-context.ts');
  const emulator = await start({ scale: 30, now: () => recordedAt });
  const db = await openDatabase({ inMemory: true });
  try {
    await db.migrate();
    const token = await emulatorToken(emulator);
    nock.recorder.rec({ dont_print: true, output_objects: true });
    const result = await syncOnce(db, emulator.url, String(emulator.portalId), token);
    const definitions = nock.recorder.play() as nock.Definition[];
    nock.restore();
    const recording: Recording = { baseUrl: emulator.url, portalId: String(emulator.portalId), definitions };
    writeFileSync(fixturePath, `${JSON.stringify(recording, null, 1)}\n`);
    // eslint-disable-next-line no-console -- a command-line recorder reports what it wrote
    console.log(`recorded ${definitions.length} requests (${result.outcomes.join(', ')}) into ${fixturePath}`);
  } finally {
    await db.close();
    await emulator.stop();
  }
}

if (process.argv[2] === 'record') await record();
