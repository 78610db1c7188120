/** The report request-to-delivery workflow: requests, quality check, delivery, SLA timers and schedules. */
export { createReportWorkflow, scheduleReportWork, type ReportSchedules, type ReportWorker, type ReportWorkflow } from './report-workflow.ts';
export type { ReportWorkflowOptions } from './workflow-context.ts';
export { qualityCheck, type QualityReason, type QualityReasonCode, type QualityResult } from './quality-check.ts';
export { RequestInput } from './report-requests.ts';
export { ScheduleInput, type ScheduleView } from './report-schedules.ts';
export { nextRunAt, type Cadence, type ScheduleSlot } from './schedule-slots.ts';
export type { LinkOutcome } from './report-links.ts';
export {
  deliveryMethods,
  reportFormats,
  requestStatuses,
  requestVias,
  type DeliveryMethod,
  type ReportFileInfo,
  type ReportFormat,
  type ReportRequestView,
  type RequestStatus,
  type RequestVia,
  type StoredQuality,
} from './request-view.ts';
