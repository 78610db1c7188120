import { describe, expect, it } from 'vitest';
import type { RenderedFile } from '../report-model.ts';
import { createPdfPrinter, renderReport, reportFileName } from './index.ts';
import { reportFixture } from './report-fixture.ts';

describe('renderReport', () => {
  it('names each file after the template and the period, with the matching content type', async () => {
    const data = reportFixture();
    const files = await Promise.all((['html', 'csv', 'json'] as const).map((format) => renderReport(data, format)));
    expect(files.map((f) => [f.format, f.fileName, f.contentType])).toEqual([
      ['html', 'account-activity-2026-10.html', 'text/html; charset=utf-8'],
      ['csv', 'account-activity-2026-10.csv', 'text/csv; charset=utf-8'],
      ['json', 'account-activity-2026-10.json', 'application/json; charset=utf-8'],
    ]);
    expect(reportFileName({ ...data, period: { ...data.period, text: '2026-10-01..2026-10-15' } }, 'pdf')).toBe('account-activity-2026-10-01_2026-10-15.pdf');
  });

  it('writes JSON as the report data under a format tag', async () => {
    const data = reportFixture({ locale: 'es' });
    const file = await renderReport(data, 'json');
    const text = file.body.toString('utf8');
    expect(text).toMatch(/^\{\n {2}"format": "ledgerline\.report\/v1",\n {2}"template": \{/);
    const { format, ...rest } = JSON.parse(text) as Record<string, unknown>;
    expect(format).toBe('ledgerline.report/v1');
    expect(rest).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('refuses a PDF without a printer and an unknown format', async () => {
    await expect(renderReport(reportFixture(), 'pdf')).rejects.toMatchObject({ code: 'LL_UNAVAILABLE' });
    await expect(renderReport(reportFixture(), 'docx' as RenderedFile['format'])).rejects.toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'format' } });
  });

  it('reports a missing Chromium as unavailable, saying where it looked', async () => {
    await expect(createPdfPrinter({ executablePath: '/nonexistent/chromium' })).rejects.toMatchObject({
      code: 'LL_UNAVAILABLE',
      message: expect.stringContaining('/nonexistent/chromium') as unknown,
    });
  });
});
