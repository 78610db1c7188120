/**
 * The reports, as the server, the CLI and the workers use them: one service value
 * (`createReportsService`) with templates, segments, spend, on-demand runs and the
 * request-to-delivery workflow, plus the shared model, periods and renderers.
 */
export * from './report-model.ts';
export { createReportsService, reportsOptionsFrom, type ReportsService, type ReportsServiceOptions, type SegmentStore, type SpendBook, type SpendEntry, type TemplateStore } from './reports-service.ts';
export { builtInTemplates, createTemplateStore, isBuiltInTemplate } from './templates.ts';
export { createReportGenerator, type ReportGeneratorOptions } from './generate.ts';
export { createSegmentStore, segmentCustomers, type SavedSegment } from './segments.ts';
export { importSpendCsv, listSpend, recordSpend, spendInPeriod, type StoredSpend } from './spend.ts';
export { isTimeZone, previousPeriod, resolvePeriod, type ResolvedPeriod } from './period.ts';
export { collectReportData, type CollectReportInput } from './report-data.ts';
export { tenantMetrics, type TenantMetrics } from './tenant-metrics.ts';
export { maskReportData } from './masking.ts';
export { createPdfPrinter, renderReport, renderReportHtml, renderReportHtmlFragment, reportFileName, reportStylesheet, type PdfPrinter } from './render/index.ts';
export {
  createReportWorkflow,
  deliveryMethods,
  qualityCheck,
  reportFormats,
  requestStatuses,
  requestVias,
  RequestInput,
  ScheduleInput,
  scheduleReportWork,
  type DeliveryMethod,
  type LinkOutcome,
  type QualityResult,
  type ReportFileInfo,
  type ReportFormat,
  type ReportRequestView,
  type ReportSchedules,
  type ReportWorkflow,
  type ReportWorkflowOptions,
  type RequestStatus,
  type RequestVia,
  type ScheduleView,
} from './workflow/index.ts';
