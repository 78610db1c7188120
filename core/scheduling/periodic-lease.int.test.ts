/**
 * Leases of background rounds, on both databases: one holder at a time, renewed by its holder,
 * taken over after expiry or release; and the summary refresh run by one process of several.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { createLogger } from '../log/index.ts';
import { scheduleSummaryRefresh } from '../panels/summary-refresh.ts';
import type { SqlSession } from '../store/index.ts';
import { releasePeriodicLease, takePeriodicLease } from './periodic-lease.ts';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds, for at most 10 s (rounds on a busy shared database can be slow). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !done(); await pause(20)) if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
}

describeOnTestDatabases('periodic leases', (db) => {
  it('lets one holder at a time run, renews the holder, and hands over after expiry or release', async () => {
    const sql = db().sql;
    expect(await takePeriodicLease(sql, 'test round', 'a', 200)).toBe(true);
    expect(await takePeriodicLease(sql, 'test round', 'b', 200)).toBe(false);
    expect(await takePeriodicLease(sql, 'test round', 'a', 200)).toBe(true);
    expect(await takePeriodicLease(sql, 'other round', 'b', 200)).toBe(true);
    await pause(300);
    expect(await takePeriodicLease(sql, 'test round', 'b', 60_000)).toBe(true);
    expect(await takePeriodicLease(sql, 'test round', 'a', 60_000)).toBe(false);
    await releasePeriodicLease(sql, 'test round', 'a');
    expect(await takePeriodicLease(sql, 'test round', 'a', 60_000)).toBe(false);
    await releasePeriodicLease(sql, 'test round', 'b');
    expect(await takePeriodicLease(sql, 'test round', 'a', 60_000)).toBe(true);
    await releasePeriodicLease(sql, 'test round', 'a');
    await releasePeriodicLease(sql, 'other round', 'b');
  });

  it('runs the summary refresh in one of two processes, and in the other once the first stops', async () => {
    await seedInstallation(db(), { platform: 'hubspot' });
    const rounds = { a: 0, b: 0 };
    const counting = (who: 'a' | 'b'): SqlSession => ({
      query: (text, params, options) => {
        if (text.includes('select id from tenant order by created_at')) rounds[who]++;
        return db().sql.query(text, params, options);
      },
      transaction: (work) => db().sql.transaction(work),
    });
    const log = createLogger({ level: 'silent', name: 'periodic-lease-test' });
    const a = scheduleSummaryRefresh(counting('a'), testKeyring, 100, log, { owner: 'process a' });
    await until(() => rounds.a >= 1, 'the first round of process a');
    const b = scheduleSummaryRefresh(counting('b'), testKeyring, 100, log, { owner: 'process b' });
    await until(() => rounds.a >= 4, 'three more rounds of process a');
    expect(rounds.b).toBe(0);
    await a.stop();
    const before = rounds.a;
    await until(() => rounds.b >= 2, 'process b taking over');
    expect(rounds.a).toBe(before);
    await b.stop();
    const [left] = await db().sql.query<{ n: number }>(`select count(*)::int as n from periodic_lease where name = 'summary refresh'`);
    expect(left!.n).toBe(0);
  });
});
