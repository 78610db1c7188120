/**
 * The shapes every part of the reports shares: what a template declares (sections, metrics,
 * charts, masking), what a run is asked for (period, segment, metrics, locale), what a segment
 * selects, and the report data a run collects — one plain JSON value that every format (HTML, PDF,
 * CSV, JSON) renders and the quality check inspects. Schemas are the source of truth; types are
 * inferred from them.
 */
import { z } from 'zod';
import { activityKinds } from '../model/index.ts';

/** The eight summary types of the account activity summary, each backed by one activity kind. */
export const summaryTypes = [
  'login_history',
  'transaction_history',
  'interaction_log',
  'subscription_usage',
  'profile_changes',
  'notifications',
  'security_alerts',
  'periodic_summary',
] as const;
export type SummaryType = (typeof summaryTypes)[number];

/** The activity kind behind each summary type (the periodic summary reads `custom` activities and the totals of all). */
export const summaryTypeKind = {
  login_history: 'login',
  transaction_history: 'transaction',
  interaction_log: 'interaction',
  subscription_usage: 'subscription',
  profile_changes: 'profile_change',
  notifications: 'notification',
  security_alerts: 'security_alert',
  periodic_summary: 'custom',
} as const satisfies Record<SummaryType, (typeof activityKinds)[number]>;

/** Tenant (or segment, or subject) figures a template can show; the README states each formula. */
export const reportMetrics = [
  'activities',
  'active_customers',
  'customers_at_start',
  'new_customers',
  'lost_customers',
  'churn_rate',
  'revenue',
  'refunds',
  'clv',
  'cac',
  'tickets_opened',
  'open_items',
  'failed_logins',
  'security_alerts',
  'notifications_sent',
] as const;
export type ReportMetric = (typeof reportMetrics)[number];

export const reportCharts = ['activity_over_time', 'revenue_over_time', 'activity_by_kind', 'segment_share', 'activity_heat_map'] as const;
export type ReportChart = (typeof reportCharts)[number];

export const reportLocales = ['en', 'es', 'de'] as const;
export type ReportLocale = (typeof reportLocales)[number];

export const maskingModes = ['none', 'masked', 'anonymized'] as const;
export type MaskingMode = (typeof maskingModes)[number];

/** Who reads a report: the role picks the masking mode a template sets for it. */
export const reportRoles = ['admin', 'analyst', 'agent', 'customer'] as const;
export type ReportRole = (typeof reportRoles)[number];

const Slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter');
const Title = z.string().trim().min(1).max(200);
const Category = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'categories are lower_snake_case');

/** Narrows a section's activities; empty lists mean "all". */
export const SectionFilters = z.strictObject({
  categories: z.array(Category).max(50).default([]),
  platforms: z.array(z.enum(['hubspot', 'salesforce', 'zendesk', 'shopify'])).max(4).default([]),
});
export type SectionFilters = z.infer<typeof SectionFilters>;

export const ReportSection = z.discriminatedUnion('type', [
  /** Headline figures. With `metrics` empty the run's chosen metrics (or the template defaults) are shown. */
  z.strictObject({ type: z.literal('kpis'), title: Title.optional(), metrics: z.array(z.enum(reportMetrics)).max(reportMetrics.length).default([]) }),
  /** One summary type over the period: totals per category and the newest rows (at most `limit`). */
  z.strictObject({ type: z.literal('summary'), summary: z.enum(summaryTypes), title: Title.optional(), limit: z.number().int().min(0).max(500).default(25), filters: SectionFilters.default({ categories: [], platforms: [] }) }),
  z.strictObject({ type: z.literal('chart'), chart: z.enum(reportCharts), title: Title.optional() }),
  /** Customers ranked by a figure, with RFM and churn risk. */
  z.strictObject({ type: z.literal('customers'), title: Title.optional(), sort: z.enum(['monetary', 'frequency', 'recency', 'churn_risk']).default('monetary'), limit: z.number().int().min(1).max(500).default(20) }),
  /** The same metrics for several saved segments side by side. */
  z.strictObject({ type: z.literal('segment_comparison'), title: Title.optional(), segments: z.array(Slug).min(1).max(10), metrics: z.array(z.enum(reportMetrics)).min(1).max(reportMetrics.length) }),
  /** Who is behind a customer metric. */
  z.strictObject({ type: z.literal('drill_down'), title: Title.optional(), metric: z.enum(['customers_at_start', 'new_customers', 'lost_customers']), limit: z.number().int().min(1).max(1000).default(100) }),
  z.strictObject({ type: z.literal('text'), title: Title.optional(), text: z.string().trim().min(1).max(5000) }),
]);
export type ReportSection = z.infer<typeof ReportSection>;

/** When a customer counts as lost (churn): a cancellation in the period, or N days without activity. */
export const LostDefinition = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('cancellation') }),
  z.strictObject({ kind: z.literal('inactive'), days: z.number().int().min(1).max(3650) }),
]);
export type LostDefinition = z.infer<typeof LostDefinition>;

export const TemplateDefinition = z.strictObject({
  title: Title,
  description: z.string().trim().max(2000).default(''),
  sections: z.array(ReportSection).min(1).max(30),
  /** The KPIs shown when a run chooses none. */
  defaultMetrics: z.array(z.enum(reportMetrics)).max(reportMetrics.length).default(['activities', 'active_customers', 'revenue', 'churn_rate']),
  lost: LostDefinition.default({ kind: 'inactive', days: 90 }),
  /** Masking per reader role; a role not named reads `defaultMasking`. */
  masking: z.strictObject({ default: z.enum(maskingModes).default('none'), roles: z.partialRecord(z.enum(reportRoles), z.enum(maskingModes)).default({}) }).default({ default: 'none', roles: {} }),
  /** How old a source's last successful sync may be before the quality check blocks delivery. */
  freshnessHours: z.number().int().min(1).max(24 * 90).default(26),
});
export type TemplateDefinition = z.infer<typeof TemplateDefinition>;
export type TemplateDefinitionInput = z.input<typeof TemplateDefinition>;

export interface ReportTemplate {
  readonly slug: string;
  readonly builtIn: boolean;
  readonly definition: TemplateDefinition;
  readonly updatedAt: Date | null;
}

/** One condition of a segment; a segment is all (or any) of its conditions. */
export const SegmentCondition = z.discriminatedUnion('type', [
  /** Demographic: a person attribute present in the sources (canonical field or attribute key). */
  z.strictObject({ type: z.literal('attribute'), field: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,99}$/), op: z.enum(['equals', 'not_equals', 'contains', 'present']), value: z.string().max(200).optional() }),
  /** Geographic: ISO 3166-1 alpha-2 countries (the person's, else their account's). */
  z.strictObject({ type: z.literal('country'), countries: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1).max(250) }),
  /** Behavioral: RFM scores 1–5 (quintiles over the tenant's customers at the period's end). */
  z.strictObject({ type: z.literal('rfm'), recency: z.tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)]).optional(), frequency: z.tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)]).optional(), monetary: z.tuple([z.number().int().min(1).max(5), z.number().int().min(1).max(5)]).optional() }),
  /** Behavioral: at least `min` (at most `max`) activities of a kind in the last `days` days. */
  z.strictObject({ type: z.literal('activity'), kind: z.enum(activityKinds).optional(), category: Category.optional(), days: z.number().int().min(1).max(3650), min: z.number().int().min(0).default(1), max: z.number().int().min(0).optional() }),
  /** Behavioral: bought a product (a transaction whose attributes name it). */
  z.strictObject({ type: z.literal('product'), product: z.string().trim().min(1).max(200) }),
  /** Source: customers present in a platform. */
  z.strictObject({ type: z.literal('platform'), platforms: z.array(z.enum(['hubspot', 'salesforce', 'zendesk', 'shopify'])).min(1).max(4) }),
]);
export type SegmentCondition = z.infer<typeof SegmentCondition>;

export const SegmentDefinition = z.strictObject({
  name: Title,
  description: z.string().trim().max(2000).default(''),
  match: z.enum(['all', 'any']).default('all'),
  conditions: z.array(SegmentCondition).min(1).max(20),
});
export type SegmentDefinition = z.infer<typeof SegmentDefinition>;
export type SegmentDefinitionInput = z.input<typeof SegmentDefinition>;

/** `2026-10` (a month), `2026-W40` (an ISO week), `2026-10-05` (a day) or `2026-10-01..2026-10-15` (inclusive days), in the run's time zone. */
export const PeriodText = z.string().regex(/^(\d{4}-\d{2}|\d{4}-W\d{2}|\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?)$/, 'a period: 2026-10, 2026-W40, 2026-10-05 or 2026-10-01..2026-10-15');

/** The subject of a single-customer report (the panel's "full report"). */
export const ReportSubject = z.strictObject({
  installationId: z.uuid(),
  kind: z.enum(['person', 'account']),
  objectType: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  externalId: z.string().min(1).max(255),
});
export type ReportSubject = z.infer<typeof ReportSubject>;

/** What a run is asked for: the template's dynamic parameters. */
export const ReportParameters = z.strictObject({
  period: PeriodText,
  segment: Slug.nullish(),
  /** The KPIs to show; the template's defaults when omitted. */
  metrics: z.array(z.enum(reportMetrics)).max(reportMetrics.length).optional(),
  locale: z.enum(reportLocales).default('en'),
  timeZone: z.string().min(1).max(64).default('UTC'),
  role: z.enum(reportRoles).default('admin'),
  subject: ReportSubject.nullish(),
});
export type ReportParameters = z.infer<typeof ReportParameters>;
export type ReportParametersInput = z.input<typeof ReportParameters>;

// --- The collected data ---------------------------------------------------------------------

export interface MoneyFigure {
  readonly currency: string;
  /** Decimal string, as stored (no float rounding). */
  readonly value: string;
}

export type MetricValue =
  | { readonly metric: ReportMetric; readonly kind: 'count'; readonly value: number | null }
  | { readonly metric: ReportMetric; readonly kind: 'ratio'; readonly value: number | null }
  | { readonly metric: ReportMetric; readonly kind: 'money'; readonly value: readonly MoneyFigure[] };

/** One activity row of a summary section, personal fields opened (and masked when the run masks). */
export interface ReportRow {
  readonly occurredAt: string;
  readonly platform: string;
  readonly kind: string;
  readonly category: string;
  readonly summary: string;
  readonly actor: string | null;
  /** Whom it is about: display name and e-mail of the customer. */
  readonly customer: { readonly name: string; readonly email: string | null };
  readonly amount: MoneyFigure | null;
  /** Login and security details when the source has them: ip, device, location, failureReason. */
  readonly details: Readonly<Record<string, string>>;
}

export interface CustomerRow {
  readonly customer: string;
  readonly name: string;
  readonly email: string | null;
  readonly country: string | null;
  readonly recencyDays: number | null;
  readonly frequency: number;
  readonly monetary: readonly MoneyFigure[];
  readonly rfm: { readonly r: number; readonly f: number; readonly m: number } | null;
  readonly churnRisk: { readonly level: string; readonly score: number; readonly reasons: readonly string[] };
}

export interface ChartSeries {
  readonly label: string;
  readonly points: readonly { readonly x: string; readonly y: number }[];
}

export type SectionData =
  | { readonly type: 'kpis'; readonly title: string | null; readonly metrics: readonly MetricValue[] }
  | {
      readonly type: 'summary';
      readonly title: string | null;
      readonly summary: SummaryType;
      /** The section's filters as run: the quality check holds an unfiltered section to the control count exactly. */
      readonly filters: SectionFilters;
      readonly total: number;
      readonly byCategory: readonly { readonly category: string; readonly count: number }[];
      /** Transaction sections: money per currency (refunds negative). */
      readonly amounts: readonly MoneyFigure[];
      readonly rows: readonly ReportRow[];
      readonly truncated: boolean;
    }
  | { readonly type: 'chart'; readonly title: string | null; readonly chart: ReportChart; readonly series: readonly ChartSeries[]; readonly heat?: readonly (readonly number[])[] }
  | { readonly type: 'customers'; readonly title: string | null; readonly sort: string; readonly rows: readonly CustomerRow[] }
  | { readonly type: 'segment_comparison'; readonly title: string | null; readonly columns: readonly { readonly segment: string; readonly name: string; readonly customers: number; readonly metrics: readonly MetricValue[] }[] }
  | { readonly type: 'drill_down'; readonly title: string | null; readonly metric: string; readonly customers: readonly { readonly customer: string; readonly name: string; readonly email: string | null }[]; readonly truncated: boolean }
  | { readonly type: 'text'; readonly title: string | null; readonly text: string };

/** A source's sync state at the time of the run (for the report's footer and the quality check). */
export interface SourceFreshness {
  readonly installationId: string;
  readonly platform: string;
  readonly accountName: string;
  readonly lastSyncedAt: string | null;
  /** Streams whose last run failed or died, or that never completed, with the reason recorded. */
  readonly gaps: readonly { readonly stream: string; readonly status: string; readonly since: string | null; readonly reason: string | null }[];
}

export interface ReportData {
  readonly template: { readonly slug: string; readonly title: string; readonly description: string };
  readonly tenant: { readonly id: string; readonly name: string };
  readonly period: { readonly from: string; readonly to: string; readonly text: string };
  readonly generatedAt: string;
  readonly locale: ReportLocale;
  readonly timeZone: string;
  readonly masking: MaskingMode;
  readonly segment: { readonly slug: string; readonly name: string; readonly customers: number } | null;
  readonly subject: { readonly name: string; readonly email: string | null } | null;
  readonly sections: readonly SectionData[];
  readonly sources: readonly SourceFreshness[];
  /** Independent totals the quality check reconciles the sections against. */
  readonly control: {
    readonly activitiesByKind: Readonly<Record<string, number>>;
    /** Purchases, payments and renewals minus refunds, per currency. */
    readonly revenue: readonly MoneyFigure[];
    /** The same without renewals: what an unfiltered transaction section must show. */
    readonly transactionAmounts: readonly MoneyFigure[];
  };
  readonly freshnessHours: number;
}

// --- How the parts meet ----------------------------------------------------------------------

/** One rendered file of a report run. */
export interface RenderedFile {
  readonly format: 'html' | 'pdf' | 'csv' | 'json';
  readonly contentType: string;
  readonly fileName: string;
  readonly body: Buffer;
}

export interface GeneratedReport {
  /** Masked as the run's role requires (what was rendered). */
  readonly data: ReportData;
  readonly files: readonly RenderedFile[];
}

/** Collects, masks and renders one run (core/reports/generate.ts); the workflow and the CLI call it. */
export type ReportGenerator = (input: {
  readonly tenantId: string;
  readonly templateSlug: string;
  readonly parameters: ReportParameters;
  readonly formats: readonly RenderedFile['format'][];
  readonly onProgress?: (step: string) => void;
}) => Promise<GeneratedReport>;
