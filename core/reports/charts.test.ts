import { describe, expect, it } from 'vitest';
import { barChart, escapeXml, heatMap, lineChart, niceScale, pieChart } from './charts.ts';

/** Tag balance: every element opened is closed in order (the SVG is well-formed markup). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

const attr = (svg: string, tag: string, name: string): string[] => [...svg.matchAll(new RegExp(`<${tag} [^>]*?${name}="([^"]*)"`, 'g'))].map((m) => m[1]!);

describe('SVG charts', () => {
  it('picks round axis bounds that include zero', () => {
    expect(niceScale(0, 87)).toEqual({ min: 0, max: 100, step: 20 });
    expect(niceScale(-30, 120)).toEqual({ min: -50, max: 150, step: 50 });
    expect(niceScale(5, 5)).toEqual({ min: 0, max: 5, step: 1 });
    expect(niceScale(0, 0)).toEqual({ min: 0, max: 1, step: 1 });
  });

  it('draws bars in proportion, a refund-heavy month below the zero line, and escapes every label', () => {
    const svg = barChart({ title: 'Revenue <by month>' }, [
      { label: 'Sep', value: 50 },
      { label: 'Oct', value: 100 },
      { label: '<script>', value: -25 },
    ]);
    assertBalanced(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('aria-label="Revenue &lt;by month&gt;"');
    const heights = attr(svg, 'rect', 'height').map(Number);
    expect(heights[0]! / heights[1]!).toBeCloseTo(0.5, 2);
    expect(heights[2]! / heights[1]!).toBeCloseTo(0.25, 2);
    const fills = attr(svg, 'rect', 'fill');
    expect(fills[2]).toBe('#dc2626');
    // The negative bar starts at the zero line and hangs down.
    const ys = attr(svg, 'rect', 'y').map(Number);
    expect(ys[2]).toBeCloseTo(ys[1]! + heights[1]!, 1);
  });

  it('splits a pie into shares that sum to the whole, leaving out empty segments', () => {
    const svg = pieChart({ title: 'Segments' }, [
      { label: 'Champions', value: 30 },
      { label: 'At risk', value: 10 },
      { label: 'Lost', value: 0 },
      { label: 'New', value: 60 },
    ]);
    assertBalanced(svg);
    const shares = attr(svg, 'path', 'data-share').map(Number);
    expect(shares).toEqual([0.3, 0.1, 0.6]);
    expect(svg).toContain('New: 60.0 %');
    expect(svg).not.toContain('Lost');
    expect(pieChart({ title: 'One' }, [{ label: 'All', value: 3 }])).toMatch(/<circle [^>]*><title>All: 100.0 %<\/title><\/circle>/);
  });

  it('shades a weekday × hour heat map by count, busiest darkest, empty hours blank', () => {
    const cells = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
    cells[0]![9] = 10;
    cells[4]![17] = 5;
    const svg = heatMap({ title: 'When customers are active' }, cells, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    assertBalanced(svg);
    const rects = [...svg.matchAll(/<rect [^>]*fill="hsl\(221, 83%, ([\d.]+)%\)" data-count="(\d+)"/g)].map((m) => ({ lightness: Number(m[1]), count: Number(m[2]) }));
    expect(rects).toHaveLength(168);
    expect(rects[9]).toEqual({ lightness: 35, count: 10 });
    expect(rects[4 * 24 + 17]).toEqual({ lightness: 62.5, count: 5 });
    expect(rects[0]).toEqual({ lightness: 97, count: 0 });
    expect(svg).toContain('<title>Fri 17:00 — 5</title>');
  });

  it('draws one polyline per series over the shared labels, skipping labels a series lacks', () => {
    const svg = lineChart({ title: 'Activities', format: (v) => `${v} acts` }, ['2026-08', '2026-09', '2026-10'], [
      { name: 'HubSpot', points: [{ label: '2026-08', value: 10 }, { label: '2026-09', value: 20 }, { label: '2026-10', value: 40 }] },
      { name: 'Zendesk', points: [{ label: '2026-09', value: 5 }] },
    ]);
    assertBalanced(svg);
    const lines = attr(svg, 'polyline', 'points').map((p) => p.split(' '));
    expect(lines.map((l) => l.length)).toEqual([3, 1]);
    const ys = lines[0]!.map((p) => Number(p.split(',')[1]));
    expect(ys[0]! > ys[1]! && ys[1]! > ys[2]!).toBe(true);
    expect(svg).toContain('>40 acts<');
  });

  it('says "No data" rather than drawing an empty frame', () => {
    for (const svg of [barChart({ title: 't' }, []), pieChart({ title: 't' }, [{ label: 'a', value: 0 }]), lineChart({ title: 't' }, [], []), heatMap({ title: 't' }, [[0]], [])]) {
      assertBalanced(svg);
      expect(svg).toContain('>No data</text>');
    }
    expect(escapeXml(`"Tom & Jerry's"`)).toBe('&quot;Tom &amp; Jerry&#39;s&quot;');
  });
});
