/**
 * Leases for background rounds that every serve and worker process schedules but one process at a
 * time is enough for (the summary refresh): a round runs only in the process that holds the
 * lease, which it takes when the lease is free or expired and renews with every round it runs. A
 * process that stops hands the lease back, so another takes over at its next round; one that dies
 * loses it when it expires.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlSession } from '../store/index.ts';

/** This process, as lease holders are named: host, pid and a random part (pids repeat across machines and restarts). */
export const processOwner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

/** Takes or renews lease `name` for `ttlMs` (from the database's clock); false while another holder's lease runs. */
export async function takePeriodicLease(sql: Pick<SqlSession, 'query'>, name: string, owner: string, ttlMs: number): Promise<boolean> {
  const rows = await sql.query(
    `insert into periodic_lease (name, owner, expires_at) values ($1, $2, clock_timestamp() + ($3::double precision * interval '1 millisecond'))
     on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
      where periodic_lease.owner = excluded.owner or periodic_lease.expires_at < clock_timestamp()
     returning 1`,
    [name, owner, ttlMs],
  );
  return rows.length === 1;
}

/** Hands lease `name` back, when `owner` holds it. */
export async function releasePeriodicLease(sql: Pick<SqlSession, 'query'>, name: string, owner: string): Promise<void> {
  await sql.query(`delete from periodic_lease where name = $1 and owner = $2`, [name, owner]);
}
