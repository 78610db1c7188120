/**
 * Many connections on the embedded database at once, each using the extended query protocol with
 * statements of different shapes: every answer belongs to the query that asked it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';

describe('embedded database sessions', () => {
  let embedded: EmbeddedPostgres;
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres({ inMemory: true });
  });
  afterAll(async () => {
    await embedded.stop();
  });

  it('serves concurrent parameterised queries from six connections without mixing their statements', async () => {
    const clients = Array.from({ length: 6 }, () => new pg.Client({ connectionString: embedded.url }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const answers = await Promise.all(
        clients.map(async (client, c) => {
          const got: number[] = [];
          for (let i = 0; i < 60; i++) {
            // Each connection binds a different number of parameters, as the sync queue and the
            // ORM do side by side, and a large page of records arrives in several TCP reads.
            const params = Array.from({ length: c + 1 }, (_, k) => i * 10 + k);
            const sum = params.map((_, k) => `$${k + 1}::int`).join(' + ');
            const padding = 'x'.repeat(c % 2 === 0 ? 300_000 : 10);
            const { rows } = await client.query<{ total: number }>(`select ${sum} + 0 * length($${c + 2}::text) as total`, [...params, padding]);
            got.push(rows[0]!.total);
          }
          return got;
        }),
      );
      answers.forEach((got, c) => {
        const expected = Array.from({ length: 60 }, (_, i) => Array.from({ length: c + 1 }, (_, k) => i * 10 + k).reduce((a, b) => a + b, 0));
        expect(got).toEqual(expected);
      });
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('keeps a transaction to its connection while another connection queries', async () => {
    const a = new pg.Client({ connectionString: embedded.url });
    const b = new pg.Client({ connectionString: embedded.url });
    await a.connect();
    await b.connect();
    try {
      await a.query('create table if not exists session_probe (n int)');
      await a.query('begin');
      await a.query('insert into session_probe values ($1)', [1]);
      const outside = b.query<{ count: string }>('select count(*) from session_probe where n = $1', [1]);
      await a.query('insert into session_probe values ($1)', [1]);
      await a.query('commit');
      expect((await outside).rows[0]!.count).toBe('2');
    } finally {
      await a.end();
      await b.end();
    }
  });
});
