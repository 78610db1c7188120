/**
 * `npm run bench -- sync-zendesk [--scale bench] [--time-scale 6] [--exports-per-minute 10]`
 *
 * Backfills a Zendesk account of 200,000 tickets and 100,000 users (the emulator's `bench` scale)
 * through the whole sync path — cursor-based incremental exports over the governed fetch, the
 * shared rate governor in the database, validation, mapping, and the store — with the two streams
 * running side by side, as a worker would. The emulator enforces Zendesk's incremental-export limit
 * (10 calls a minute, 30 with High Volume) with its clock running `time-scale` times faster, and
 * the governor runs at the same factor.
 *
 * ratio = achieved records per hour ÷ the ceiling the export limit allows: each export call returns
 * at most 1,000 records (per_page), so exportsPerMinute × time-scale × 1,000 records a minute
 * (×60 an hour). The two streams share that budget. Also reported: the 429s the emulator answered
 * (the governor spaces calls so there should be few) and streams that did not succeed (target: none).
 *
 * DATABASE_URL set: a throw-away database on that server. Unset: the embedded PGlite default.
 */
import { parseArgs } from 'node:util';
import type { LoadedPlugin } from '../core/contract/index.ts';
import { createLogger } from '../core/log/index.ts';
import { sealTokens } from '../core/store/index.ts';
import { createSyncServices } from '../core/sync/index.ts';
import zendesk from '../plugins/zendesk/index.ts';
import { start } from '../plugins/zendesk/emulator/server.ts';
import { exportPageSize } from '../plugins/zendesk/paginators.ts';
import { emulatorToken } from '../plugins/zendesk/test/replay.ts';
import { openPgliteTestDatabase, openPostgresTestDatabase, seedInstallation } from '../test/support/database.ts';
import type { BenchResult } from './run.ts';

const say = (text: string): void => void process.stderr.write(`${text}\n`);
const streams = ['tickets', 'users'] as const;

export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({
    args: argv,
    options: { scale: { type: 'string', default: 'bench' }, 'time-scale': { type: 'string', default: '6' }, 'exports-per-minute': { type: 'string', default: '10' } },
  });
  const scale = values.scale === 'bench' || values.scale === 'demo' ? values.scale : Number(values.scale);
  const timeScale = Number(values['time-scale']);
  const exportsPerMinute = Number(values['exports-per-minute']);
  if (!(timeScale > 0) || (typeof scale === 'number' && !(scale > 0)) || (exportsPerMinute !== 10 && exportsPerMinute !== 30)) {
    throw new Error('--scale must be bench, demo or a positive number; --time-scale positive; --exports-per-minute 10 or 30');
  }
  // The connector reads its export limit from the environment when it loads (ZENDESK_EXPORTS_PER_MINUTE).
  if (zendesk.rate.buckets.find((b) => b.name === 'incremental-export')?.capacity !== exportsPerMinute) {
    throw new Error(`set ZENDESK_EXPORTS_PER_MINUTE=${exportsPerMinute} so the connector's rate policy matches the emulator`);
  }

  const emulator = await start({ scale, timeScale, exportsPerMinute, requestsPerMinute: 2_500 });
  const db = process.env.DATABASE_URL ? await openPostgresTestDatabase({ poolSize: 8 }) : await openPgliteTestDatabase();
  const where = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
  try {
    const key = Buffer.alloc(32, 3);
    const ids = await seedInstallation(db, { platform: 'zendesk', platformAccountId: emulator.subdomain, apiBaseUrl: emulator.url });
    await db.sql.query(`update installation set sealed_tokens = $2 where id = $1`, [
      ids.installationId,
      sealTokens(key, ids, { accessToken: await emulatorToken(emulator), refreshToken: null, expiresAt: null, scopes: ['read'], extra: {} }),
    ]);
    const plugins: LoadedPlugin[] = [{ connector: zendesk, settings: emulator.settings, manifest: undefined as never, settingStates: [] }];
    const services = createSyncServices({
      sql: db.sql,
      plugins,
      encryptionKey: key,
      log: createLogger({ level: 'silent' }),
      leaseMs: 60_000,
      defaultIncrementalEveryMs: 3_600_000,
      timeScale,
    });
    // The emulator's sorted indexes are built once, before the clock starts (Zendesk's are always there).
    const account = emulator.account;
    account.tickets.prepare();
    account.users.prepare();
    const cutoff = Date.now() / 1000 - 60;
    const exportable = (updated: string | undefined): boolean => updated !== undefined && Date.parse(updated) / 1000 <= cutoff;
    const expected =
      Array.from({ length: account.shape.tickets }, (_, i) => account.ticket(i + 1)?.updated_at).filter(exportable).length +
      Array.from({ length: account.shape.users }, (_, i) => account.user(380_000_000_001 + i)?.updated_at).filter(exportable).length;
    say(`sync-zendesk: ${expected.toLocaleString('en-US')} tickets and users, exports ${exportsPerMinute}/min with the emulator clock ×${timeScale}, ${where}`);

    const started = performance.now();
    const progress = setInterval(() => {
      void db.sql
        .query<{ n: string }>(`select count(*)::text as n from source_record where installation_id = $1`, [ids.installationId])
        .then(([row]) => say(`  ${Number(row?.n ?? 0).toLocaleString('en-US')} records after ${((performance.now() - started) / 1000).toFixed(0)} s, ${emulator.stats().exportRequests} export calls`));
    }, Number(process.env.BENCH_PROGRESS_MS ?? 15_000));
    const outcomes = await Promise.all(
      streams.map(async (stream) => {
        const [summary] = await services.engine.runNow({ installationId: ids.installationId, stream });
        return `${stream}: ${summary?.outcome ?? 'missing'}${summary?.error ? ` (${summary.error.message})` : ''}`;
      }),
    );
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;
    const [stored] = await db.sql.query<{ n: string }>(`select count(*)::text as n from source_record where installation_id = $1 and object_type in ('ticket', 'user')`, [ids.installationId]);
    const records = Number(stored?.n ?? 0);
    const stats = emulator.stats();
    const failed = outcomes.filter((o) => !o.endsWith(': succeeded'));
    const perHour = (records / seconds) * 3600;
    const ceiling = exportsPerMinute * timeScale * exportPageSize * 60;
    say(`  ${records.toLocaleString('en-US')} records in ${seconds.toFixed(1)} s; ${stats.exportRequests} export calls; 429s: ${JSON.stringify(stats.throttled)}`);
    if (failed.length > 0) say(`  not succeeded: ${failed.join('; ')}`);
    if (records !== expected) say(`  stored ${records} of ${expected} records`);
    return {
      bench: 'sync-zendesk',
      metric: 'records/hour',
      value: Math.round(perHour),
      baseline: `incremental-export ceiling: ${exportsPerMinute} calls/min × ${exportPageSize} records per call, emulator clock ×${timeScale}`,
      baselineValue: ceiling,
      ratio: Number((perHour / ceiling).toFixed(3)),
      records,
      expected,
      seconds: Number(seconds.toFixed(1)),
      exportCalls: stats.exportRequests,
      throttled429: stats.throttled.export + stats.throttled.plan,
      failedStreams: failed.length,
      database: where,
    };
  } finally {
    await db.close();
    await emulator.stop();
  }
}
