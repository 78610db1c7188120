/**
 * The report request-to-delivery workflow as one value: people request, acknowledge, dispute and
 * download; admins approve blocked reports; a worker processes what is due, escalates what is
 * overdue and runs the schedules. Every step is a ledger entry committed with the state it records.
 */
import type { Logger } from '../../contract/index.ts';
import { runPeriodically, type Periodic } from '../../scheduling/periodic.ts';
import type { RenderedFile } from '../report-model.ts';
import { openLink, type LinkOutcome } from './report-links.ts';
import { processDue } from './report-processor.ts';
import { acknowledgeRequest, approveRequest, disputeRequest, downloadFile, getRequest, insertRequest, listRequests, type RequestInput } from './report-requests.ts';
import { createSchedule, listSchedules, removeSchedule, runDueSchedules, type ScheduleView } from './report-schedules.ts';
import { escalateOverdue } from './report-sla.ts';
import type { ReportRequestView, RequestStatus } from './request-view.ts';
import { workflowContext, type ReportWorkflowOptions } from './workflow-context.ts';

export interface ReportSchedules {
  list(tenantId: string): Promise<ScheduleView[]>;
  /** Validates `input` (ScheduleInput) and names the failing field. */
  create(tenantId: string, input: unknown, by: string): Promise<ScheduleView>;
  remove(tenantId: string, id: string, by: string): Promise<void>;
  /** Requests the previous period for every due schedule; returns how many ran. */
  runDue(): Promise<number>;
}

export interface ReportWorkflow {
  request(input: RequestInput): Promise<ReportRequestView>;
  /** Claims, generates, checks and delivers up to `limit` due requests; returns how many it claimed. */
  processDue(limit?: number): Promise<number>;
  approve(tenantId: string, id: string, by: string, note: string): Promise<void>;
  acknowledge(tenantId: string, id: string, by: string): Promise<void>;
  dispute(tenantId: string, id: string, by: string, reason: string): Promise<void>;
  escalateOverdue(): Promise<number>;
  list(tenantId: string, options?: { status?: RequestStatus; limit?: number }): Promise<ReportRequestView[]>;
  get(tenantId: string, id: string): Promise<ReportRequestView | null>;
  download(tenantId: string, id: string, format: RenderedFile['format'], by: string): Promise<RenderedFile>;
  openLink(token: string, code?: string, meta?: { ip?: string }): Promise<LinkOutcome>;
  readonly schedules: ReportSchedules;
}

export function createReportWorkflow(options: ReportWorkflowOptions): ReportWorkflow {
  const ctx = workflowContext(options);
  return {
    async request(input) {
      const id = await ctx.sql.transaction((tx) => insertRequest(tx, ctx, input));
      const view = await getRequest(ctx, input.tenantId, id);
      return view!;
    },
    processDue: (limit = 5) => processDue(ctx, limit),
    approve: (tenantId, id, by, note) => approveRequest(ctx, tenantId, id, by, note),
    acknowledge: (tenantId, id, by) => acknowledgeRequest(ctx, tenantId, id, by),
    dispute: (tenantId, id, by, reason) => disputeRequest(ctx, tenantId, id, by, reason),
    escalateOverdue: () => escalateOverdue(ctx),
    list: (tenantId, listOptions) => listRequests(ctx, tenantId, listOptions),
    get: (tenantId, id) => getRequest(ctx, tenantId, id),
    download: (tenantId, id, format, by) => downloadFile(ctx, tenantId, id, format, by),
    openLink: (token, code, meta) => openLink(ctx, token, code, meta),
    schedules: {
      list: (tenantId) => listSchedules(ctx, tenantId),
      create: (tenantId, input, by) => createSchedule(ctx, tenantId, input, by),
      remove: (tenantId, id, by) => removeSchedule(ctx, tenantId, id, by),
      runDue: () => runDueSchedules(ctx),
    },
  };
}

/** The part of the workflow the background worker drives. */
export type ReportWorker = Pick<ReportWorkflow, 'processDue' | 'escalateOverdue'> & { readonly schedules: Pick<ReportSchedules, 'runDue'> };

/** Runs the schedules, processes due requests and escalates overdue ones every `everyMs`. */
export function scheduleReportWork(workflow: ReportWorker, everyMs: number, log: Logger): Periodic {
  return runPeriodically('report processing', everyMs, log, async (stopping) => {
    const ran = await workflow.schedules.runDue();
    if (ran > 0) log.info({ ran }, 'scheduled reports requested');
    // Small batches until the queue is empty, so a stop waits for one batch at most.
    while (!stopping() && (await workflow.processDue()) > 0);
    await workflow.escalateOverdue();
  });
}
