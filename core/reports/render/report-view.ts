/**
 * Report data turned into what the HTML views print: every title chosen, every number, amount
 * and date formatted for the report's locale and time zone, every chart drawn as SVG. The views
 * stay free of logic; this is where the decisions are, and where tests can see them.
 */
import type { MetricValue, ReportData, SectionData, SourceFreshness } from '../report-model.ts';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPercent, reportText, type ReportText } from './i18n.ts';
import { chartSvg } from './report-charts.ts';
import { churnReason } from './churn-reasons.ts';

/** A table cell: its text, an optional muted line below, and how it aligns. */
export interface CellView {
  readonly text: string;
  readonly lines?: readonly string[];
  readonly numeric?: boolean;
  /** Short codes (categories, platforms) that read badly broken over two lines. */
  readonly nowrap?: boolean;
  readonly tone?: string;
}

export interface TableView {
  readonly head: readonly { readonly text: string; readonly numeric?: boolean }[];
  readonly rows: readonly (readonly CellView[])[];
}

export type SectionView =
  | { readonly type: 'kpis'; readonly title: string; readonly tiles: readonly { readonly label: string; readonly values: readonly string[] }[] }
  | { readonly type: 'chart'; readonly title: string; readonly svg: string }
  | { readonly type: 'text'; readonly title: string; readonly paragraphs: readonly string[] }
  | {
      readonly type: 'table';
      readonly title: string;
      readonly subtitle: string | null;
      readonly facts: readonly string[];
      readonly table: TableView | null;
      readonly empty: string | null;
      readonly note: string | null;
    };

export interface ReportView {
  readonly lang: string;
  readonly title: string;
  readonly description: string;
  readonly tenant: string;
  readonly facts: readonly { readonly label: string; readonly value: string }[];
  readonly maskingNote: string | null;
  readonly sections: readonly SectionView[];
  readonly sourcesTitle: string;
  readonly sources: TableView;
  readonly generated: string;
}

const dash = '—';

export function metricValueText(data: ReportData, value: MetricValue): readonly string[] {
  if (value.kind === 'money') return value.value.length === 0 ? [dash] : value.value.map((m) => formatMoney(data.locale, m));
  if (value.value === null) return [dash];
  return [value.kind === 'ratio' ? formatPercent(data.locale, value.value) : formatNumber(data.locale, value.value)];
}

/** The period's last moment: `to` is exclusive (the first instant after the period). */
function periodText(data: ReportData): string {
  const last = new Date(Math.max(Date.parse(data.period.from), Date.parse(data.period.to) - 1)).toISOString();
  const from = formatDate(data.locale, data.timeZone, data.period.from);
  const to = formatDate(data.locale, data.timeZone, last);
  return `${from === to ? from : `${from} – ${to}`} (${data.period.text})`;
}

/** The translation of a data value the texts know (a risk level, a detail key), else the value itself. */
const translated = (names: Readonly<Record<string, string>>, key: string): string => new Map(Object.entries(names)).get(key) ?? key;

function summarySection(data: ReportData, t: ReportText, section: Extract<SectionData, { type: 'summary' }>): SectionView {
  const n = (x: number): string => formatNumber(data.locale, x);
  const facts = [
    t.activitiesTotal(n(section.total), section.total === 1),
    ...section.byCategory.map((c) => `${c.category}: ${n(c.count)}`),
    ...section.amounts.map((m) => formatMoney(data.locale, m)),
  ];
  const rows = section.rows.map((row): CellView[] => {
    const details = Object.entries(row.details).map(([key, value]) => `${translated(t.detailNames, key)}: ${value}`);
    return [
      { text: formatDateTime(data.locale, data.timeZone, row.occurredAt) },
      { text: row.customer.name, lines: row.customer.email ? [row.customer.email] : [] },
      { text: row.summary, lines: [...(row.actor ? [`— ${row.actor}`] : []), ...(details.length > 0 ? [details.join(' · ')] : [])] },
      { text: row.category, nowrap: true },
      { text: row.amount ? formatMoney(data.locale, row.amount) : '', numeric: true, ...(row.amount?.value.startsWith('-') ? { tone: 'negative' } : {}) },
      { text: row.platform, nowrap: true },
    ];
  });
  const c = t.columns;
  return {
    type: 'table',
    title: section.title ?? t.summaryTitles[section.summary],
    subtitle: null,
    facts: section.total === 0 ? [] : facts,
    table: rows.length === 0 ? null : { head: [{ text: c.when }, { text: c.customer }, { text: c.activity }, { text: c.category }, { text: c.amount, numeric: true }, { text: c.source }], rows },
    empty: section.total === 0 ? t.noActivity : null,
    note: section.truncated ? t.showingNewest(n(section.rows.length), n(section.total)) : null,
  };
}

function customersSection(data: ReportData, t: ReportText, section: Extract<SectionData, { type: 'customers' }>): SectionView {
  const c = t.columns;
  const rows = section.rows.map((row): CellView[] => [
    { text: row.name, lines: row.email ? [row.email] : [] },
    { text: row.country ?? dash },
    { text: row.recencyDays === null ? dash : t.daysAgo(formatNumber(data.locale, row.recencyDays)), numeric: true },
    { text: formatNumber(data.locale, row.frequency), numeric: true },
    { text: row.monetary.length === 0 ? dash : row.monetary.map((m) => formatMoney(data.locale, m)).join('\n'), numeric: true },
    { text: row.rfm ? `${row.rfm.r}-${row.rfm.f}-${row.rfm.m}` : dash, nowrap: true },
    { text: `${translated(t.riskLevels, row.churnRisk.level)} (${row.churnRisk.score})`, lines: row.churnRisk.reasons.map((reason) => churnReason(data.locale, reason)), tone: `risk-${row.churnRisk.level}` },
  ]);
  return {
    type: 'table',
    title: section.title ?? t.sectionTitles.customers,
    subtitle: translated(t.customerSorts, section.sort),
    facts: [],
    table: rows.length === 0 ? null : {
      head: [{ text: c.customer }, { text: c.country }, { text: c.recency, numeric: true }, { text: c.frequency, numeric: true }, { text: c.monetary, numeric: true }, { text: c.rfm }, { text: c.churnRisk }],
      rows,
    },
    empty: rows.length === 0 ? t.noCustomers : null,
    note: null,
  };
}

function segmentSection(data: ReportData, t: ReportText, section: Extract<SectionData, { type: 'segment_comparison' }>): SectionView {
  const metrics = [...new Set(section.columns.flatMap((column) => column.metrics.map((m) => m.metric)))];
  const rows = metrics.map((metric): CellView[] => [
    { text: t.metricNames[metric] },
    ...section.columns.map((column) => {
      const value = column.metrics.find((m) => m.metric === metric);
      return { text: value ? metricValueText(data, value).join('\n') : dash, numeric: true };
    }),
  ]);
  return {
    type: 'table',
    title: section.title ?? t.sectionTitles.segmentComparison,
    subtitle: null,
    facts: [],
    table: { head: [{ text: t.columns.metric }, ...section.columns.map((column) => ({ text: `${column.name} (${t.customersInSegment(formatNumber(data.locale, column.customers), column.customers === 1)})`, numeric: true }))], rows },
    empty: null,
    note: null,
  };
}

function drillDownSection(data: ReportData, t: ReportText, section: Extract<SectionData, { type: 'drill_down' }>): SectionView {
  const rows = section.customers.map((c): CellView[] => [{ text: c.name }, { text: c.email ?? dash }]);
  return {
    type: 'table',
    title: section.title ?? translated(t.drillDownTitles, section.metric),
    subtitle: null,
    facts: [],
    table: rows.length === 0 ? null : { head: [{ text: t.columns.name }, { text: t.columns.email }], rows },
    empty: rows.length === 0 ? t.noCustomers : null,
    note: section.truncated ? t.onlyFirst(formatNumber(data.locale, rows.length)) : null,
  };
}

function sectionView(data: ReportData, t: ReportText, section: SectionData): SectionView {
  switch (section.type) {
    case 'kpis':
      return { type: 'kpis', title: section.title ?? t.sectionTitles.kpis, tiles: section.metrics.map((m) => ({ label: t.metricNames[m.metric], values: metricValueText(data, m) })) };
    case 'chart': {
      const title = section.title ?? t.chartTitles[section.chart];
      return { type: 'chart', title, svg: chartSvg(data.locale, t, title, section) };
    }
    case 'text':
      return { type: 'text', title: section.title ?? t.sectionTitles.text, paragraphs: section.text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean) };
    case 'summary':
      return summarySection(data, t, section);
    case 'customers':
      return customersSection(data, t, section);
    case 'segment_comparison':
      return segmentSection(data, t, section);
    case 'drill_down':
      return drillDownSection(data, t, section);
  }
}

function sourcesTable(data: ReportData, t: ReportText, sources: readonly SourceFreshness[]): TableView {
  const when = (iso: string): string => formatDateTime(data.locale, data.timeZone, iso);
  return {
    head: [{ text: t.columns.platform }, { text: t.columns.account }, { text: t.columns.lastSynced }, { text: t.columns.gaps }],
    rows: sources.map((s) => [
      { text: s.platform },
      { text: s.accountName },
      { text: s.lastSyncedAt ? when(s.lastSyncedAt) : t.neverSynced },
      s.gaps.length === 0
        ? { text: t.complete }
        : { text: s.gaps.map((g) => `${g.stream}: ${g.status}${g.since ? ` ${t.since} ${when(g.since)}` : ''}`).join('\n'), lines: s.gaps.flatMap((g) => (g.reason ? [g.reason] : [])), tone: 'negative' },
    ]),
  };
}

export function reportView(data: ReportData): ReportView {
  const t = reportText(data.locale);
  const facts = [
    { label: t.period, value: periodText(data) },
    ...(data.segment ? [{ label: t.segment, value: `${data.segment.name} (${t.customersInSegment(formatNumber(data.locale, data.segment.customers), data.segment.customers === 1)})` }] : []),
    ...(data.subject ? [{ label: t.subject, value: data.subject.email ? `${data.subject.name} <${data.subject.email}>` : data.subject.name }] : []),
    { label: t.timeZone, value: data.timeZone },
  ];
  return {
    lang: data.locale,
    title: data.template.title,
    description: data.template.description,
    tenant: data.tenant.name,
    facts,
    maskingNote: data.masking === 'none' ? null : t.masking[data.masking],
    sections: data.sections.map((section) => sectionView(data, t, section)),
    sourcesTitle: t.sources,
    sources: sourcesTable(data, t, data.sources),
    generated: `${t.generated(formatDateTime(data.locale, data.timeZone, data.generatedAt))} (${data.timeZone}) · Ledgerline`,
  };
}
