/**
 * The report contract: a report declares its parameters (zod), the metrics it needs and how it
 * renders. The engine validates parameters at the edge (console, API, CLI, schedule) and hands the
 * renderer typed values and a tenant-scoped query context.
 */
import type { z } from 'zod';
import type { Logger } from './connector.ts';

export const reportFormats = ['html', 'pdf', 'csv', 'json'] as const;
export type ReportFormat = (typeof reportFormats)[number];

export interface ReportPeriod {
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

/** What a renderer may read: tenant-scoped SQL through the store, nothing else. */
export interface ReportContext {
  readonly tenantId: string;
  readonly locale: string;
  readonly timeZone: string;
  readonly log: Logger;
  /** Runs a read-only, tenant-scoped query; `$1` is always the tenant id. */
  readonly query: <Row extends object>(sql: string, params?: readonly unknown[]) => Promise<Row[]>;
}

export interface RenderedReport {
  readonly format: ReportFormat;
  readonly contentType: string;
  readonly body: Buffer;
  /** Suggested file name without directory. */
  readonly fileName: string;
}

export interface ReportDefinition<Params = unknown> {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly parameters: z.ZodType<Params>;
  /** Metric ids the report reads, so schedules can check data freshness before running it. */
  readonly metrics: readonly string[];
  readonly formats: readonly ReportFormat[];
  readonly render: (ctx: ReportContext, params: Params, format: ReportFormat) => Promise<RenderedReport>;
}

export function defineReport<Params>(report: ReportDefinition<Params>): ReportDefinition<Params> {
  return report;
}
