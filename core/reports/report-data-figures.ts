/**
 * The figures of one scope over one period, aggregated in SQL. One pass over the period's
 * activities (the `activity (tenant_id, occurred_at)` index) groups them twice at once: by kind,
 * category, installation, currency and local day (or week), and by local weekday and hour. Every
 * count, sum, summary total and time chart of the report is derived from that small result; only
 * what needs history beyond the period (customers, open items, first ticket activity) runs its own
 * query, and only when a section asks for it.
 */
import type { SqlSession } from '../store/sql-session.ts';
import { tenantMetrics, type LostDefinition, type TenantMetrics } from './tenant-metrics.ts';
import { scopeFilter, type ReportScope } from './report-data-scope.ts';
import { customerKeySql, QueryParams } from './segments.ts';

type Sql = Pick<SqlSession, 'query'>;

export interface PeriodContext {
  readonly tenantId: string;
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  readonly timeZone: string;
  /** Time charts plot days, or ISO weeks for periods longer than 62 days. */
  readonly bucket: 'day' | 'week';
  readonly lost: LostDefinition;
  /** Installation id → platform. */
  readonly platformOf: ReadonlyMap<string, string>;
}

/** Activities of one kind, category, installation and currency in one local day or week. */
export interface PeriodCell {
  readonly kind: string;
  readonly category: string;
  readonly installationId: string;
  readonly currency: string | null;
  /** `YYYY-MM-DD`: the local day, or the Monday of the local ISO week. */
  readonly bucket: string;
  readonly count: number;
  /** Sum of amounts in ten-thousandths (numeric(20,4) exactly), or null without amounts. */
  readonly amount: bigint | null;
}

export interface PeriodFigures {
  readonly cells: readonly PeriodCell[];
  /** `heat[weekday][hour]`, weekday 0 = Monday, in the report's time zone. */
  readonly heat: readonly (readonly number[])[];
}

// --- Exact money: numeric(20,4) sums as integers of ten-thousandths ---------------------------

const scale = 10_000n;

export function toUnits(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace(/^-/, '').split('.');
  const units = BigInt(whole) * scale + BigInt(`${fraction}0000`.slice(0, 4));
  return negative ? -units : units;
}

/** `1234500n` → `'123.45'`: a decimal string without trailing zeros. */
export function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const fraction = (magnitude % scale).toString().padStart(4, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${magnitude / scale}${fraction ? `.${fraction}` : ''}`;
}

/** Money in (+1) or out (−1) of the tenant's revenue, or 0 when the activity moves none. */
export function revenueSign(kind: string, category: string): 1 | -1 | 0 {
  if (kind === 'transaction' && (category === 'purchase' || category === 'payment')) return 1;
  if (kind === 'subscription' && category === 'renewal') return 1;
  if (kind === 'transaction' && category === 'refund') return -1;
  return 0;
}

/** Signed sums per currency over the cells a pick chooses (sign 0 leaves a cell out). */
export function moneyByCurrency(cells: readonly PeriodCell[], sign: (cell: PeriodCell) => number): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const cell of cells) {
    const s = sign(cell);
    if (s === 0 || cell.currency === null || cell.amount === null) continue;
    totals.set(cell.currency, (totals.get(cell.currency) ?? 0n) + BigInt(s) * cell.amount);
  }
  return new Map([...totals].sort(([a], [b]) => a.localeCompare(b)));
}

// --- Queries ---------------------------------------------------------------------------------

export async function periodFigures(sql: Sql, ctx: PeriodContext, scope: ReportScope): Promise<PeriodFigures> {
  const params = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString(), ctx.timeZone, ctx.bucket);
  const rows = await sql.query<{ kind: string | null; category: string; installation_id: string; currency: string | null; bucket: string; dow: number | null; hour: number; n: number; amount: string | null; heat: number }>(
    `select kind, category, installation_id, currency, bucket, dow, hour, count(*)::int as n, sum(amount)::text as amount, 1 - grouping(dow) as heat
       from (select a.kind, a.category, a.installation_id, trim(a.currency) as currency, a.amount,
                    to_char(date_trunc($5, a.occurred_at at time zone $4), 'YYYY-MM-DD') as bucket,
                    extract(isodow from a.occurred_at at time zone $4)::int as dow,
                    extract(hour from a.occurred_at at time zone $4)::int as hour
               from activity a
              where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3${scopeFilter(scope, params)}) a
      group by grouping sets ((kind, category, installation_id, currency, bucket), (dow, hour))`,
    params.values,
  );
  const heat = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  const cells: PeriodCell[] = [];
  for (const row of rows) {
    if (Number(row.heat) === 1) heat[Number(row.dow) - 1]![Number(row.hour)] = Number(row.n);
    else cells.push({ kind: row.kind!, category: row.category, installationId: row.installation_id, currency: row.currency, bucket: row.bucket, count: Number(row.n), amount: row.amount === null ? null : toUnits(row.amount) });
  }
  return { cells, heat };
}

/** Customers (persons, by profile) with any activity in the period, per country: the person's, else their account's. */
async function activeCustomersByCountry(sql: Sql, ctx: PeriodContext, scope: ReportScope): Promise<{ country: string | null; customers: number }[]> {
  const params = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString());
  const rows = await sql.query<{ country: string | null; customers: number }>(
    `with active as (
       select distinct ${customerKeySql('a.installation_id', 'a.subject_object_type', 'a.subject_external_id')} as customer, m.profile_id,
              a.installation_id, a.subject_object_type as object_type, a.subject_external_id as external_id
         from activity a
         left join identity_member m on m.tenant_id = a.tenant_id and m.installation_id = a.installation_id and m.object_type = a.subject_object_type and m.external_id = a.subject_external_id
        where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3 and a.subject_kind = 'person'${scopeFilter(scope, params)}
     ),
     record as (
       select customer, installation_id, object_type, external_id from active where profile_id is null
       union
       select distinct act.customer, p.installation_id, p.object_type, p.external_id
         from active act join identity_member p on p.tenant_id = $1 and p.profile_id = act.profile_id
     ),
     country as (
       select rec.customer, min(coalesce(nullif(r.canonical -> 'persons' -> 0 ->> 'country', ''), acct.canonical -> 'accounts' -> 0 ->> 'country')) as country
         from record rec
         left join source_record r on r.tenant_id = $1 and r.installation_id = rec.installation_id and r.object_type = rec.object_type and r.external_id = rec.external_id
         left join source_record acct on acct.tenant_id = $1 and acct.installation_id = r.installation_id
               and acct.object_type = r.canonical -> 'persons' -> 0 -> 'account' ->> 'objectType' and acct.external_id = r.canonical -> 'persons' -> 0 -> 'account' ->> 'externalId'
        group by rec.customer
     )
     select country, count(*)::int as customers from country group by country order by count(*) desc, country nulls last`,
    params.values,
  );
  return rows.map((r) => ({ country: r.country, customers: Number(r.customers) }));
}

/** Customers (persons, by profile) with any activity in the period. */
async function activeCustomers(sql: Sql, ctx: PeriodContext, scope: ReportScope): Promise<number> {
  const params = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString());
  const [row] = await sql.query<{ n: number }>(
    `select count(distinct ${customerKeySql('a.installation_id', 'a.subject_object_type', 'a.subject_external_id')})::int as n
       from activity a
       left join identity_member m on m.tenant_id = a.tenant_id and m.installation_id = a.installation_id and m.object_type = a.subject_object_type and m.external_id = a.subject_external_id
      where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3 and a.subject_kind = 'person'${scopeFilter(scope, params)}`,
    params.values,
  );
  return Number(row?.n ?? 0);
}

/** Tickets whose first activity in scope falls in the period. */
async function ticketsOpened(sql: Sql, ctx: PeriodContext, scope: ReportScope): Promise<number> {
  const params = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString());
  const [row] = await sql.query<{ n: number }>(
    `with touched as (
       select distinct a.installation_id, a.driver_object_type, a.driver_external_id from activity a
        where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3 and a.driver_type = 'ticket'${scopeFilter(scope, params)}
     )
     select count(*)::int as n from touched t
      where not exists (select 1 from activity o where o.tenant_id = $1 and o.driver_object_type = t.driver_object_type and o.driver_external_id = t.driver_external_id
                           and o.installation_id = t.installation_id and o.occurred_at < $2${scopeFilter(scope, params, 'o')})`,
    params.values,
  );
  return Number(row?.n ?? 0);
}

/** Drivers (tickets, deals…) whose newest state before the period's end is open, their record not deleted. */
async function openItems(sql: Sql, ctx: PeriodContext, scope: ReportScope): Promise<number> {
  const params = new QueryParams(ctx.tenantId, ctx.to.toISOString());
  const [row] = await sql.query<{ n: number }>(
    `select count(*)::int as n from (
       select distinct on (a.driver_object_type, a.driver_external_id, a.installation_id)
              a.installation_id, a.driver_object_type, a.driver_external_id, (a.attributes -> 'driverState' ->> 'open')::boolean as open
         from activity a
        where a.tenant_id = $1 and a.occurred_at < $2 and a.driver_external_id is not null and a.attributes ? 'driverState'${scopeFilter(scope, params)}
        -- Driver first: the order of the activity_driver_timeline index, so the sort runs per driver.
        order by a.driver_object_type, a.driver_external_id, a.installation_id, a.occurred_at desc, a.id desc
     ) d
     where d.open and not exists (select 1 from source_record r where r.tenant_id = $1 and r.installation_id = d.installation_id and r.object_type = d.driver_object_type
                                     and r.external_id = d.driver_external_id and r.deleted_at is not null)`,
    params.values,
  );
  return Number(row?.n ?? 0);
}

/** Everything a report may ask of one scope, each query run at most once and only when asked. */
export interface ScopeFigures {
  readonly scope: ReportScope;
  period(): Promise<PeriodFigures>;
  activeCustomers(): Promise<number>;
  activeByCountry(): Promise<{ country: string | null; customers: number }[]>;
  ticketsOpened(): Promise<number>;
  openItems(): Promise<number>;
  customerMetrics(): Promise<TenantMetrics>;
}

function once<T>(work: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | null = null;
  return () => (result ??= work());
}

export function scopeFigures(sql: Sql, ctx: PeriodContext, scope: ReportScope, spend: () => Promise<readonly { currency: string; amount: number }[]>): ScopeFigures {
  return {
    scope,
    period: once(() => periodFigures(sql, ctx, scope)),
    activeCustomers: once(() => activeCustomers(sql, ctx, scope)),
    activeByCountry: once(() => activeCustomersByCountry(sql, ctx, scope)),
    ticketsOpened: once(() => ticketsOpened(sql, ctx, scope)),
    openItems: once(() => openItems(sql, ctx, scope)),
    customerMetrics: once(async () =>
      tenantMetrics(sql, { tenantId: ctx.tenantId, from: ctx.from, to: ctx.to, lost: ctx.lost, spend: await spend(), ...(scope.customers ? { customers: scope.customers } : {}) }),
    ),
  };
}
