/**
 * Reports in the admin console, under /tenants/:tenant/reports: the template library and on-demand
 * runs (HTML embedded in the page, other formats downloaded), delivery requests, and the pages of
 * report-console-templates.ts (editor), report-console-data.ts (segments, spend) and
 * report-console-workflow.ts (requests, schedules). Server-rendered, no client script; every form
 * carries the CSRF token.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { PeriodText, reportLocales, reportMetrics, reportRoles } from '../reports/index.ts';
import type { ReportParameters } from '../reports/index.ts';
import { renderReportHtmlFragment } from '../reports/index.ts';
import { consoleActor, consoleKit, fieldErrors, FormList, noticeHref, pageLocals, reportChoices, reportMarkupStylesheet, reportsHref, reportsStylesheet, userFixable } from './report-console-kit.ts';
import type { FieldErrors } from './report-console-kit.ts';
import { reportTemplateConsoleRoutes } from './report-console-templates.ts';
import { reportDataConsoleRoutes } from './report-console-data.ts';
import { reportWorkflowConsoleRoutes } from './report-console-workflow.ts';
import { sendReportFile } from './report-file-response.ts';
import { DeliveryMethod, ReportFormat, ReportSlug, requireReports as reportsOf } from './report-request-schemas.ts';
import type { ServerDeps, TenantSummary } from './server-deps.ts';

/** The previous calendar month (UTC), what a monthly report is usually run for. */
export function lastMonth(now: Date = new Date()): string {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return at.toISOString().slice(0, 7);
}

const RunFields = z.object({
  template: ReportSlug,
  period: PeriodText,
  segment: z
    .string()
    .max(63)
    .default('')
    .transform((s) => (s === '' ? null : s))
    .pipe(ReportSlug.nullable()),
  metrics: FormList.pipe(z.array(z.enum(reportMetrics))),
  locale: z.enum(reportLocales).default('en'),
  timeZone: z.string().trim().min(1).max(64).default('UTC'),
  role: z.enum(reportRoles).default('admin'),
});
const RunForm = RunFields.extend({ format: ReportFormat.default('html') });
const RequestForm = RunFields.extend({
  format: ReportFormat.default('pdf'),
  recipient: z.union([z.literal(''), z.email('an e-mail address')]).default(''),
  delivery: DeliveryMethod,
  requireCode: z.literal('on').optional(),
});
const runFieldNames = ['template', 'period', 'segment', 'metrics', 'locale', 'timeZone', 'role', 'format'];
const requestFieldNames = [...runFieldNames, 'recipient', 'delivery', 'requireCode'];

/** What the form showed, as typed, so a refused form comes back with the user's input. */
const TypedRun = z.object({
  template: z.string().catch(''),
  period: z.string().catch(() => lastMonth()),
  segment: z.string().nullable().catch(null),
  metrics: FormList.catch([]),
  locale: z.string().catch('en'),
  timeZone: z.string().catch('UTC'),
  role: z.string().catch('admin'),
  format: z.string().catch('html'),
});
type RunValues = z.infer<typeof TypedRun>;
const TypedDelivery = z.object({ recipient: z.string().catch(''), delivery: z.string().catch('attachment'), format: z.string().catch('pdf'), requireCode: z.literal('on').optional().catch(undefined) });

function parametersOf(run: z.infer<typeof RunFields>): ReportParameters {
  return { period: run.period, segment: run.segment, locale: run.locale, timeZone: run.timeZone, role: run.role, ...(run.metrics.length > 0 ? { metrics: run.metrics } : {}) };
}

export function reportConsoleRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const kit = consoleKit(deps);
  const base = '/tenants/:tenant/reports';

  // Versioned URLs (a hash of the content), so a year-long cache still sees every change.
  for (const [path, css] of [['/reports/assets/reports.css', reportsStylesheet], ['/reports/assets/report.css', reportMarkupStylesheet]] as const) {
    router.get(path, (_req, res) => {
      res.set('Cache-Control', 'public, max-age=31536000, immutable').type('text/css').send(css);
    });
  }

  // The nav's way in: reports belong to a tenant, so pick one (or go straight to the only one).
  router.get('/reports', ...kit.page, async (_req, res) => {
    const tenants = await deps.tenants.list();
    if (tenants.length === 1) return res.redirect(303, reportsHref(tenants[0]!));
    res.render('reports-tenants', { title: 'Reports', tenants, reportsHref });
  });

  router.get(base, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    const template = ReportSlug.safeParse(req.query.template);
    const run: RunValues = { ...TypedRun.parse({}), template: template.success ? template.data : 'account-activity' };
    await renderHome(deps, req, res, tenant, run, {}, 200);
  });

  router.post(`${base}/runs`, ...kit.form('16kb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const typed = TypedRun.parse(req.body);
    const form = RunForm.safeParse(req.body);
    if (!form.success) return renderHome(deps, req, res, tenant, typed, fieldErrors(form.error.issues, runFieldNames), 400);
    let generated;
    try {
      generated = await reportsOf(deps).generate({ tenantId: tenant.id, templateSlug: form.data.template, parameters: parametersOf(form.data), formats: [form.data.format] });
    } catch (error) {
      return renderHome(deps, req, res, tenant, typed, userFixable(error, runFieldNames), 400);
    }
    if (form.data.format !== 'html') {
      const file = generated.files.find((f) => f.format === form.data.format);
      if (file) return sendReportFile(res, file);
    }
    res.render('reports-run', {
      ...pageLocals(req, tenant, 'home', `${generated.data.template.title} · ${generated.data.period.text}`),
      report: generated.data,
      fragment: renderReportHtmlFragment(generated.data),
      run: { ...form.data, format: 'html' },
      downloads: reportChoices.formats.filter(([f]) => f !== 'html'),
      delivery: TypedDelivery.parse({}),
      choices: reportChoices,
      errors: {},
    });
  });

  router.get(`${base}/requests/new`, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    await renderRequestForm(deps, req, res, tenant, TypedRun.parse(req.query), TypedDelivery.parse(req.query), {}, 200);
  });

  router.post(`${base}/requests`, ...kit.form('16kb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const typedRun = TypedRun.parse(req.body);
    const typedDelivery = TypedDelivery.parse(req.body);
    const form = RequestForm.safeParse(req.body);
    if (!form.success) return renderRequestForm(deps, req, res, tenant, typedRun, typedDelivery, fieldErrors(form.error.issues, requestFieldNames), 400);
    let request;
    try {
      request = await reportsOf(deps).workflow.request({
        tenantId: tenant.id,
        templateSlug: form.data.template,
        parameters: parametersOf(form.data),
        format: form.data.format,
        requestedBy: consoleActor,
        via: 'console',
        recipient: form.data.recipient === '' ? null : form.data.recipient,
        delivery: form.data.delivery,
        requireCode: form.data.requireCode === 'on',
      });
    } catch (error) {
      return renderRequestForm(deps, req, res, tenant, typedRun, typedDelivery, userFixable(error, requestFieldNames), 400);
    }
    res.redirect(303, noticeHref(reportsHref(tenant, '/requests'), 'request-created', request.id));
  });

  router.use(reportTemplateConsoleRoutes(deps, kit));
  router.use(reportDataConsoleRoutes(deps, kit));
  router.use(reportWorkflowConsoleRoutes(deps, kit));
  return router;
}

async function renderHome(deps: ServerDeps, req: Request, res: Response, tenant: TenantSummary, run: RunValues, errors: FieldErrors, status: number): Promise<void> {
  const reports = reportsOf(deps);
  const [templates, segments] = await Promise.all([reports.templates.list(tenant.id), reports.segments.list(tenant.id)]);
  res.status(status).render('reports', { ...pageLocals(req, tenant, 'home', `Reports · ${tenant.name}`), templates, segments, run, errors, choices: reportChoices });
}

async function renderRequestForm(deps: ServerDeps, req: Request, res: Response, tenant: TenantSummary, run: RunValues, delivery: z.infer<typeof TypedDelivery>, errors: FieldErrors, status: number): Promise<void> {
  const reports = reportsOf(deps);
  const [templates, segments] = await Promise.all([reports.templates.list(tenant.id), reports.segments.list(tenant.id)]);
  res.status(status).render('reports-request-new', { ...pageLocals(req, tenant, 'requests', 'Request a report'), templates, segments, run, delivery, errors, choices: reportChoices });
}
