/**
 * The one place HubSpot's HTTP statuses and error bodies map to Ledgerline codes
 * (https://developers.hubspot.com/docs/api/error-handling).
 */
import { z } from 'zod';
import type { ErrorCode } from '../../core/errors/index.ts';

const ErrorBody = z.object({ status: z.string().nullish(), category: z.string().nullish(), errorType: z.string().nullish(), policyName: z.string().nullish() }).loose();

export function classifyHubspotError(response: { status: number; body: unknown }): ErrorCode {
  const body = ErrorBody.safeParse(response.body).data;
  if (response.status === 429 || body?.errorType === 'RATE_LIMIT') return 'LL_RATE_LIMITED';
  // EXPIRED_AUTHENTICATION or INVALID_AUTHENTICATION: one refresh is tried; a refused refresh token
  // (BAD_REFRESH_TOKEN at the token endpoint) is what marks the installation as needing a reinstall.
  if (response.status === 401) return 'LL_AUTH_EXPIRED';
  if (response.status === 403) return 'LL_AUTH_REVOKED';
  if (response.status === 404) return 'LL_NOT_FOUND';
  if (response.status === 400 || response.status === 422) return 'LL_INVALID_INPUT';
  return 'LL_UPSTREAM';
}
