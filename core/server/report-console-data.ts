/**
 * What reports are computed over, besides activity: saved segments (conditions as JSON, with their
 * current sizes) and acquisition spend (pasted CSV or one entry at a time), for CAC.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { SegmentDefinition } from '../reports/index.ts';
import { consoleActor, fieldErrors, fixableError, noticeHref, pageLocals, reportsHref, userFixable } from './report-console-kit.ts';
import type { ConsoleKit, FieldErrors } from './report-console-kit.ts';
import { ReportSlug, requireReports, TemplateParams } from './report-request-schemas.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps, TenantSummary } from './server-deps.ts';

const segmentFields = ['slug', 'name', 'description', 'match', 'conditions'];
const SegmentForm = z.object({
  slug: z.string().max(200).catch(''),
  name: z.string().max(1000).catch(''),
  description: z.string().max(5000).catch(''),
  match: z.string().max(10).catch('all'),
  conditions: z.string().max(100_000).catch(''),
});
type SegmentValues = z.infer<typeof SegmentForm>;

/** What a new segment's conditions start as: one of each common kind, to edit rather than to look up. */
export const exampleConditions = [
  { type: 'country', countries: ['DE', 'AT', 'CH'] },
  { type: 'activity', kind: 'transaction', days: 90, min: 2 },
  { type: 'rfm', monetary: [4, 5] },
];

const spendFields = ['csv', 'spentOn', 'channel', 'currency', 'amount'];
const CsvForm = z.object({ csv: z.string().max(2_000_000).catch('') });
const SpendForm = z.object({
  spentOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day, YYYY-MM-DD'),
  channel: z.string().trim().min(1).max(100),
  currency: z.string().trim().toUpperCase().pipe(z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as EUR')),
  amount: z.string().trim().regex(/^\d{1,16}(\.\d{1,4})?$/, 'a non-negative amount with at most 4 decimals'),
});
const TypedSpend = z.object({ spentOn: z.string().catch(''), channel: z.string().catch(''), currency: z.string().catch(''), amount: z.string().catch('') });

function segmentInput(values: SegmentValues): { ok: true; definition: SegmentDefinition } | { ok: false; errors: FieldErrors } {
  let conditions: unknown;
  try {
    conditions = JSON.parse(values.conditions);
  } catch (error) {
    return { ok: false, errors: { conditions: [`conditions: not valid JSON (${error instanceof Error ? error.message : String(error)})`] } };
  }
  const parsed = SegmentDefinition.safeParse({ name: values.name, description: values.description, match: values.match, conditions });
  return parsed.success ? { ok: true, definition: parsed.data } : { ok: false, errors: fieldErrors(parsed.error.issues, segmentFields) };
}

export function reportDataConsoleRoutes(deps: ServerDeps, kit: ConsoleKit): Router {
  const router = express.Router();
  const segments = '/tenants/:tenant/reports/segments';
  const spend = '/tenants/:tenant/reports/spend';

  function renderEditor(req: Request, res: Response, tenant: TenantSummary, slug: string | null, values: SegmentValues, errors: FieldErrors, status = 200): void {
    const action = reportsHref(tenant, slug ? `/segments/${encodeURIComponent(slug)}` : '/segments');
    res.status(status).render('reports-segment', { ...pageLocals(req, tenant, 'segments', slug ? `Edit segment ${slug}` : 'New segment'), slug, action, values, errors });
  }

  router.get(segments, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    const store = requireReports(deps).segments;
    const saved = await store.list(tenant.id);
    const rows = [];
    for (const segment of saved) rows.push({ segment, customers: await store.size(tenant.id, segment.slug) });
    res.render('reports-segments', { ...pageLocals(req, tenant, 'segments', `Segments · ${tenant.name}`), rows });
  });

  router.get(`${segments}/new`, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    renderEditor(req, res, tenant, null, { ...SegmentForm.parse({}), conditions: JSON.stringify(exampleConditions, null, 2) }, {});
  });

  router.get(`${segments}/:slug/edit`, ...kit.page, async (req, res) => {
    const tenant = await kit.tenant(req);
    const { slug } = parseRequest(req, { params: TemplateParams }).params;
    const segment = await requireReports(deps).segments.get(tenant.id, slug);
    if (segment === null) throw new LedgerlineError('LL_NOT_FOUND', `No segment ${slug}.`, { details: { field: 'slug' } });
    const d = segment.definition;
    renderEditor(req, res, tenant, slug, { slug, name: d.name, description: d.description, match: d.match, conditions: JSON.stringify(d.conditions, null, 2) }, {});
  });

  async function saveSegment(req: Request, res: Response, tenant: TenantSummary, slug: string, editing: string | null, values: SegmentValues): Promise<void> {
    const built = segmentInput(values);
    if (!built.ok) return renderEditor(req, res, tenant, editing, values, built.errors, 400);
    try {
      await requireReports(deps).segments.save(tenant.id, slug, built.definition, consoleActor);
    } catch (error) {
      return renderEditor(req, res, tenant, editing, values, userFixable(error, segmentFields), 400);
    }
    res.redirect(303, noticeHref(reportsHref(tenant, '/segments'), 'segment-saved', slug));
  }

  router.post(segments, ...kit.form('128kb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const values = SegmentForm.parse(req.body);
    const slug = ReportSlug.safeParse(values.slug);
    if (!slug.success) return renderEditor(req, res, tenant, null, values, fieldErrors(slug.error.issues, segmentFields, ['slug']), 400);
    if (await requireReports(deps).segments.get(tenant.id, slug.data)) {
      return renderEditor(req, res, tenant, null, values, { slug: [`slug: a segment ${slug.data} exists already; edit it instead`] }, 400);
    }
    await saveSegment(req, res, tenant, slug.data, null, values);
  });

  router.post(`${segments}/:slug`, ...kit.form('128kb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const { slug } = parseRequest(req, { params: TemplateParams }).params;
    await saveSegment(req, res, tenant, slug, slug, { ...SegmentForm.parse(req.body), slug });
  });

  router.post(`${segments}/:slug/remove`, ...kit.form('4kb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const { slug } = parseRequest(req, { params: TemplateParams }).params;
    await requireReports(deps).segments.remove(tenant.id, slug, consoleActor);
    res.redirect(303, noticeHref(reportsHref(tenant, '/segments'), 'segment-removed', slug));
  });

  async function renderSpend(req: Request, res: Response, tenant: TenantSummary, csv: string, entry: z.infer<typeof TypedSpend>, errors: FieldErrors, status = 200): Promise<void> {
    const entries = await requireReports(deps).spend.list(tenant.id);
    res.status(status).render('reports-spend', { ...pageLocals(req, tenant, 'spend', `Acquisition spend · ${tenant.name}`), entries, csv, entry, errors });
  }

  router.get(spend, ...kit.page, async (req, res) => {
    await renderSpend(req, res, await kit.tenant(req), '', TypedSpend.parse({}), {});
  });

  // A pasted export can be large; this form alone reads up to 2 MB.
  router.post(`${spend}/import`, ...kit.form('2mb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const { csv } = CsvForm.parse(req.body);
    let imported;
    try {
      imported = await requireReports(deps).spend.importCsv(tenant.id, csv, consoleActor);
    } catch (error) {
      // The import names the line and column itself ("line 3, column currency: …").
      return renderSpend(req, res, tenant, csv, TypedSpend.parse({}), { csv: [fixableError(error).message] }, 400);
    }
    res.redirect(303, noticeHref(reportsHref(tenant, '/spend'), 'spend-imported', `${imported.rows} rows, ${imported.replaced} replaced`));
  });

  router.post(spend, ...kit.form('4kb'), async (req, res) => {
    const tenant = await kit.tenant(req);
    const typed = TypedSpend.parse(req.body);
    const form = SpendForm.safeParse(req.body);
    if (!form.success) return renderSpend(req, res, tenant, '', typed, fieldErrors(form.error.issues, spendFields), 400);
    try {
      await requireReports(deps).spend.record(tenant.id, form.data, consoleActor);
    } catch (error) {
      return renderSpend(req, res, tenant, '', typed, userFixable(error, spendFields), 400);
    }
    const entry = form.data;
    res.redirect(303, noticeHref(reportsHref(tenant, '/spend'), 'spend-recorded', `${entry.amount} ${entry.currency} on ${entry.channel}, ${entry.spentOn}`));
  });

  return router;
}
