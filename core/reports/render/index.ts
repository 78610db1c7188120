/**
 * Rendering of report data into files: HTML, PDF (the HTML printed by Chromium), CSV and JSON.
 * Masking happens before: callers pass data through `maskReportData` first, as generate.ts does.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../../errors/index.ts';
import type { RenderedFile, ReportData } from '../report-model.ts';
import { renderReportCsv } from './csv.ts';
import { renderReportHtml } from './html.ts';
import { renderReportJson } from './json.ts';
import type { PdfPrinter } from './pdf.ts';

export { maskReportData } from '../masking.ts';
export { renderReportHtml, renderReportHtmlFragment, reportStylesheet } from './html.ts';
export { createPdfPrinter, type PdfPrinter } from './pdf.ts';
export { formatDate, formatDateTime, formatMoney, formatNumber, formatPercent, reportText } from './i18n.ts';

const Format = z.enum(['html', 'pdf', 'csv', 'json']);

const contentTypes: Readonly<Record<RenderedFile['format'], string>> = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** `<template-slug>-<period>.<ext>`, a range's `..` written as `_` so no name looks like a path. */
export function reportFileName(data: ReportData, format: RenderedFile['format']): string {
  const safe = (text: string): string => text.replace(/\.\./g, '_').replace(/[^A-Za-z0-9._-]/g, '-');
  return `${safe(data.template.slug)}-${safe(data.period.text)}.${format}`;
}

export async function renderReport(data: ReportData, format: RenderedFile['format'], options: { printer?: PdfPrinter } = {}): Promise<RenderedFile> {
  const parsed = Format.safeParse(format);
  if (!parsed.success) throw invalidInput('format', parsed.error.issues, 'format');
  const file = (body: Buffer): RenderedFile => ({ format: parsed.data, contentType: contentTypes[parsed.data], fileName: reportFileName(data, parsed.data), body });
  switch (parsed.data) {
    case 'html':
      return file(Buffer.from(renderReportHtml(data), 'utf8'));
    case 'pdf':
      if (!options.printer) throw new LedgerlineError('LL_UNAVAILABLE', 'PDF rendering needs a PDF printer (createPdfPrinter), and none was given');
      return file(await options.printer.print(renderReportHtml(data)));
    case 'csv':
      return file(renderReportCsv(data));
    case 'json':
      return file(renderReportJson(data));
  }
}
