/**
 * Charts rendered on the server as SVG strings — the same markup in HTML reports, PDFs (Chromium
 * prints it) and the console. Every chart is deterministic for the same input, escapes every text
 * it draws, carries a <title> and an aria-label, and says "No data" instead of drawing an empty
 * frame. Numbers are formatted by the caller's formatter (locale-correct money and counts).
 */

export interface ChartFrame {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  /** Formats values on the axis and in labels (default: en-US grouping). */
  readonly format?: (value: number) => string;
  /** What an empty chart says, in the reader's language (default: "No data"). */
  readonly noDataText?: string;
  /** Formats a pie slice's share of the whole, 0–1 (default: "12.5 %"). */
  readonly formatShare?: (share: number) => string;
  /** Draw the title inside the chart (default); off where the page heads the chart itself. */
  readonly heading?: boolean;
}

const palette = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#475569'];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fixed = (n: number): string => (Math.round(n * 100) / 100).toString();
const defaultFormat = (value: number): string => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(value);

function open(frame: ChartFrame, width: number, height: number): string {
  const title = escapeXml(frame.title);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${title}" font-family="system-ui, sans-serif" font-size="11"><title>${title}</title>`;
}

function heading(frame: ChartFrame, x: number): string {
  return frame.heading === false ? '' : `<text x="${x}" y="16" font-size="13" font-weight="600" fill="#0f172a">${escapeXml(frame.title)}</text>`;
}

function noData(frame: ChartFrame, width: number, height: number): string {
  return `${open(frame, width, height)}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#64748b">${escapeXml(frame.noDataText ?? 'No data')}</text></svg>`;
}

/** Round axis bounds and a tick step (1, 2 or 5 × 10^n) covering [min, max], zero included. */
export function niceScale(min: number, max: number, ticks = 5): { min: number; max: number; step: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  if (hi === lo) return { min: lo, max: lo + 1, step: 1 };
  const raw = (hi - lo) / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  return { min: Math.floor(lo / step) * step, max: Math.ceil(hi / step) * step, step };
}

interface Plot {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly y: (value: number) => number;
  readonly axis: string;
}

function plotArea(frame: ChartFrame, width: number, height: number, values: readonly number[]): Plot {
  const format = frame.format ?? defaultFormat;
  const scale = niceScale(Math.min(...values), Math.max(...values));
  const left = 64;
  const top = 28;
  // Room on the right for half of the last x label, which is centred on the plot's edge.
  const plotWidth = width - left - 32;
  const plotHeight = height - top - 40;
  const y = (value: number): number => top + plotHeight - ((value - scale.min) / (scale.max - scale.min)) * plotHeight;
  let axis = heading(frame, left);
  for (let v = scale.min; v <= scale.max + scale.step / 2; v += scale.step) {
    axis += `<line x1="${left}" x2="${left + plotWidth}" y1="${fixed(y(v))}" y2="${fixed(y(v))}" stroke="${v === 0 ? '#94a3b8' : '#e2e8f0'}"/>`;
    axis += `<text x="${left - 6}" y="${fixed(y(v) + 4)}" text-anchor="end" fill="#475569">${escapeXml(format(v))}</text>`;
  }
  return { left, top, width: plotWidth, height: plotHeight, y, axis };
}

/**
 * Legend entries side by side, each as wide as its name needs (estimated at 6.5 px a character
 * of the 11 px font), wrapping onto further 16 px rows below the chart when a row is full.
 */
function legendLayout(names: readonly string[], left: number, right: number, top: number): { positions: { x: number; y: number }[]; extraHeight: number } {
  const positions: { x: number; y: number }[] = [];
  let x = left;
  let row = 0;
  for (const name of names) {
    const entryWidth = Math.max(80, 14 + [...name].length * 6.5 + 20);
    if (x > left && x + entryWidth > right) {
      x = left;
      row += 1;
    }
    positions.push({ x: Math.round(x), y: top + row * 16 });
    x += entryWidth;
  }
  return { positions, extraHeight: row * 16 };
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly { readonly label: string; readonly value: number }[];
}

/** Values over time: one line per series over shared, ordered x labels (e.g. months). */
export function lineChart(frame: ChartFrame, labels: readonly string[], series: readonly LineSeries[]): string {
  const width = frame.width ?? 640;
  const height = frame.height ?? 260;
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  if (labels.length === 0 || values.length === 0) return noData(frame, width, height);
  const plot = plotArea(frame, width, height, values);
  const x = (i: number): number => plot.left + (labels.length === 1 ? plot.width / 2 : (i / (labels.length - 1)) * plot.width);
  let body = plot.axis;
  const legend = legendLayout(series.map((s) => s.name), plot.left, width - 16, height - 14);
  const every = Math.max(1, Math.ceil(labels.length / 12));
  labels.forEach((label, i) => {
    if (i % every === 0) body += `<text x="${fixed(x(i))}" y="${plot.top + plot.height + 16}" text-anchor="middle" fill="#475569">${escapeXml(label)}</text>`;
  });
  series.forEach((s, k) => {
    const color = palette[k % palette.length]!;
    const byLabel = new Map(s.points.map((p) => [p.label, p.value]));
    const points = labels.flatMap((label, i) => (byLabel.has(label) ? [`${fixed(x(i))},${fixed(plot.y(byLabel.get(label)!))}`] : []));
    body += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"><title>${escapeXml(s.name)}</title></polyline>`;
    const at = legend.positions[k]!;
    body += `<rect x="${at.x}" y="${at.y}" width="10" height="10" fill="${color}"/><text x="${at.x + 14}" y="${at.y + 9}" fill="#0f172a">${escapeXml(s.name)}</text>`;
  });
  return `${open(frame, width, height + legend.extraHeight)}${body}</svg>`;
}

/** One bar per category; negative values (refunds beyond purchases) hang below the zero line. */
export function barChart(frame: ChartFrame, bars: readonly { readonly label: string; readonly value: number }[]): string {
  const width = frame.width ?? 640;
  const height = frame.height ?? 260;
  if (bars.length === 0) return noData(frame, width, height);
  const format = frame.format ?? defaultFormat;
  const plot = plotArea(frame, width, height, bars.map((b) => b.value));
  const slot = plot.width / bars.length;
  const zero = plot.y(0);
  let body = plot.axis;
  bars.forEach((bar, i) => {
    const top = Math.min(zero, plot.y(bar.value));
    const barHeight = Math.abs(plot.y(bar.value) - zero);
    const x = plot.left + i * slot + slot * 0.15;
    body += `<rect x="${fixed(x)}" y="${fixed(top)}" width="${fixed(slot * 0.7)}" height="${fixed(barHeight)}" fill="${bar.value < 0 ? '#dc2626' : palette[0]}"><title>${escapeXml(`${bar.label}: ${format(bar.value)}`)}</title></rect>`;
    body += `<text x="${fixed(x + slot * 0.35)}" y="${plot.top + plot.height + 16}" text-anchor="middle" fill="#475569">${escapeXml(bar.label)}</text>`;
  });
  return `${open(frame, width, height)}${body}</svg>`;
}

/** Shares of a whole (segment sizes); zero and negative shares are left out, the rest sum to 100 %. */
export function pieChart(frame: ChartFrame, slices: readonly { readonly label: string; readonly value: number }[]): string {
  const width = frame.width ?? 420;
  const height = frame.height ?? 260;
  const shown = slices.filter((s) => s.value > 0);
  const total = shown.reduce((sum, s) => sum + s.value, 0);
  if (total === 0) return noData(frame, width, height);
  const cx = 120;
  const cy = height / 2 + 8;
  const r = Math.min(100, height / 2 - 20);
  let body = heading(frame, 12);
  let angle = -Math.PI / 2;
  shown.forEach((slice, i) => {
    const share = slice.value / total;
    const color = palette[i % palette.length]!;
    const label = `${slice.label}: ${frame.formatShare ? frame.formatShare(share) : `${(share * 100).toFixed(1)} %`}`;
    if (shown.length === 1) {
      body += `<circle cx="${cx}" cy="${fixed(cy)}" r="${r}" fill="${color}"><title>${escapeXml(label)}</title></circle>`;
    } else {
      const end = angle + share * 2 * Math.PI;
      const large = share > 0.5 ? 1 : 0;
      const p = (a: number) => `${fixed(cx + r * Math.cos(a))},${fixed(cy + r * Math.sin(a))}`;
      body += `<path d="M${cx},${fixed(cy)} L${p(angle)} A${r},${r} 0 ${large} 1 ${p(end)} Z" fill="${color}" data-share="${share.toFixed(4)}"><title>${escapeXml(label)}</title></path>`;
      angle = end;
    }
    body += `<rect x="${cx + r + 24}" y="${28 + i * 18}" width="10" height="10" fill="${color}"/><text x="${cx + r + 40}" y="${37 + i * 18}" fill="#0f172a">${escapeXml(label)}</text>`;
  });
  return `${open(frame, width, height)}${body}</svg>`;
}

/**
 * Activity by weekday × hour (in the report's time zone): a 7 × 24 grid whose shade grows with
 * the count; `cells[weekday][hour]`, weekday 0 = Monday.
 */
export function heatMap(frame: ChartFrame, cells: readonly (readonly number[])[], weekdayNames: readonly string[]): string {
  const width = frame.width ?? 640;
  const height = frame.height ?? 230;
  const max = Math.max(0, ...cells.flat());
  if (max === 0) return noData(frame, width, height);
  const format = frame.format ?? defaultFormat;
  const left = 44;
  const top = 40;
  const size = Math.min((width - left - 12) / 24, (height - top - 12) / 7);
  let body = heading(frame, left);
  for (let hour = 0; hour < 24; hour += 3) body += `<text x="${fixed(left + hour * size + size / 2)}" y="${top - 6}" text-anchor="middle" fill="#475569">${hour}</text>`;
  for (let day = 0; day < 7; day++) {
    body += `<text x="${left - 6}" y="${fixed(top + day * size + size * 0.7)}" text-anchor="end" fill="#475569">${escapeXml(weekdayNames[day] ?? String(day))}</text>`;
    for (let hour = 0; hour < 24; hour++) {
      const count = cells[day]?.[hour] ?? 0;
      // Lightness from 97 % (none) down to 35 % (the busiest hour).
      const lightness = count === 0 ? 97 : 90 - (count / max) * 55;
      body += `<rect x="${fixed(left + hour * size)}" y="${fixed(top + day * size)}" width="${fixed(size - 1)}" height="${fixed(size - 1)}" fill="hsl(221, 83%, ${fixed(lightness)}%)" data-count="${count}"><title>${escapeXml(`${weekdayNames[day] ?? day} ${hour}:00 — ${format(count)}`)}</title></rect>`;
    }
  }
  return `${open(frame, width, height)}${body}</svg>`;
}
