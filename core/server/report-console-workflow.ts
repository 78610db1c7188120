/**
 * The request-to-delivery workflow in the console: every request with its status, the reason it
 * is blocked or failed, its SLA due times (overdue flagged), the stored files, and the actions a
 * person takes — approve a blocked report after review, record an acknowledgement or a dispute.
 * And the schedules that create requests on their own.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { reportLocales, reportRoles } from '../reports/index.ts';
import { consoleActor, fieldErrors, noticeHref, pageLocals, reportChoices, reportsHref, userFixable } from './report-console-kit.ts';
import type { ConsoleKit, FieldErrors } from './report-console-kit.ts';
import { sendReportFile } from './report-file-response.ts';
import { DeliveryMethod, DisputeReason, ReportFormat, ReportSlug, RequestFileParams, RequestParams, RequestStatus, requireReports, ScheduleParams } from './report-request-schemas.ts';
import { parseRequest } from './request-validation.ts';
import type { ServerDeps, TenantSummary } from './server-deps.ts';

const ListQuery = z.object({ status: RequestStatus.optional().catch(undefined) });
const ApproveForm = z.object({ note: z.string().trim().min(1, 'say what you checked').max(2000) });
const DisputeForm = z.object({ reason: DisputeReason });

const scheduleFields = ['templateSlug', 'recipient', 'delivery', 'format', 'cadence', 'timeZone', 'localTime', 'weekday', 'dayOfMonth', 'locale', 'role', 'segment', 'requireCode'];
const TypedSchedule = z.object({
  templateSlug: z.string().catch('account-activity'),
  recipient: z.string().catch(''),
  delivery: z.string().catch('attachment'),
  format: z.string().catch('pdf'),
  cadence: z.string().catch('monthly'),
  timeZone: z.string().catch('UTC'),
  localTime: z.string().catch('08:00'),
  weekday: z.string().catch('1'),
  dayOfMonth: z.string().catch('1'),
  locale: z.string().catch('en'),
  role: z.string().catch('customer'),
  segment: z.string().catch(''),
  requireCode: z.literal('on').optional().catch(undefined),
});
type ScheduleValues = z.infer<typeof TypedSchedule>;
const ScheduleForm = z.object({
  templateSlug: ReportSlug,
  recipient: z.email('an e-mail address'),
  delivery: DeliveryMethod,
  format: ReportFormat,
  cadence: z.enum(['daily', 'weekly', 'monthly']),
  timeZone: z.string().trim().min(1).max(64),
  localTime: z.string().regex(/^[0-2]\d:[0-5]\d$/, 'a time of day, HH:MM'),
  // Checked by the workflow, and only where the cadence uses them.
  weekday: z.string().max(2).default(''),
  dayOfMonth: z.string().max(2).default(''),
  locale: z.enum(reportLocales),
  role: z.enum(reportRoles),
  segment: z
    .string()
    .default('')
    .transform((s) => (s === '' ? null : s))
    .pipe(ReportSlug.nullable()),
  requireCode: z.literal('on').optional(),
});

const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export function reportWorkflowConsoleRoutes(deps: ServerDeps, kit: ConsoleKit): Router {
  const router = express.Router();
  const requests = '/tenants/:tenant/reports/requests';
  const schedules = '/tenants/:tenant/reports/schedules';
  const form = kit.form('8kb');

  async function renderRequests(req: Request, res: Response, tenant: TenantSummary, errors: FieldErrors, status = 200): Promise<void> {
    const { status: filter } = ListQuery.parse(req.query);
    const list = await requireReports(deps).workflow.list(tenant.id, { limit: 200, ...(filter ? { status: filter } : {}) });
    res.status(status).render('reports-requests', { ...pageLocals(req, tenant, 'requests', `Report requests · ${tenant.name}`), requests: list, filter: filter ?? null, statuses: RequestStatus.options, errors });
  }

  router.get(requests, ...kit.page, async (req, res) => {
    await renderRequests(req, res, await kit.tenant(req), {});
  });

  router.get(`${requests}/:id/files/:format`, ...kit.page, async (req, res) => {
    const { params } = parseRequest(req, { params: RequestFileParams });
    const tenant = await kit.tenant(req);
    sendReportFile(res, await requireReports(deps).workflow.download(tenant.id, params.id, params.format, consoleActor));
  });

  /** An action on one request; a refusal (wrong state, missing note) comes back on the list. */
  function action<S extends z.ZodType>(name: 'approve' | 'acknowledge' | 'dispute', schema: S, run: (tenantId: string, id: string, input: z.output<S>) => Promise<unknown>) {
    router.post(`${requests}/:id/${name}`, ...form, async (req, res) => {
      const { params } = parseRequest(req, { params: RequestParams });
      const tenant = await kit.tenant(req);
      const input = schema.safeParse(req.body);
      if (!input.success) return renderRequests(req, res, tenant, { form: fieldErrors(input.error.issues, []).form ?? [] }, 400);
      try {
        await run(tenant.id, params.id, input.data);
      } catch (error) {
        return renderRequests(req, res, tenant, { form: Object.values(userFixable(error, [])).flat() }, 400);
      }
      const notice = name === 'approve' ? 'request-approved' : name === 'acknowledge' ? 'request-acknowledged' : 'request-disputed';
      res.redirect(303, noticeHref(reportsHref(tenant, '/requests'), notice, params.id));
    });
  }
  const workflow = () => requireReports(deps).workflow;
  action('approve', ApproveForm, (tenantId, id, input) => workflow().approve(tenantId, id, consoleActor, input.note));
  action('acknowledge', z.object({}), (tenantId, id) => workflow().acknowledge(tenantId, id, consoleActor));
  action('dispute', DisputeForm, (tenantId, id, input) => workflow().dispute(tenantId, id, consoleActor, input.reason));

  async function renderSchedules(req: Request, res: Response, tenant: TenantSummary, values: ScheduleValues, errors: FieldErrors, status = 200): Promise<void> {
    const reports = requireReports(deps);
    const [list, templates, segments] = await Promise.all([reports.workflow.schedules.list(tenant.id), reports.templates.list(tenant.id), reports.segments.list(tenant.id)]);
    res.status(status).render('reports-schedules', {
      ...pageLocals(req, tenant, 'schedules', `Report schedules · ${tenant.name}`),
      schedules: list,
      templates,
      segments,
      values,
      errors,
      choices: { ...reportChoices, weekdays },
    });
  }

  router.get(schedules, ...kit.page, async (req, res) => {
    await renderSchedules(req, res, await kit.tenant(req), TypedSchedule.parse({}), {});
  });

  router.post(schedules, ...form, async (req, res) => {
    const tenant = await kit.tenant(req);
    const values = TypedSchedule.parse(req.body);
    const parsed = ScheduleForm.safeParse(req.body);
    if (!parsed.success) return renderSchedules(req, res, tenant, values, fieldErrors(parsed.error.issues, scheduleFields), 400);
    const f = parsed.data;
    let schedule;
    try {
      schedule = await requireReports(deps).workflow.schedules.create(
        tenant.id,
        {
          templateSlug: f.templateSlug,
          parameters: { segment: f.segment, locale: f.locale, role: f.role },
          requireCode: f.requireCode === 'on',
          recipient: f.recipient,
          delivery: f.delivery,
          format: f.format,
          cadence: f.cadence,
          timeZone: f.timeZone,
          localTime: f.localTime,
          ...(f.cadence === 'weekly' ? { weekday: f.weekday } : {}),
          ...(f.cadence === 'monthly' ? { dayOfMonth: f.dayOfMonth } : {}),
        },
        consoleActor,
      );
    } catch (error) {
      return renderSchedules(req, res, tenant, values, userFixable(error, scheduleFields), 400);
    }
    res.redirect(303, noticeHref(reportsHref(tenant, '/schedules'), 'schedule-created', `${schedule.templateSlug} to ${schedule.recipient}`));
  });

  router.post(`${schedules}/:id/remove`, ...form, async (req, res) => {
    const { params } = parseRequest(req, { params: ScheduleParams });
    const tenant = await kit.tenant(req);
    await requireReports(deps).workflow.schedules.remove(tenant.id, params.id, consoleActor);
    res.redirect(303, noticeHref(reportsHref(tenant, '/schedules'), 'schedule-removed', params.id));
  });

  return router;
}
