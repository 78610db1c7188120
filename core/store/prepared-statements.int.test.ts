/**
 * Statements run with `prepared: true`: the same rows as without, parsed the same way; on a
 * PostgreSQL server each pooled connection keeps one named statement per text, while inside a
 * transaction and on the embedded database (one session shared by every connection) nothing is
 * prepared.
 */
import { describe, expect, it } from 'vitest';
import { describeOnTestDatabases, openPostgresTestDatabase } from '../../test/support/database.ts';
import { openDatabase } from './database.ts';

const text = `select $1::int + 1 as next, now() - interval '1 hour' < now() as earlier, '12.5000'::numeric(20, 4) as amount,
                     '{"a": [1, 2]}'::jsonb as doc, '2026-10-01T10:00:00Z'::timestamptz as at`;

describeOnTestDatabases(
  'prepared statements',
  (db) => {
    const prepared = async () => (await db().sql.query<{ name: string; statement: string }>(`select name, statement from pg_prepared_statements`)).filter((p) => p.name.startsWith('ll_'));

    it('answers as an unprepared statement does, for every parameter, parsing values the same way', async () => {
      for (const n of [1, 41, -7]) {
        const [plain] = await db().sql.query(text, [n]);
        const [named] = await db().sql.query(text, [n], { prepared: true });
        expect(named).toEqual(plain);
        expect(named).toMatchObject({ next: n + 1, earlier: true, amount: '12.5000', doc: { a: [1, 2] } });
      }
    });

    it('keeps one named statement per text on a server connection, and none inside a transaction or on the embedded database', async () => {
      const statements = await prepared();
      if (db().embedded) {
        expect(statements).toEqual([]);
        return;
      }
      // One pooled connection here, so the catalogue read sees the statement the test prepared.
      expect(statements).toHaveLength(1);
      expect(statements[0]!.statement).toContain('$1::int + 1 as next');
      await db().sql.query(`${text} -- another text`, [2], { prepared: true });
      expect(await prepared()).toHaveLength(2);
      await db().sql.transaction((tx) => tx.query(`${text} -- in a transaction`, [3], { prepared: true }));
      expect(await prepared()).toHaveLength(2);
    });
  },
  { poolSize: 1 },
);

const noServer = process.env.DATABASE_URL ? null : 'DATABASE_URL is not set, so there is no PostgreSQL server to prepare on';
describe.skipIf(noServer !== null)(`prepared statements turned off${noServer ? ` (skipped: ${noServer})` : ''}`, () => {
  it('prepares nothing when LEDGERLINE_DB_PREPARED_STATEMENTS turns it off (a pooler that cannot keep them)', async () => {
    const server = await openPostgresTestDatabase({ poolSize: 1 });
    const off = await openDatabase({ databaseUrl: server.connectionUrl, poolSize: 1, preparedStatements: false });
    try {
      const [row] = await off.sql.query(text, [5], { prepared: true });
      expect(row).toMatchObject({ next: 6 });
      expect(await off.sql.query(`select name from pg_prepared_statements`)).toEqual([]);
    } finally {
      await off.close();
      await server.close();
    }
  });
});
