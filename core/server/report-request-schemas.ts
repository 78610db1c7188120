/**
 * The pieces of report requests the JSON API and the console both validate: slugs, formats,
 * delivery methods, request ids, and the "reports are wired on this server" check.
 */
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import type { ReportsService } from '../reports/index.ts';
import { TenantSlug } from './api-routes.ts';
import type { ServerDeps } from './server-deps.ts';

/** Template and segment slugs (the report_template / segment check constraint). */
export const ReportSlug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter');
export const reportFormats = ['html', 'pdf', 'csv', 'json'] as const;
export const ReportFormat = z.enum(reportFormats);
export const deliveryMethods = ['attachment', 'link', 'portal'] as const;
export const DeliveryMethod = z.enum(deliveryMethods);
export const requestStatuses = ['requested', 'generated', 'blocked', 'delivered', 'acknowledged', 'disputed', 'escalated', 'failed'] as const;
export const RequestStatus = z.enum(requestStatuses);

export const TenantParams = z.object({ tenant: TenantSlug });
export const TemplateParams = z.object({ tenant: TenantSlug, slug: ReportSlug });
export const RequestParams = z.object({ tenant: TenantSlug, id: z.uuid('a report request id (a UUID)') });
export const RequestFileParams = RequestParams.extend({ format: ReportFormat });
export const ScheduleParams = z.object({ tenant: TenantSlug, id: z.uuid('a schedule id (a UUID)') });

/** Someone's name or address as the ledger records it. */
export const Actor = z.string().trim().min(1).max(200);
export const DisputeReason = z.string().trim().min(1).max(2000);

export function requireReports(deps: ServerDeps): ReportsService {
  if (!deps.reports) throw new LedgerlineError('LL_UNAVAILABLE', 'Reports are not available on this server.');
  return deps.reports;
}
