/**
 * `npm run bench -- ledger-verify [--n 500000] [--batch 5000]`
 *
 * Appends N activity entries to one tenant's ledger, then, in the same run and database, reads the
 * same rows in sequence order with exactly the query and decoding verification uses but no hashing
 * (the baseline: how fast the rows can come out), and verifies the chain (re-canonicalising and
 * re-hashing every entry). ratio = verify rows/s ÷ plain read rows/s; 1.0 would mean hashing is free.
 *
 * DATABASE_URL set: a throw-away database on that server. Unset: the embedded PGlite default.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { appendEntries, lastStoredSeq, readEntries, type LedgerExecutor } from '../core/ledger/ledger.ts';
import { verifyChain } from '../core/ledger/verify.ts';
import type { ActivityRecord } from '../core/model/index.ts';
import { clearAttributes, sealPersonalFields } from '../core/privacy/index.ts';
import { activityLedgerBody, type StoredActivity } from '../core/store/bulk-ingest.ts';
import { openPgliteTestDatabase, openPostgresTestDatabase, seedInstallation } from '../test/support/database.ts';
import type { BenchResult } from './run.ts';

const say = (text: string): void => void process.stderr.write(`${text}\n`);

const benchKey = { id: randomUUID(), key: randomBytes(32) };

/** An activity as ingest stores it: personal fields sealed, so bodies are the size they really are. */
function sealedForBench(tenantId: string, installationId: string, activity: ActivityRecord): StoredActivity {
  const binding = { tenantId, installationId, sourceObjectType: activity.source.objectType, sourceExternalId: activity.source.externalId, discriminator: activity.discriminator };
  const personal = sealPersonalFields(benchKey.id, benchKey.key, binding, { summary: activity.summary, actor: activity.actor ?? null, attributes: activity.attributes });
  return { activity, clear: clearAttributes(activity.attributes), personal };
}

export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({ args: argv, options: { n: { type: 'string', default: '500000' }, batch: { type: 'string', default: '5000' } } });
  const n = Number(values.n);
  const batch = Number(values.batch);
  if (!Number.isInteger(n) || n < 1000 || !Number.isInteger(batch) || batch < 100) throw new Error('--n must be an integer ≥ 1000 and --batch ≥ 100');
  const server = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite';
  say(`ledger-verify: ${n.toLocaleString('en-US')} entries on ${server}`);
  const db = process.env.DATABASE_URL ? await openPostgresTestDatabase() : await openPgliteTestDatabase();
  try {
    const { tenantId, installationId } = await seedInstallation(db, { platform: 'scripted' });
    const appendStart = performance.now();
    for (let from = 0; from < n; from += 5000) {
      const inputs = Array.from({ length: Math.min(5000, n - from) }, (_, k) => {
        const i = from + k;
        return {
          kind: 'activity',
          body: activityLedgerBody(installationId, String(i + 1), sealedForBench(tenantId, installationId, {
            kind: 'interaction',
            category: i % 3 === 0 ? 'email' : 'call',
            occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
            subject: { kind: 'person', objectType: 'contact', externalId: String(1_000_000 + (i % 50_000)) },
            driver: i % 4 === 0 ? { type: 'ticket', objectType: 'ticket', externalId: String(4_000_000 + (i % 9_000)) } : null,
            source: { objectType: 'call', externalId: String(5_000_000 + i) },
            discriminator: 'main',
            amount: i % 10 === 0 ? { value: `${(i % 997) + 0.5}`, currency: 'EUR' } : null,
            summary: `Call (outbound, ${i % 45} min): follow-up on order ${i}`,
            actor: `HubSpot owner ${100 + (i % 7)}`,
            attributes: { direction: i % 2 === 0 ? 'outbound' : 'inbound', status: 'COMPLETED' },
          })),
        };
      });
      await db.sql.transaction((tx) => appendEntries((sql, params) => tx.query(sql, params), tenantId, inputs));
    }
    say(`appended in ${((performance.now() - appendStart) / 1000).toFixed(1)} s`);
    const exec: LedgerExecutor = (sql, params) => db.sql.query(sql, params);

    // The walk verification makes, without the hashing: the same ranges, queries and decoding.
    const readAll = async (): Promise<number> => {
      let rows = 0;
      const last = await lastStoredSeq(exec, tenantId);
      for (let after = 0; after < last; after += batch) rows += (await readEntries(exec, tenantId, after, batch)).length;
      return rows;
    };
    await readAll(); // warm the cache for both
    const timed = async <T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> => {
      const start = performance.now();
      const result = await work();
      return { result, ms: performance.now() - start };
    };
    const read1 = await timed(readAll);
    const verify = await timed(() => verifyChain(exec, tenantId, { batchSize: batch }));
    const read2 = await timed(readAll);
    if (read1.result !== n || read2.result !== n) throw new Error(`read ${read1.result} / ${read2.result} rows, appended ${n}`);
    if (!verify.result.ok || verify.result.verified !== n) throw new Error(`verification failed: ${JSON.stringify(verify.result.firstBreak)}`);
    const readRate = n / (((read1.ms + read2.ms) / 2) / 1000);
    const verifyRate = n / (verify.ms / 1000);
    say(`plain read: ${(read1.ms / 1000).toFixed(2)} s and ${(read2.ms / 1000).toFixed(2)} s; verify: ${(verify.ms / 1000).toFixed(2)} s`);
    return {
      bench: 'ledger-verify',
      metric: 'verified entries/s',
      value: Math.round(verifyRate),
      baseline: 'plain sequential read rows/s of the same entries (same query and decoding, no hashing), same run, mean of a read before and after',
      baselineValue: Math.round(readRate),
      ratio: Number((verifyRate / readRate).toFixed(3)),
      entries: n,
      database: server,
    };
  } finally {
    await db.close();
  }
}
