/**
 * Tenant-level customer metrics over a period, each with the rows behind it (drill-down):
 *
 * - **customer**: a person — one resolved profile, so records merged into one person (across
 *   installations or mid-period) count once — with at least one revenue activity (a purchase or
 *   payment transaction, or a subscription renewal, with an amount).
 * - **customers at start**: customers whose first revenue came before the period and who were not
 *   lost before it; **new customers**: first revenue inside the period.
 * - **lost** (configurable): `cancellation` — a subscription cancellation inside the period; or
 *   `inactive` — the customer's last activity of any kind lies N days or more before the period's
 *   end, and that N-day mark falls inside the period (so each customer is lost once, when it happens).
 * - **churn rate** = customers at start lost in the period ÷ customers at start (null with none).
 * - **CLV** (historical, per currency) = net revenue (revenue − refunds) from the customers' first
 *   activity up to the period's end ÷ customers in that currency.
 * - **CAC** = acquisition spend in the period ÷ new customers (null without spend or new customers).
 *
 * With `customers` (a segment, or the people of one subject) every figure counts those customers only.
 */
import type { SqlSession } from '../store/sql-session.ts';

export type LostDefinition = { readonly kind: 'cancellation' } | { readonly kind: 'inactive'; readonly days: number };

export interface MetricsRequest {
  readonly tenantId: string;
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  readonly lost: LostDefinition;
  /** Acquisition spend in the period, per currency (from the spend import). */
  readonly spend?: readonly { readonly currency: string; readonly amount: number }[];
  /** Only these customer keys (a segment, a subject's people); every customer when omitted. */
  readonly customers?: readonly string[];
}

export interface TenantMetrics {
  readonly customersAtStart: number;
  readonly newCustomers: number;
  readonly lostCustomers: number;
  readonly churnRate: number | null;
  readonly clv: readonly { readonly currency: string; readonly value: number; readonly customers: number }[];
  readonly cac: readonly { readonly currency: string; readonly value: number }[];
  /** Who is behind each figure: customer ids (profile ids, or the record key of unresolved records). */
  readonly drillDown: { readonly atStart: readonly string[]; readonly new: readonly string[]; readonly lost: readonly string[] };
}

/**
 * One pass over the customers' history: per customer, the first revenue, the last activity and
 * the first cancellation in the period; per customer and currency, the net money (revenue −
 * refunds). $4 keeps only those customer keys (null: all).
 */
const customerHistory = `
  with person_activity as (
    select a.kind, a.category, a.occurred_at, a.amount, trim(a.currency) as currency,
           coalesce(m.profile_id::text, a.installation_id || '/' || a.subject_object_type || '/' || a.subject_external_id) as customer
      from activity a
      left join identity_member m on m.tenant_id = a.tenant_id and m.installation_id = a.installation_id
                                 and m.object_type = a.subject_object_type and m.external_id = a.subject_external_id
     where a.tenant_id = $1 and a.subject_kind = 'person' and a.occurred_at < $3
  )
  select customer, currency, grouping(currency) = 0 as per_currency,
         min(occurred_at) filter (where amount > 0 and ((kind = 'transaction' and category in ('purchase', 'payment')) or (kind = 'subscription' and category = 'renewal'))) as first_revenue,
         max(occurred_at) as last_activity,
         min(occurred_at) filter (where kind = 'subscription' and category = 'cancellation' and occurred_at >= $2) as cancelled_at,
         sum(case when category = 'refund' then -amount else amount end)
           filter (where amount is not null and ((kind = 'transaction' and category in ('purchase', 'payment', 'refund')) or (kind = 'subscription' and category = 'renewal')))::text as net
    from person_activity
   where $4::text[] is null or customer = any($4::text[])
   group by grouping sets ((customer), (customer, currency))
   order by customer collate "C", currency`;

interface HistoryRow {
  readonly customer: string;
  readonly currency: string | null;
  readonly per_currency: boolean;
  readonly first_revenue: string | null;
  readonly last_activity: string;
  readonly cancelled_at: string | null;
  readonly net: string | null;
}

const dayMs = 86_400_000;

export async function tenantMetrics(sql: Pick<SqlSession, 'query'>, request: MetricsRequest): Promise<TenantMetrics> {
  const rows = await sql.query<HistoryRow>(customerHistory, [request.tenantId, request.from.toISOString(), request.to.toISOString(), request.customers ? [...request.customers] : null]);
  const customers = rows.filter((r) => !r.per_currency && r.first_revenue !== null);
  const inPeriod = (at: Date | null): boolean => at !== null && at >= request.from && at < request.to;
  const lostAt = (r: HistoryRow): Date | null =>
    request.lost.kind === 'inactive' ? new Date(new Date(r.last_activity).getTime() + request.lost.days * dayMs) : r.cancelled_at === null ? null : new Date(r.cancelled_at);
  // Lost before the period (inactive too long already): not a customer at its start.
  const lostBefore = (r: HistoryRow): boolean => request.lost.kind === 'inactive' && lostAt(r)! < request.from;
  const atStartRows = customers.filter((r) => new Date(r.first_revenue!) < request.from && !lostBefore(r));
  const atStart = atStartRows.map((r) => r.customer);
  const newOnes = customers.filter((r) => inPeriod(new Date(r.first_revenue!))).map((r) => r.customer);
  const lost = atStartRows.filter((r) => inPeriod(lostAt(r))).map((r) => r.customer);

  const paying = new Set(customers.map((r) => r.customer));
  const perCurrency = new Map<string, { net: number; customers: number }>();
  for (const r of rows) {
    if (!r.per_currency || r.currency === null || r.net === null || !paying.has(r.customer)) continue;
    const total = perCurrency.get(r.currency) ?? { net: 0, customers: 0 };
    perCurrency.set(r.currency, { net: total.net + Number(r.net), customers: total.customers + 1 });
  }
  const clv = [...perCurrency].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, t]) => ({ currency, value: round2(t.net / t.customers), customers: t.customers }));
  const cac = newOnes.length === 0 ? [] : (request.spend ?? []).map((s) => ({ currency: s.currency, value: round2(s.amount / newOnes.length) }));
  return {
    customersAtStart: atStart.length,
    newCustomers: newOnes.length,
    lostCustomers: lost.length,
    churnRate: atStart.length === 0 ? null : round4(lost.length / atStart.length),
    clv,
    cac,
    drillDown: { atStart, new: newOnes, lost },
  };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;
