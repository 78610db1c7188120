/**
 * A `fetch` with the installation's token and the rate governor in front of it, to hand to the
 * official SDKs: every request waits for budget, every response feeds the governor, and throttled
 * responses (429, or a throttle the policy saw in a 200 body such as Shopify's THROTTLED) are
 * waited out and retried here, so neither the SDK nor the stream ever sees one. Most SDKs either do
 * not retry or ignore Retry-After (PLATFORMS.md), so their own retries should stay off.
 */
import type { RateObservation, RatePolicy } from '../contract/index.ts';
import { LedgerlineError, type ErrorCode } from '../errors/index.ts';
import type { RateGovernor, RateWait } from './rate-governor.ts';

export interface GovernedFetchOptions {
  readonly installationId: string;
  readonly policy: RatePolicy;
  readonly governor: RateGovernor;
  readonly accessToken: () => Promise<string>;
  /** The platform rejected the token we sent: refresh it (the token keeper's `renew`). Called once per request. */
  readonly onAuthExpired?: (rejectedToken: string) => Promise<void>;
  /** The plugin's one status/body → code map; decides throttles and expired tokens the policy missed. */
  readonly classifyError: (response: { status: number; body: unknown }) => ErrorCode;
  readonly signal?: AbortSignal;
  readonly onWait?: (wait: RateWait) => void;
  /** Throttled attempts before giving up with LL_RATE_LIMITED; 8 when omitted. */
  readonly maxAttempts?: number;
  /** The header carrying the token; `Authorization: Bearer` when omitted (Shopify uses X-Shopify-Access-Token). */
  readonly authHeader?: (token: string) => readonly [name: string, value: string];
  /** The fetch underneath; the global one when omitted. */
  readonly fetch?: typeof fetch;
}

const bearer = (token: string): readonly [string, string] => ['authorization', `Bearer ${token}`];

/** The JSON body (or text) of a clone, leaving the original body for the caller. */
async function peekBody(response: Response): Promise<unknown> {
  try {
    const text = await response.clone().text();
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  } catch {
    return undefined;
  }
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body was already consumed or the connection is gone; nothing to free.
  }
}

function combinedSignal(...signals: (AbortSignal | null | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== null && s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

export function createGovernedFetch(options: GovernedFetchOptions): typeof fetch {
  const maxAttempts = options.maxAttempts ?? 8;
  const authHeader = options.authHeader ?? bearer;

  return async function governedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const signal = combinedSignal(init?.signal, input instanceof Request ? input.signal : undefined, options.signal);
    // A template that is cloned for every attempt, so a retry can send the same body again.
    const template = new Request(input, { ...init, ...(signal ? { signal } : {}) });
    const request = { method: template.method, url: template.url };
    let throttledAttempts = 0;
    let authRenewed = false;

    for (;;) {
      await options.governor.acquire(options.installationId, options.policy, request, {
        ...(signal ? { signal } : {}),
        ...(options.onWait ? { onWait: options.onWait } : {}),
      });
      const attempt = template.clone();
      const token = await options.accessToken();
      const [headerName, headerValue] = authHeader(token);
      // An SDK that set its own credentials keeps them.
      if (!attempt.headers.has(headerName) && !attempt.headers.has('authorization')) attempt.headers.set(headerName, headerValue);

      const response = await (options.fetch ?? globalThis.fetch)(attempt);
      const failed = response.status >= 400;
      const body = options.policy.readsBody || failed ? await peekBody(response) : undefined;
      const observed = options.policy.observe({
        status: response.status,
        headers: response.headers,
        url: response.url || template.url,
        ...(body === undefined ? {} : { body }),
      });
      const code = failed ? options.classifyError({ status: response.status, body }) : null;
      const throttled = observed.throttled || response.status === 429 || code === 'LL_RATE_LIMITED';
      const observation: RateObservation = { ...observed, throttled };
      const { blockedMs } = await options.governor.observe(options.installationId, options.policy, observation, request);

      if (throttled) {
        await discard(response);
        throttledAttempts += 1;
        if (throttledAttempts >= maxAttempts) {
          const retryAfterSeconds = Math.max(1, Math.ceil(blockedMs / 1000));
          throw new LedgerlineError('LL_RATE_LIMITED', `${request.method} ${request.url} was still throttled after ${throttledAttempts} attempts`, {
            details: { retryAfterSeconds },
          });
        }
        continue; // the next acquire waits out the block the governor just recorded
      }

      const expired = code === 'LL_AUTH_EXPIRED' || (response.status === 401 && code !== 'LL_AUTH_REVOKED');
      if (expired && options.onAuthExpired && !authRenewed) {
        await discard(response);
        authRenewed = true;
        await options.onAuthExpired(token);
        continue;
      }
      return response;
    }
  };
}
