/**
 * The template editor: a custom template as form fields (title, metrics, churn definition,
 * masking, freshness) plus its sections as JSON. A refused form comes back with the user's input
 * and each message next to the field it is about, with the path inside the JSON (sections.2.type).
 * Built-in templates are never edited, only copied to a custom slug.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { maskingModes, reportMetrics, reportRoles, TemplateDefinition } from '../reports/index.ts';
import type { ReportTemplate } from '../reports/index.ts';
import { consoleActor, fieldErrors, FormList, noticeHref, pageLocals, reportsHref, userFixable } from './report-console-kit.ts';
import type { ConsoleKit, FieldErrors } from './report-console-kit.ts';
import { ReportSlug, requireReports, TemplateParams } from './report-request-schemas.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps, TenantSummary } from './server-deps.ts';

const templateFields = ['slug', 'title', 'description', 'defaultMetrics', 'lost', 'masking', 'freshnessHours', 'sections'];

/** The form as typed; every field a string (or list) so it can be shown back unchanged. */
const TemplateForm = z.object({
  slug: z.string().max(200).catch(''),
  title: z.string().max(1000).catch(''),
  description: z.string().max(5000).catch(''),
  defaultMetrics: FormList.catch([]),
  lostKind: z.string().max(50).catch('inactive'),
  lostDays: z.string().max(20).catch(''),
  maskingDefault: z.string().max(50).catch('none'),
  masking_admin: z.string().max(50).catch(''),
  masking_analyst: z.string().max(50).catch(''),
  masking_agent: z.string().max(50).catch(''),
  masking_customer: z.string().max(50).catch(''),
  freshnessHours: z.string().max(20).catch(''),
  sections: z.string().max(200_000).catch(''),
  /** The template a copy started from, carried through a refused save. */
  from: z.string().max(200).catch(''),
});
type TemplateValues = z.infer<typeof TemplateForm>;
const maskingField = (role: (typeof reportRoles)[number]) => `masking_${role}` as const;

function valuesOf(slug: string, template: ReportTemplate | null): TemplateValues {
  const blank = TemplateForm.parse({});
  if (template === null) return { ...blank, slug, lostDays: '90', freshnessHours: '26', sections: JSON.stringify([{ type: 'kpis' }], null, 2) };
  const d = template.definition;
  return {
    ...blank,
    slug,
    title: d.title,
    description: d.description,
    defaultMetrics: [...d.defaultMetrics],
    lostKind: d.lost.kind,
    lostDays: d.lost.kind === 'inactive' ? String(d.lost.days) : '',
    maskingDefault: d.masking.default,
    masking_admin: d.masking.roles.admin ?? '',
    masking_analyst: d.masking.roles.analyst ?? '',
    masking_agent: d.masking.roles.agent ?? '',
    masking_customer: d.masking.roles.customer ?? '',
    freshnessHours: String(d.freshnessHours),
    sections: JSON.stringify(d.sections, null, 2),
  };
}

/** Whole numbers become numbers; anything else stays text so the schema names the field. */
const wholeNumber = (text: string): number | string => (/^\s*\d{1,9}\s*$/.test(text) ? Number(text) : text);

/** The definition the form describes, or the errors that stop it from being one. */
export function definitionFrom(values: TemplateValues): { ok: true; definition: TemplateDefinition } | { ok: false; errors: FieldErrors } {
  let sections: unknown;
  try {
    sections = JSON.parse(values.sections);
  } catch (error) {
    return { ok: false, errors: { sections: [`sections: not valid JSON (${error instanceof Error ? error.message : String(error)})`] } };
  }
  const roles = Object.fromEntries(reportRoles.flatMap((role) => (values[maskingField(role)] ? [[role, values[maskingField(role)]]] : [])));
  const parsed = TemplateDefinition.safeParse({
    title: values.title,
    description: values.description,
    defaultMetrics: values.defaultMetrics,
    lost: values.lostKind === 'cancellation' ? { kind: 'cancellation' } : { kind: values.lostKind, days: wholeNumber(values.lostDays) },
    masking: { default: values.maskingDefault, roles },
    freshnessHours: wholeNumber(values.freshnessHours),
    sections,
  });
  return parsed.success ? { ok: true, definition: parsed.data } : { ok: false, errors: fieldErrors(parsed.error.issues, templateFields) };
}

const choices = { metrics: reportMetrics, maskingModes, roles: reportRoles };

export function reportTemplateConsoleRoutes(deps: ServerDeps, kit: ConsoleKit): Router {
  const router = express.Router();
  const base = '/tenants/:tenant/reports/templates';
  const form = kit.form('256kb');

  function renderEditor(req: Request, res: Response, tenant: TenantSummary, editing: { slug: string | null; from: string | null }, values: TemplateValues, errors: FieldErrors, status = 200): void {
    const title = editing.slug ? `Edit template ${editing.slug}` : editing.from ? `Copy ${editing.from} to a custom template` : 'New template';
    const action = reportsHref(tenant, editing.slug ? `/templates/${encodeURIComponent(editing.slug)}` : '/templates');
    res.status(status).render('reports-template', { ...pageLocals(req, tenant, 'home', title), editing, action, values, errors, choices });
  }

  router.get(`${base}/new`, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    const from = ReportSlug.safeParse(req.query.from);
    const source = from.success ? await requireReports(deps).templates.get(tenant.id, from.data) : null;
    renderEditor(req, res, tenant, { slug: null, from: source?.slug ?? null }, valuesOf(source ? `${source.slug}-copy` : '', source), {});
  });

  router.post(base, ...form, async (req, res) => {
    const tenant = await kit.tenant(req);
    const values = TemplateForm.parse(req.body);
    const from = ReportSlug.safeParse(values.from);
    const editing = { slug: null, from: from.success ? from.data : null };
    const slug = ReportSlug.safeParse(values.slug);
    if (!slug.success) return renderEditor(req, res, tenant, editing, values, fieldErrors(slug.error.issues, templateFields, ['slug']), 400);
    const existing = await requireReports(deps).templates.get(tenant.id, slug.data);
    if (existing) {
      const message = existing.builtIn ? `slug: ${slug.data} is a built-in template; choose another slug` : `slug: a template ${slug.data} exists already; edit it instead`;
      return renderEditor(req, res, tenant, editing, values, { slug: [message] }, 400);
    }
    await save(req, res, tenant, slug.data, editing, values);
  });

  router.get(`${base}/:slug/edit`, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    const { slug } = parseRequest(req, { params: TemplateParams }).params;
    const template = await findTemplate(tenant, slug);
    if (template.builtIn) return res.redirect(303, reportsHref(tenant, `/templates/new?from=${encodeURIComponent(slug)}`));
    renderEditor(req, res, tenant, { slug, from: null }, valuesOf(slug, template), {});
  });

  router.post(`${base}/:slug`, ...form, async (req, res) => {
    const tenant = await kit.tenant(req);
    const { slug } = parseRequest(req, { params: TemplateParams }).params;
    await findTemplate(tenant, slug);
    await save(req, res, tenant, slug, { slug, from: null }, { ...TemplateForm.parse(req.body), slug });
  });

  router.post(`${base}/:slug/remove`, ...form, async (req, res) => {
    const tenant = await kit.tenant(req);
    const { slug } = parseRequest(req, { params: TemplateParams }).params;
    await requireReports(deps).templates.remove(tenant.id, slug, consoleActor);
    res.redirect(303, noticeHref(reportsHref(tenant), 'template-removed', slug));
  });

  async function findTemplate(tenant: TenantSummary, slug: string): Promise<ReportTemplate> {
    const template = await requireReports(deps).templates.get(tenant.id, slug);
    if (template === null) throw new LedgerlineError('LL_NOT_FOUND', `No report template ${slug}.`, { details: { field: 'slug' } });
    return template;
  }

  async function save(req: Request, res: Response, tenant: TenantSummary, slug: string, editing: { slug: string | null; from: string | null }, values: TemplateValues): Promise<void> {
    const built = definitionFrom(values);
    if (!built.ok) return renderEditor(req, res, tenant, editing, values, built.errors, 400);
    try {
      await requireReports(deps).templates.save(tenant.id, slug, built.definition, consoleActor);
    } catch (error) {
      return renderEditor(req, res, tenant, editing, values, userFixable(error, templateFields), 400);
    }
    res.redirect(303, noticeHref(reportsHref(tenant), 'template-saved', slug));
  }

  return router;
}
