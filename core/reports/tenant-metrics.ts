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

/** Every person activity with the customer it counts for. */
const customerActivities = `
  with person_activity as (
    select a.id, a.kind, a.category, a.occurred_at, a.amount, trim(a.currency) as currency,
           coalesce(m.profile_id::text, a.installation_id || '/' || a.subject_object_type || '/' || a.subject_external_id) as customer
      from activity a
      left join identity_member m on m.tenant_id = a.tenant_id and m.installation_id = a.installation_id
                                 and m.object_type = a.subject_object_type and m.external_id = a.subject_external_id
     where a.tenant_id = $1 and a.subject_kind = 'person' and a.occurred_at < $3
  ),
  revenue as (
    select customer, occurred_at, currency, amount from person_activity
     where amount is not null and amount > 0
       and ((kind = 'transaction' and category in ('purchase', 'payment')) or (kind = 'subscription' and category = 'renewal'))
  ),
  customer as (
    select customer, min(occurred_at) as first_revenue from revenue group by customer
  ),
  last_seen as (
    select customer, max(occurred_at) as last_activity from person_activity group by customer
  ),
  cancelled as (
    select customer, min(occurred_at) as at from person_activity
     where kind = 'subscription' and category = 'cancellation' and occurred_at >= $2 group by customer
  )`;

export async function tenantMetrics(sql: Pick<SqlSession, 'query'>, request: MetricsRequest): Promise<TenantMetrics> {
  const from = request.from.toISOString();
  const to = request.to.toISOString();
  const inactiveDays = request.lost.kind === 'inactive' ? request.lost.days : null;
  const rows = await sql.query<{ customer: string; first_revenue: string; lost_at: string | null; lost_before: boolean }>(
    `${customerActivities}
     select c.customer, c.first_revenue,
            case when $4::int is null then k.at
                 else l.last_activity + make_interval(days => $4::int) end as lost_at,
            ($4::int is not null and l.last_activity + make_interval(days => $4::int) < $2) as lost_before
       from customer c
       join last_seen l on l.customer = c.customer
       left join cancelled k on k.customer = c.customer
      order by c.customer collate "C"`,
    [request.tenantId, from, to, inactiveDays],
  );
  const inPeriod = (at: string | null): boolean => at !== null && new Date(at) >= request.from && new Date(at) < request.to;
  const atStart = rows.filter((r) => new Date(r.first_revenue) < request.from && !r.lost_before).map((r) => r.customer);
  const startSet = new Set(atStart);
  const newOnes = rows.filter((r) => inPeriod(r.first_revenue)).map((r) => r.customer);
  const lost = rows.filter((r) => startSet.has(r.customer) && inPeriod(r.lost_at)).map((r) => r.customer);

  const clvRows = await sql.query<{ currency: string; net: string; customers: string }>(
    `${customerActivities},
     money as (
       select p.customer, p.currency, case when p.category = 'refund' then -p.amount else p.amount end as net
         from person_activity p join customer c on c.customer = p.customer
        where p.amount is not null and p.currency is not null
          and ((p.kind = 'transaction' and p.category in ('purchase', 'payment', 'refund')) or (p.kind = 'subscription' and p.category = 'renewal'))
     )
     select currency, sum(net)::text as net, count(distinct customer)::text as customers from money
      group by currency order by currency`,
    [request.tenantId, from, to],
  );
  const clv = clvRows.map((r) => ({ currency: r.currency, value: round2(Number(r.net) / Number(r.customers)), customers: Number(r.customers) }));
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
