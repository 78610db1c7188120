/**
 * Tables of the rate governor and the token keeper. They hold cross-process state: every worker
 * and the web server draw from the same platform budget and take the same refresh lease, so it
 * lives in PostgreSQL, never in process memory.
 *
 * Kept here until core/store's migrations land; then this DDL moves into a migration class there.
 */

/** Executes one SQL statement and returns its rows (the store's `execute`, a pg Pool, PGlite). */
export type SqlExecutor = (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>;

export const rateBudgetDdl = [
  `create table if not exists rate_budget (
     installation_id uuid not null,
     -- a policy bucket name, or '*' for the installation-wide block that applies to every bucket
     bucket text not null,
     -- token bucket: up to "capacity" tokens, refilled at capacity per "per_ms" milliseconds
     capacity double precision not null check (capacity > 0),
     per_ms double precision not null check (per_ms > 0),
     -- tokens as of refreshed_at; negative after a request that cost more than the burst (debt)
     tokens double precision not null,
     refreshed_at timestamptz not null default clock_timestamp(),
     blocked_until timestamptz,
     blocked_reason text,
     -- consecutive throttles without Retry-After: the exponent of the backoff
     throttle_streak integer not null default 0,
     primary key (installation_id, bucket)
   )`,
  `create table if not exists token_refresh_lease (
     installation_id uuid primary key,
     owner text not null,
     lease_until timestamptz not null
   )`,
] as const;

/** Creates both tables if missing; for tests and for stores that predate the migration. */
export async function ensureRateBudgetTables(sql: SqlExecutor): Promise<void> {
  for (const statement of rateBudgetDdl) await sql(statement);
}
