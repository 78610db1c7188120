/**
 * The report bench's baseline: the figures of the monthly account activity report computed by
 * hand-written SQL straight from the tables, nothing rendered and nothing decrypted — counts per
 * kind and category, money per currency, active customers, the customer metrics (customers at
 * start, new, lost after 90 quiet days), the daily activity chart, the weekday × hour heat map, the
 * newest rows of each kind, and the top 20 customers by money with their RFM scores and churn
 * signals. Same definitions as the report (core/reports/segments.ts), written independently.
 */
import type { SqlSession } from '../../core/store/index.ts';

type Sql = Pick<SqlSession, 'query'>;

/** Whom a person activity counts for: the resolved profile, else the record itself. */
const customerKey = `coalesce(m.profile_id::text, a.installation_id || '/' || a.subject_object_type || '/' || a.subject_external_id)`;
const personActivity = `
  select a.id, a.kind, a.category, a.occurred_at, a.amount, a.currency, a.attributes, a.driver_type, a.driver_object_type, a.driver_external_id, ${customerKey} as customer
    from activity a
    left join identity_member m on m.tenant_id = a.tenant_id and m.installation_id = a.installation_id
                               and m.object_type = a.subject_object_type and m.external_id = a.subject_external_id
   where a.tenant_id = $1 and a.subject_kind = 'person'`;
const isMoney = `amount is not null and (((kind = 'transaction' and category in ('purchase', 'payment', 'refund')) or (kind = 'subscription' and category = 'renewal')))`;
const signedAmount = `case when category = 'refund' then -amount else amount end`;
const isRevenue = `((kind = 'transaction' and category in ('purchase', 'payment')) or (kind = 'subscription' and category = 'renewal'))`;

export interface ReportFigures {
  readonly byKindAndCategory: readonly { kind: string; category: string; n: string }[];
  readonly money: readonly { currency: string; revenue: string; refunds: string }[];
  readonly activeCustomers: number;
  readonly customers: { at_start: string; new: string; lost: string };
  readonly daily: readonly { day: string; n: string }[];
  readonly heat: readonly { dow: number; hour: number; n: string }[];
  readonly newestRows: number;
  readonly topCustomers: readonly { customer: string; monetary: string }[];
}

export async function reportFiguresBySql(sql: Sql, tenantId: string, from: Date, to: Date): Promise<ReportFigures> {
  const range = [tenantId, from.toISOString(), to.toISOString()];
  const byKindAndCategory = await sql.query<{ kind: string; category: string; n: string }>(
    `select kind, category, count(*)::text as n from activity where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 group by kind, category order by kind, category`,
    range,
  );
  const money = await sql.query<{ currency: string; revenue: string; refunds: string }>(
    `select trim(currency) as currency,
            coalesce(sum(amount) filter (where ${isRevenue}), 0)::text as revenue,
            coalesce(sum(amount) filter (where kind = 'transaction' and category = 'refund'), 0)::text as refunds
       from activity where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 and amount is not null and currency is not null
      group by 1 order by 1`,
    range,
  );
  const [active] = await sql.query<{ n: string }>(`select count(distinct customer)::text as n from (${personActivity} and a.occurred_at >= $2 and a.occurred_at < $3) p`, range);
  const [customers] = await sql.query<{ at_start: string; new: string; lost: string }>(
    `with p as (${personActivity} and a.occurred_at < $3),
     c as (
       select customer, min(occurred_at) filter (where amount > 0 and ${isRevenue}) as first_revenue,
              max(occurred_at) + interval '90 days' as lost_at
         from p group by customer
     )
     select count(*) filter (where first_revenue < $2 and lost_at >= $2)::text as at_start,
            count(*) filter (where first_revenue >= $2)::text as new,
            count(*) filter (where first_revenue < $2 and lost_at >= $2 and lost_at < $3)::text as lost
       from c where first_revenue is not null`,
    range,
  );
  const daily = await sql.query<{ day: string; n: string }>(
    `select to_char(date_trunc('day', occurred_at at time zone 'UTC'), 'YYYY-MM-DD') as day, count(*)::text as n
       from activity where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 group by 1 order by 1`,
    range,
  );
  const heat = await sql.query<{ dow: number; hour: number; n: string }>(
    `select extract(isodow from occurred_at at time zone 'UTC')::int as dow, extract(hour from occurred_at at time zone 'UTC')::int as hour, count(*)::text as n
       from activity where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 group by 1, 2 order by 1, 2`,
    range,
  );
  // The newest 26 of each kind (25 shown, one more to know there are more), walking the time index backwards.
  const newest = await sql.query<{ id: string }>(
    `select n.id::text from unnest($4::text[]) as k(kind)
       cross join lateral (
         select a.id, a.personal, a.attributes from activity a
          where a.tenant_id = $1 and a.kind = k.kind and a.occurred_at >= $2 and a.occurred_at < $3
          order by a.occurred_at desc, a.id desc limit 26) n`,
    [...range, ['login', 'transaction', 'interaction', 'subscription', 'profile_change', 'notification', 'security_alert', 'custom']],
  );
  // Top customers as of the period's end: RFM over the 365 days before (quintiles by percent rank),
  // the churn signals (last contact, cancellations and refunds in 90 days, tickets), money per currency.
  const topCustomers = await sql.query<{ customer: string; monetary: string }>(
    `with p as (${personActivity} and a.occurred_at < $2),
     c as (
       select customer, max(occurred_at) as last_seen, max(occurred_at) filter (where kind = 'interaction') as last_contact,
              count(*) filter (where occurred_at >= $2::timestamptz - interval '365 days' and kind in ('interaction', 'transaction')) as frequency,
              coalesce(sum(${signedAmount}) filter (where occurred_at >= $2::timestamptz - interval '365 days' and ${isMoney}), 0) as monetary,
              count(*) filter (where kind = 'subscription' and category = 'cancellation' and occurred_at >= $2::timestamptz - interval '90 days') as cancellations,
              count(*) filter (where kind = 'transaction' and category = 'refund' and occurred_at >= $2::timestamptz - interval '90 days') as refunds
         from p group by customer
     ),
     scored as (
       select c.*, least(5, 1 + floor(5 * percent_rank() over (order by last_seen)))::int as r,
              least(5, 1 + floor(5 * percent_rank() over (order by frequency)))::int as f,
              least(5, 1 + floor(5 * percent_rank() over (order by monetary)))::int as m
         from c
     ),
     top as (select * from scored order by monetary desc, customer collate "C" limit 20),
     tickets as (
       select customer, count(*) filter (where opened_at >= $2::timestamptz - interval '30 days') as opened, count(*) filter (where open and priority = 'HIGH') as high_open
         from (select p.customer, min(p.occurred_at) as opened_at,
                      (array_agg((p.attributes -> 'driverState' ->> 'open')::boolean order by p.occurred_at desc) filter (where p.attributes ? 'driverState'))[1] as open,
                      (array_agg(p.attributes ->> 'priority' order by p.occurred_at desc))[1] as priority
                 from p join top t on t.customer = p.customer where p.driver_type = 'ticket'
                group by p.customer, p.driver_object_type, p.driver_external_id) per_ticket
        group by customer
     ),
     money as (
       select p.customer, jsonb_object_agg(p.currency, p.total) as per_currency
         from (select p.customer, trim(p.currency) as currency, sum(${signedAmount}) as total from p join top t on t.customer = p.customer
                where ${isMoney} and p.occurred_at >= $2::timestamptz - interval '365 days' group by 1, 2) p
        group by p.customer
     )
     select t.customer, t.monetary::text, t.frequency, t.last_seen, t.last_contact, t.r, t.f, t.m, t.cancellations, t.refunds,
            coalesce(k.opened, 0) as opened, coalesce(k.high_open, 0) as high_open, mo.per_currency
       from top t left join tickets k on k.customer = t.customer left join money mo on mo.customer = t.customer
      order by t.monetary desc, t.customer collate "C"`,
    [tenantId, to.toISOString()],
  );
  return {
    byKindAndCategory,
    money,
    activeCustomers: Number(active?.n ?? 0),
    customers: customers ?? { at_start: '0', new: '0', lost: '0' },
    daily,
    heat,
    newestRows: newest.length,
    topCustomers,
  };
}
