/**
 * Fresh databases with the rate governor's tables, on embedded PGlite and (when DATABASE_URL is
 * set) on a real PostgreSQL in a throw-away schema. Stands in until core/store's test helper lands.
 */
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { ensureRateBudgetTables, type SqlExecutor } from '../../core/sync/rate-budget.sql.ts';

export interface RateBudgetDatabase {
  /** A new connection, standing for another process sharing the database. */
  connect(): SqlExecutor;
  close(): Promise<void>;
}

export interface DatabaseVariant {
  readonly label: string;
  /** Why this variant cannot run here; null when it can. */
  readonly skipReason: string | null;
  open(): Promise<RateBudgetDatabase>;
}

async function openPglite(): Promise<RateBudgetDatabase> {
  const db = new PGlite();
  // PGlite is one session: every "connection" shares it, as the embedded server does.
  const sql: SqlExecutor = async (text, params) => (await db.query<Record<string, unknown>>(text, params ? [...params] : [])).rows;
  await ensureRateBudgetTables(sql);
  return { connect: () => sql, close: () => db.close() };
}

async function openPostgres(url: string): Promise<RateBudgetDatabase> {
  const schema = `ll_sync_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const pools: pg.Pool[] = [];
  const connect = (): SqlExecutor => {
    const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 4 });
    pools.push(pool);
    return async (text, params) => (await pool.query<Record<string, unknown>>(text, params ? [...params] : [])).rows;
  };
  await ensureRateBudgetTables(connect());
  return {
    connect,
    async close() {
      await Promise.all(pools.map((p) => p.end()));
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

export function databaseVariants(): DatabaseVariant[] {
  const url = process.env.DATABASE_URL;
  const skipReason = url ? null : 'DATABASE_URL is not set';
  if (skipReason) console.info(`PostgreSQL variant skipped: ${skipReason}`);
  return [
    { label: 'PGlite', skipReason: null, open: openPglite },
    { label: 'PostgreSQL', skipReason, open: () => openPostgres(url!) },
  ];
}
