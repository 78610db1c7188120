/**
 * Live sync progress for a terminal: one line per stream rewritten in place on a TTY (records/s,
 * pages, ETA when the total is known, the current wait such as "rate limit 3.2 s"), and plain
 * lines at most every few seconds otherwise, so logs stay readable.
 */
import type { ProgressEvent } from './stream-runner.ts';

export interface ProgressSink {
  readonly isTTY: boolean;
  write(text: string): void;
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const number = new Intl.NumberFormat('en-US');

export interface ProgressLine {
  readonly label: string;
  readonly records: number;
  readonly pages: number;
  readonly total: number | null;
  readonly elapsedMs: number;
  readonly waiting: string | null;
}

/** The text of one progress line; exported so its content can be checked without a terminal. */
export function formatProgress(line: ProgressLine): string {
  const seconds = line.elapsedMs / 1000;
  const rate = seconds > 0 ? line.records / seconds : 0;
  const parts = [
    line.label,
    `${number.format(line.records)}${line.total !== null ? `/${number.format(line.total)}` : ''} records`,
    `${number.format(line.pages)} pages`,
    `${number.format(Math.round(rate))} rec/s`,
  ];
  if (line.total !== null && rate > 0 && line.total > line.records) {
    parts.push(`ETA ${formatDuration(((line.total - line.records) / rate) * 1000)}`);
  }
  if (line.waiting) parts.push(`waiting: ${line.waiting}`);
  return parts.join('  ');
}

export function createProgressPrinter(sink: ProgressSink, options: { plainEveryMs?: number; now?: () => number } = {}) {
  const lines = new Map<string, ProgressLine>();
  const plainEvery = options.plainEveryMs ?? 5000;
  const now = options.now ?? Date.now;
  let lastPlain = 0;
  let drawn = false;

  const labelOf = (event: ProgressEvent): string => `${event.key.installationId.slice(0, 8)}/${event.key.stream}`;

  const render = (label: string, force: boolean): void => {
    const line = lines.get(label);
    if (!line) return;
    const text = formatProgress(line);
    if (sink.isTTY) {
      sink.write(`\r\x1b[2K${text}`);
      drawn = true;
    } else if (force || now() - lastPlain >= plainEvery) {
      lastPlain = now();
      sink.write(`${text}\n`);
    }
  };

  return (event: ProgressEvent): void => {
    const label = labelOf(event);
    switch (event.type) {
      case 'started':
        if (drawn) sink.write('\n');
        drawn = false;
        lines.set(label, { label, records: 0, pages: 0, total: null, elapsedMs: 0, waiting: null });
        sink.write(`${label}: ${event.mode} sync from ${event.from}\n`);
        return;
      case 'page':
        lines.set(label, { label, records: event.records, pages: event.pages, total: event.total, elapsedMs: event.elapsedMs, waiting: null });
        render(label, false);
        return;
      case 'waiting': {
        const line = lines.get(label);
        if (line) lines.set(label, { ...line, waiting: `${event.reason} ${(event.ms / 1000).toFixed(1)} s` });
        render(label, false);
        return;
      }
      case 'finished': {
        render(label, true);
        if (drawn) sink.write('\n');
        drawn = false;
        const s = event.summary;
        const outcome =
          s.outcome === 'succeeded'
            ? `done: ${number.format(s.records)} records, ${s.deleted} deleted, ${s.rejected} rejected`
            : s.outcome === 'busy'
              ? 'skipped: another worker is syncing this stream right now'
              : `FAILED ${s.error?.code ?? ''}: ${s.error?.message ?? ''}`;
        const gap = s.sourceCount !== null && s.storedCount !== null ? `; source ${s.sourceCount}, stored ${s.storedCount}` : '';
        sink.write(`${label}: ${outcome}${gap}\n`);
        return;
      }
    }
  };
}
