/**
 * Keeps people's summary snapshots current ahead of their panel views: after syncs (and identity
 * runs) change what a summary shows, the snapshots they made out of date — and those of people
 * never summarized yet — are recomputed in the background, most recently changed records first,
 * so a panel normally reads a snapshot instead of every activity. Also drops what no snapshot check
 * needs any more: expired snapshots, and change rows every stored snapshot saw (`compactSummaryChanges`).
 */
import type { Logger } from '../contract/index.ts';
import { toLedgerlineError } from '../errors/index.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import { processOwner, releasePeriodicLease, takePeriodicLease } from '../scheduling/periodic-lease.ts';
import type { SqlSession } from '../store/index.ts';
import { buildSummary, defaultTimelineLimit } from './summary.ts';
import { horizonLock, unchangedSince } from './summary-snapshot.ts';

export interface RefreshResult {
  /** Snapshots computed. */
  readonly refreshed: number;
  /** People whose snapshot is current after the run. */
  readonly current: number;
  /** People still without a current snapshot (the run stopped at its limit, or a write was in flight). */
  readonly remaining: number;
  /** Records whose summary could not be computed, with why (also logged by the background refresh). */
  readonly failed: readonly { readonly record: string; readonly error: string }[];
}

/**
 * Whether record `r` has a current snapshot ($2 the timeline length, $3 now). A scalar subquery,
 * not EXISTS: the planner cannot turn it into a join, so it stays one primary-key probe per record
 * however wrong its estimate of the snapshot table is (a join it misjudged went quadratic).
 */
const hasCurrentSnapshot = `(select count(*) from summary_snapshot s
   where s.tenant_id = r.tenant_id and s.installation_id = r.installation_id and s.object_type = r.object_type and s.external_id = r.external_id
     and s.timeline_limit = $2 and s.valid_until > $3 and ${unchangedSince('s.tenant_id')}) > 0`;

/**
 * People (records whose canonical copy holds a person) without a current snapshot, most recently
 * changed first, after the cursor ($5, $6: the last record of the previous batch of this run).
 */
const staleStatement = `
select r.installation_id, r.object_type, r.external_id, r.last_changed_at::text as changed_at, r.id::text as id from source_record r
 where r.tenant_id = $1 and r.deleted_at is null and r.canonical -> 'persons' -> 0 is not null
   and ($5::timestamptz is null or (r.last_changed_at, r.id) < ($5::timestamptz, $6::bigint))
   and not ${hasCurrentSnapshot}
 order by r.last_changed_at desc, r.id desc
 limit $4`;

/** Recomputes up to `limit` out-of-date person snapshots of one tenant. */
export async function refreshSummaries(
  sql: SqlSession,
  keyring: SubjectKeyring,
  tenantId: string,
  options: { readonly limit?: number; readonly now?: () => Date; readonly stopping?: () => boolean; readonly concurrency?: number; readonly onBatch?: (refreshed: number) => void } = {},
): Promise<RefreshResult> {
  const limit = options.limit ?? 10_000;
  const now = options.now ?? (() => new Date());
  let refreshed = 0;
  // Each record at most once per run (a cursor through the records in the order above): one whose
  // snapshot cannot become current yet (a write to it still in flight) or whose summary fails is
  // not recomputed over and over; one changed during the run is left to the next.
  let cursor: [string | null, string | null] = [null, null];
  const failed: { record: string; error: string }[] = [];
  while (refreshed < limit && !options.stopping?.()) {
    const batch = await sql.query<{ installation_id: string; object_type: string; external_id: string; changed_at: string; id: string }>(staleStatement, [
      tenantId,
      defaultTimelineLimit,
      now().toISOString(),
      Math.min(200, limit - refreshed),
      ...cursor,
    ]);
    if (batch.length === 0) break;
    cursor = [batch.at(-1)!.changed_at, batch.at(-1)!.id];
    // A few at a time: each is one statement and one upsert, so a server pool overlaps them.
    let next = 0;
    const computeNext = async (): Promise<void> => {
      while (next < batch.length && !options.stopping?.()) {
        const record = batch[next++]!;
        const key = `${record.installation_id}/${record.object_type}/${record.external_id}`;
        try {
          await buildSummary(sql, keyring, {
            tenantId,
            installationId: record.installation_id,
            subject: { kind: 'person', objectType: record.object_type, externalId: record.external_id },
            now: now(),
            reportUrl: '',
          });
          refreshed += 1;
        } catch (error) {
          failed.push({ record: key, error: toLedgerlineError(error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, computeNext));
    options.onBatch?.(refreshed);
  }
  const [counts] = await sql.query<{ people: string; current: string }>(
    `select count(*)::text as people,
            count(*) filter (where ${hasCurrentSnapshot})::text as current
       from source_record r where r.tenant_id = $1 and r.deleted_at is null and r.canonical -> 'persons' -> 0 is not null`,
    [tenantId, defaultTimelineLimit, now().toISOString()],
  );
  const people = Number(counts?.people ?? 0);
  const current = Number(counts?.current ?? 0);
  return { refreshed, current, remaining: people - current, failed };
}

/**
 * Drops what no snapshot check needs any more: snapshots past their `valid_until` (never used
 * again; a record nobody views or refreshes ends here within a day), and change rows below the
 * horizon that every stored snapshot saw (every snapshot computed from now on sees them too).
 * The horizon is raised first, under the exclusive lock that storing a snapshot takes shared: once
 * it is raised, every snapshot computed below it is either stored already (so the delete below sees
 * it) or refused. Also drops the change rows of deleted tenants. Returns the change rows dropped.
 */
export async function compactSummaryChanges(sql: SqlSession, now: Date = new Date()): Promise<number> {
  await sql.query(`delete from summary_snapshot where valid_until <= $1`, [now.toISOString()]);
  const horizon = await sql.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock($1)`, [horizonLock]);
    const [row] = await tx.query<{ xid: string }>(`update summary_horizon set xid = greatest(xid, pg_snapshot_xmin(pg_current_snapshot())) returning xid::text`);
    return row!.xid;
  });
  // The change rows of deleted tenants.
  const [orphans] = await sql.query<{ n: string }>(
    `with gone as (delete from summary_change c where not exists (select 1 from tenant t where t.id = c.tenant_id) returning 1) select count(*)::text as n from gone`,
  );
  // In bulk: below the horizon and below the xmin of every snapshot of the tenant, so seen by all
  // of them (a sync's or a first refresh's hundreds of thousands of rows go in one pass here). The
  // floors are materialized: inlined, the planner may evaluate a tenant's minimum once per change
  // row, scanning all its snapshots each time (hours for a 1M-activity backfill).
  const [seenByAll] = await sql.query<{ n: string }>(
    `with floor as materialized (
       select t.id as tenant_id, least($1::xid8, (select min(s.computed_xmin) from summary_snapshot s where s.tenant_id = t.id)) as below from tenant t),
     gone as (delete from summary_change c using floor f where c.tenant_id = f.tenant_id and c.xid < f.below returning 1)
     select count(*)::text as n from gone`,
    [horizon],
  );
  // The rest below the horizon, one by one: gone when every snapshot holding its token saw it. A
  // count, not NOT EXISTS: costed for its first row, that probe scanned every snapshot per change.
  const rows = await sql.query<{ n: string }>(
    `with gone as (
       delete from summary_change c
        where c.xid < $1::xid8
          and (select count(*) from summary_snapshot s
                where s.tenant_id = c.tenant_id and s.tokens @> array[c.token] and not pg_visible_in_snapshot(c.xid, s.computed_snapshot)) = 0
       returning 1)
     select count(*)::text as n from gone`,
    [horizon],
  );
  return Number(orphans?.n ?? 0) + Number(seenByAll?.n ?? 0) + Number(rows[0]?.n ?? 0);
}

/** The lease name of the background summary refresh. */
const refreshLease = 'summary refresh';

/**
 * The background refresh serve and workers run: every tenant, then compaction. Every process
 * schedules it, but a round runs only in the one holding the `summary refresh` lease (taken for
 * three intervals, renewed after each tenant, handed back on stop), so N processes do the work
 * once, not N times; if the holder dies, another takes over once its lease has expired.
 */
export function scheduleSummaryRefresh(sql: SqlSession, keyring: SubjectKeyring, everyMs: number, log: Logger, options: { readonly owner?: string } = {}): Periodic {
  const owner = options.owner ?? processOwner;
  const rounds = runPeriodically('summary refresh', everyMs, log, async (stopping) => {
    const holding = () => takePeriodicLease(sql, refreshLease, owner, 3 * everyMs);
    if (!(await holding())) return;
    for (const { id } of await sql.query<{ id: string }>(`select id from tenant order by created_at`)) {
      if (stopping()) return;
      const { failed, ...result } = await refreshSummaries(sql, keyring, id, { limit: 2_000, stopping });
      if (result.refreshed > 0) log.info({ tenant: id, ...result }, 'summary snapshots refreshed');
      // A panel on such a record computes afresh (and fails the same way, visibly); say which here too.
      if (failed.length > 0) log.error({ tenant: id, failed: failed.slice(0, 20), count: failed.length }, 'summary snapshots could not be computed');
      // A round longer than the lease is renewed as it goes, and ends if another process took over meanwhile.
      if (!(await holding())) return;
    }
    const compacted = await compactSummaryChanges(sql);
    if (compacted > 0) log.debug({ compacted }, 'summary change rows compacted');
  });
  return {
    async stop() {
      await rounds.stop();
      // Not handed back (the database is gone, say): it simply expires, and another process takes over then.
      await releasePeriodicLease(sql, refreshLease, owner).catch((error: unknown) => log.warn({ err: toLedgerlineError(error).message }, 'the summary refresh lease was not handed back'));
    },
  };
}
