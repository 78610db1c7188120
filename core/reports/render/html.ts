/**
 * The report as one self-contained HTML document: inline CSS, charts as inline SVG, no script and
 * no external asset (a Content-Security-Policy meta tag says so), laid out for A4 so Chromium can
 * print it as the PDF. Every value is escaped by the views (`<%=`); only the chart SVG, which
 * charts.ts escapes itself, is inserted raw.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import type { ReportData } from '../report-model.ts';
import { reportView } from './report-view.ts';

const viewsDir = fileURLToPath(new URL('./views/', import.meta.url));

function compiled(name: string): ejs.TemplateFunction {
  const filename = `${viewsDir}${name}.ejs`;
  // `strict` renders without `with`, so a view reads only what it is given (`locals.…`).
  return ejs.compile(readFileSync(filename, 'utf8'), { filename, strict: true, localsName: 'locals', cache: true, async: false });
}

let views: { document: ejs.TemplateFunction; body: ejs.TemplateFunction; css: string } | null = null;

function loadViews(): NonNullable<typeof views> {
  views ??= { document: compiled('report'), body: compiled('report-body'), css: readFileSync(`${viewsDir}report.css`, 'utf8') };
  return views;
}

/** The stylesheet of the report markup, for a page that embeds the fragment and serves CSS itself. */
export function reportStylesheet(): string {
  return loadViews().css;
}

/** The complete document (`<!doctype html>` … `</html>`). */
export function renderReportHtml(data: ReportData): string {
  const { document, css } = loadViews();
  return document({ ...reportView(data), css });
}

/** The report's `<article>` without the document around it, for embedding in the console page. */
export function renderReportHtmlFragment(data: ReportData): string {
  return loadViews().body(reportView(data));
}
