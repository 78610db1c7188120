/**
 * One report run: collect the data the template asks for, mask it as the reader's role requires,
 * then render each requested format from that one masked value — so the HTML, PDF, CSV and JSON
 * of a run always agree, and nothing unmasked reaches a renderer.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../errors/index.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { maskReportData } from './masking.ts';
import { renderReport, type PdfPrinter } from './render/index.ts';
import { collectReportData } from './report-data.ts';
import { ReportParameters, type RenderedFile, type ReportGenerator } from './report-model.ts';
import type { SegmentStore, TemplateStore } from './reports-service.ts';
import { localizedTemplate } from './template-texts.ts';
import { expandSavedSegments, segmentComparisonSlug } from './templates.ts';

export interface ReportGeneratorOptions {
  readonly sql: SqlSession;
  readonly keyring: SubjectKeyring;
  readonly templates: Pick<TemplateStore, 'get'>;
  readonly segments: Pick<SegmentStore, 'get' | 'list'>;
  /** Started on the first PDF and shared by every run after it (Chromium is slow to start). */
  readonly printer: () => Promise<PdfPrinter>;
  readonly now?: () => Date;
}

const Formats = z.array(z.enum(['html', 'pdf', 'csv', 'json'])).min(1, 'at least one format').max(4);

export function createReportGenerator(options: ReportGeneratorOptions): ReportGenerator {
  return async ({ tenantId, templateSlug, parameters: input, formats: requestedFormats, onProgress }) => {
    const parameters = ReportParameters.safeParse(input);
    if (!parameters.success) throw invalidInput('parameters', parameters.error.issues);
    const formats = Formats.safeParse(requestedFormats);
    if (!formats.success) throw invalidInput('formats', formats.error.issues);
    const found = await options.templates.get(tenantId, templateSlug);
    if (!found) throw new LedgerlineError('LL_NOT_FOUND', `no report template ${templateSlug}`, { details: { field: 'template' } });
    const expanded = found.builtIn && found.slug === segmentComparisonSlug ? expandSavedSegments(found, (await options.segments.list(tenantId)).map((s) => s.slug)) : found;
    const template = localizedTemplate(expanded, parameters.data.locale);

    const collected = await collectReportData(options.sql, options.keyring, {
      tenantId,
      template,
      parameters: parameters.data,
      segments: async (slug) => (await options.segments.get(tenantId, slug))?.definition ?? null,
      ...(options.now ? { now: options.now() } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
    onProgress?.(`mask: ${collected.masking}`);
    const data = maskReportData(collected);
    const files: RenderedFile[] = [];
    // One format after the other: a PDF run holds a Chromium page, and the machine may be small.
    for (const format of [...new Set(formats.data)]) {
      onProgress?.(`render ${format}`);
      const printer = format === 'pdf' ? await options.printer() : undefined;
      files.push(await renderReport(data, format, printer ? { printer } : {}));
    }
    return { data, files };
  };
}
