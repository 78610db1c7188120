/**
 * Zendesk Support's budgets: the plan's requests per minute per account (200 on Team up to 2,500),
 * and 10 requests per minute for the incremental export endpoints (30 with High Volume), which
 * count against both. Responses carry X-Rate-Limit / X-Rate-Limit-Remaining and the draft
 * `ratelimit-limit` / `-remaining` / `-reset` headers; a 429 carries Retry-After in seconds.
 */
import { defineRatePolicy, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';

const isExport = (request: { url: URL }): boolean => request.url.pathname.startsWith('/api/v2/incremental/');

function headerNumber(headers: Headers, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  return undefined;
}

export function zendeskRatePolicyFor(options: { requestsPerMinute?: number; exportsPerMinute?: number } = {}): RatePolicy {
  const perMinute = options.requestsPerMinute ?? 200;
  const exportsPerMinute = options.exportsPerMinute ?? 10;
  return defineRatePolicy({
    name: 'zendesk',
    buckets: [
      { name: 'plan', capacity: perMinute, perMs: 60_000 },
      { name: 'incremental-export', capacity: exportsPerMinute, perMs: 60_000, appliesTo: isExport },
    ],
    readsBody: false,
    observe: (response): RateObservation => {
      const bucket = isExport({ url: new URL(response.url) }) ? 'incremental-export' : 'plan';
      const retryAfter = headerNumber(response.headers, 'retry-after');
      if (response.status === 429) {
        return { throttled: true, bucket, ...(retryAfter !== undefined ? { retryAfterMs: retryAfter * 1000 } : {}) };
      }
      const limit = headerNumber(response.headers, 'x-rate-limit', 'ratelimit-limit');
      const remaining = headerNumber(response.headers, 'x-rate-limit-remaining', 'ratelimit-remaining');
      const reset = headerNumber(response.headers, 'ratelimit-reset');
      return {
        throttled: false,
        // The headers describe the plan-wide budget, not the export one.
        bucket: 'plan',
        ...(limit !== undefined ? { limit } : {}),
        ...(remaining !== undefined ? { remaining } : {}),
        ...(reset !== undefined ? { resetInMs: reset * 1000 } : {}),
      };
    },
  });
}

export const zendeskRatePolicy = zendeskRatePolicyFor();
