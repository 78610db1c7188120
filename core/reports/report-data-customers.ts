/**
 * Customer sections: customers ranked with their RFM figures and churn risk, and the customers
 * behind a customer metric (drill-down). RFM is the segments' definition (as of the period's end:
 * days since the newest activity; interactions and transactions, and net revenue per currency, in
 * the 365 days before), scored over all the tenant's customers; churn risk is the summary panel's
 * rule (`churnRisk`), fed per customer from one aggregation over their history.
 */
import { churnRisk } from '../panels/summary.ts';
import type { SqlSession } from '../store/sql-session.ts';
import type { CustomerRow, ReportSection, SectionData } from './report-model.ts';
import { fromUnits, toUnits, type ScopeFigures } from './report-data-figures.ts';
import { customerProfiles, type ReportScope } from './report-data-scope.ts';
import { moneyActivitySql, personActivityCte, rfmFigureColumns, rfmScoreColumns } from './segments.ts';

type Sql = Pick<SqlSession, 'query'>;
type CustomersSection = Extract<ReportSection, { type: 'customers' }>;
type DrillDownSection = Extract<ReportSection, { type: 'drill_down' }>;

const dayMs = 86_400_000;

interface CustomerFigures {
  readonly customer: string;
  readonly last_activity: string;
  readonly frequency: number;
  readonly r: number;
  readonly f: number;
  readonly m: number;
  readonly last_contact: string | null;
  readonly cancellations: number;
  readonly refunds: number;
  readonly opened: number;
  readonly high_open: number;
  readonly monetary: { currency: string; value: string }[];
}

const orderBy: Record<CustomersSection['sort'], string> = {
  monetary: 'r.monetary desc, r.customer collate "C"',
  frequency: 'r.frequency desc, r.customer collate "C"',
  recency: 'r.last_activity desc, r.customer collate "C"',
  // Churn risk is scored in JavaScript (the panel's rule): every customer in scope is read.
  churn_risk: 'r.customer collate "C"',
};

/**
 * Two passes over the customers' history, both hash aggregations into small results: one per
 * customer and currency (RFM figures, churn signals, monetary per currency — rolled up per
 * customer afterwards), one over ticket activities per customer and ticket (when opened, whether
 * the newest state is open and the newest priority high).
 */
async function customerFigures(sql: Sql, tenantId: string, asOf: Date, scope: ReportScope, sort: CustomersSection['sort'], limit: number | null): Promise<CustomerFigures[]> {
  return sql.query<CustomerFigures>(
    `with ${personActivityCte},
     by_currency as (
       select p.customer, p.currency, ${rfmFigureColumns},
              count(*) filter (where ${moneyActivitySql('p')} and p.occurred_at >= $2::timestamptz - interval '365 days') as money_activities,
              max(p.occurred_at) filter (where p.kind = 'interaction') as last_contact,
              count(*) filter (where p.kind = 'subscription' and p.category = 'cancellation' and p.occurred_at >= $2::timestamptz - interval '90 days') as cancellations,
              count(*) filter (where p.kind = 'transaction' and p.category = 'refund' and p.occurred_at >= $2::timestamptz - interval '90 days') as refunds
         from person_activity p group by p.customer, p.currency
     ),
     figures as (
       select customer, max(last_activity) as last_activity, sum(frequency) as frequency, sum(monetary) as monetary, max(last_contact) as last_contact,
              sum(cancellations)::int as cancellations, sum(refunds)::int as refunds
         from by_currency group by customer
     ),
     r as (select *, ${rfmScoreColumns} from figures),
     ticket as (
       select p.customer, min(p.occurred_at) as opened_at,
              max(p.occurred_at) filter (where p.attributes ? 'driverState') as state_at,
              max(p.occurred_at) filter (where (p.attributes -> 'driverState' ->> 'open')::boolean) as open_at,
              max(p.occurred_at) filter (where p.attributes ->> 'priority' is not null) as priority_at,
              max(p.occurred_at) filter (where upper(p.attributes ->> 'priority') = 'HIGH') as high_at
         from person_activity p where p.driver_type = 'ticket'
        group by p.customer, p.installation_id, p.driver_object_type, p.driver_external_id
     ),
     tickets as (
       select customer, count(*) filter (where opened_at >= $2::timestamptz - interval '30 days')::int as opened,
              count(*) filter (where open_at = state_at and high_at = priority_at)::int as high_open
         from ticket group by customer
     ),
     money as (
       select customer, jsonb_agg(jsonb_build_object('currency', currency, 'value', monetary::text) order by currency) as monetary
         from by_currency where currency is not null and money_activities > 0 group by customer
     )
     select r.customer, r.last_activity, r.frequency::int as frequency, r.r, r.f, r.m, r.last_contact, r.cancellations, r.refunds,
            coalesce(t.opened, 0) as opened, coalesce(t.high_open, 0) as high_open, coalesce(mo.monetary, '[]'::jsonb) as monetary
       from r
       left join tickets t on t.customer = r.customer
       left join money mo on mo.customer = r.customer
      where $3::text[] is null or r.customer = any($3::text[])
      order by ${orderBy[sort]}
      limit $4`,
    [tenantId, asOf.toISOString(), scope.customers, limit],
  );
}

export async function customersSection(sql: Sql, tenantId: string, asOf: Date, scope: ReportScope, section: CustomersSection): Promise<SectionData> {
  const figures = await customerFigures(sql, tenantId, asOf, scope, section.sort, section.sort === 'churn_risk' ? null : section.limit);
  const scored = figures.map((c) => ({
    figures: c,
    risk: churnRisk({
      now: asOf,
      lastContact: c.last_contact ? new Date(c.last_contact) : null,
      lastActivity: new Date(c.last_activity),
      openTickets: Number(c.opened),
      highPriorityOpen: Number(c.high_open),
      cancellations: Number(c.cancellations),
      refunds: Number(c.refunds),
      hasHistory: true,
    }),
  }));
  // Highest risk first; the sort is stable, so equal scores stay in customer-key order.
  const ranked = section.sort === 'churn_risk' ? scored.sort((a, b) => b.risk.score - a.risk.score).slice(0, section.limit) : scored;
  const profiles = await customerProfiles(sql, tenantId, ranked.map((c) => c.figures.customer));
  const rows = ranked.map(({ figures: c, risk }): CustomerRow => {
    const profile = profiles.get(c.customer)!;
    return {
      customer: c.customer,
      name: profile.name,
      email: profile.email,
      country: profile.country,
      recencyDays: Math.floor((asOf.getTime() - new Date(c.last_activity).getTime()) / dayMs),
      frequency: Number(c.frequency),
      monetary: c.monetary.map((m) => ({ currency: m.currency.trim(), value: fromUnits(toUnits(m.value)) })),
      rfm: { r: Number(c.r), f: Number(c.f), m: Number(c.m) },
      churnRisk: risk,
    };
  });
  return { type: 'customers', title: section.title ?? null, sort: section.sort, rows };
}

export async function drillDownSection(sql: Sql, tenantId: string, figures: ScopeFigures, section: DrillDownSection): Promise<SectionData> {
  const { drillDown } = await figures.customerMetrics();
  const keys = section.metric === 'customers_at_start' ? drillDown.atStart : section.metric === 'new_customers' ? drillDown.new : drillDown.lost;
  const shown = keys.slice(0, section.limit);
  const profiles = await customerProfiles(sql, tenantId, shown);
  return {
    type: 'drill_down',
    title: section.title ?? null,
    metric: section.metric,
    customers: shown.map((customer) => ({ customer, name: profiles.get(customer)!.name, email: profiles.get(customer)!.email })),
    truncated: keys.length > shown.length,
  };
}
