/**
 * The report as JSON: the collected (and masked) data as it is, pretty-printed, under a `format`
 * field that names the shape so a consumer can tell versions apart.
 */
import type { ReportData } from '../report-model.ts';

export const reportJsonFormat = 'ledgerline.report/v1';

export function renderReportJson(data: ReportData): Buffer {
  return Buffer.from(`${JSON.stringify({ format: reportJsonFormat, ...data }, null, 2)}\n`, 'utf8');
}
