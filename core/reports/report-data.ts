/**
 * Collects the data of one report run: the template's sections over the run's period and scope
 * (the tenant, a saved segment, or one subject), the sources' freshness, and control totals for
 * the quality check. Everything is aggregated in SQL; the only rows read as rows are the newest
 * activities a summary section lists. Masking is named here (by the reader's role) and applied
 * afterwards by `maskReportData`.
 *
 * Files: report-data-scope (whom), report-data-figures (the period's aggregates), report-data-metrics
 * (the KPI formulas), report-data-sections (summaries, charts), report-data-customers (customers,
 * drill-down), report-data-sources (freshness, control totals).
 */
import { invalidInput, LedgerlineError } from '../errors/index.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { periodDays, resolvePeriod } from './period.ts';
import { ReportParameters, type ReportData, type ReportMetric, type ReportSection, type ReportTemplate, type SectionData, type SegmentDefinition } from './report-model.ts';
import { drillDownSection, customersSection } from './report-data-customers.ts';
import { scopeFigures, type PeriodContext, type ScopeFigures } from './report-data-figures.ts';
import { metricValues } from './report-data-metrics.ts';
import { customersScope, subjectScope, wholeTenant, type ReportScope } from './report-data-scope.ts';
import { chartSection, summarySection } from './report-data-sections.ts';
import { controlTotals, sourceFreshness } from './report-data-sources.ts';
import { segmentCustomers } from './segments.ts';
import { spendInPeriod } from './spend.ts';

export interface CollectReportInput {
  readonly tenantId: string;
  readonly template: ReportTemplate;
  readonly parameters: ReportParameters;
  /** A saved segment's definition by slug (null when there is none). */
  readonly segments: (slug: string) => Promise<SegmentDefinition | null>;
  readonly now?: Date;
  readonly onProgress?: (step: string) => void;
}

/** Periods longer than this plot weekly points instead of daily ones. */
const maxDailyPoints = 62;

interface RunContext {
  readonly sql: SqlSession;
  readonly keyring: SubjectKeyring;
  readonly input: CollectReportInput;
  readonly parameters: ReportParameters;
  readonly period: PeriodContext;
  /** Memberships and RFM are read as of the period's end, or now for a period still running. */
  readonly asOf: Date;
  readonly figures: ScopeFigures;
}

async function segmentScope(run: Pick<RunContext, 'sql' | 'input' | 'asOf'>, slug: string): Promise<{ scope: ReportScope; name: string; customers: number }> {
  const definition = await run.input.segments(slug);
  if (!definition) throw new LedgerlineError('LL_NOT_FOUND', `no segment '${slug}'`, { details: { field: 'segment' } });
  const customers = await segmentCustomers(run.sql, run.input.tenantId, definition, run.asOf);
  return { scope: await customersScope(run.sql, run.input.tenantId, customers), name: definition.name, customers: customers.length };
}

async function collectSection(run: RunContext, section: ReportSection): Promise<SectionData> {
  const title = section.title ?? null;
  switch (section.type) {
    case 'kpis': {
      const metrics: readonly ReportMetric[] = section.metrics.length > 0 ? section.metrics : (run.parameters.metrics ?? run.input.template.definition.defaultMetrics);
      return { type: 'kpis', title, metrics: await metricValues(run.figures, metrics) };
    }
    case 'summary':
      return summarySection(run.sql, run.keyring, run.period, run.figures, section);
    case 'chart':
      return chartSection(run.period, run.figures, section);
    case 'customers':
      return customersSection(run.sql, run.input.tenantId, run.asOf, run.figures.scope, section);
    case 'drill_down':
      return drillDownSection(run.sql, run.input.tenantId, run.figures, section);
    case 'text':
      return { type: 'text', title, text: section.text };
    case 'segment_comparison': {
      const columns = [];
      for (const slug of section.segments) {
        const segment = await segmentScope(run, slug);
        // Acquisition spend is the tenant's: a segment has no CAC of its own.
        const figures = scopeFigures(run.sql, run.period, segment.scope, () => Promise.resolve([]));
        columns.push({ segment: slug, name: segment.name, customers: segment.customers, metrics: await metricValues(figures, section.metrics) });
      }
      return { type: 'segment_comparison', title, columns };
    }
  }
}

export async function collectReportData(sql: SqlSession, keyring: SubjectKeyring, input: CollectReportInput): Promise<ReportData> {
  const parsed = ReportParameters.safeParse(input.parameters);
  if (!parsed.success) throw invalidInput('parameters', parsed.error.issues);
  const parameters = parsed.data;
  if (parameters.segment && parameters.subject) throw new LedgerlineError('LL_INVALID_INPUT', 'a report covers a segment or one subject, not both', { details: { field: 'subject' } });
  const progress = input.onProgress ?? (() => undefined);
  const now = input.now ?? new Date();
  const { tenantId, template } = input;
  const definition = template.definition;
  const period = resolvePeriod(parameters.period, parameters.timeZone);
  const asOf = new Date(Math.min(period.to.getTime(), now.getTime()));

  const [tenant] = await sql.query<{ name: string }>(`select name from tenant where id = $1`, [tenantId]);
  if (!tenant) throw new LedgerlineError('LL_NOT_FOUND', `no tenant ${tenantId}`, { details: { field: 'tenantId' } });
  const installations = await sql.query<{ id: string; platform: string }>(`select id, platform from installation where tenant_id = $1`, [tenantId]);
  const context: PeriodContext = {
    tenantId,
    from: period.from,
    to: period.to,
    timeZone: parameters.timeZone,
    bucket: periodDays(period, parameters.timeZone).length > maxDailyPoints ? 'week' : 'day',
    lost: definition.lost,
    platformOf: new Map(installations.map((i) => [i.id, i.platform])),
  };

  progress('scope');
  let scope = wholeTenant;
  let segment: ReportData['segment'] = null;
  let subject: ReportData['subject'] = null;
  if (parameters.segment) {
    progress('customers');
    const found = await segmentScope({ sql, input, asOf }, parameters.segment);
    scope = found.scope;
    segment = { slug: parameters.segment, name: found.name, customers: found.customers };
  } else if (parameters.subject) {
    const found = await subjectScope(sql, tenantId, parameters.subject);
    scope = found.scope;
    subject = { name: found.name, email: found.email };
  }
  // Spend is the whole tenant's, so only a tenant-wide report divides it into a CAC.
  const spend = () => (scope.members === null ? spendInPeriod(sql, tenantId, period.from, period.to, parameters.timeZone) : Promise.resolve([]));
  const run: RunContext = { sql, keyring, input, parameters, period: context, asOf, figures: scopeFigures(sql, context, scope, spend) };

  progress('metrics');
  const sections: SectionData[] = [];
  for (const [index, section] of definition.sections.entries()) {
    progress(`sections ${index + 1}/${definition.sections.length}`);
    sections.push(await collectSection(run, section));
  }
  progress('sources');
  const sources = await sourceFreshness(sql, tenantId);
  progress('control');
  const control = await controlTotals(sql, context, scope);

  return {
    template: { slug: template.slug, title: definition.title, description: definition.description },
    tenant: { id: tenantId, name: tenant.name },
    period: { from: period.from.toISOString(), to: period.to.toISOString(), text: period.text },
    generatedAt: now.toISOString(),
    locale: parameters.locale,
    timeZone: parameters.timeZone,
    masking: definition.masking.roles[parameters.role] ?? definition.masking.default,
    segment,
    subject,
    sections,
    sources,
    control,
    freshnessHours: definition.freshnessHours,
  };
}
