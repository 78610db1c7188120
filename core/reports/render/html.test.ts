import { describe, expect, it } from 'vitest';
import { maskReportData } from '../masking.ts';
import type { ReportData, ReportLocale, SectionData } from '../report-model.ts';
import { renderReportHtml, renderReportHtmlFragment } from './html.ts';
import { reportFixture } from './report-fixture.ts';

const nb = '\u00a0';

/** The document's visible text, tags dropped and the entities EJS writes decoded. */
function visibleText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<title>[\s\S]*?<\/title>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t\n]+/g, ' ');
}

function withSections(data: ReportData, sections: SectionData[]): ReportData {
  return { ...data, sections };
}

const expected: Record<ReportLocale, { titles: string[]; money: string[]; dates: string[]; empty: string }> = {
  en: {
    titles: ['Key figures', 'Login history', 'Transaction history', 'Activity over time', 'When activity happens (weekday × hour)', 'Customers', 'Segment comparison', 'New customers in the period', 'Sources'],
    money: ['€1,234.50', '$18,250.00', '¥125,000', '-€89.90'],
    dates: ['Oct 1, 2026 – Oct 31, 2026 (2026-10)', 'Oct 31, 2026, 9:00 AM', 'Oct 30, 2026, 4:20 PM', 'Generated Nov 1, 2026, 8:30 AM (Europe/Berlin)'],
    empty: 'No activity in this period',
  },
  es: {
    titles: ['Cifras clave', 'Historial de inicios de sesión', 'Historial de transacciones', 'Actividad a lo largo del tiempo', 'Cuándo ocurre la actividad (día × hora)', 'Clientes', 'Comparación de segmentos', 'Clientes nuevos en el periodo', 'Fuentes'],
    money: [`1234,50${nb}€`, `18.250,00${nb}US$`, `125.000${nb}JPY`, `-89,90${nb}€`],
    dates: ['1/10/2026 – 31/10/2026 (2026-10)', '31/10/2026, 9:00', '30/10/2026, 16:20', 'Generado el 1/11/2026, 8:30 (Europe/Berlin)'],
    empty: 'Sin actividad en este periodo',
  },
  de: {
    titles: ['Kennzahlen', 'Anmeldeverlauf', 'Transaktionsverlauf', 'Aktivität im Zeitverlauf', 'Wann Aktivität stattfindet (Wochentag × Stunde)', 'Kunden', 'Segmentvergleich', 'Neukunden im Zeitraum', 'Quellen'],
    money: [`1.234,50${nb}€`, `18.250,00${nb}$`, `125.000${nb}¥`, `-89,90${nb}€`],
    dates: ['1.10.2026 – 31.10.2026 (2026-10)', '31.10.2026, 9:00', '30.10.2026, 16:20', 'Erstellt am 1.11.2026, 8:30 (Europe/Berlin)'],
    empty: 'Keine Aktivität in diesem Zeitraum',
  },
};

describe('HTML report', () => {
  for (const locale of ['en', 'es', 'de'] as const) {
    it(`writes titles, money and dates in ${locale}`, () => {
      const html = renderReportHtml(reportFixture({ locale }));
      expect(html).toMatch(new RegExp(`^<!doctype html>\\s*<html lang="${locale}">`));
      const text = visibleText(html);
      for (const title of expected[locale].titles) expect(text).toContain(title);
      for (const money of expected[locale].money) expect(text).toContain(money);
      for (const date of expected[locale].dates) expect(text).toContain(date);
      expect(text).toContain(expected[locale].empty);
    });
  }

  it('escapes markup from the data everywhere, so a summary cannot inject a script', () => {
    const base = reportFixture();
    const hostile = '<script>alert("x")</script>';
    const row = { occurredAt: '2026-10-05T10:00:00.000Z', platform: 'hubspot', kind: 'interaction', category: 'note', summary: hostile, actor: `<b onmouseover="x">`, customer: { name: '<img src=x onerror=alert(1)>', email: null }, amount: null, details: { device: '"><svg onload=alert(1)>' } };
    const data = withSections({ ...base, template: { ...base.template, title: `Q3 <i>&</i> "report"` } }, [
      { type: 'summary', title: null, summary: 'interaction_log', filters: { categories: [], platforms: [] }, total: 1, byCategory: [{ category: 'note', count: 1 }], amounts: [], rows: [row], truncated: false },
      { type: 'text', title: '</h2><script>', text: hostile },
      { type: 'chart', title: null, chart: 'activity_by_kind', series: [{ label: 'k', points: [{ x: '<script>', y: 3 }] }] },
    ]);
    const html = renderReportHtml(data);
    expect(html).not.toMatch(/<script|<img|<svg onload|<b onmouseover|<i>/i);
    expect(html).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;');
    expect(html).toContain('Q3 &lt;i&gt;&amp;&lt;/i&gt; &#34;report&#34;');
    expect(visibleText(html)).toContain(hostile);
  });

  it('is self-contained and print-ready: inline CSS, no script, no external asset, repeating table headers', () => {
    const html = renderReportHtml(reportFixture());
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|@import|url\(/i);
    // The only URL is the SVG namespace.
    expect(new Set([...html.matchAll(/https?:\/\/[^\s"')]+/g)].map((m) => m[0]))).toEqual(new Set(['http://www.w3.org/2000/svg']));
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).toMatch(/thead \{ display: table-header-group; \}/);
    expect(html).toMatch(/@page \{ size: A4;/);
    expect(html).toMatch(/tr \{ break-inside: avoid;/);
  });

  it('draws each chart as inline SVG in the report language', () => {
    const html = renderReportHtml(reportFixture({ locale: 'de' }));
    const svgs = [...html.matchAll(/<svg [^>]*aria-label="([^"]*)"/g)].map((m) => m[1]);
    expect(svgs).toEqual(['Aktivität im Zeitverlauf', 'Umsatz im Zeitverlauf', 'Aktivität nach Art', 'Wann Aktivität stattfindet (Wochentag × Stunde)', 'Kunden nach Segment']);
    expect(html).toContain('>Anmeldungen</text>');
    expect(html).toContain('>4. Okt.</text>');
    expect(html).toContain(`VIP customers: 80${nb}%`);
    expect(html.match(/<polyline /g)).toHaveLength(5);
    expect(html.match(/data-count="/g)).toHaveLength(7 * 24);
  });

  it('wraps a long chart legend onto further rows instead of overlapping its entries', () => {
    const kinds = ['login', 'transaction', 'interaction', 'subscription', 'profile_change', 'notification', 'security_alert', 'custom'];
    const series = kinds.map((kind, k) => ({ label: kind, points: [{ x: '2026-10-01', y: k }, { x: '2026-10-02', y: k + 1 }] }));
    const html = renderReportHtml(withSections(reportFixture({ locale: 'de' }), [{ type: 'chart', title: null, chart: 'activity_over_time', series }]));
    const svg = html.slice(html.indexOf('<svg '), html.indexOf('</svg>'));
    expect(Number(/viewBox="0 0 680 (\d+)"/.exec(svg)![1])).toBeGreaterThan(230);
    const entries = [...svg.matchAll(/<rect x="(\d+)" y="(\d+)" width="10" height="10"[^>]*\/><text [^>]*>([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), name: m[3]! }));
    expect(entries.map((e) => e.name)).toEqual(['Anmeldungen', 'Transaktionen', 'Interaktionen', 'Abonnements', 'Profiländerungen', 'Benachrichtigungen', 'Sicherheitswarnungen', 'Sonstiges']);
    expect(new Set(entries.map((e) => e.y)).size).toBeGreaterThan(1);
    for (const [a, b] of entries.slice(0, -1).map((e, i) => [e, entries[i + 1]!] as const)) {
      // The next entry on the same row starts after this one's name ends.
      if (a.y === b.y) expect(b.x).toBeGreaterThanOrEqual(a.x + 14 + a.name.length * 6);
      expect(b.x + 14 + b.name.length * 6).toBeLessThanOrEqual(680);
    }
  });

  it('says so when a chart or a section has nothing to show', () => {
    const base = reportFixture({ locale: 'es' });
    const html = renderReportHtml(
      withSections(base, [
        { type: 'chart', title: null, chart: 'activity_heat_map', series: [], heat: [] },
        { type: 'customers', title: 'Top', sort: 'churn_risk', rows: [] },
        { type: 'drill_down', title: null, metric: 'lost_customers', customers: [], truncated: false },
      ]),
    );
    const text = visibleText(html);
    expect(html).toContain('>Sin datos</text>');
    expect(text).toContain('Top ordenados por riesgo de abandono');
    expect(text).toContain('Clientes perdidos en el periodo');
    expect(text.match(/Ningún cliente/g)).toHaveLength(2);
  });

  it('states the masking mode only when the report is masked', () => {
    expect(renderReportHtml(reportFixture())).not.toContain('class="ll-masking"');
    expect(visibleText(renderReportHtml(maskReportData(reportFixture({ masking: 'masked' }))))).toContain('Personal data in this report is masked.');
    expect(visibleText(renderReportHtml(maskReportData(reportFixture({ masking: 'anonymized', locale: 'de' }))))).toContain('Dieser Bericht ist anonymisiert');
  });

  it('offers the body as a fragment for the console, without the document around it', () => {
    const fragment = renderReportHtmlFragment(reportFixture({ locale: 'es' }));
    expect(fragment.trimStart()).toMatch(/^<article class="ll-report" lang="es">/);
    expect(fragment).not.toMatch(/<html|<head>|<body|<style/);
    expect(visibleText(fragment)).toContain('Historial de inicios de sesión');
  });

  it('notes a truncated table and writes the sources with their gaps', () => {
    const text = visibleText(renderReportHtml(reportFixture()));
    expect(text).toContain('Showing the newest 64 of 80.');
    expect(text).toContain('80 activities');
    expect(text).toContain('1 activity');
    expect(text).toContain('zendesk nordlicht.zendesk.com never synced tickets: failed since Oct 31, 2026, 1:00 PM');
  });
});
