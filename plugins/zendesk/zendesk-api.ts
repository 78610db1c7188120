/**
 * Ledgerline calls Zendesk's REST API with plain `fetch` (the stream context's governed fetch: the
 * installation's token and the shared rate governor in front of every call, 429s waited out there)
 * rather than through node-zendesk, whose `requestAll` stops incremental exports after one page and
 * which returns a 429 as a value instead of throwing (see test/sdk-against-emulator.int.test.ts).
 */
import type { z } from 'zod';
import { LedgerlineError } from '../../core/errors/index.ts';
import { responseBody, zendeskResponseError } from './errors.ts';

/** GET a Zendesk API URL and validate the JSON envelope; a non-2xx answer throws its LL_* code. */
export async function zendeskGet<T>(send: typeof fetch, url: string, what: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
  const response = await send(url, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  const body = await responseBody(response);
  if (!response.ok) throw zendeskResponseError(what, response, body);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LedgerlineError('LL_UPSTREAM', `zendesk ${what}: unexpected response body (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'})`, {
      details: { plugin: 'zendesk' },
    });
  }
  return parsed.data;
}

/** `/api/v2/...` on the installation's account. */
export const apiUrl = (baseUrl: string, path: string, query: Record<string, string | number> = {}): string => {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
  return url.toString();
};
