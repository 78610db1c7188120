/**
 * How a report request reads from outside: its status and reason, the quality result (and any
 * override), the files it produced (without their content), and its SLA timers with whether one
 * has run out. Stored JSON is read back with safeParse, never cast.
 */
import { z } from 'zod';
import type { SqlSession } from '../../store/sql-session.ts';
import { ReportParameters, type RenderedFile } from '../report-model.ts';

export const reportFormats = ['html', 'pdf', 'csv', 'json'] as const satisfies readonly RenderedFile['format'][];
export type ReportFormat = (typeof reportFormats)[number];
export const deliveryMethods = ['attachment', 'link', 'portal'] as const;
export type DeliveryMethod = (typeof deliveryMethods)[number];
export const requestVias = ['console', 'api', 'cli', 'panel', 'agent', 'schedule'] as const;
export type RequestVia = (typeof requestVias)[number];
export const requestStatuses = ['requested', 'generated', 'blocked', 'delivered', 'acknowledged', 'disputed', 'escalated', 'failed'] as const;
export type RequestStatus = (typeof requestStatuses)[number];

/** The quality result as stored on the request, with the override an admin may add. */
export const StoredQuality = z.object({
  passed: z.boolean(),
  reasons: z.array(z.object({ code: z.enum(['stale_source', 'sync_gap', 'totals_mismatch']), message: z.string() })),
  checkedAt: z.string(),
  override: z.object({ by: z.string(), note: z.string(), at: z.string() }).nullish(),
});
export type StoredQuality = z.infer<typeof StoredQuality>;

/**
 * The request's `parameters` column: the run's ReportParameters plus the delivery options the
 * table has no column for (whether a link needs a one-time code).
 */
export const StoredParameters = z.object({ deliveryOptions: z.object({ requireCode: z.boolean() }).default({ requireCode: false }) }).loose();

export function splitStoredParameters(stored: unknown): { parameters: ReportParameters | null; requireCode: boolean } {
  const parsed = StoredParameters.safeParse(stored);
  if (!parsed.success) return { parameters: null, requireCode: false };
  const { deliveryOptions, ...rest } = parsed.data;
  const parameters = ReportParameters.safeParse(rest);
  return { parameters: parameters.success ? parameters.data : null, requireCode: deliveryOptions.requireCode };
}

export interface ReportFileInfo {
  readonly format: ReportFormat;
  readonly fileName: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface ReportRequestView {
  readonly id: string;
  readonly tenantId: string;
  readonly templateSlug: string;
  /** Null only if the stored parameters no longer parse (the request then fails when processed). */
  readonly parameters: ReportParameters | null;
  readonly format: ReportFormat;
  readonly delivery: DeliveryMethod;
  readonly requireCode: boolean;
  readonly recipient: string | null;
  readonly requestedBy: string;
  readonly requestedVia: RequestVia;
  readonly onBehalfOf: string | null;
  readonly scheduleId: string | null;
  readonly status: RequestStatus;
  readonly statusReason: string | null;
  readonly quality: StoredQuality | null;
  readonly attempts: number;
  readonly files: readonly ReportFileInfo[];
  readonly sla: {
    readonly generateDueAt: Date;
    readonly acknowledgeDueAt: Date | null;
    /** The timer that has run out and not been met, if any. */
    readonly overdue: 'generate' | 'acknowledge' | null;
  };
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly generatedAt: Date | null;
  readonly deliveredAt: Date | null;
  readonly acknowledgedAt: Date | null;
  readonly acknowledgedBy: string | null;
  readonly disputedAt: Date | null;
  readonly disputeReason: string | null;
  readonly escalatedAt: Date | null;
}

const Timestamp = z.union([z.string(), z.date()]).transform((v) => new Date(v));
const RequestRow = z.object({
  id: z.string(),
  tenant_id: z.string(),
  template_slug: z.string(),
  parameters: z.unknown(),
  format: z.enum(reportFormats),
  delivery: z.enum(deliveryMethods),
  recipient: z.string().nullable(),
  requested_by: z.string(),
  requested_via: z.enum(requestVias),
  on_behalf_of: z.string().nullable(),
  schedule_id: z.string().nullable(),
  status: z.enum(requestStatuses),
  status_reason: z.string().nullable(),
  quality: z.unknown(),
  attempts: z.coerce.number(),
  generate_due_at: Timestamp,
  acknowledge_due_at: Timestamp.nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  generated_at: Timestamp.nullable(),
  delivered_at: Timestamp.nullable(),
  acknowledged_at: Timestamp.nullable(),
  acknowledged_by: z.string().nullable(),
  disputed_at: Timestamp.nullable(),
  dispute_reason: z.string().nullable(),
  escalated_at: Timestamp.nullable(),
});
type RequestRow = z.infer<typeof RequestRow>;

const FileRow = z.object({ request_id: z.string(), format: z.enum(reportFormats), file_name: z.string(), content_type: z.string(), bytes: z.coerce.number(), sha256: z.string() });

const requestColumns = `r.id, r.tenant_id, r.template_slug, r.parameters, r.format, r.delivery, r.recipient, r.requested_by, r.requested_via, r.on_behalf_of,
  r.schedule_id, r.status, r.status_reason, r.quality, r.attempts, r.generate_due_at, r.acknowledge_due_at, r.created_at, r.updated_at,
  r.generated_at, r.delivered_at, r.acknowledged_at, r.acknowledged_by, r.disputed_at, r.dispute_reason, r.escalated_at`;

function overdueTimer(row: RequestRow, now: Date): 'generate' | 'acknowledge' | null {
  if (row.delivered_at === null && row.generate_due_at < now) return 'generate';
  if ((row.status === 'delivered' || row.status === 'escalated') && row.acknowledged_at === null && row.acknowledge_due_at !== null && row.acknowledge_due_at < now) return 'acknowledge';
  return null;
}

function viewOf(row: RequestRow, files: readonly ReportFileInfo[], now: Date): ReportRequestView {
  const { parameters, requireCode } = splitStoredParameters(row.parameters);
  const quality = StoredQuality.safeParse(row.quality);
  return {
    id: row.id,
    tenantId: row.tenant_id,
    templateSlug: row.template_slug,
    parameters,
    format: row.format,
    delivery: row.delivery,
    requireCode,
    recipient: row.recipient,
    requestedBy: row.requested_by,
    requestedVia: row.requested_via,
    onBehalfOf: row.on_behalf_of,
    scheduleId: row.schedule_id,
    status: row.status,
    statusReason: row.status_reason,
    quality: quality.success ? quality.data : null,
    attempts: row.attempts,
    files,
    sla: { generateDueAt: row.generate_due_at, acknowledgeDueAt: row.acknowledge_due_at, overdue: overdueTimer(row, now) },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    generatedAt: row.generated_at,
    deliveredAt: row.delivered_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    disputedAt: row.disputed_at,
    disputeReason: row.dispute_reason,
    escalatedAt: row.escalated_at,
  };
}

/** The tenant's requests, newest first, optionally of one status or one id. */
export async function loadRequestViews(
  sql: Pick<SqlSession, 'query'>,
  tenantId: string,
  filter: { readonly id?: string; readonly status?: RequestStatus; readonly limit: number },
  now: Date,
): Promise<ReportRequestView[]> {
  const rows = (
    await sql.query(
      `select ${requestColumns} from report_request r
        where r.tenant_id = $1 and ($2::uuid is null or r.id = $2) and ($3::text is null or r.status = $3)
        order by r.created_at desc, r.id limit $4`,
      [tenantId, filter.id ?? null, filter.status ?? null, filter.limit],
    )
  ).map((row) => RequestRow.parse(row));
  if (rows.length === 0) return [];
  const files = (
    await sql.query(
      `select f.request_id, f.format, f.file_name, f.content_type, octet_length(f.content) as bytes, f.sha256
         from report_file f join report_request r on r.id = f.request_id
        where r.tenant_id = $1 and f.request_id = any($2::uuid[]) order by f.format`,
      [tenantId, rows.map((r) => r.id)],
    )
  ).map((row) => FileRow.parse(row));
  return rows.map((row) =>
    viewOf(
      row,
      files.filter((f) => f.request_id === row.id).map((f) => ({ format: f.format, fileName: f.file_name, contentType: f.content_type, bytes: f.bytes, sha256: f.sha256 })),
      now,
    ),
  );
}
