/**
 * Zendesk Support's budgets: the plan's requests per minute per account (200 on Team up to 2,500),
 * and 10 requests per minute for the incremental export endpoints (30 with High Volume), which
 * count against both. Responses carry X-Rate-Limit / X-Rate-Limit-Remaining and the draft
 * `ratelimit-limit` / `-remaining` / `-reset` headers; a 429 carries Retry-After in seconds.
 */
import { defineRatePolicy, numericHeader, type RateObservation, type RatePolicy } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';

/** `/api/v2/incremental/...` (tickets/cursor, users/cursor, organizations, ticket_events). */
export const isZendeskIncrementalExport = (request: { url: URL }): boolean => request.url.pathname.startsWith('/api/v2/incremental/');


function positiveInteger(value: number, field: string): number {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new LedgerlineError('LL_INVALID_INPUT', `zendesk rate policy: ${field} must be a positive integer, got ${value}`, { details: { field } });
  }
  return value;
}

export interface ZendeskRatePolicyOptions {
  /** The plan's limit (200 Team … 2,500 Enterprise Plus / High Volume add-on); 200 when omitted. */
  readonly requestsPerMinute?: number;
  /** Incremental export limit: 10, or 30 with the High Volume add-on; 10 when omitted. */
  readonly exportsPerMinute?: number;
}

export function zendeskRatePolicyFor(options: ZendeskRatePolicyOptions = {}): RatePolicy {
  const perMinute = positiveInteger(options.requestsPerMinute ?? 200, 'requestsPerMinute');
  const exportsPerMinute = positiveInteger(options.exportsPerMinute ?? 10, 'exportsPerMinute');
  return defineRatePolicy({
    name: 'zendesk',
    buckets: [
      { name: 'plan', capacity: perMinute, perMs: 60_000 },
      { name: 'incremental-export', capacity: exportsPerMinute, perMs: 60_000, appliesTo: isZendeskIncrementalExport },
    ],
    readsBody: false,
    observe: (response): RateObservation => {
      const limit = numericHeader(response.headers, 'x-rate-limit', 'ratelimit-limit');
      const remaining = numericHeader(response.headers, 'x-rate-limit-remaining', 'ratelimit-remaining');
      const resetSeconds = numericHeader(response.headers, 'ratelimit-reset');
      if (response.status === 429) {
        const retryAfterSeconds = numericHeader(response.headers, 'retry-after');
        // An export refused while the plan budget still has room was refused by the export limit.
        const planExhausted = remaining !== undefined && remaining <= 0;
        const bucket = isZendeskIncrementalExport({ url: new URL(response.url) }) && !planExhausted ? 'incremental-export' : 'plan';
        // ratelimit-reset times the plan window, so it stands in for a missing Retry-After only there.
        const wait = retryAfterSeconds ?? (bucket === 'plan' ? resetSeconds : undefined);
        return { throttled: true, bucket, ...(wait !== undefined ? { retryAfterMs: wait * 1000 } : {}) };
      }
      return {
        throttled: false,
        // The headers describe the plan-wide budget, not the export one.
        bucket: 'plan',
        ...(limit !== undefined ? { limit } : {}),
        ...(remaining !== undefined ? { remaining } : {}),
        ...(resetSeconds !== undefined ? { resetInMs: resetSeconds * 1000 } : {}),
      };
    },
  });
}

export const zendeskRatePolicy = zendeskRatePolicyFor();
