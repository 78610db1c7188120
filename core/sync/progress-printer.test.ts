import { describe, expect, it } from 'vitest';
import { createProgressPrinter, formatProgress } from './progress-printer.ts';
import type { ProgressEvent } from './stream-runner.ts';

const key = { tenantId: 't', installationId: '0a1b2c3d-0000-4000-8000-000000000000', stream: 'contacts' };
const page = (records: number, pages: number, elapsedMs: number, total: number | null = 10_000): ProgressEvent => ({
  type: 'page',
  key,
  records,
  pages,
  total,
  elapsedMs,
  checkpointSeq: pages,
});

describe('sync progress', () => {
  it('shows records, pages, rate, ETA when the total is known, and the current wait', () => {
    expect(formatProgress({ label: 'x/contacts', records: 2_500, pages: 5, total: 10_000, elapsedMs: 5_000, waiting: null })).toBe(
      'x/contacts  2,500/10,000 records  5 pages  500 rec/s  ETA 15s',
    );
    expect(formatProgress({ label: 'x/contacts', records: 2_500, pages: 5, total: null, elapsedMs: 5_000, waiting: 'rate limit 3.2 s' })).toBe(
      'x/contacts  2,500 records  5 pages  500 rec/s  waiting: rate limit 3.2 s',
    );
  });

  it('rewrites one line on a terminal', () => {
    const out: string[] = [];
    const print = createProgressPrinter({ isTTY: true, write: (t) => out.push(t) });
    print({ type: 'started', key, mode: 'incremental', from: 'modified after 2026-11-01' });
    print(page(500, 1, 1_000));
    print({ type: 'waiting', key, reason: 'rate limit', ms: 3_200 });
    expect(out[0]).toBe('0a1b2c3d/contacts: incremental sync from modified after 2026-11-01\n');
    expect(out[1]).toBe('\r\x1b[2K0a1b2c3d/contacts  500/10,000 records  1 pages  500 rec/s  ETA 19s');
    expect(out[2]).toBe('\r\x1b[2K0a1b2c3d/contacts  500/10,000 records  1 pages  500 rec/s  ETA 19s  waiting: rate limit 3.2 s');
  });

  it('writes plain lines at most every few seconds otherwise, and always the outcome', () => {
    const out: string[] = [];
    let now = 0;
    const print = createProgressPrinter({ isTTY: false, write: (t) => out.push(t) }, { plainEveryMs: 5_000, now: () => now });
    print({ type: 'started', key, mode: 'full', from: 'the beginning' });
    for (let i = 1; i <= 10; i++) {
      now = i * 1_000;
      print(page(i * 100, i, i * 1_000));
    }
    print({
      type: 'finished',
      key,
      summary: { outcome: 'succeeded', records: 1_000, pages: 10, deleted: 3, rejected: 1, sourceCount: 996, storedCount: 996 },
    });
    expect(out.filter((l) => l.includes('rec/s'))).toHaveLength(3);
    expect(out.every((l) => !l.includes('\r'))).toBe(true);
    expect(out.at(-1)).toBe('0a1b2c3d/contacts: done: 1,000 records, 3 deleted, 1 rejected; source 996, stored 996\n');
  });
});
