/**
 * Reports in the JSON API, under /api/v1/tenants/:tenant/reports: templates, segments, acquisition
 * spend, on-demand runs (the file itself), and the request-to-delivery workflow with schedules.
 * Mounted before the general API router because spend accepts a text/csv body, which that router
 * refuses. Every lookup goes through the tenant, so another tenant's ids answer 404.
 */
import express from 'express';
import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { ReportParameters } from '../reports/index.ts';
import { requireApiToken } from './admin-auth.ts';
import { apiPrefix, findTenant } from './api-routes.ts';
import { sendReportFile } from './report-file-response.ts';
import {
  Actor,
  DeliveryMethod,
  DisputeReason,
  ReportFormat,
  ReportSlug,
  RequestFileParams,
  RequestParams,
  RequestStatus,
  requireReports,
  ScheduleParams,
  TemplateParams,
  TenantParams,
} from './report-request-schemas.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps } from './server-deps.ts';

const base = `${apiPrefix}/tenants/:tenant/reports`;
/** Who the ledger names for changes made with the admin token. */
const apiActor = 'api';

const RunBody = z.strictObject({ template: ReportSlug, parameters: ReportParameters, format: ReportFormat.default('html') });
const NewRequestBody = z.strictObject({
  template: ReportSlug,
  parameters: ReportParameters,
  format: ReportFormat.default('pdf'),
  delivery: DeliveryMethod,
  recipient: z.email().nullish(),
  requireCode: z.boolean().default(false),
  requestedBy: Actor.default(apiActor),
  onBehalfOf: Actor.nullish(),
});
const RequestListQuery = z.strictObject({ status: RequestStatus.optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });
const ByBody = z.strictObject({ by: Actor });
const ApproveBody = z.strictObject({ by: Actor, note: z.string().trim().min(1).max(2000) });
const DisputeBody = z.strictObject({ by: Actor, reason: DisputeReason });
const DownloadQuery = z.strictObject({ by: Actor.default(apiActor) });
const IsoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day, YYYY-MM-DD');
const SpendEntryBody = z.strictObject({
  spentOn: IsoDay,
  channel: z.string().trim().min(1).max(100),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code'),
  amount: z.string().regex(/^\d{1,16}(\.\d{1,4})?$/, 'a non-negative decimal with at most 4 fraction digits'),
});
const SpendQuery = z.strictObject({ from: IsoDay.optional(), to: IsoDay.optional() });

/** Only the declared media types are read; anything else is 415 rather than an empty body. */
function refuseUnless(...types: string[]): RequestHandler {
  return (req, _res, next) => {
    if (req.is(types) === false) return next(new LedgerlineError('LL_UNSUPPORTED_MEDIA_TYPE', `Send the request body as ${types.join(' or ')}.`));
    next();
  };
}

export function reportApiRoutes(deps: ServerDeps): Router {
  const router = express.Router();
  const parseJson = express.json({ limit: '256kb', strict: true });
  const json = [refuseUnless('application/json'), parseJson];
  // Spend: a CSV export from the ad platforms (date,channel,currency,amount), or one JSON entry.
  const jsonOrCsv = [refuseUnless('application/json', 'text/csv'), parseJson, express.text({ type: 'text/csv', limit: '2mb' })];
  router.use(base, requireApiToken(deps.config), (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  const tenantOf = async (slug: string) => findTenant(deps, slug);

  router.get(`${base}/templates`, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await tenantOf(params.tenant);
    res.json({ templates: await requireReports(deps).templates.list(tenant.id) });
  });

  router.get(`${base}/templates/:slug`, async (req, res) => {
    const { params } = parseRequest(req, { params: TemplateParams });
    const tenant = await tenantOf(params.tenant);
    const template = await requireReports(deps).templates.get(tenant.id, params.slug);
    if (template === null) throw new LedgerlineError('LL_NOT_FOUND', `No report template ${params.slug}.`, { details: { field: 'slug' } });
    res.json({ template });
  });

  // The body is the template definition; the store validates it and names the failing path.
  router.put(`${base}/templates/:slug`, ...json, async (req, res) => {
    const { params } = parseRequest(req, { params: TemplateParams });
    const tenant = await tenantOf(params.tenant);
    res.json({ template: await requireReports(deps).templates.save(tenant.id, params.slug, req.body, apiActor) });
  });

  router.delete(`${base}/templates/:slug`, async (req, res) => {
    const { params } = parseRequest(req, { params: TemplateParams });
    const tenant = await tenantOf(params.tenant);
    await requireReports(deps).templates.remove(tenant.id, params.slug, apiActor);
    res.status(204).end();
  });

  router.post(`${base}/runs`, ...json, async (req, res) => {
    const { params, body } = parseRequest(req, { params: TenantParams, body: RunBody });
    const tenant = await tenantOf(params.tenant);
    const generated = await requireReports(deps).generate({ tenantId: tenant.id, templateSlug: body.template, parameters: body.parameters, formats: [body.format] });
    const file = generated.files.find((f) => f.format === body.format);
    if (!file) throw new LedgerlineError('LL_INTERNAL', `The run produced no ${body.format} file.`);
    sendReportFile(res, file);
  });

  router.get(`${base}/segments`, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await tenantOf(params.tenant);
    res.json({ segments: await requireReports(deps).segments.list(tenant.id) });
  });

  router.get(`${base}/segments/:slug`, async (req, res) => {
    const { params } = parseRequest(req, { params: TemplateParams });
    const tenant = await tenantOf(params.tenant);
    const reports = requireReports(deps);
    const segment = await reports.segments.get(tenant.id, params.slug);
    if (segment === null) throw new LedgerlineError('LL_NOT_FOUND', `No segment ${params.slug}.`, { details: { field: 'slug' } });
    res.json({ segment, customers: await reports.segments.size(tenant.id, params.slug) });
  });

  router.put(`${base}/segments/:slug`, ...json, async (req, res) => {
    const { params } = parseRequest(req, { params: TemplateParams });
    const tenant = await tenantOf(params.tenant);
    res.json({ segment: await requireReports(deps).segments.save(tenant.id, params.slug, req.body, apiActor) });
  });

  router.delete(`${base}/segments/:slug`, async (req, res) => {
    const { params } = parseRequest(req, { params: TemplateParams });
    const tenant = await tenantOf(params.tenant);
    await requireReports(deps).segments.remove(tenant.id, params.slug, apiActor);
    res.status(204).end();
  });

  router.post(`${base}/spend`, ...jsonOrCsv, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await tenantOf(params.tenant);
    const spend = requireReports(deps).spend;
    if (typeof req.body === 'string') return void res.json(await spend.importCsv(tenant.id, req.body, apiActor));
    const { body } = parseRequest(req, { body: SpendEntryBody });
    await spend.record(tenant.id, body, apiActor);
    res.status(201).json({ recorded: body });
  });

  router.get(`${base}/spend`, async (req, res) => {
    const { params, query } = parseRequest(req, { params: TenantParams, query: SpendQuery });
    const tenant = await tenantOf(params.tenant);
    const range = { ...(query.from ? { from: new Date(`${query.from}T00:00:00Z`) } : {}), ...(query.to ? { to: new Date(`${query.to}T00:00:00Z`) } : {}) };
    res.json({ spend: await requireReports(deps).spend.list(tenant.id, range) });
  });

  router.post(`${base}/requests`, ...json, async (req, res) => {
    const { params, body } = parseRequest(req, { params: TenantParams, body: NewRequestBody });
    const tenant = await tenantOf(params.tenant);
    const request = await requireReports(deps).workflow.request({
      tenantId: tenant.id,
      templateSlug: body.template,
      parameters: body.parameters,
      format: body.format,
      requestedBy: body.requestedBy,
      via: body.onBehalfOf ? 'agent' : 'api',
      onBehalfOf: body.onBehalfOf ?? null,
      recipient: body.recipient ?? null,
      delivery: body.delivery,
      requireCode: body.requireCode,
    });
    res.status(201).location(`${apiPrefix}/tenants/${tenant.slug}/reports/requests/${request.id}`).json({ request });
  });

  router.get(`${base}/requests`, async (req, res) => {
    const { params, query } = parseRequest(req, { params: TenantParams, query: RequestListQuery });
    const tenant = await tenantOf(params.tenant);
    res.json({ requests: await requireReports(deps).workflow.list(tenant.id, { limit: query.limit, ...(query.status ? { status: query.status } : {}) }) });
  });

  router.get(`${base}/requests/:id`, async (req, res) => {
    const { params } = parseRequest(req, { params: RequestParams });
    const tenant = await tenantOf(params.tenant);
    res.json({ request: await findRequest(deps, tenant.id, params.id) });
  });

  router.post(`${base}/requests/:id/acknowledge`, ...json, async (req, res) => {
    const { params, body } = parseRequest(req, { params: RequestParams, body: ByBody });
    const tenant = await tenantOf(params.tenant);
    await requireReports(deps).workflow.acknowledge(tenant.id, params.id, body.by);
    res.json({ request: await findRequest(deps, tenant.id, params.id) });
  });

  router.post(`${base}/requests/:id/dispute`, ...json, async (req, res) => {
    const { params, body } = parseRequest(req, { params: RequestParams, body: DisputeBody });
    const tenant = await tenantOf(params.tenant);
    await requireReports(deps).workflow.dispute(tenant.id, params.id, body.by, body.reason);
    res.json({ request: await findRequest(deps, tenant.id, params.id) });
  });

  router.post(`${base}/requests/:id/approve`, ...json, async (req, res) => {
    const { params, body } = parseRequest(req, { params: RequestParams, body: ApproveBody });
    const tenant = await tenantOf(params.tenant);
    await requireReports(deps).workflow.approve(tenant.id, params.id, body.by, body.note);
    res.json({ request: await findRequest(deps, tenant.id, params.id) });
  });

  router.get(`${base}/requests/:id/files/:format`, async (req, res) => {
    const { params, query } = parseRequest(req, { params: RequestFileParams, query: DownloadQuery });
    const tenant = await tenantOf(params.tenant);
    sendReportFile(res, await requireReports(deps).workflow.download(tenant.id, params.id, params.format, query.by));
  });

  router.get(`${base}/schedules`, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await tenantOf(params.tenant);
    res.json({ schedules: await requireReports(deps).workflow.schedules.list(tenant.id) });
  });

  // The workflow validates the schedule (cadence, zone, local time) and names the failing field.
  router.post(`${base}/schedules`, ...json, async (req, res) => {
    const { params } = parseRequest(req, { params: TenantParams });
    const tenant = await tenantOf(params.tenant);
    const schedule = await requireReports(deps).workflow.schedules.create(tenant.id, req.body, apiActor);
    res.status(201).json({ schedule });
  });

  router.delete(`${base}/schedules/:id`, async (req, res) => {
    const { params } = parseRequest(req, { params: ScheduleParams });
    const tenant = await tenantOf(params.tenant);
    await requireReports(deps).workflow.schedules.remove(tenant.id, params.id, apiActor);
    res.status(204).end();
  });

  return router;
}

async function findRequest(deps: ServerDeps, tenantId: string, id: string) {
  const request = await requireReports(deps).workflow.get(tenantId, id);
  if (request === null) throw new LedgerlineError('LL_NOT_FOUND', `No report request ${id}.`, { details: { field: 'id' } });
  return request;
}
