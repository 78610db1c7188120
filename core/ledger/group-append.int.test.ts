/**
 * Group commit of ledger appends (panel views): concurrent callers share transactions, each still
 * gets its own committed entry, tenants do not mix, and one refused entry fails only its caller.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../test/support/database.ts';
import type { SqlSession } from '../store/index.ts';
import { createGroupAppender } from './group-append.ts';
import { appendEntries, readEntries, type LedgerExecutor } from './ledger.ts';
import { verifyChain } from './verify.ts';

describeOnTestDatabases('ledger group commit', (db) => {
  const exec: () => LedgerExecutor = () => (sql, params) => db().sql.query(sql, params);
  /** The test database's session, counting the transactions it opens. */
  const counting = (): { sql: SqlSession; transactions: () => number } => {
    let n = 0;
    const sql: SqlSession = {
      query: (text, params) => db().sql.query(text, params),
      transaction: (work) => {
        n += 1;
        return db().sql.transaction(work);
      },
    };
    return { sql, transactions: () => n };
  };

  it('appends 60 concurrent callers of two tenants in fewer transactions, each caller resolving with its own committed entry', async () => {
    const a = await seedInstallation(db());
    const b = await seedInstallation(db());
    const session = counting();
    const appender = createGroupAppender(session.sql);
    const calls = Array.from({ length: 60 }, (_, i) => ({ tenantId: i % 3 === 0 ? b.tenantId : a.tenantId, n: i }));
    const entries = await Promise.all(calls.map((c) => appender.append(c.tenantId, { kind: 'panel.viewed', body: { n: c.n } })));
    entries.forEach((entry, i) => {
      expect(entry.tenantId).toBe(calls[i]!.tenantId);
      expect(entry.body).toEqual({ n: calls[i]!.n });
    });
    expect(session.transactions()).toBeLessThan(calls.length);
    for (const [tenantId, count] of [[a.tenantId, 40], [b.tenantId, 20]] as const) {
      const stored = await readEntries(exec(), tenantId, 0, 100);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      // Callers queued in order, so the chain holds them in the order they called.
      const mine = entries.filter((e) => e.tenantId === tenantId);
      expect(stored.map((e) => e.body.n)).toEqual(mine.map((e) => e.body.n));
      expect(stored.map((e) => e.hash.toString('hex'))).toEqual(mine.map((e) => e.hash.toString('hex')));
      expect(await verifyChain(exec(), tenantId)).toMatchObject({ ok: true, verified: count, firstBreak: null });
    }
  });

  it('refuses an entry the ledger cannot carry at once, without failing the group it would have joined', async () => {
    const { tenantId } = await seedInstallation(db());
    const appender = createGroupAppender(counting().sql);
    const results = await Promise.allSettled([
      appender.append(tenantId, { kind: 'panel.viewed', body: { n: 1 } }),
      appender.append(tenantId, { kind: 'panel.viewed', body: { n: Number.NaN } }),
      appender.append(tenantId, { kind: 'Panel Viewed', body: { n: 3 } }),
      appender.append(tenantId, { kind: 'panel.viewed', body: { n: 4 } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []))).toEqual(['LL_INVALID_INPUT', 'LL_INVALID_INPUT']);
    expect((await readEntries(exec(), tenantId, 0, 10)).map((e) => e.body.n)).toEqual([1, 4]);
  });

  it('fails every caller of a group whose transaction fails, and commits nothing of it', async () => {
    const { tenantId } = await seedInstallation(db());
    let fail = true;
    const failing: SqlSession = {
      query: (text, params) => db().sql.query(text, params),
      transaction: (work) =>
        db().sql.transaction(async (tx) => {
          const result = await work(tx);
          if (fail) throw new Error('the connection dropped before commit');
          return result;
        }),
    };
    const appender = createGroupAppender(failing);
    const results = await Promise.allSettled([1, 2, 3].map((n) => appender.append(tenantId, { kind: 'panel.viewed', body: { n } })));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await readEntries(exec(), tenantId, 0, 10)).toEqual([]);
    // The tenant's queue is free again afterwards: once commits succeed, the next entry is seq 1.
    fail = false;
    const entry = await appender.append(tenantId, { kind: 'panel.viewed', body: { n: 4 } });
    expect(entry.seq).toBe(1);
  });

  it('appends after the head it left in one statement, and under the lock once another writer has moved the head', async () => {
    const { tenantId } = await seedInstallation(db());
    const session = counting();
    const appender = createGroupAppender(session.sql);
    await appender.append(tenantId, { kind: 'panel.viewed', body: { n: 1 } });
    expect(session.transactions()).toBe(1);
    // Its own head: no transaction for the next groups.
    await Promise.all([2, 3, 4].map((n) => appender.append(tenantId, { kind: 'panel.viewed', body: { n } })));
    expect(session.transactions()).toBe(1);
    // Another writer (an ingest, another process) appends: the next group finds the head moved and
    // goes under the lock, after that writer's entry.
    await db().sql.transaction((tx) => appendEntries((text, params) => tx.query(text, params), tenantId, [{ kind: 'install.installed', body: { by: 'other' } }]));
    const after = await appender.append(tenantId, { kind: 'panel.viewed', body: { n: 6 } });
    expect(after.seq).toBe(6);
    expect(session.transactions()).toBe(2);
    const stored = await readEntries(exec(), tenantId, 0, 10);
    expect(stored.map((e) => [e.seq, e.body.n ?? e.body.by])).toEqual([[1, 1], [2, 2], [3, 3], [4, 4], [5, 'other'], [6, 6]]);
    expect(await verifyChain(exec(), tenantId)).toMatchObject({ ok: true, verified: 6, firstBreak: null });
  });

  it('keeps one unbroken chain when two appenders (two processes) and direct appends race on one tenant', async () => {
    const { tenantId } = await seedInstallation(db());
    const first = createGroupAppender(db().sql);
    const second = createGroupAppender(db().sql);
    const calls = Array.from({ length: 120 }, (_, i) => i);
    const results = await Promise.all(
      calls.map((n) =>
        n % 10 === 9
          ? db().sql.transaction(async (tx) => (await appendEntries((text, params) => tx.query(text, params), tenantId, [{ kind: 'panel.viewed', body: { n } }]))[0]!)
          : (n % 2 === 0 ? first : second).append(tenantId, { kind: 'panel.viewed', body: { n } }),
      ),
    );
    const stored = await readEntries(exec(), tenantId, 0, 200);
    expect(stored.map((e) => e.seq)).toEqual(calls.map((n) => n + 1));
    expect(stored.map((e) => e.body.n).sort((a, b) => Number(a) - Number(b))).toEqual(calls);
    // Every caller got the entry that was stored for it.
    expect(results.map((e) => stored.find((s) => s.seq === e.seq)!.body.n)).toEqual(calls);
    expect(await verifyChain(exec(), tenantId)).toMatchObject({ ok: true, verified: 120, firstBreak: null });
  });
});
