/**
 * The report as CSV for spreadsheets and scripts: RFC 4180 (CRLF line ends, quotes where needed),
 * UTF-8 with a byte-order mark so spreadsheet apps detect the encoding. One table per section,
 * each with its own header row and a leading `section` column, separated by an empty line.
 * Values are machine-readable, not localized: money as a plain decimal plus a currency column,
 * timestamps in ISO 8601. Cells that a spreadsheet would run as a formula are defused.
 */
import type { MetricValue, ReportData, SectionData } from '../report-model.ts';

type Cell = string | number | null;

interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

const plainNumber = /^-?\d+(\.\d+)?$/;

/**
 * A cell as RFC 4180 text. A leading = + - @ tab or CR makes spreadsheets evaluate the cell (CSV
 * injection), so such text gets a leading apostrophe; plain numbers like -89.90 are left alone.
 */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? String(value) : value;
  const safe = /^[=+\-@\t\r]/.test(text) && !plainNumber.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function metricRows(id: string, value: MetricValue): Cell[][] {
  if (value.kind !== 'money') return [[id, value.metric, value.kind, value.value, null]];
  if (value.value.length === 0) return [[id, value.metric, value.kind, null, null]];
  return value.value.map((money) => [id, value.metric, value.kind, money.value, money.currency]);
}

function sectionName(section: SectionData): string {
  switch (section.type) {
    case 'summary':
      return section.summary;
    case 'chart':
      return section.chart;
    case 'drill_down':
      return section.metric;
    default:
      return section.type;
  }
}

function sectionTables(id: string, section: SectionData): CsvTable[] {
  switch (section.type) {
    case 'kpis':
      return [{ header: ['section', 'metric', 'kind', 'value', 'currency'], rows: section.metrics.flatMap((m) => metricRows(id, m)) }];
    case 'summary':
      return [
        {
          header: ['section', 'category', 'count', 'amount', 'currency'],
          rows: [[id, '*', section.total, null, null], ...section.byCategory.map((c): Cell[] => [id, c.category, c.count, null, null]), ...section.amounts.map((m): Cell[] => [id, '*', null, m.value, m.currency])],
        },
        {
          header: ['section', 'occurred_at', 'platform', 'kind', 'category', 'customer', 'email', 'summary', 'actor', 'amount', 'currency', 'details'],
          rows: section.rows.map((r) => [id, r.occurredAt, r.platform, r.kind, r.category, r.customer.name, r.customer.email, r.summary, r.actor, r.amount?.value ?? null, r.amount?.currency ?? null, Object.keys(r.details).length === 0 ? null : JSON.stringify(r.details)]),
        },
      ];
    case 'chart':
      if (section.chart === 'activity_heat_map') {
        // ISO weekdays (1 = Monday), hours in the report's time zone.
        return [{ header: ['section', 'weekday', 'hour', 'count'], rows: (section.heat ?? []).flatMap((hours, day) => hours.map((count, hour): Cell[] => [id, day + 1, hour, count])) }];
      }
      return [{ header: ['section', 'series', 'x', 'y'], rows: section.series.flatMap((s) => s.points.map((p): Cell[] => [id, s.label, p.x, p.y])) }];
    case 'customers':
      return [
        {
          header: ['section', 'rank', 'customer', 'name', 'email', 'country', 'recency_days', 'frequency', 'monetary', 'currency', 'rfm_r', 'rfm_f', 'rfm_m', 'churn_risk', 'churn_score', 'churn_reasons'],
          // One line per currency the customer paid in; rank and the other figures repeat.
          rows: section.rows.flatMap((r, i) =>
            (r.monetary.length === 0 ? [null] : r.monetary).map((money): Cell[] => [
              id, i + 1, r.customer, r.name, r.email, r.country, r.recencyDays, r.frequency, money?.value ?? null, money?.currency ?? null,
              r.rfm?.r ?? null, r.rfm?.f ?? null, r.rfm?.m ?? null, r.churnRisk.level, r.churnRisk.score, r.churnRisk.reasons.join('; '),
            ]),
          ),
        },
      ];
    case 'segment_comparison':
      return [
        {
          header: ['section', 'segment', 'name', 'customers', 'metric', 'kind', 'value', 'currency'],
          rows: section.columns.flatMap((c) => c.metrics.flatMap((m) => metricRows(id, m).map(([, ...rest]): Cell[] => [id, c.segment, c.name, c.customers, ...rest]))),
        },
      ];
    case 'drill_down':
      return [{ header: ['section', 'customer', 'name', 'email'], rows: section.customers.map((c) => [id, c.customer, c.name, c.email]) }];
    case 'text':
      return [{ header: ['section', 'text'], rows: [[id, section.text]] }];
  }
}

function reportTable(data: ReportData): CsvTable {
  const fields: [string, Cell][] = [
    ['template', data.template.slug],
    ['title', data.template.title],
    ['tenant', data.tenant.name],
    ['period', data.period.text],
    ['period_from', data.period.from],
    ['period_to', data.period.to],
    ['generated_at', data.generatedAt],
    ['locale', data.locale],
    ['time_zone', data.timeZone],
    ['masking', data.masking],
    ['segment', data.segment?.slug ?? null],
    ['subject', data.subject?.name ?? null],
    ['subject_email', data.subject?.email ?? null],
  ];
  return { header: ['section', 'field', 'value'], rows: fields.map(([field, value]) => ['report', field, value]) };
}

function sourcesTable(data: ReportData): CsvTable {
  return {
    header: ['section', 'installation_id', 'platform', 'account', 'last_synced_at', 'gap_stream', 'gap_status', 'gap_since', 'gap_reason'],
    rows: data.sources.flatMap((s) =>
      s.gaps.length === 0
        ? [['sources', s.installationId, s.platform, s.accountName, s.lastSyncedAt, null, null, null, null]]
        : s.gaps.map((g): Cell[] => ['sources', s.installationId, s.platform, s.accountName, s.lastSyncedAt, g.stream, g.status, g.since, g.reason]),
    ),
  };
}

export function renderReportCsv(data: ReportData): Buffer {
  const tables = [
    reportTable(data),
    // Ids like "3-login_history": position first, so two sections of the same kind stay apart.
    ...data.sections.flatMap((section, i) => sectionTables(`${i + 1}-${sectionName(section)}`, section)),
    sourcesTable(data),
  ];
  const text = tables.map((table) => [table.header, ...table.rows].map((row) => `${row.map(csvCell).join(',')}\r\n`).join('')).join('\r\n');
  return Buffer.from(`\uFEFF${text}`, 'utf8');
}
