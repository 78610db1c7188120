/**
 * `npm run bench -- sync-hubspot [--contacts 100000] [--time-scale 2] [--concurrency 6]`
 *
 * Backfills a HubSpot portal of 100,000 contacts and 200,000 engagements (calls, emails,
 * meetings, notes, tasks) from the emulator, at its enforced limits, through the whole sync path:
 * the official SDK over the governed fetch, the shared rate governor in the database, mapping,
 * and the store. The emulator enforces HubSpot's 110 requests per rolling 10 s (search 5 / s) with
 * its clock running `time-scale` times faster, and the governor runs at the same factor.
 *
 * ratio = achieved records per hour ÷ the ceiling the documented limits allow: list calls return
 * at most 100 objects and 110 of them fit in 10 s, so 100 × 110 × 360 × time-scale records/hour.
 * Also reported: the 429s the emulator answered and the streams that did not succeed (target: none).
 *
 * DATABASE_URL set: a throw-away database on that server. Unset: the embedded PGlite default.
 */
import { parseArgs } from 'node:util';
import type { LoadedPlugin } from '../core/contract/index.ts';
import { createLogger } from '../core/log/index.ts';
import { sealTokens } from '../core/store/index.ts';
import { createSyncServices } from '../core/sync/index.ts';
import hubspot from '../plugins/hubspot/index.ts';
import { start } from '../plugins/hubspot/emulator/server.ts';
import { emulatorToken } from '../plugins/hubspot/test/stream-context.ts';
import { openPgliteTestDatabase, openPostgresTestDatabase, seedInstallation } from '../test/support/database.ts';
import type { BenchResult } from './run.ts';

const say = (text: string): void => void process.stderr.write(`${text}\n`);
const streams = ['contacts', 'calls', 'emails', 'meetings', 'notes', 'tasks'];

export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args: argv,
    options: { contacts: { type: 'string', default: '100000' }, 'time-scale': { type: 'string', default: '2' }, concurrency: { type: 'string', default: '6' } },
  });
  const contacts = Number(values.contacts);
  const timeScale = Number(values['time-scale']);
  const concurrency = Number(values.concurrency);
  if (!(contacts > 0) || !(timeScale > 0) || !(concurrency >= 1)) throw new Error('--contacts, --time-scale and --concurrency must be positive numbers');

  const emulator = await start({ scale: contacts, timeScale });
  const db = process.env.DATABASE_URL ? await openPostgresTestDatabase({ poolSize: concurrency + 4 }) : await openPgliteTestDatabase();
  const where = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
  try {
    const key = Buffer.alloc(32, 3);
    const ids = await seedInstallation(db, { platform: 'hubspot', platformAccountId: String(emulator.portalId), apiBaseUrl: emulator.url });
    await db.sql.query(`update installation set sealed_tokens = $2 where id = $1`, [
      ids.installationId,
      sealTokens(key, ids, { accessToken: await emulatorToken(emulator), refreshToken: null, expiresAt: null, scopes: [], extra: {} }),
    ]);
    const plugins: LoadedPlugin[] = [{ connector: hubspot, settings: emulator.settings, manifest: undefined as never, settingStates: [] }];
    const services = createSyncServices({
      sql: db.sql,
      plugins,
      encryptionKey: key,
      log: createLogger({ level: 'silent' }),
      leaseMs: 60_000,
      defaultIncrementalEveryMs: 3_600_000,
      timeScale,
    });
    const expected = streams.reduce((sum, type) => sum + [...emulator.portal.ids(type as 'contacts')].filter((id) => emulator.portal.get(type as 'contacts', id)?.archivedAt === null).length, 0);
    say(`sync-hubspot: ${expected.toLocaleString('en-US')} live records in ${streams.length} streams, emulator clock ×${timeScale}, ${concurrency} streams at a time, ${where}`);

    const started = performance.now();
    const progress = setInterval(() => {
      void db.sql
        .query<{ n: string }>(`select count(*)::text as n from source_record where installation_id = $1`, [ids.installationId])
        .then(([row]) => say(`  ${Number(row?.n ?? 0).toLocaleString('en-US')} records after ${((performance.now() - started) / 1000).toFixed(0)} s, ${emulator.stats().requests} requests`));
    }, Number(process.env.BENCH_PROGRESS_MS ?? 10_000));
    const queue = [...streams];
    const outcomes: string[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let stream = queue.shift(); stream !== undefined; stream = queue.shift()) {
          const [summary] = await services.engine.runNow({ installationId: ids.installationId, stream });
          outcomes.push(`${stream}: ${summary?.outcome ?? 'missing'}${summary?.error ? ` (${summary.error.message})` : ''}`);
        }
      }),
    );
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;
    const [stored] = await db.sql.query<{ n: string }>(`select count(*)::text as n from source_record where installation_id = $1 and deleted_at is null`, [ids.installationId]);
    const records = Number(stored?.n ?? 0);
    const stats = emulator.stats();
    const failed = outcomes.filter((o) => !o.endsWith(': succeeded'));
    const perHour = (records / seconds) * 3600;
    const ceiling = 100 * 110 * 360 * timeScale;
    say(`  ${records.toLocaleString('en-US')} records in ${seconds.toFixed(1)} s; ${stats.requests} requests (${stats.searchRequests} search); 429s: ${JSON.stringify(stats.throttled)}`);
    if (failed.length > 0) say(`  not succeeded: ${failed.join('; ')}`);
    if (records !== expected) say(`  stored ${records} of ${expected} records`);
    return {
      bench: 'sync-hubspot',
      metric: 'records/hour',
      value: Math.round(perHour),
      baseline: `documented ceiling: 100 records per list call × 110 calls per 10 s, emulator clock ×${timeScale}`,
      baselineValue: ceiling,
      ratio: Number((perHour / ceiling).toFixed(3)),
      records,
      expected,
      seconds: Number(seconds.toFixed(1)),
      requests: stats.requests,
      throttled429: stats.throttled.TEN_SECONDLY_ROLLING + stats.throttled.SECONDLY + stats.throttled.DAILY,
      failedStreams: failed.length,
      database: where,
    };
  } finally {
    await db.close();
    await emulator.stop();
  }
}
