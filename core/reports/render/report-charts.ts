/**
 * A chart section drawn as inline SVG (core/reports/charts.ts) in the report's language: kinds
 * named as the texts name them, dates on the x axis as short local dates, numbers grouped the
 * local way.
 */
import { barChart, heatMap, lineChart, pieChart, type ChartFrame } from '../charts.ts';
import type { ChartSeries, ReportLocale, SectionData } from '../report-model.ts';
import { formatAxisLabel, formatNumber, formatPercent, type ReportText } from './i18n.ts';

type ChartSection = Extract<SectionData, { type: 'chart' }>;

/** Points of all series summed per x, in order of first appearance. */
function totals(series: readonly ChartSeries[]): { label: string; value: number }[] {
  const sums = new Map<string, number>();
  for (const point of series.flatMap((s) => s.points)) sums.set(point.x, (sums.get(point.x) ?? 0) + point.y);
  return [...sums].map(([label, value]) => ({ label, value }));
}

export function chartSvg(locale: ReportLocale, t: ReportText, title: string, section: ChartSection): string {
  const kindName = (label: string): string => new Map(Object.entries(t.kindNames)).get(label) ?? label;
  const frame: ChartFrame = { title, format: (n) => formatNumber(locale, n), formatShare: (share) => formatPercent(locale, share), noDataText: t.noData, heading: false, width: 680, height: 230 };
  switch (section.chart) {
    case 'activity_over_time':
    case 'revenue_over_time': {
      // ISO dates sort as text, so the x axis runs in time order whatever order the series came in.
      const xs = [...new Set(section.series.flatMap((s) => s.points.map((p) => p.x)))].sort();
      const label = (x: string): string => formatAxisLabel(locale, x);
      const series = section.series.map((s) => ({ name: kindName(s.label), points: s.points.map((p) => ({ label: label(p.x), value: p.y })) }));
      return lineChart(frame, xs.map(label), series);
    }
    case 'activity_by_kind':
      return barChart(frame, totals(section.series).map((bar) => ({ label: kindName(bar.label), value: bar.value })));
    case 'segment_share':
      return pieChart({ ...frame, width: 520, height: 200 }, totals(section.series));
    case 'activity_heat_map':
      return heatMap({ ...frame, height: 220 }, section.heat ?? [], t.weekdays);
  }
}
