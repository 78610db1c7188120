/**
 * The one place Zendesk's HTTP statuses and error bodies map to Ledgerline codes
 * (https://developer.zendesk.com/api-reference/introduction/requests/#response-format,
 * https://developer.zendesk.com/api-reference/introduction/rate-limits/). Zendesk answers errors as
 * `{"error": "RecordNotFound", "description": "Not found"}`, OAuth errors as RFC 6749
 * `{"error": "invalid_token", "error_description": …}`, and the plan's 429 as plain text.
 */
import { z } from 'zod';
import { LedgerlineError, type ErrorCode } from '../../core/errors/index.ts';

const ErrorBody = z
  .object({
    error: z.union([z.string(), z.object({ title: z.string().nullish(), message: z.string().nullish() }).loose()]).nullish(),
    description: z.string().nullish(),
    error_description: z.string().nullish(),
  })
  .loose();

export function classifyZendeskError(response: { status: number; body: unknown }): ErrorCode {
  const body = ErrorBody.safeParse(response.body).data;
  // The incremental export limit answers {"error": "APIRateLimitExceeded"}; the plan limit, text.
  if (response.status === 429 || body?.error === 'APIRateLimitExceeded') return 'LL_RATE_LIMITED';
  // An expired or revoked access token (invalid_token): one refresh is tried; a refused refresh
  // token (invalid_grant at /oauth/tokens) is what marks the installation as needing a reinstall.
  if (response.status === 401) return 'LL_AUTH_EXPIRED';
  // The authorizing user lost the rights the grant needs (incremental exports are admins-only): a
  // retry cannot help, an admin reinstalling can.
  if (response.status === 403) return 'LL_AUTH_REVOKED';
  if (response.status === 404) return 'LL_NOT_FOUND';
  if (response.status === 400 || response.status === 422) return 'LL_INVALID_INPUT';
  return 'LL_UPSTREAM';
}

/** Retry-After in whole seconds (Zendesk sends seconds on 429 and on 503 during maintenance). */
function retryAfterSeconds(headers: Headers): number | null {
  const value = Number(headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : null;
}

function messageOf(body: unknown): string | null {
  if (typeof body === 'string') return body.trim().slice(0, 200) || null;
  const parsed = ErrorBody.safeParse(body).data;
  if (!parsed) return null;
  const error = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.title ?? parsed.error?.message ?? null);
  const detail = parsed.description ?? parsed.error_description ?? null;
  return [error, detail].filter((p): p is string => typeof p === 'string' && p !== '').join(': ') || null;
}

/** The error for a non-2xx answer to `what` (a request the connector made), with Retry-After when given. */
export function zendeskResponseError(what: string, response: { status: number; headers: Headers }, body: unknown): LedgerlineError {
  const code = classifyZendeskError({ status: response.status, body });
  const wait = retryAfterSeconds(response.headers);
  return new LedgerlineError(code, `zendesk ${what}: HTTP ${response.status}${messageOf(body) ? ` (${messageOf(body)})` : ''}`, {
    details: { plugin: 'zendesk', ...(wait !== null ? { retryAfterSeconds: wait } : {}) },
  });
}

/** The JSON body of a response, or its text when it is not JSON (the plan's 429 is plain text). */
export async function responseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
