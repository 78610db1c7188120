/**
 * Salesforce's budget is the org's API allocation over a rolling 24 hours (100,000 + 1,000 per
 * licence on Enterprise Edition), shared with every other integration of the org. Each response
 * reports usage in `Sforce-Limit-Info: api-usage=N/M`; there is no Retry-After. Ledgerline takes
 * only a configurable share of the allocation so the org's other tools keep working, and stops
 * (daily) when that share is used or Salesforce answers REQUEST_LIMIT_EXCEEDED.
 */
import { z } from 'zod';
import { defineRatePolicy, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';

const dayMs = 24 * 60 * 60 * 1000;
const LimitErrors = z.array(z.object({ errorCode: z.string() }).loose());

export function parseApiUsage(header: string | null): { used: number; allocation: number } | null {
  const match = /api-usage=(\d+)\/(\d+)/.exec(header ?? '');
  return match ? { used: Number(match[1]), allocation: Number(match[2]) } : null;
}

export function salesforceRatePolicyFor(options: { dailyShare?: number } = {}): RatePolicy {
  const share = options.dailyShare ?? 0.5;
  if (!(share > 0 && share <= 1)) throw new RangeError('dailyShare must be in (0, 1]');
  return defineRatePolicy({
    name: 'salesforce',
    buckets: [],
    readsBody: false,
    observe: (response): RateObservation => {
      const limited = response.status === 403 && LimitErrors.safeParse(response.body).data?.some((e) => e.errorCode === 'REQUEST_LIMIT_EXCEEDED');
      if (limited) return { throttled: true, daily: true, bucket: 'daily', resetInMs: dayMs };
      const usage = parseApiUsage(response.headers.get('sforce-limit-info'));
      if (!usage) return { throttled: false };
      const ours = Math.floor(usage.allocation * share);
      if (usage.used >= ours) return { throttled: true, daily: true, bucket: 'daily', limit: ours, remaining: 0, resetInMs: dayMs };
      return { throttled: false, bucket: 'daily', limit: ours, remaining: ours - usage.used };
    },
  });
}

export const salesforceRatePolicy = salesforceRatePolicyFor();
