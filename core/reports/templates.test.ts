/** The built-in library: every template is a valid definition and together they use what the model offers. */
import { describe, expect, it } from 'vitest';
import { reportCharts, ReportSection, summaryTypes, TemplateDefinition, type ReportTemplate } from './report-model.ts';
import { builtInTemplates, definitionSha256, expandSavedSegments, isBuiltInTemplate, savedSegmentsPlaceholder, segmentComparisonSlug } from './templates.ts';

const sections = builtInTemplates.flatMap((t) => t.definition.sections);
const templateBySlug = (slug: string): ReportTemplate => {
  const template = builtInTemplates.find((t) => t.slug === slug);
  if (!template) throw new Error(`no built-in ${slug}`);
  return template;
};

describe('built-in report templates', () => {
  it('ships the six templates of the library, each a valid, round-trippable definition', () => {
    expect(builtInTemplates.map((t) => t.slug)).toEqual(['account-activity', 'monthly-customer-summary', 'churn-review', 'support-load', 'security-review', 'segment-comparison']);
    for (const template of builtInTemplates) {
      expect(template.builtIn).toBe(true);
      expect(TemplateDefinition.parse(JSON.parse(JSON.stringify(template.definition)))).toEqual(template.definition);
      expect(template.definition.description.length).toBeGreaterThan(20);
      expect(isBuiltInTemplate(template.slug)).toBe(true);
    }
    expect(isBuiltInTemplate('my-report')).toBe(false);
  });

  it('uses every summary type, every chart and every section kind somewhere in the library', () => {
    const summaries = new Set(sections.flatMap((s) => (s.type === 'summary' ? [s.summary] : [])));
    const charts = new Set(sections.flatMap((s) => (s.type === 'chart' ? [s.chart] : [])));
    expect([...summaries].sort()).toEqual([...summaryTypes].sort());
    expect([...charts].sort()).toEqual([...reportCharts].sort());
    const kinds = new Set(sections.map((s) => s.type));
    expect([...kinds].sort()).toEqual([...new Set(ReportSection.options.map((o) => o.shape.type.value))].sort());
  });

  it('the account activity report shows all eight summary types and customers by monetary value', () => {
    const template = templateBySlug('account-activity');
    expect(template.definition.sections.filter((s) => s.type === 'summary')).toHaveLength(summaryTypes.length);
    expect(template.definition.sections).toContainEqual(expect.objectContaining({ type: 'customers', sort: 'monetary' }));
  });

  it('the churn review counts a customer lost after 60 quiet days and ranks by churn risk', () => {
    const { definition } = templateBySlug('churn-review');
    expect(definition.lost).toEqual({ kind: 'inactive', days: 60 });
    expect(definition.sections).toContainEqual(expect.objectContaining({ type: 'customers', sort: 'churn_risk' }));
    expect(definition.sections).toContainEqual(expect.objectContaining({ type: 'drill_down', metric: 'lost_customers' }));
  });

  it('the support load reads only support conversations, and the security review masks for everyone but admins', () => {
    const support = templateBySlug('support-load').definition.sections.find((s) => s.type === 'summary');
    expect(support).toMatchObject({ summary: 'interaction_log', filters: { categories: ['ticket', 'ticket_comment', 'chat', 'email', 'call'], platforms: [] } });
    expect(templateBySlug('security-review').definition.masking).toEqual({ default: 'masked', roles: { admin: 'none' } });
    expect(templateBySlug('account-activity').definition.masking).toEqual({ default: 'none', roles: {} });
  });

  it('the monthly summary shows new, lost, churn, CLV and CAC', () => {
    const kpis = templateBySlug('monthly-customer-summary').definition.sections.find((s) => s.type === 'kpis');
    expect(kpis?.type === 'kpis' ? kpis.metrics : []).toEqual(expect.arrayContaining(['new_customers', 'lost_customers', 'churn_rate', 'clv', 'cac']));
  });
});

describe('segment comparison expansion', () => {
  const template = templateBySlug(segmentComparisonSlug);

  it('puts the first ten saved segments, in name order, in place of the placeholder', () => {
    const saved = Array.from({ length: 12 }, (_, i) => `segment-${String(i).padStart(2, '0')}`).reverse();
    const expanded = expandSavedSegments(template, saved);
    const comparison = expanded.definition.sections.find((s) => s.type === 'segment_comparison');
    expect(comparison?.type === 'segment_comparison' ? comparison.segments : []).toEqual(saved.slice().sort().slice(0, 10));
    expect(JSON.stringify(template.definition)).toContain(savedSegmentsPlaceholder);
    expect(JSON.stringify(expanded.definition)).not.toContain(savedSegmentsPlaceholder);
  });

  it('refuses to run without saved segments (LL_INVALID_INPUT), and leaves other templates alone', () => {
    expect(() => expandSavedSegments(template, [])).toThrow(expect.objectContaining({ code: 'LL_INVALID_INPUT', message: expect.stringMatching(/save a segment/) }));
    const other = templateBySlug('account-activity');
    expect(expandSavedSegments(other, [])).toBe(other);
    // A custom template that happens to reuse the slug pattern is not rewritten.
    const custom = { ...template, builtIn: false };
    expect(expandSavedSegments(custom, ['vip'])).toBe(custom);
  });
});

describe('definition hash', () => {
  it('does not depend on key order and changes with the content', () => {
    const { definition } = templateBySlug('support-load');
    const reordered = Object.fromEntries(Object.entries(definition).reverse()) as TemplateDefinition;
    expect(definitionSha256(reordered)).toBe(definitionSha256(definition));
    expect(definitionSha256({ ...definition, title: 'Other' })).not.toBe(definitionSha256(definition));
    expect(definitionSha256(definition)).toMatch(/^[0-9a-f]{64}$/);
  });
});
