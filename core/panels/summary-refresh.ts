/**
 * Keeps people's summary snapshots current ahead of their panel views: after syncs (and identity
 * runs) change what a summary shows, the snapshots they made out of date — and those of people
 * never summarized yet — are recomputed in the background, most recently changed records first,
 * so a panel normally reads a snapshot instead of every activity. Also drops the change rows no
 * snapshot check needs any more (all but the newest per record or profile).
 */
import type { Logger } from '../contract/index.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import type { SqlSession } from '../store/index.ts';
import { buildSummary, defaultTimelineLimit } from './summary.ts';

export interface RefreshResult {
  /** Snapshots computed. */
  readonly refreshed: number;
  /** People whose snapshot is current after the run. */
  readonly current: number;
  /** People still without a current snapshot (the run stopped at its limit). */
  readonly remaining: number;
}

/** People (records whose canonical copy holds a person) without a current snapshot, most recently changed first. */
const staleStatement = `
select r.installation_id, r.object_type, r.external_id from source_record r
 where r.tenant_id = $1 and r.deleted_at is null and r.canonical -> 'persons' -> 0 is not null
   and not exists (
     select 1 from summary_snapshot s
      where s.tenant_id = r.tenant_id and s.installation_id = r.installation_id and s.object_type = r.object_type and s.external_id = r.external_id
        and s.timeline_limit = $2 and s.valid_until > $3
        and not exists (select 1 from summary_change c where c.tenant_id = s.tenant_id and c.token = any(s.tokens) and c.xid >= s.computed_xmin))
 order by r.last_changed_at desc, r.id
 limit $4`;

/** Recomputes up to `limit` out-of-date person snapshots of one tenant. */
export async function refreshSummaries(
  sql: SqlSession,
  keyring: SubjectKeyring,
  tenantId: string,
  options: { readonly limit?: number; readonly now?: () => Date; readonly stopping?: () => boolean } = {},
): Promise<RefreshResult> {
  const limit = options.limit ?? 10_000;
  const now = options.now ?? (() => new Date());
  let refreshed = 0;
  while (refreshed < limit && !options.stopping?.()) {
    const batch = await sql.query<{ installation_id: string; object_type: string; external_id: string }>(staleStatement, [tenantId, defaultTimelineLimit, now().toISOString(), Math.min(200, limit - refreshed)]);
    if (batch.length === 0) break;
    for (const record of batch) {
      await buildSummary(sql, keyring, {
        tenantId,
        installationId: record.installation_id,
        subject: { kind: 'person', objectType: record.object_type, externalId: record.external_id },
        now: now(),
        reportUrl: '',
      });
      refreshed += 1;
    }
  }
  const [counts] = await sql.query<{ people: string; current: string }>(
    `select count(*)::text as people,
            count(*) filter (where exists (select 1 from summary_snapshot s
               where s.tenant_id = r.tenant_id and s.installation_id = r.installation_id and s.object_type = r.object_type and s.external_id = r.external_id
                 and s.timeline_limit = $2 and s.valid_until > $3
                 and not exists (select 1 from summary_change c where c.tenant_id = s.tenant_id and c.token = any(s.tokens) and c.xid >= s.computed_xmin)))::text as current
       from source_record r where r.tenant_id = $1 and r.deleted_at is null and r.canonical -> 'persons' -> 0 is not null`,
    [tenantId, defaultTimelineLimit, now().toISOString()],
  );
  const people = Number(counts?.people ?? 0);
  const current = Number(counts?.current ?? 0);
  return { refreshed, current, remaining: people - current };
}

/** Keeps only the newest change per token (a snapshot is out of date when the newest is at or after its xmin), and none of deleted tenants. */
export async function compactSummaryChanges(sql: SqlSession): Promise<number> {
  const rows = await sql.query<{ n: string }>(
    `with gone as (
       delete from summary_change c
        where not exists (select 1 from tenant t where t.id = c.tenant_id)
           or exists (select 1 from summary_change n where n.tenant_id = c.tenant_id and n.token = c.token and (n.xid > c.xid or (n.xid = c.xid and n.ctid > c.ctid)))
       returning 1)
     select count(*)::text as n from gone`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** The background refresh serve and workers run: every tenant, then compaction. */
export function scheduleSummaryRefresh(sql: SqlSession, keyring: SubjectKeyring, everyMs: number, log: Logger): Periodic {
  return runPeriodically('summary refresh', everyMs, log, async (stopping) => {
    for (const { id } of await sql.query<{ id: string }>(`select id from tenant order by created_at`)) {
      if (stopping()) return;
      const result = await refreshSummaries(sql, keyring, id, { limit: 2_000, stopping });
      if (result.refreshed > 0) log.info({ tenant: id, ...result }, 'summary snapshots refreshed');
    }
    const compacted = await compactSummaryChanges(sql);
    if (compacted > 0) log.debug({ compacted }, 'summary change rows compacted');
  });
}
