/**
 * Salesforce's budget is the org's API allocation (100,000 + 1,000 per licence on Enterprise
 * Edition), shared with every other integration of the org. Each response reports usage in
 * `Sforce-Limit-Info: api-usage=N/M`; there is no Retry-After. Ledgerline takes only a configurable
 * share of the allocation so the org's other tools keep working, and stops (daily) when that share
 * is used or Salesforce answers REQUEST_LIMIT_EXCEEDED.
 */
import { z } from 'zod';
import { defineRatePolicy, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';

/**
 * The allocation is counted over a rolling 24 hours, not a calendar day: there is no reset instant
 * to wait for, calls age out one by one. Waiting a full 24 h after hitting the share is the bound
 * that is sure to find the share free again (and earlier probes would each spend a call).
 */
const rollingDayMs = 24 * 60 * 60 * 1000;

const ApiErrors = z.array(z.object({ errorCode: z.string(), message: z.string().nullish() }).loose());

/** `api-usage=N/M`, not the `per-app-api-usage=` entry that may follow it. */
export function parseApiUsage(header: string | null): { used: number; allocation: number } | null {
  const match = /(?:^|[\s;,])api-usage=(\d+)\/(\d+)/.exec(header ?? '');
  return match ? { used: Number(match[1]), allocation: Number(match[2]) } : null;
}

export interface SalesforceRatePolicyOptions {
  /** Share of the org's daily allocation Ledgerline may use, in (0, 1]; 0.5 when omitted. */
  readonly dailyShare?: number;
}

export function salesforceRatePolicyFor(options: SalesforceRatePolicyOptions = {}): RatePolicy {
  const share = options.dailyShare ?? 0.5;
  if (!(share > 0 && share <= 1)) {
    throw new LedgerlineError('LL_INVALID_INPUT', `salesforce rate policy: dailyShare must be in (0, 1], got ${share}`, { details: { field: 'dailyShare' } });
  }
  return defineRatePolicy({
    name: 'salesforce',
    // The allocation is only known from the first response's header, so no bucket is declared.
    buckets: [],
    // Only error bodies matter, and governed fetch reads every 4xx body anyway.
    readsBody: false,
    observe: (response): RateObservation => {
      const refusal = ApiErrors.safeParse(response.body).data?.find((e) => e.errorCode === 'REQUEST_LIMIT_EXCEEDED');
      if (response.status >= 400 && refusal) {
        // The same code refuses a 26th concurrent long-running (> 20 s) request
        // ("ConcurrentPerOrgLongTxn Limit exceeded"): that clears in seconds, so back off, don't stop for the day.
        if (/concurrent/i.test(refusal.message ?? '')) return { throttled: true, bucket: 'concurrent' };
        return { throttled: true, daily: true, bucket: 'daily', resetInMs: rollingDayMs };
      }
      const usage = parseApiUsage(response.headers.get('sforce-limit-info'));
      if (!usage) return { throttled: false };
      const ours = Math.floor(usage.allocation * share);
      const remaining = Math.max(0, ours - usage.used);
      // This response was served: not a refusal, but nothing more may go out until the day has rolled.
      if (remaining === 0) return { throttled: false, daily: true, bucket: 'daily', limit: ours, remaining: 0, resetInMs: rollingDayMs };
      return { throttled: false, bucket: 'daily', limit: ours, remaining };
    },
  });
}

export const salesforceRatePolicy = salesforceRatePolicyFor();
