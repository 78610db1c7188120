/**
 * The worker side of report requests: claim what is due, generate the files, run the quality
 * check, deliver. A claim is its own short transaction that counts the attempt and leases the
 * request for a while, so a worker that dies mid-way leaves a request that becomes due again —
 * never lost. Each later step commits only while the claim is still the worker's (the attempt
 * number is the claim's token), so a request is never generated or delivered twice by two workers.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LedgerlineError, toLedgerlineError, type ErrorCode } from '../../errors/index.ts';
import type { SqlSession } from '../../store/sql-session.ts';
import type { RenderedFile } from '../report-model.ts';
import { qualityCheck } from './quality-check.ts';
import { sendReportAttachment, sendReportLink, type DeliveryTarget } from './report-delivery.ts';
import { linkUrl, newLink, storeLink } from './report-links.ts';
import { readStoredFile } from './report-requests.ts';
import { deliveryMethods, reportFormats, splitStoredParameters, StoredQuality, type DeliveryMethod, type ReportFormat } from './request-view.ts';
import { hoursAfter, maskEmail, record, type WorkflowContext } from './workflow-context.ts';

/** How long a claim is the worker's; a PDF run with a cold Chromium fits well inside it. */
const claimLeaseMs = 10 * 60_000;

/** Failures about the request itself: trying again cannot help. */
const permanentCodes: ReadonlySet<ErrorCode> = new Set(['LL_INVALID_INPUT', 'LL_NOT_FOUND', 'LL_INVALID_CONFIG', 'LL_FORBIDDEN', 'LL_CONFLICT']);
// An SMTP 5xx reply is a permanent refusal (RFC 5321 §4.2.1), such as an unknown mailbox.
const SmtpReply = z.object({ responseCode: z.number().int() });

const ClaimedRow = z.object({
  id: z.string(),
  tenant_id: z.string(),
  template_slug: z.string(),
  parameters: z.unknown(),
  format: z.enum(reportFormats),
  delivery: z.enum(deliveryMethods),
  recipient: z.string().nullable(),
  attempts: z.coerce.number(),
  generated_at: z.unknown(),
  quality: z.unknown(),
});
type Claimed = z.infer<typeof ClaimedRow>;

export async function claimDue(ctx: WorkflowContext, limit: number): Promise<Claimed[]> {
  const now = ctx.now();
  // Across tenants by design (one queue for all); every later statement is scoped by the claimed row's tenant.
  const rows = await ctx.sql.query(
    `update report_request r set attempts = r.attempts + 1, next_attempt_at = $1::timestamptz + make_interval(secs => $3), updated_at = $1
      where r.id in (select id from report_request
                      where status in ('requested', 'generated', 'escalated') and delivered_at is null and next_attempt_at <= $1
                      order by next_attempt_at, id limit $2 for update skip locked)
      returning r.id, r.tenant_id, r.template_slug, r.parameters, r.format, r.delivery, r.recipient, r.attempts, r.generated_at, r.quality`,
    [now.toISOString(), limit, claimLeaseMs / 1000],
  );
  return rows.map((row) => ClaimedRow.parse(row));
}

export async function processDue(ctx: WorkflowContext, limit: number): Promise<number> {
  const claimed = await claimDue(ctx, limit);
  for (const row of claimed) await processClaimed(ctx, row);
  return claimed.length;
}

/** The formats a delivery needs: the HTML is the e-mail's body and the PDF its attachment. */
function formatsFor(delivery: DeliveryMethod, format: ReportFormat): ReportFormat[] {
  return delivery === 'attachment' ? [...new Set<ReportFormat>([format, 'html', 'pdf'])] : [format];
}

export async function processClaimed(ctx: WorkflowContext, row: Claimed): Promise<void> {
  let stage: 'generate' | 'deliver' = 'generate';
  try {
    if (row.generated_at === null) {
      const outcome = await generateAndCheck(ctx, row);
      if (outcome !== 'passed') return;
    } else {
      const quality = StoredQuality.safeParse(row.quality);
      if (!quality.success || (!quality.data.passed && !quality.data.override)) throw new LedgerlineError('LL_CONFLICT', 'the report has not passed its quality check and was not approved');
    }
    stage = 'deliver';
    await deliver(ctx, row);
  } catch (thrown) {
    await recordFailure(ctx, row, stage, thrown);
  }
}

async function generateAndCheck(ctx: WorkflowContext, row: Claimed): Promise<'passed' | 'blocked' | 'lost'> {
  const { parameters } = splitStoredParameters(row.parameters);
  if (!parameters) throw new LedgerlineError('LL_INVALID_INPUT', 'the stored report parameters are no longer valid');
  const formats = formatsFor(row.delivery, row.format);
  const generated = await ctx.generate({ tenantId: row.tenant_id, templateSlug: row.template_slug, parameters, formats });
  const files = formats.map((format) => {
    const file = generated.files.find((f) => f.format === format);
    if (!file) throw new LedgerlineError('LL_INTERNAL', `the report run produced no ${format} file`);
    return { ...file, sha256: createHash('sha256').update(file.body).digest('hex') };
  });
  const now = ctx.now();
  const quality = qualityCheck(generated.data, now);
  const stored = { passed: quality.passed, reasons: quality.reasons, checkedAt: now.toISOString(), override: null };
  return ctx.sql.transaction(async (tx) => {
    const [mine] = await tx.query(
      `update report_request set status = $4, status_reason = $5, quality = $6, generated_at = $7, updated_at = $7,
              next_attempt_at = case when $3 then next_attempt_at else 'infinity'::timestamptz end
        where id = $1 and tenant_id = $2 and attempts = $8 and generated_at is null returning id`,
      [row.id, row.tenant_id, quality.passed, quality.passed ? 'generated' : 'blocked', quality.passed ? null : quality.reasons.map((r) => r.message).join('; '), JSON.stringify(stored), now.toISOString(), row.attempts],
    );
    if (!mine) return 'lost';
    await tx.query(
      `insert into report_file (request_id, format, file_name, content_type, content, sha256, created_at)
       select $1, f.format, f.file_name, f.content_type, decode(f.content, 'base64'), f.sha256, $2
         from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as f(format, file_name, content_type, content, sha256)`,
      [row.id, now.toISOString(), files.map((f) => f.format), files.map((f) => f.fileName), files.map((f) => f.contentType), files.map((f) => f.body.toString('base64')), files.map((f) => f.sha256)],
    );
    // Hashes and sizes only: the report's content stays in report_file, which an erasure can reach.
    await record(tx, row.tenant_id, [
      { kind: 'report.generated', body: { requestId: row.id, attempt: row.attempts, files: files.map((f) => ({ format: f.format, bytes: f.body.length, sha256: f.sha256 })) } },
      quality.passed
        ? { kind: 'report.quality_checked', body: { requestId: row.id, passed: true } }
        : { kind: 'report.blocked', body: { requestId: row.id, reasons: quality.reasons } },
    ], now);
    if (!quality.passed) ctx.log.warn({ requestId: row.id, reasons: quality.reasons.map((r) => r.code) }, 'a report was blocked by its quality check');
    return quality.passed ? 'passed' : 'blocked';
  });
}

async function requireFile(ctx: WorkflowContext, row: Claimed, format: ReportFormat): Promise<RenderedFile> {
  const file = await readStoredFile(ctx.sql, row.tenant_id, row.id, format);
  if (!file) throw new LedgerlineError('LL_INTERNAL', `the ${format} file of report request ${row.id} is missing`);
  return file;
}

/** Still this worker's claim? Checked right before anything leaves the building. */
async function stillClaimed(sql: Pick<SqlSession, 'query'>, row: Claimed): Promise<boolean> {
  const [mine] = await sql.query(`select id from report_request where id = $1 and tenant_id = $2 and attempts = $3 and delivered_at is null`, [row.id, row.tenant_id, row.attempts]);
  return mine !== undefined;
}

async function deliver(ctx: WorkflowContext, row: Claimed): Promise<void> {
  const { parameters, requireCode } = splitStoredParameters(row.parameters);
  if (!(await stillClaimed(ctx.sql, row))) return;
  const mail = { mail: ctx.mail, mailFrom: ctx.settings.mailFrom, publicUrl: ctx.settings.publicUrl };
  const target = (): DeliveryTarget => {
    if (!row.recipient) throw new LedgerlineError('LL_INVALID_INPUT', `delivery by ${row.delivery} needs a recipient`);
    return { requestId: row.id, templateSlug: row.template_slug, period: parameters?.period ?? '', recipient: row.recipient };
  };
  const sentAt = ctx.now();
  const expiresAt = hoursAfter(sentAt, ctx.settings.linkTtlHours);
  const link = row.delivery === 'link' ? newLink(requireCode) : null;
  let sent: Record<string, unknown> = {};
  if (row.delivery === 'attachment') {
    const files = { html: await requireFile(ctx, row, 'html'), pdf: await requireFile(ctx, row, 'pdf'), requested: await requireFile(ctx, row, row.format) };
    sent = { messageId: await sendReportAttachment(mail, target(), files) };
  } else if (link) {
    sent = { ...(await sendReportLink(mail, target(), { url: linkUrl(ctx.settings.publicUrl, link.token), expiresAt, code: link.code })), linkExpiresAt: expiresAt.toISOString() };
  }
  const now = ctx.now();
  const acknowledgeDueAt = hoursAfter(now, ctx.settings.acknowledgeHours);
  await ctx.sql.transaction(async (tx) => {
    const [mine] = await tx.query(
      `update report_request set status = 'delivered', status_reason = null, delivered_at = $4, acknowledge_due_at = $5, updated_at = $4, next_attempt_at = 'infinity'
        where id = $1 and tenant_id = $2 and attempts = $3 and delivered_at is null returning id`,
      [row.id, row.tenant_id, row.attempts, now.toISOString(), acknowledgeDueAt.toISOString()],
    );
    if (!mine) {
      // Sent, but another worker took the request over meanwhile: say so rather than record it twice.
      ctx.log.warn({ requestId: row.id }, 'a report was e-mailed after its claim had passed to another worker');
      return;
    }
    const linkId = link ? await storeLink(tx, row.id, link, expiresAt, now) : null;
    await record(tx, row.tenant_id, [
      { kind: 'report.delivered', body: { requestId: row.id, method: row.delivery, recipient: maskEmail(row.recipient), attempt: row.attempts, ...sent, ...(linkId ? { linkId } : {}), acknowledgeDueAt: acknowledgeDueAt.toISOString() } },
    ], now);
  });
  ctx.log.info({ requestId: row.id, method: row.delivery }, 'a report was delivered');
}

function isPermanent(error: LedgerlineError, thrown: unknown): boolean {
  const smtp = SmtpReply.safeParse(thrown);
  return permanentCodes.has(error.code) || (smtp.success && smtp.data.responseCode >= 500 && smtp.data.responseCode < 600);
}

/** Retried with backoff until the last attempt, then failed; either way the ledger says why. */
async function recordFailure(ctx: WorkflowContext, row: Claimed, stage: 'generate' | 'deliver', thrown: unknown): Promise<void> {
  const error = toLedgerlineError(thrown);
  const reason = error.message.slice(0, 2000);
  const now = ctx.now();
  const final = isPermanent(error, thrown) || row.attempts >= ctx.settings.maxAttempts;
  const retryAt = new Date(now.getTime() + ctx.settings.retryBaseMs * 2 ** (row.attempts - 1));
  await ctx.sql.transaction(async (tx) => {
    const [mine] = await tx.query(
      `update report_request set status = case when $4 then 'failed' else status end, status_reason = $5, next_attempt_at = $6, updated_at = $7
        where id = $1 and tenant_id = $2 and attempts = $3 and delivered_at is null returning id`,
      [row.id, row.tenant_id, row.attempts, final, reason, final ? 'infinity' : retryAt.toISOString(), now.toISOString()],
    );
    if (!mine) return;
    await record(tx, row.tenant_id, [
      final
        ? { kind: 'report.failed', body: { requestId: row.id, stage, attempt: row.attempts, code: error.code, reason } }
        : { kind: 'report.attempt_failed', body: { requestId: row.id, stage, attempt: row.attempts, code: error.code, reason, retryAt: retryAt.toISOString() } },
    ], now);
  });
  ctx.log.warn({ requestId: row.id, stage, attempt: row.attempts, final, err: reason }, final ? 'a report request failed' : 'a report attempt failed and will be retried');
}
