import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, chromiumPath, screenshotPath } from '../../../test/support/chromium.ts';
import { maskReportData } from '../masking.ts';
import type { RenderedFile } from '../report-model.ts';
import { createPdfPrinter, renderReport, type PdfPrinter } from './index.ts';
import { personalLeaks, reportFixture } from './report-fixture.ts';

const popplerMissing = ['pdftotext', 'pdftoppm'].find((tool) => spawnSync(tool, ['-v']).error !== undefined);
const skipReason = chromiumMissing ?? (popplerMissing ? `no ${popplerMissing} (install Debian's poppler-utils)` : null);
if (skipReason) console.log(`PDF rendering tests skipped: ${skipReason}`);

let printer: PdfPrinter;
let dir: string;
/** The realistic report in German, printed once and inspected by several tests. */
let german: RenderedFile;

/** The PDF's text as pdftotext reads it, no-break spaces as plain spaces. */
function pdfText(pdf: Buffer, name: string): string {
  const file = join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/\u00a0/g, ' ');
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('PDF reports printed by Chromium', () => {
  beforeAll(async () => {
    if (skipReason) return;
    dir = mkdtempSync(join(tmpdir(), 'ledgerline-pdf-'));
    printer = await createPdfPrinter({ executablePath: chromiumPath });
    german = await renderReport(reportFixture({ locale: 'de' }), 'pdf', { printer });
  });

  afterAll(async () => {
    if (skipReason) return;
    await printer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(skipReason !== null)('prints every section with German money and dates, table headers repeated on each page', () => {
    const file = german;
    expect(file).toMatchObject({ format: 'pdf', contentType: 'application/pdf', fileName: 'account-activity-2026-10.pdf' });
    expect(file.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(file.body, 'de');
    const pages = text.split('\f').filter((page) => page.trim() !== '');
    expect(pages.length).toBeGreaterThanOrEqual(4);
    for (const heading of ['Kennzahlen', 'Aktivität im Zeitverlauf', 'Transaktionsverlauf', 'Anmeldeverlauf', 'Kunden nach Umsatz sortiert', 'Segmentvergleich', 'Neukunden im Zeitraum', 'Quellen']) {
      expect(text).toContain(heading);
    }
    for (const money of ['1.234,50 €', '18.250,00 $', '125.000 ¥', '-89,90 €', '1.144,60 €']) expect(text).toContain(money);
    expect(text).toContain('Zeitraum: 1.10.2026 – 31.10.2026 (2026-10)');
    expect(text).toContain('Die neuesten 64 von 80 werden angezeigt.');
    expect(text).toContain('Erstellt am 1.11.2026, 8:30 (Europe/Berlin)');
    // Chromium's footer: "page / pages" on every page.
    expect(pages[0]).toMatch(new RegExp(`\\b1 / ${pages.length}\\b`));
    expect(pages.at(-1)).toMatch(new RegExp(`\\b${pages.length} / ${pages.length}\\b`));
    // The login table runs over several pages, each starting with the column headers again.
    const pagesWithLoginRows = pages.filter((page) => /login_(succeeded|failed)/.test(page));
    expect(pagesWithLoginRows.length).toBeGreaterThanOrEqual(2);
    for (const page of pagesWithLoginRows) expect(page).toMatch(/Zeitpunkt\s+Kunde\s+Aktivität\s+Kategorie\s+Betrag\s+Quelle/);
  });

  it.skipIf(skipReason !== null)('rasterises to A4 pages and keeps page 1 as a screenshot', () => {
    const pdf = join(dir, 'raster.pdf');
    writeFileSync(pdf, german.body);
    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '2', pdf, join(dir, 'page')]);
    const pngs = readdirSync(dir).filter((name) => /^page-\d+\.png$/.test(name)).sort();
    expect(pngs).toHaveLength(2);
    for (const png of pngs) {
      // A4 at 60 dpi: 8.27 × 11.69 inches.
      const { width, height } = pngSize(join(dir, png));
      expect(width).toBeGreaterThanOrEqual(490);
      expect(width).toBeLessThanOrEqual(500);
      expect(height).toBeGreaterThanOrEqual(695);
      expect(height).toBeLessThanOrEqual(705);
    }
    // A page with content is far from blank: its PNG is much larger than an empty page's.
    expect(readFileSync(join(dir, pngs[0]!)).length).toBeGreaterThan(10_000);
    const screenshot = screenshotPath('report-page-1');
    mkdirSync(dirname(screenshot), { recursive: true });
    copyFileSync(join(dir, pngs[0]!), screenshot);
  });

  for (const masking of ['masked', 'anonymized'] as const) {
    it.skipIf(skipReason !== null)(`leaves no personal data in the PDF when ${masking}`, async () => {
      const file = await renderReport(maskReportData(reportFixture({ masking })), 'pdf', { printer });
      const text = pdfText(file.body, masking).replace(/\s+/g, ' ');
      expect(text).toContain(masking === 'masked' ? 'J*** D***' : 'Customer 1');
      expect(personalLeaks(text)).toEqual([]);
    });
  }

  it.skipIf(skipReason !== null)('prints two documents at once from the one browser', async () => {
    const docs = ['Alpha', 'Bravo'].map((word) => `<!doctype html><html lang="en"><body><p>Document ${word}</p></body></html>`);
    const pdfs = await Promise.all(docs.map((html) => printer.print(html)));
    expect(pdfs.map((pdf, i) => pdfText(pdf, `concurrent-${i}`).trim().split('\n')[0]!.trim())).toEqual(['Document Alpha', 'Document Bravo']);
  });

  it.skipIf(skipReason !== null)('runs no script and opens no network connection while printing', async () => {
    let connections = 0;
    const server: Server = createServer((_request, response) => response.end('body { color: red }'));
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const html = `<!doctype html><html lang="en"><head><link rel="stylesheet" href="${origin}/style.css"><script src="${origin}/app.js"></script></head>
        <body><p id="static">Static text</p><img src="${origin}/pixel.png" alt=""><iframe src="${origin}/frame"></iframe>
        <script>document.getElementById('static').textContent = 'Script ran';</script></body></html>`;
      const text = pdfText(await printer.print(html), 'hostile');
      expect(text).toContain('Static text');
      expect(text).not.toContain('Script ran');
      expect(connections).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
