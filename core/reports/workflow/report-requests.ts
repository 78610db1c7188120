/**
 * Report requests from the people side: asking for a report, reading requests, downloading a
 * file, an admin's override of a blocked report, acknowledgement and dispute. Each change of state
 * is appended to the tenant's ledger in the transaction that makes it.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../../errors/index.ts';
import type { SqlSession } from '../../store/sql-session.ts';
import { isTimeZone, resolvePeriod } from '../period.ts';
import { ReportParameters, type RenderedFile } from '../report-model.ts';
import { deliveryMethods, loadRequestViews, reportFormats, requestStatuses, requestVias, StoredQuality, type ReportRequestView, type RequestStatus } from './request-view.ts';
import { hoursAfter, maskEmail, record, type WorkflowContext } from './workflow-context.ts';

const Slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter');
/** Someone's name or address as the ledger records it. */
const Actor = z.string().trim().min(1).max(200);
const Id = z.uuid();

export const RequestInput = z
  .strictObject({
    tenantId: z.uuid(),
    templateSlug: Slug,
    parameters: ReportParameters,
    format: z.enum(reportFormats),
    requestedBy: Actor,
    via: z.enum(requestVias),
    onBehalfOf: Actor.nullish(),
    recipient: z.email('an e-mail address').nullish(),
    delivery: z.enum(deliveryMethods),
    requireCode: z.boolean().default(false),
    scheduleId: z.uuid().nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.delivery !== 'portal' && !input.recipient) ctx.addIssue({ code: 'custom', path: ['recipient'], message: `delivery by ${input.delivery} needs the recipient's e-mail address` });
    if (input.via === 'agent' && !input.onBehalfOf) ctx.addIssue({ code: 'custom', path: ['onBehalfOf'], message: 'an agent asks on behalf of someone: name them' });
    if (input.requireCode && input.delivery !== 'link') ctx.addIssue({ code: 'custom', path: ['requireCode'], message: 'a one-time code protects a secure link: choose link delivery' });
    if (!isTimeZone(input.parameters.timeZone)) ctx.addIssue({ code: 'custom', path: ['parameters', 'timeZone'], message: `'${input.parameters.timeZone}' is not an IANA time zone (for example Europe/Berlin)` });
  });
export type RequestInput = z.input<typeof RequestInput>;

/** Inserts a request inside the caller's transaction (the API's request and a schedule's run share it). */
export async function insertRequest(tx: SqlSession, ctx: WorkflowContext, input: unknown): Promise<string> {
  const parsed = RequestInput.safeParse(input);
  if (!parsed.success) throw invalidInput('report request', parsed.error.issues);
  const request = parsed.data;
  // A period that cannot be resolved (2026-02-30, week 54) is refused now, not at processing.
  resolvePeriod(request.parameters.period, request.parameters.timeZone);
  const now = ctx.now();
  const generateDueAt = hoursAfter(now, ctx.settings.generateHours);
  const stored = { ...request.parameters, ...(request.requireCode ? { deliveryOptions: { requireCode: true } } : {}) };
  const [row] = await tx.query<{ id: string }>(
    `insert into report_request (tenant_id, template_slug, parameters, format, requested_by, requested_via, on_behalf_of, recipient, delivery, schedule_id,
                                 status, next_attempt_at, generate_due_at, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', $11, $12, $11, $11) returning id`,
    [request.tenantId, request.templateSlug, JSON.stringify(stored), request.format, request.requestedBy, request.via, request.onBehalfOf ?? null, request.recipient ?? null, request.delivery, request.scheduleId ?? null, now.toISOString(), generateDueAt.toISOString()],
  );
  const id = row!.id;
  await record(tx, request.tenantId, [
    {
      kind: 'report.requested',
      body: {
        requestId: id,
        template: request.templateSlug,
        period: request.parameters.period,
        format: request.format,
        delivery: request.delivery,
        requireCode: request.requireCode,
        recipient: maskEmail(request.recipient ?? null),
        requestedBy: request.requestedBy,
        via: request.via,
        onBehalfOf: request.onBehalfOf ?? null,
        scheduleId: request.scheduleId ?? null,
        generateDueAt: generateDueAt.toISOString(),
      },
    },
  ], now);
  return id;
}

export async function getRequest(ctx: WorkflowContext, tenantId: string, id: string): Promise<ReportRequestView | null> {
  if (!Id.safeParse(id).success) return null;
  const [view] = await loadRequestViews(ctx.sql, tenantId, { id, limit: 1 }, ctx.now());
  return view ?? null;
}

const ListOptions = z.strictObject({ status: z.enum(requestStatuses).optional(), limit: z.number().int().min(1).max(500).default(100) });

export async function listRequests(ctx: WorkflowContext, tenantId: string, options: { status?: RequestStatus; limit?: number } = {}): Promise<ReportRequestView[]> {
  const parsed = ListOptions.safeParse(options);
  if (!parsed.success) throw invalidInput('request list', parsed.error.issues);
  return loadRequestViews(ctx.sql, tenantId, { limit: parsed.data.limit, ...(parsed.data.status ? { status: parsed.data.status } : {}) }, ctx.now());
}

interface LockedRequest {
  status: RequestStatus;
  delivered_at: string | null;
  quality: unknown;
}

async function lockRequest(tx: SqlSession, tenantId: string, id: string): Promise<LockedRequest> {
  const row = Id.safeParse(id).success
    ? (await tx.query<LockedRequest>(`select status, delivered_at, quality from report_request where id = $1 and tenant_id = $2 for update`, [id, tenantId]))[0]
    : undefined;
  if (!row) throw new LedgerlineError('LL_NOT_FOUND', `No report request ${id} in this tenant.`, { details: { field: 'id' } });
  return row;
}

function requireText(what: string, value: string, max: number): string {
  const parsed = z.string().trim().min(1).max(max).safeParse(value);
  if (!parsed.success) throw invalidInput(what, parsed.error.issues, what);
  return parsed.data;
}

/** An admin has reviewed a blocked report and lets it go out; the next processing round delivers it. */
export async function approveRequest(ctx: WorkflowContext, tenantId: string, id: string, by: string, note: string): Promise<void> {
  const who = requireText('by', by, 200);
  const why = requireText('note', note, 2000);
  const now = ctx.now();
  await ctx.sql.transaction(async (tx) => {
    const row = await lockRequest(tx, tenantId, id);
    const quality = StoredQuality.safeParse(row.quality);
    // A blocked request stays blocked when its generation timer escalates it.
    const blocked = (row.status === 'blocked' || row.status === 'escalated') && row.delivered_at === null && quality.success && !quality.data.passed && !quality.data.override;
    if (!blocked || !quality.success) throw new LedgerlineError('LL_CONFLICT', `Report request ${id} is ${row.status}: only a report blocked by the quality check can be approved.`);
    const override = { by: who, note: why, at: now.toISOString() };
    // attempts restart: delivery after a review gets its full number of tries.
    await tx.query(
      `update report_request set status = 'generated', status_reason = null, quality = $3, attempts = 0, next_attempt_at = $4, updated_at = $4 where id = $1 and tenant_id = $2`,
      [id, tenantId, JSON.stringify({ ...quality.data, override }), now.toISOString()],
    );
    await record(tx, tenantId, [{ kind: 'report.quality_overridden', body: { requestId: id, by: who, note: why, reasons: quality.data.reasons.map((r) => r.code) } }], now);
  });
}

export async function acknowledgeRequest(ctx: WorkflowContext, tenantId: string, id: string, by: string): Promise<void> {
  const who = requireText('by', by, 200);
  const now = ctx.now();
  await ctx.sql.transaction(async (tx) => {
    const row = await lockRequest(tx, tenantId, id);
    if ((row.status !== 'delivered' && row.status !== 'escalated') || row.delivered_at === null) {
      throw new LedgerlineError('LL_CONFLICT', `Report request ${id} is ${row.status}: only a delivered or escalated report can be acknowledged.`);
    }
    await tx.query(`update report_request set status = 'acknowledged', acknowledged_at = $3, acknowledged_by = $4, updated_at = $3 where id = $1 and tenant_id = $2`, [id, tenantId, now.toISOString(), who]);
    await record(tx, tenantId, [{ kind: 'report.acknowledged', body: { requestId: id, by: who, previousStatus: row.status } }], now);
  });
}

/** A dispute escalates at once: someone says the report is wrong, and that is never left waiting. */
export async function disputeRequest(ctx: WorkflowContext, tenantId: string, id: string, by: string, reason: string): Promise<void> {
  const who = requireText('by', by, 200);
  const why = requireText('reason', reason, 2000);
  const now = ctx.now();
  await ctx.sql.transaction(async (tx) => {
    const row = await lockRequest(tx, tenantId, id);
    if (!['delivered', 'acknowledged', 'escalated'].includes(row.status) || row.delivered_at === null) {
      throw new LedgerlineError('LL_CONFLICT', `Report request ${id} is ${row.status}: only a delivered or acknowledged report can be disputed.`);
    }
    await tx.query(`update report_request set status = 'disputed', disputed_at = $3, dispute_reason = $4, escalated_at = $3, updated_at = $3 where id = $1 and tenant_id = $2`, [id, tenantId, now.toISOString(), why]);
    await record(tx, tenantId, [
      { kind: 'report.disputed', body: { requestId: id, by: who, reason: why, previousStatus: row.status } },
      { kind: 'report.escalated', body: { requestId: id, reason: 'disputed', timer: null, previousStatus: row.status } },
    ], now);
  });
}

const FileRow = z.object({ format: z.enum(reportFormats), file_name: z.string(), content_type: z.string(), content: z.string(), sha256: z.string() });

/** One stored file of a request, read through the request's tenant. */
export async function readStoredFile(sql: Pick<SqlSession, 'query'>, tenantId: string, requestId: string, format: string): Promise<(RenderedFile & { sha256: string }) | null> {
  const [row] = await sql.query(
    `select f.format, f.file_name, f.content_type, encode(f.content, 'base64') as content, f.sha256
       from report_file f join report_request r on r.id = f.request_id
      where r.tenant_id = $1 and f.request_id = $2 and f.format = $3`,
    [tenantId, requestId, format],
  );
  if (!row) return null;
  const file = FileRow.parse(row);
  return { format: file.format, fileName: file.file_name, contentType: file.content_type, body: Buffer.from(file.content, 'base64'), sha256: file.sha256 };
}

export async function downloadFile(ctx: WorkflowContext, tenantId: string, id: string, format: string, by: string): Promise<RenderedFile> {
  const who = requireText('by', by, 200);
  const wanted = z.enum(reportFormats).safeParse(format);
  if (!wanted.success) throw invalidInput('format', wanted.error.issues, 'format');
  const file = Id.safeParse(id).success ? await readStoredFile(ctx.sql, tenantId, id, wanted.data) : null;
  if (!file) throw new LedgerlineError('LL_NOT_FOUND', `Report request ${id} has no ${wanted.data} file in this tenant.`, { details: { field: 'format' } });
  const now = ctx.now();
  await ctx.sql.transaction((tx) => record(tx, tenantId, [{ kind: 'report.downloaded', body: { requestId: id, by: who, format: file.format, sha256: file.sha256 } }], now));
  return { format: file.format, fileName: file.fileName, contentType: file.contentType, body: file.body };
}
