/**
 * Report schedules: a template with its parameters, sent to one recipient every day, week or month
 * at a local time in the schedule's zone. Each run requests the previous complete period (the
 * day, ISO week or month before the run) as an ordinary report request, which then goes through
 * generation, the quality check and delivery like any other. A run that was missed while nothing
 * was running happens once, late, and the schedule moves on to its next future slot.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError, toLedgerlineError } from '../../errors/index.ts';
import { isTimeZone, previousPeriod } from '../period.ts';
import { ReportParameters } from '../report-model.ts';
import { insertRequest } from './report-requests.ts';
import { deliveryMethods, reportFormats, type DeliveryMethod, type ReportFormat } from './request-view.ts';
import { nextRunAt, type Cadence, type ScheduleSlot } from './schedule-slots.ts';
import { maskEmail, record, type WorkflowContext } from './workflow-context.ts';

/** The run's parameters; the period comes from each run, the time zone from the schedule. */
const ScheduleParameters = ReportParameters.omit({ period: true, timeZone: true });
type ScheduleParameters = z.infer<typeof ScheduleParameters>;
const cadences = ['daily', 'weekly', 'monthly'] as const;

export const ScheduleInput = z
  .strictObject({
    templateSlug: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter'),
    parameters: ScheduleParameters.prefault({}),
    recipient: z.email('an e-mail address'),
    delivery: z.enum(deliveryMethods),
    format: z.enum(reportFormats).default('pdf'),
    requireCode: z.boolean().default(false),
    cadence: z.enum(cadences),
    timeZone: z.string().refine(isTimeZone, 'an IANA time zone, for example Europe/Berlin'),
    localTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time, HH:MM (24-hour)'),
    weekday: z.coerce.number().int().min(1).max(7).nullish(),
    dayOfMonth: z.coerce.number().int().min(1).max(28).nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.cadence === 'weekly' && input.weekday == null) ctx.addIssue({ code: 'custom', path: ['weekday'], message: 'a weekly schedule needs a weekday, 1 (Monday) to 7 (Sunday)' });
    if (input.cadence !== 'weekly' && input.weekday != null) ctx.addIssue({ code: 'custom', path: ['weekday'], message: 'only a weekly schedule has a weekday' });
    if (input.cadence === 'monthly' && input.dayOfMonth == null) ctx.addIssue({ code: 'custom', path: ['dayOfMonth'], message: 'a monthly schedule needs a day of the month, 1 to 28' });
    if (input.cadence !== 'monthly' && input.dayOfMonth != null) ctx.addIssue({ code: 'custom', path: ['dayOfMonth'], message: 'only a monthly schedule has a day of the month' });
    if (input.requireCode && input.delivery !== 'link') ctx.addIssue({ code: 'custom', path: ['requireCode'], message: 'a one-time code protects a secure link: choose link delivery' });
  });

export interface ScheduleView extends ScheduleSlot {
  readonly id: string;
  readonly tenantId: string;
  readonly templateSlug: string;
  /** Null only if the stored parameters no longer parse (runs then fail and say so). */
  readonly parameters: ScheduleParameters | null;
  readonly recipient: string;
  readonly delivery: DeliveryMethod;
  readonly format: ReportFormat;
  readonly requireCode: boolean;
  readonly nextRunAt: Date;
  readonly lastRunAt: Date | null;
  readonly createdAt: Date;
  readonly createdBy: string;
}

/** The `parameters` column holds the run parameters and the options the table has no column for. */
const StoredScheduleParameters = z.object({ deliveryOptions: z.object({ format: z.enum(reportFormats), requireCode: z.boolean() }) }).loose();
const Timestamp = z.union([z.string(), z.date()]).transform((v) => new Date(v));
const ScheduleRow = z.object({
  id: z.string(),
  tenant_id: z.string(),
  template_slug: z.string(),
  parameters: z.unknown(),
  recipient: z.string(),
  delivery: z.enum(deliveryMethods),
  cadence: z.enum(cadences),
  time_zone: z.string(),
  local_time: z.string(),
  weekday: z.coerce.number().nullable(),
  day_of_month: z.coerce.number().nullable(),
  next_run_at: Timestamp,
  last_run_at: Timestamp.nullable(),
  created_at: Timestamp,
  created_by: z.string(),
});
const scheduleColumns = `id, tenant_id, template_slug, parameters, recipient, delivery, cadence, time_zone, local_time, weekday, day_of_month, next_run_at, last_run_at, created_at, created_by`;

function viewOf(raw: unknown): ScheduleView {
  const row = ScheduleRow.parse(raw);
  const stored = StoredScheduleParameters.safeParse(row.parameters);
  const options = stored.success ? stored.data.deliveryOptions : { format: 'pdf' as const, requireCode: false };
  const { deliveryOptions: _options, ...rest } = stored.success ? stored.data : { deliveryOptions: null };
  const parameters = ScheduleParameters.safeParse(rest);
  return {
    id: row.id,
    tenantId: row.tenant_id,
    templateSlug: row.template_slug,
    parameters: stored.success && parameters.success ? parameters.data : null,
    recipient: row.recipient,
    delivery: row.delivery,
    format: options.format,
    requireCode: options.requireCode,
    cadence: row.cadence,
    timeZone: row.time_zone,
    localTime: row.local_time,
    weekday: row.weekday,
    dayOfMonth: row.day_of_month,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

export async function listSchedules(ctx: WorkflowContext, tenantId: string): Promise<ScheduleView[]> {
  const rows = await ctx.sql.query(`select ${scheduleColumns} from report_schedule where tenant_id = $1 and enabled order by created_at, id`, [tenantId]);
  return rows.map(viewOf);
}

export async function createSchedule(ctx: WorkflowContext, tenantId: string, input: unknown, by: string): Promise<ScheduleView> {
  const parsed = ScheduleInput.safeParse(input);
  if (!parsed.success) throw invalidInput('schedule', parsed.error.issues);
  const s = parsed.data;
  const now = ctx.now();
  const slot: ScheduleSlot = { cadence: s.cadence, timeZone: s.timeZone, localTime: s.localTime, weekday: s.weekday ?? null, dayOfMonth: s.dayOfMonth ?? null };
  const next = nextRunAt(slot, now);
  const stored = { ...s.parameters, deliveryOptions: { format: s.format, requireCode: s.requireCode } };
  return ctx.sql.transaction(async (tx) => {
    const [row] = await tx.query(
      `insert into report_schedule (tenant_id, template_slug, parameters, recipient, delivery, cadence, time_zone, local_time, weekday, day_of_month, next_run_at, created_at, created_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning ${scheduleColumns}`,
      [tenantId, s.templateSlug, JSON.stringify(stored), s.recipient, s.delivery, s.cadence, s.timeZone, s.localTime, slot.weekday, slot.dayOfMonth, next.toISOString(), now.toISOString(), by],
    );
    const view = viewOf(row);
    await record(tx, tenantId, [
      {
        kind: 'schedule.created',
        body: { scheduleId: view.id, template: s.templateSlug, cadence: s.cadence, timeZone: s.timeZone, localTime: s.localTime, weekday: slot.weekday, dayOfMonth: slot.dayOfMonth, delivery: s.delivery, format: s.format, recipient: maskEmail(s.recipient), nextRunAt: next.toISOString(), by },
      },
    ], now);
    return view;
  });
}

export async function removeSchedule(ctx: WorkflowContext, tenantId: string, id: string, by: string): Promise<void> {
  const now = ctx.now();
  await ctx.sql.transaction(async (tx) => {
    // Disabled rather than deleted: the requests it made keep pointing at it.
    const [row] = z.uuid().safeParse(id).success
      ? await tx.query(`update report_schedule set enabled = false where id = $1 and tenant_id = $2 and enabled returning id`, [id, tenantId])
      : [];
    if (!row) throw new LedgerlineError('LL_NOT_FOUND', `No schedule ${id} in this tenant.`, { details: { field: 'id' } });
    await record(tx, tenantId, [{ kind: 'schedule.removed', body: { scheduleId: id, by } }], now);
  });
}

/** At most this many schedules run per call; the rest run in the next round. */
const runsPerRound = 50;

/** Runs the due schedules, one short transaction each (claimed with skip locked, so workers share them). */
export async function runDueSchedules(ctx: WorkflowContext): Promise<number> {
  let ran = 0;
  for (let round = 0; round < runsPerRound; round += 1) {
    const now = ctx.now();
    // Which schedule the transaction had claimed, for the failure record after it rolled back.
    const claimed: { schedule: ScheduleView | null } = { schedule: null };
    try {
      const done = await ctx.sql.transaction(async (tx) => {
        const [due] = await tx.query(`select ${scheduleColumns} from report_schedule where enabled and next_run_at <= $1 order by next_run_at, id limit 1 for update skip locked`, [now.toISOString()]);
        if (!due) return false;
        const schedule = viewOf(due);
        claimed.schedule = schedule;
        if (schedule.parameters === null) throw new LedgerlineError('LL_INVALID_INPUT', `the stored parameters of schedule ${schedule.id} no longer parse`);
        const period = previousPeriod(schedule.cadence, now, schedule.timeZone);
        const next = nextRunAt(schedule, now);
        const requestId = await insertRequest(tx, ctx, {
          tenantId: schedule.tenantId,
          templateSlug: schedule.templateSlug,
          parameters: { ...schedule.parameters, period, timeZone: schedule.timeZone },
          format: schedule.format,
          requestedBy: schedule.createdBy,
          via: 'schedule',
          recipient: schedule.recipient,
          delivery: schedule.delivery,
          requireCode: schedule.requireCode,
          scheduleId: schedule.id,
        });
        await tx.query(`update report_schedule set next_run_at = $3, last_run_at = $4 where id = $1 and tenant_id = $2`, [schedule.id, schedule.tenantId, next.toISOString(), now.toISOString()]);
        await record(tx, schedule.tenantId, [{ kind: 'schedule.ran', body: { scheduleId: schedule.id, requestId, period, slotAt: schedule.nextRunAt.toISOString(), nextRunAt: next.toISOString() } }], now);
        return true;
      });
      if (!done) break;
      ran += 1;
    } catch (thrown) {
      if (claimed.schedule === null) throw thrown;
      await recordScheduleFailure(ctx, claimed.schedule, thrown, now);
    }
  }
  return ran;
}

/** A run that cannot make its request moves the schedule on and says why, rather than failing every round. */
async function recordScheduleFailure(ctx: WorkflowContext, schedule: ScheduleView, thrown: unknown, now: Date): Promise<void> {
  const reason = toLedgerlineError(thrown).message.slice(0, 2000);
  const next = nextRunAt(schedule, now);
  await ctx.sql.transaction(async (tx) => {
    await tx.query(`update report_schedule set next_run_at = $3, last_run_at = $4 where id = $1 and tenant_id = $2`, [schedule.id, schedule.tenantId, next.toISOString(), now.toISOString()]);
    await record(tx, schedule.tenantId, [{ kind: 'schedule.failed', body: { scheduleId: schedule.id, slotAt: schedule.nextRunAt.toISOString(), reason, nextRunAt: next.toISOString() } }], now);
  });
  ctx.log.error({ scheduleId: schedule.id, err: reason }, 'a scheduled report could not be requested');
}

export type { Cadence };
