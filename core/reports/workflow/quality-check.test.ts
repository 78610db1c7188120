import { describe, expect, it } from 'vitest';
import type { ReportData, SectionData } from '../report-model.ts';
import { qualityCheck } from './quality-check.ts';
import { reportData } from './workflow-test-kit.ts';

const now = new Date('2026-11-02T06:00:00.000Z');
type Summary = Extract<SectionData, { type: 'summary' }>;

/** The fixture with its summary section of `summary` replaced. */
function withSummary(data: ReportData, summary: Summary['summary'], change: (s: Summary) => SectionData): ReportData {
  return { ...data, sections: data.sections.map((s) => (s.type === 'summary' && s.summary === summary ? change(s) : s)) };
}

/** A section that says which filters it ran with (the shape the collector can add). */
const declaring = (section: Summary, categories: string[] = []): SectionData => Object.assign({}, section, { filters: { categories, platforms: [] } });

describe('the report quality check', () => {
  it('passes a report whose sources are fresh and whose sections agree with the control totals', () => {
    expect(qualityCheck(reportData(), now)).toEqual({ passed: true, reasons: [] });
  });

  it('blocks on a source last synced longer ago than the template allows, or never', () => {
    const data = reportData({
      sources: [
        { installationId: 'a', platform: 'hubspot', accountName: 'acme-crm', lastSyncedAt: '2026-11-01T03:00:00.000Z', gaps: [] },
        { installationId: 'b', platform: 'zendesk', accountName: 'acme-help', lastSyncedAt: null, gaps: [] },
        { installationId: 'c', platform: 'shopify', accountName: 'acme-store', lastSyncedAt: '2026-11-01T05:00:00.000Z', gaps: [] },
      ],
    });
    expect(qualityCheck(data, now)).toEqual({
      passed: false,
      reasons: [
        { code: 'stale_source', message: 'hubspot (acme-crm) last synced at 2026-11-01T03:00:00.000Z, 27 hours ago; this report needs data at most 26 hours old' },
        { code: 'stale_source', message: 'zendesk (acme-help) has never completed a sync' },
      ],
    });
  });

  it('blocks on a stream gap and names the platform, the stream, since when and the recorded reason', () => {
    const data = reportData({
      sources: [{ installationId: 'a', platform: 'shopify', accountName: 'acme-store', lastSyncedAt: '2026-11-02T05:00:00.000Z', gaps: [
        { stream: 'orders', status: 'failed', since: '2026-10-30T02:00:00.000Z', reason: 'HTTP 401: the access token was revoked' },
        { stream: 'customers', status: 'never_completed', since: null, reason: null },
      ] }],
    });
    expect(qualityCheck(data, now).reasons).toEqual([
      { code: 'sync_gap', message: 'shopify (acme-store) stream orders is failed since 2026-10-30T02:00:00.000Z: HTTP 401: the access token was revoked' },
      { code: 'sync_gap', message: 'shopify (acme-store) stream customers is never_completed since its first run: no reason recorded' },
    ]);
  });

  it('blocks when the activities figure differs from the sum of the control counts', () => {
    const data = reportData();
    const kpis: SectionData = { type: 'kpis', title: null, metrics: [{ metric: 'activities', kind: 'count', value: 10 }] };
    expect(qualityCheck({ ...data, sections: [kpis, ...data.sections.slice(1)] }, now).reasons).toEqual([
      { code: 'totals_mismatch', message: 'the activities figure shows 10, the control count is 9' },
    ]);
  });

  it('holds an unfiltered summary section to exactly the control count of its kind', () => {
    const data = withSummary(reportData(), 'login_history', (s) => declaring({ ...s, total: 3 }));
    expect(qualityCheck(data, now).reasons).toEqual([{ code: 'totals_mismatch', message: 'the login_history section counts 3 login activities, the control count is 4' }]);
    expect(qualityCheck(withSummary(reportData(), 'login_history', (s) => declaring(s)), now).passed).toBe(true);
  });

  it('holds a filtered section only to not exceeding the control count', () => {
    expect(qualityCheck(withSummary(reportData(), 'login_history', (s) => declaring({ ...s, total: 1 }, ['login'])), now).passed).toBe(true);
    expect(qualityCheck(withSummary(reportData(), 'login_history', (s) => declaring({ ...s, total: 5 }, ['login'])), now).reasons).toEqual([
      { code: 'totals_mismatch', message: 'the login_history section counts 5 login activities, more than the 4 the control counts' },
    ]);
  });

  it('compares the transaction amounts with the control transaction total exactly, per currency', () => {
    const exact = withSummary(reportData(), 'transaction_history', (s) => declaring(s));
    expect(qualityCheck(exact, now).passed).toBe(true);
    const offByACent = withSummary(reportData(), 'transaction_history', (s) => declaring({ ...s, amounts: [{ currency: 'EUR', value: '229.99' }, { currency: 'USD', value: '15.50' }] }));
    expect(qualityCheck(offByACent, now).reasons).toEqual([{ code: 'totals_mismatch', message: 'the transaction section shows 229.99 EUR, the control total is 230 EUR' }]);
    const missingCurrency = withSummary(reportData(), 'transaction_history', (s) => declaring({ ...s, amounts: [{ currency: 'EUR', value: '230' }] }));
    expect(qualityCheck(missingCurrency, now).reasons).toEqual([{ code: 'totals_mismatch', message: 'the transaction section shows 0 USD, the control total is 15.5 USD' }]);
    const unreadable = withSummary(reportData(), 'transaction_history', (s) => declaring({ ...s, amounts: [{ currency: 'EUR', value: '2.3e2' }, { currency: 'USD', value: '15.5' }] }));
    expect(qualityCheck(unreadable, now).reasons).toEqual([{ code: 'totals_mismatch', message: 'the transaction section shows an unreadable amount EUR, the control total is 230 EUR' }]);
    // Renewals count in the revenue but not in the transaction total.
    const withRenewals = { ...exact, control: { ...exact.control, revenue: [{ currency: 'EUR', value: '330' }, { currency: 'USD', value: '15.50' }] } };
    expect(qualityCheck(withRenewals, now).passed).toBe(true);
  });

  it('accepts the periodic summary counting either its custom activities or all of them', () => {
    expect(qualityCheck(withSummary(reportData(), 'periodic_summary', (s) => declaring({ ...s, total: 9 })), now).passed).toBe(true);
    expect(qualityCheck(withSummary(reportData(), 'periodic_summary', (s) => declaring({ ...s, total: 7 })), now).reasons.map((r) => r.code)).toEqual(['totals_mismatch']);
  });
});
