/**
 * What a report is built from and what checks it: each installation's sync freshness and gaps
 * (for the footer and the quality check), and control totals counted by their own queries,
 * independently of the sections, so that a section that lost or doubled rows shows up as a
 * mismatch rather than as a plausible number.
 */
import type { SqlSession } from '../store/sql-session.ts';
import type { MoneyFigure, SourceFreshness } from './report-model.ts';
import { fromUnits, toUnits, type PeriodContext } from './report-data-figures.ts';
import { scopeFilter, type ReportScope } from './report-data-scope.ts';
import { moneyActivitySql, QueryParams, signedAmountSql } from './segments.ts';

type Sql = Pick<SqlSession, 'query'>;

/**
 * Per installation (uninstalled ones left out): the oldest last success over its streams, and the
 * streams whose state is failed or dead or that never completed a run, with the recorded error.
 * A gap's `since` is when its failures began: the first failed run after the last success.
 */
export async function sourceFreshness(sql: Sql, tenantId: string): Promise<SourceFreshness[]> {
  const rows = await sql.query<{ id: string; platform: string; display_name: string; last_synced_at: string | null; gaps: { stream: string; status: string; since: string | null; reason: string | null }[] }>(
    `select i.id, i.platform, i.display_name,
            (select min(s.last_success_at) from sync_state s where s.tenant_id = $1 and s.installation_id = i.id) as last_synced_at,
            coalesce((
              select jsonb_agg(jsonb_build_object(
                       'stream', s.stream, 'status', s.status,
                       'since', coalesce((select min(r.started_at) from sync_run r
                                           where r.tenant_id = $1 and r.installation_id = s.installation_id and r.stream = s.stream and r.outcome = 'failed'
                                             and (s.last_success_at is null or r.started_at > s.last_success_at)), s.last_error_at),
                       'reason', coalesce(s.last_error_message, s.last_error_code)) order by s.stream)
                from sync_state s
               where s.tenant_id = $1 and s.installation_id = i.id and (s.status in ('failed', 'dead') or s.last_success_at is null)
            ), '[]'::jsonb) as gaps
       from installation i
      where i.tenant_id = $1 and i.status <> 'uninstalled'
      order by i.platform, i.display_name, i.id`,
    [tenantId],
  );
  return rows.map((r) => ({
    installationId: r.id,
    platform: r.platform,
    accountName: r.display_name,
    lastSyncedAt: r.last_synced_at ? new Date(r.last_synced_at).toISOString() : null,
    gaps: r.gaps.map((g) => ({ stream: g.stream, status: g.status, since: g.since ? new Date(g.since).toISOString() : null, reason: g.reason })),
  }));
}

/** Activities per kind and revenue per currency over the scope and period, each by its own statement. */
export async function controlTotals(sql: Sql, ctx: PeriodContext, scope: ReportScope): Promise<{ activitiesByKind: Record<string, number>; revenue: MoneyFigure[]; transactionAmounts: MoneyFigure[] }> {
  const kindParams = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString());
  const kinds = await sql.query<{ kind: string; n: number }>(
    `select a.kind, count(*)::int as n from activity a
      where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3${scopeFilter(scope, kindParams)}
      group by a.kind order by a.kind`,
    kindParams.values,
  );
  const moneyParams = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString());
  const revenue = await sql.query<{ currency: string; total: string }>(
    `select trim(a.currency) as currency, sum(${signedAmountSql('a')})::text as total from activity a
      where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3 and ${moneyActivitySql('a')} and a.currency is not null${scopeFilter(scope, moneyParams)}
      group by trim(a.currency) order by 1`,
    moneyParams.values,
  );
  const transactionParams = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString());
  const transactions = await sql.query<{ currency: string; total: string }>(
    `select trim(a.currency) as currency, sum(${signedAmountSql('a')})::text as total from activity a
      where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3 and a.kind = 'transaction' and ${moneyActivitySql('a')} and a.currency is not null${scopeFilter(scope, transactionParams)}
      group by trim(a.currency) order by 1`,
    transactionParams.values,
  );
  return {
    activitiesByKind: Object.fromEntries(kinds.map((k) => [k.kind, Number(k.n)])),
    revenue: revenue.map((r) => ({ currency: r.currency, value: fromUnits(toUnits(r.total)) })),
    transactionAmounts: transactions.map((r) => ({ currency: r.currency, value: fromUnits(toUnits(r.total)) })),
  };
}
