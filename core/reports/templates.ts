/**
 * The report template library (built in, the same for every tenant) and the store of a tenant's
 * own templates (table `report_template`). Saving or removing a custom template is a ledger entry
 * appended in the same transaction, so who changed what a report shows stays traceable.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../errors/index.ts';
import { canonicalize } from '../ledger/canonical-json.ts';
import { appendEntries, type LedgerExecutor } from '../ledger/ledger.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { TemplateDefinition, type ReportTemplate, type TemplateDefinitionInput } from './report-model.ts';
import type { TemplateStore } from './reports-service.ts';

/**
 * The built-in `segment-comparison` compares the tenant's saved segments, which no library entry
 * can name in advance: its sections carry this placeholder and the generator puts the tenant's
 * segments in its place at run time (see `expandSavedSegments`).
 */
export const savedSegmentsPlaceholder = 'saved-segments';
export const segmentComparisonSlug = 'segment-comparison';

/** The categories of support work (tickets and the conversations around them). */
const supportCategories = ['ticket', 'ticket_comment', 'chat', 'email', 'call'];

const library: Readonly<Record<string, TemplateDefinitionInput>> = {
  'account-activity': {
    title: 'Account activity report',
    description: 'Everything customers did in the period: headline figures, each kind of activity with its newest rows, when activity happens, and the customers who spend most.',
    sections: [
      { type: 'kpis' },
      { type: 'chart', chart: 'activity_over_time' },
      { type: 'summary', summary: 'periodic_summary' },
      { type: 'summary', summary: 'login_history' },
      { type: 'summary', summary: 'transaction_history' },
      { type: 'summary', summary: 'interaction_log' },
      { type: 'summary', summary: 'subscription_usage' },
      { type: 'summary', summary: 'profile_changes' },
      { type: 'summary', summary: 'notifications' },
      { type: 'summary', summary: 'security_alerts' },
      { type: 'chart', chart: 'activity_heat_map' },
      { type: 'customers', sort: 'monetary', limit: 20 },
    ],
    defaultMetrics: ['activities', 'active_customers', 'revenue', 'refunds', 'churn_rate'],
  },
  'monthly-customer-summary': {
    title: 'Monthly customer summary',
    description: 'How the customer base moved in the month: customers gained and lost, churn, lifetime value and acquisition cost, revenue over time, transactions and interactions, and who the new customers are.',
    sections: [
      { type: 'kpis', metrics: ['customers_at_start', 'new_customers', 'lost_customers', 'churn_rate', 'revenue', 'refunds', 'clv', 'cac'] },
      { type: 'chart', chart: 'revenue_over_time' },
      { type: 'summary', summary: 'transaction_history', limit: 50 },
      { type: 'summary', summary: 'interaction_log' },
      { type: 'drill_down', metric: 'new_customers' },
    ],
    defaultMetrics: ['customers_at_start', 'new_customers', 'lost_customers', 'churn_rate', 'revenue', 'clv', 'cac'],
  },
  'churn-review': {
    title: 'Churn review',
    description: 'Who was lost in the period (60 days without activity), which customers are most at risk now, and how they used their subscriptions and talked to the team.',
    sections: [
      { type: 'kpis', metrics: ['churn_rate', 'customers_at_start', 'lost_customers', 'active_customers'] },
      { type: 'drill_down', metric: 'lost_customers' },
      { type: 'customers', title: 'Customers most at risk', sort: 'churn_risk', limit: 25 },
      { type: 'summary', summary: 'subscription_usage' },
      { type: 'summary', summary: 'interaction_log' },
    ],
    defaultMetrics: ['churn_rate', 'customers_at_start', 'lost_customers', 'active_customers'],
    lost: { kind: 'inactive', days: 60 },
  },
  'support-load': {
    title: 'Support load',
    description: 'Tickets opened and still open, the support conversations of the period, and when and through which kinds of activity the load arrives.',
    sections: [
      { type: 'kpis', metrics: ['tickets_opened', 'open_items', 'activities', 'active_customers'] },
      { type: 'summary', summary: 'interaction_log', title: 'Support conversations', limit: 50, filters: { categories: supportCategories } },
      { type: 'chart', chart: 'activity_heat_map' },
      { type: 'chart', chart: 'activity_by_kind' },
    ],
    defaultMetrics: ['tickets_opened', 'open_items', 'activities', 'active_customers'],
  },
  'security-review': {
    title: 'Security review',
    description: 'Failed logins and security alerts, the login history, changes to customer profiles and the notifications sent. Personal details are masked except for administrators.',
    sections: [
      { type: 'kpis', metrics: ['failed_logins', 'security_alerts', 'notifications_sent'] },
      { type: 'summary', summary: 'security_alerts', limit: 50 },
      { type: 'summary', summary: 'login_history', limit: 50 },
      { type: 'summary', summary: 'profile_changes' },
      { type: 'summary', summary: 'notifications' },
    ],
    defaultMetrics: ['failed_logins', 'security_alerts', 'notifications_sent'],
    masking: { default: 'masked', roles: { admin: 'none' } },
  },
  [segmentComparisonSlug]: {
    title: 'Segment comparison',
    description: "The tenant's saved segments side by side (up to ten).",
    sections: [
      { type: 'text', text: 'This report compares every saved segment of the account (up to ten, in order of their names). Save segments first; the report refuses to run without any.' },
      { type: 'segment_comparison', segments: [savedSegmentsPlaceholder], metrics: ['active_customers', 'activities', 'revenue', 'churn_rate', 'clv'] },
      { type: 'chart', chart: 'segment_share' },
    ],
    defaultMetrics: ['active_customers', 'activities', 'revenue', 'churn_rate'],
  },
};

export const builtInTemplates: readonly ReportTemplate[] = Object.entries(library).map(([slug, definition]) => ({
  slug,
  builtIn: true,
  definition: TemplateDefinition.parse(definition),
  updatedAt: null,
}));

const builtInBySlug = new Map(builtInTemplates.map((t) => [t.slug, t]));

export function isBuiltInTemplate(slug: string): boolean {
  return builtInBySlug.has(slug);
}

/**
 * The template as a run uses it: for the built-in segment comparison, the tenant's saved segments
 * (the first ten) in place of the placeholder. Without saved segments the run cannot mean anything.
 */
export function expandSavedSegments(template: ReportTemplate, savedSlugs: readonly string[]): ReportTemplate {
  if (!template.builtIn || template.slug !== segmentComparisonSlug) return template;
  if (savedSlugs.length === 0) {
    throw new LedgerlineError('LL_INVALID_INPUT', 'segment-comparison compares the saved segments, and this tenant has none: save a segment first', { details: { field: 'segments' } });
  }
  const segments = [...savedSlugs].sort().slice(0, 10);
  const sections = template.definition.sections.map((s) => (s.type === 'segment_comparison' ? { ...s, segments } : s));
  return { ...template, definition: { ...template.definition, sections } };
}

const Slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a template slug is lower-case letters, digits and dashes, starting with a letter');

export function definitionSha256(definition: TemplateDefinition): string {
  return createHash('sha256').update(canonicalize(definition)).digest('hex');
}

/** A stored definition is read back through the schema: a row the schema no longer accepts is reported, not trusted. */
function storedTemplate(row: { slug: string; definition: unknown; updated_at: string | Date }): ReportTemplate {
  const parsed = TemplateDefinition.safeParse(row.definition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LedgerlineError('LL_INTEGRITY', `stored template ${row.slug} no longer fits the template schema: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return { slug: row.slug, builtIn: false, definition: parsed.data, updatedAt: new Date(row.updated_at) };
}

const exec =
  (tx: Pick<SqlSession, 'query'>): LedgerExecutor =>
  (sql, params) =>
    tx.query(sql, params);

function parseSlug(slug: string): string {
  const parsed = Slug.safeParse(slug);
  if (!parsed.success) throw invalidInput('template', parsed.error.issues.map((i) => ({ ...i, path: ['slug'] })));
  return parsed.data;
}

export function createTemplateStore(sql: SqlSession): TemplateStore {
  type Row = { slug: string; definition: unknown; updated_at: string | Date };
  return {
    async list(tenantId) {
      const rows = await sql.query<Row>(`select slug, definition, updated_at from report_template where tenant_id = $1 order by slug`, [tenantId]);
      return [...builtInTemplates, ...rows.map(storedTemplate)];
    },

    async get(tenantId, slug) {
      const builtIn = builtInBySlug.get(slug);
      if (builtIn) return builtIn;
      const [row] = await sql.query<Row>(`select slug, definition, updated_at from report_template where tenant_id = $1 and slug = $2`, [tenantId, slug]);
      return row ? storedTemplate(row) : null;
    },

    async save(tenantId, slug, input, by) {
      parseSlug(slug);
      if (isBuiltInTemplate(slug)) throw new LedgerlineError('LL_CONFLICT', `${slug} is a built-in template and cannot be overwritten: save yours under another slug`, { details: { field: 'slug' } });
      const parsed = TemplateDefinition.safeParse(input);
      if (!parsed.success) throw invalidInput('template', parsed.error.issues);
      const definition = parsed.data;
      const referenced = [...new Set(definition.sections.flatMap((s) => (s.type === 'segment_comparison' ? s.segments : [])))];
      return sql.transaction(async (tx) => {
        if (referenced.length > 0) {
          const found = await tx.query<{ slug: string }>(`select slug from segment where tenant_id = $1 and slug = any($2::text[])`, [tenantId, referenced]);
          const missing = referenced.filter((s) => !found.some((f) => f.slug === s));
          if (missing.length > 0) {
            const index = definition.sections.findIndex((s) => s.type === 'segment_comparison' && s.segments.includes(missing[0]!));
            throw invalidInput('template', [{ path: ['sections', index, 'segments'], message: `no saved segment ${missing.join(', ')}` }]);
          }
        }
        const [row] = await tx.query<Row>(
          `insert into report_template (tenant_id, slug, definition, updated_by) values ($1, $2, $3::jsonb, $4)
           on conflict (tenant_id, slug) do update set definition = excluded.definition, updated_at = now(), updated_by = excluded.updated_by
           returning slug, definition, updated_at`,
          [tenantId, slug, JSON.stringify(definition), by],
        );
        await appendEntries(exec(tx), tenantId, [{ kind: 'template.saved', body: { slug, by, sha256: definitionSha256(definition) } }]);
        return storedTemplate(row!);
      });
    },

    async remove(tenantId, slug, by) {
      if (isBuiltInTemplate(slug)) throw new LedgerlineError('LL_CONFLICT', `${slug} is a built-in template and cannot be removed`, { details: { field: 'slug' } });
      await sql.transaction(async (tx) => {
        const removed = await tx.query(`delete from report_template where tenant_id = $1 and slug = $2 returning slug`, [tenantId, slug]);
        if (removed.length === 0) throw new LedgerlineError('LL_NOT_FOUND', `no template ${slug}`);
        await appendEntries(exec(tx), tenantId, [{ kind: 'template.removed', body: { slug, by } }]);
      });
    },
  };
}
