/**
 * Summary and chart sections. Totals, category counts, money and every chart point come from the
 * period figures (already aggregated); only a summary's newest rows are read as rows, at most its
 * `limit`, with their personal fields opened under each subject's key.
 */
import { activityKinds } from '../model/index.ts';
import { openActivityFields, storedActivityFields, type SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { periodDays, weekStartOf } from './period.ts';
import { fromUnits, moneyByCurrency, revenueSign, toUnits, type PeriodCell, type PeriodContext, type ScopeFigures } from './report-data-figures.ts';
import { personName, scopeFilter, type ReportScope } from './report-data-scope.ts';
import { summaryTypeKind, type ChartSeries, type ReportChart, type ReportRow, type ReportSection, type SectionData } from './report-model.ts';
import { QueryParams } from './segments.ts';

type Sql = Pick<SqlSession, 'query'>;
type SummarySection = Extract<ReportSection, { type: 'summary' }>;

/** The cells a summary section covers: its kind (every kind for the periodic summary), categories and platforms. */
function sectionCells(cells: readonly PeriodCell[], section: SummarySection, platformOf: ReadonlyMap<string, string>): PeriodCell[] {
  const kind = section.summary === 'periodic_summary' ? null : summaryTypeKind[section.summary];
  const { categories, platforms } = section.filters;
  return cells.filter(
    (c) =>
      (kind === null || c.kind === kind) &&
      (categories.length === 0 || categories.includes(c.category)) &&
      (platforms.length === 0 || (platforms as readonly string[]).includes(platformOf.get(c.installationId) ?? '')),
  );
}

interface RowRecord {
  readonly installation_id: string;
  readonly platform: string;
  readonly kind: string;
  readonly category: string;
  readonly occurred_at: string;
  readonly summary: string | null;
  readonly actor: string | null;
  readonly personal: string | null;
  readonly attributes: Record<string, unknown>;
  readonly discriminator: string;
  readonly amount: string | null;
  readonly currency: string | null;
  readonly source_object_type: string;
  readonly source_external_id: string;
  readonly subject_object_type: string;
  readonly subject_external_id: string;
  readonly canonical: { persons?: Parameters<typeof personName>[0][]; accounts?: { name?: string | null }[] } | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' ? String(value) : null);

/** Login and security details as the sources name them: ip, device (or user agent), location (or city, region, country), failure reason. */
export function rowDetails(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
  const place = [attributes.city, attributes.region, attributes.country].map(text).filter((p): p is string => p !== null).join(', ');
  const details: Record<string, string | null> = {
    ip: text(attributes.ip) ?? text(attributes.ipAddress),
    device: text(attributes.device) ?? text(attributes.userAgent),
    location: text(attributes.location) ?? (place || null),
    failureReason: text(attributes.failureReason) ?? text(attributes.reason),
  };
  return Object.fromEntries(Object.entries(details).filter((e): e is [string, string] => e[1] !== null));
}

async function newestRows(sql: Sql, keyring: SubjectKeyring, ctx: PeriodContext, scope: ReportScope, section: SummarySection): Promise<ReportRow[]> {
  // The platform filter as installation ids (null: every installation), so the newest rows are
  // picked from `activity` alone — walking activity_tenant_time backwards — before any join.
  const installations = section.filters.platforms.length === 0 ? null : [...ctx.platformOf].filter(([, platform]) => (section.filters.platforms as readonly string[]).includes(platform)).map(([id]) => id);
  const params = new QueryParams(ctx.tenantId, ctx.from.toISOString(), ctx.to.toISOString(), summaryTypeKind[section.summary], section.filters.categories, installations, section.limit);
  const rows = await sql.query<RowRecord>(
    `select a.installation_id, i.platform, a.kind, a.category, a.occurred_at, a.summary, a.actor, a.personal, a.attributes, a.discriminator,
            a.amount::text as amount, trim(a.currency) as currency, a.source_object_type, a.source_external_id, a.subject_object_type, a.subject_external_id, r.canonical
       from (select a.* from activity a
              where a.tenant_id = $1 and a.occurred_at >= $2 and a.occurred_at < $3 and a.kind = $4
                and (cardinality($5::text[]) = 0 or a.category = any($5::text[])) and ($6::uuid[] is null or a.installation_id = any($6::uuid[]))${scopeFilter(scope, params)}
              order by a.occurred_at desc, a.id desc
              limit $7) a
       join installation i on i.id = a.installation_id and i.tenant_id = $1
       left join source_record r on r.tenant_id = $1 and r.installation_id = a.installation_id and r.object_type = a.subject_object_type and r.external_id = a.subject_external_id
      order by a.occurred_at desc, a.id desc`,
    params.values,
  );
  const exec = (statement: string, values?: readonly unknown[]) => sql.query(statement, values);
  const opened = await openActivityFields(
    exec,
    keyring,
    ctx.tenantId,
    rows.map(storedActivityFields),
  );
  return rows.map((r, i): ReportRow => {
    const person = r.canonical?.persons?.[0];
    const name = personName(person) ?? r.canonical?.accounts?.[0]?.name ?? `${r.subject_object_type} ${r.subject_external_id}`;
    return {
      occurredAt: new Date(r.occurred_at).toISOString(),
      platform: r.platform,
      kind: r.kind,
      category: r.category,
      summary: opened[i]!.summary,
      actor: opened[i]!.actor,
      customer: { name, email: person?.email ?? null },
      amount: r.amount !== null && r.currency !== null ? { currency: r.currency, value: fromUnits(toUnits(r.amount)) } : null,
      details: rowDetails(opened[i]!.attributes),
    };
  });
}

export async function summarySection(sql: Sql, keyring: SubjectKeyring, ctx: PeriodContext, figures: ScopeFigures, section: SummarySection): Promise<SectionData> {
  const cells = sectionCells((await figures.period()).cells, section, ctx.platformOf);
  const byCategory = new Map<string, number>();
  for (const cell of cells) byCategory.set(cell.category, (byCategory.get(cell.category) ?? 0) + cell.count);
  const total = cells.reduce((sum, c) => sum + c.count, 0);
  // Transactions: purchases and payments in, refunds out (what the revenue of the period counts of them).
  const amounts = section.summary === 'transaction_history' ? [...moneyByCurrency(cells, (c) => revenueSign(c.kind, c.category))].map(([currency, units]) => ({ currency, value: fromUnits(units) })) : [];
  // The periodic summary totals every kind but lists the period's `custom` activities.
  const listable = cells.reduce((sum, c) => sum + (c.kind === summaryTypeKind[section.summary] ? c.count : 0), 0);
  const rows = section.limit === 0 || listable === 0 ? [] : await newestRows(sql, keyring, ctx, figures.scope, section);
  return {
    type: 'summary',
    title: section.title ?? null,
    summary: section.summary,
    filters: section.filters,
    total,
    byCategory: [...byCategory].map(([category, count]) => ({ category, count })).sort((a, b) => b.count - a.count || a.category.localeCompare(b.category)),
    amounts,
    rows,
    truncated: listable > rows.length,
  };
}

/** The x values of a time chart: every local day of the period, or the Monday of every ISO week it touches. */
function buckets(ctx: PeriodContext): string[] {
  const days = periodDays(ctx, ctx.timeZone);
  return ctx.bucket === 'day' ? days : [...new Set(days.map(weekStartOf))];
}

function timeSeries(xs: readonly string[], groups: ReadonlyMap<string, ReadonlyMap<string, number>>): ChartSeries[] {
  return [...groups].map(([label, byBucket]) => ({ label, points: xs.map((x) => ({ x, y: byBucket.get(x) ?? 0 })) }));
}

function add(groups: Map<string, Map<string, number>>, label: string, x: string, y: number): void {
  const group = groups.get(label) ?? new Map<string, number>();
  group.set(x, (group.get(x) ?? 0) + y);
  groups.set(label, group);
}

/** Customers per country (top 8 and "other"); customers without a known country read "unknown". */
const topCountries = 8;

export async function chartSection(ctx: PeriodContext, figures: ScopeFigures, section: { readonly chart: ReportChart; readonly title?: string | undefined }): Promise<SectionData> {
  const base = { type: 'chart' as const, title: section.title ?? null, chart: section.chart };
  if (section.chart === 'segment_share') {
    const countries = await figures.activeByCountry();
    const points = countries.slice(0, topCountries).map((c) => ({ x: c.country ?? 'unknown', y: c.customers }));
    const rest = countries.slice(topCountries).reduce((sum, c) => sum + c.customers, 0);
    return { ...base, series: [{ label: 'customers', points: rest > 0 ? [...points, { x: 'other', y: rest }] : points }] };
  }
  const { cells, heat } = await figures.period();
  if (section.chart === 'activity_heat_map') return { ...base, series: [], heat };
  if (section.chart === 'activity_by_kind') {
    const byKind = new Map<string, number>();
    for (const cell of cells) byKind.set(cell.kind, (byKind.get(cell.kind) ?? 0) + cell.count);
    return { ...base, series: [{ label: 'activities', points: activityKinds.filter((k) => byKind.has(k)).map((k) => ({ x: k, y: byKind.get(k)! })) }] };
  }
  const groups = new Map<string, Map<string, number>>();
  if (section.chart === 'activity_over_time') {
    for (const kind of activityKinds) for (const cell of cells) if (cell.kind === kind) add(groups, kind, cell.bucket, cell.count);
  } else {
    const units = new Map<string, Map<string, bigint>>();
    for (const cell of cells) {
      const sign = revenueSign(cell.kind, cell.category);
      if (sign === 0 || cell.currency === null || cell.amount === null) continue;
      const byBucket = units.get(cell.currency) ?? new Map<string, bigint>();
      byBucket.set(cell.bucket, (byBucket.get(cell.bucket) ?? 0n) + BigInt(sign) * cell.amount);
      units.set(cell.currency, byBucket);
    }
    for (const currency of [...units.keys()].sort()) for (const [x, total] of units.get(currency)!) add(groups, currency, x, Number(fromUnits(total)));
  }
  return { ...base, series: timeSeries(buckets(ctx), groups) };
}
