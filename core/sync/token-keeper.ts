/**
 * Keeps one installation's access token valid. Refreshes happen ahead of expiry and at most once
 * per installation at a time across every process: the refresher holds a row in
 * `token_refresh_lease` (migration Migration20261122000100_sync) taken with one atomic upsert, and
 * everyone else waits for it to clear and re-reads the stored tokens. That matters because Zendesk
 * and Shopify rotate refresh tokens: two racing refreshes with the same refresh token leave one
 * process with a dead pair.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, OAuth2Auth, TokenSet } from '../contract/index.ts';
import { LedgerlineError, isLedgerlineError } from '../errors/index.ts';
import type { SqlExecutor } from '../store/index.ts';
import { systemClock } from './clock.ts';

export interface TokenKeeperOptions {
  readonly sql: SqlExecutor;
  readonly installationId: string;
  readonly auth: Pick<OAuth2Auth, 'clientAuth' | 'parseToken' | 'refreshRejected'>;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Reads the installation's current tokens (unsealed by the store). */
  readonly load: () => Promise<TokenSet>;
  /** Seals and stores new tokens; called before the lease is released so waiters read them. */
  readonly save: (tokens: TokenSet) => Promise<void>;
  /** Names the lease holder (host:pid when omitted); a per-keeper suffix keeps two keepers apart. */
  readonly owner?: string;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Refresh this long before expiry; 5 minutes when omitted. */
  readonly skewMs?: number;
  readonly leaseMs?: number;
  /** How often a waiting process looks whether the refresher is done. */
  readonly pollMs?: number;
  /** Attempts at the token endpoint (429, 5xx, network errors) before giving up. */
  readonly maxAttempts?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly signal?: AbortSignal;
}

export interface TokenKeeper {
  /** A valid access token, refreshed first when it expires within the skew. */
  accessToken(): Promise<string>;
  /**
   * The platform rejected `rejectedToken` (the last one handed out when omitted): refresh, unless
   * another process or caller already replaced it.
   */
  renew(rejectedToken?: string): Promise<void>;
}

const takeLeaseSql = `
  insert into token_refresh_lease (installation_id, owner, lease_until)
  values ($1, $2, clock_timestamp() + $3::double precision * interval '1 millisecond')
  on conflict (installation_id) do update set owner = excluded.owner, lease_until = excluded.lease_until
   where token_refresh_lease.lease_until < clock_timestamp() or token_refresh_lease.owner = excluded.owner
  returning owner`;
const extendLeaseSql = `
  update token_refresh_lease set lease_until = clock_timestamp() + $3::double precision * interval '1 millisecond'
   where installation_id = $1 and owner = $2 returning owner`;
const releaseLeaseSql = `delete from token_refresh_lease where installation_id = $1 and owner = $2`;
const leaseHeldSql = `select 1 from token_refresh_lease where installation_id = $1 and lease_until > clock_timestamp()`;

/** Retry-After in seconds or as an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | null, now: Date): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

// RFC 6749 §2.3.1: client id and secret are form-encoded before the Basic encoding.
export function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (v: string): string => new URLSearchParams({ v }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function oauthErrorOf(body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON: some token endpoints answer errors in HTML.
  }
  return null;
}

/** A token endpoint request (RFC 6749 §4.1.3 / §6) with the client authenticated the plugin's way. */
export function tokenRequest(
  auth: Pick<OAuth2Auth, 'clientAuth'>,
  clientId: string,
  clientSecret: string,
  grant: Record<string, string>,
): { form: URLSearchParams; headers: Record<string, string> } {
  const form = new URLSearchParams(grant);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (auth.clientAuth === 'basic') {
    headers.authorization = basicAuth(clientId, clientSecret);
  } else {
    form.set('client_id', clientId);
    form.set('client_secret', clientSecret);
  }
  return { form, headers };
}

export function createTokenKeeper(options: TokenKeeperOptions): TokenKeeper {
  const clock = options.clock ?? systemClock;
  // Two keepers sharing an owner would both win the lease (it is re-entrant for its holder).
  const owner = `${options.owner ?? `${hostname()}:${process.pid}`}:${randomUUID().slice(0, 8)}`;
  const skewMs = options.skewMs ?? 5 * 60_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 100;
  const maxAttempts = options.maxAttempts ?? 6;
  const backoff = options.backoff ?? { baseMs: 500, maxMs: 30_000 };
  const lease = [options.installationId, owner, leaseMs] as const;
  let cached: TokenSet | null = null;
  let handedOut: string | null = null;
  let refreshing: Promise<TokenSet> | null = null;

  const fresh = (tokens: TokenSet): boolean => tokens.expiresAt === null || tokens.expiresAt.getTime() - clock.now().getTime() > skewMs;
  /** Someone else already replaced the token we consider stale. */
  const replaced = (tokens: TokenSet, stale: string): boolean => tokens.accessToken !== stale && fresh(tokens);

  async function accessToken(): Promise<string> {
    if (!cached || !fresh(cached)) cached = await options.load();
    const usable = fresh(cached) ? cached : await refreshOnce(cached.accessToken);
    handedOut = usable.accessToken;
    return usable.accessToken;
  }

  async function renew(rejectedToken?: string): Promise<void> {
    const rejected = rejectedToken ?? handedOut ?? (await options.load()).accessToken;
    cached = null;
    await refreshOnce(rejected);
  }

  /** One refresh per keeper at a time; concurrent callers share it. */
  function refreshOnce(stale: string): Promise<TokenSet> {
    refreshing ??= refreshAcrossProcesses(stale).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function refreshAcrossProcesses(stale: string): Promise<TokenSet> {
    for (;;) {
      options.signal?.throwIfAborted();
      if ((await options.sql(takeLeaseSql, lease)).length === 1) {
        try {
          const stored = await options.load();
          cached = replaced(stored, stale) ? stored : await refreshWithEndpoint(stored);
          return cached;
        } catch (error) {
          // Lost the lease mid-way (we stalled past it): whoever took it over is refreshing now.
          if (!isLedgerlineError(error, 'LL_CONFLICT')) throw error;
        } finally {
          await options.sql(releaseLeaseSql, [options.installationId, owner]);
        }
      }
      while ((await options.sql(leaseHeldSql, [options.installationId])).length > 0) {
        await clock.sleep(pollMs, options.signal);
      }
      const stored = await options.load();
      if (replaced(stored, stale)) return (cached = stored);
      // The holder failed or gave up without a new token: try ourselves.
    }
  }

  async function refreshWithEndpoint(current: TokenSet): Promise<TokenSet> {
    if (current.refreshToken === null) {
      throw new LedgerlineError('LL_AUTH_REVOKED', 'the access token expired and there is no refresh token; reinstall the app');
    }
    const next = await callTokenEndpoint(current.refreshToken);
    const merged: TokenSet = {
      ...next,
      // Salesforce and non-rotating platforms omit the refresh token on refresh: keep ours.
      refreshToken: next.refreshToken ?? current.refreshToken,
      scopes: next.scopes.length > 0 ? next.scopes : current.scopes,
      extra: { ...current.extra, ...next.extra },
    };
    await options.save(merged);
    return merged;
  }

  async function callTokenEndpoint(refreshToken: string): Promise<TokenSet> {
    const { form, headers } = tokenRequest(options.auth, options.clientId, options.clientSecret, { grant_type: 'refresh_token', refresh_token: refreshToken });

    for (let attempt = 1; ; attempt += 1) {
      // Refreshing without the lease could race a process that took it over: stop instead.
      if ((await options.sql(extendLeaseSql, lease)).length === 0) throw new LedgerlineError('LL_CONFLICT', 'token refresh lease lost');
      const backoffMs = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
      let response: Response;
      try {
        response = await (options.fetch ?? globalThis.fetch)(options.tokenUrl, { method: 'POST', headers, body: form, ...(options.signal ? { signal: options.signal } : {}) });
      } catch (error) {
        options.signal?.throwIfAborted();
        if (attempt >= maxAttempts) throw new LedgerlineError('LL_UPSTREAM', `token endpoint unreachable: ${String(error)}`, { cause: error });
        await clock.sleep(backoffMs, options.signal);
        continue;
      }
      if (response.ok) return parseTokenResponse(response);

      const body = await response.text();
      if (response.status === 429 || response.status >= 500) {
        const waitMs = retryAfterMs(response.headers.get('retry-after'), clock.now()) ?? backoffMs;
        if (attempt >= maxAttempts || waitMs > leaseMs / 2) {
          const code = response.status === 429 ? 'LL_RATE_LIMITED' : 'LL_UPSTREAM';
          throw new LedgerlineError(code, `token endpoint answered ${response.status} after ${attempt} attempts`, {
            details: { retryAfterSeconds: Math.ceil(waitMs / 1000) },
          });
        }
        await clock.sleep(waitMs, options.signal);
        continue;
      }
      const oauthError = oauthErrorOf(body);
      // invalid_grant: the refresh token was revoked, expired or already rotated away.
      if (oauthError === 'invalid_grant' || options.auth.refreshRejected?.({ status: response.status, body })) throw new LedgerlineError('LL_AUTH_REVOKED', 'the refresh token was rejected (invalid_grant); reinstall the app');
      throw new LedgerlineError('LL_UPSTREAM', `token endpoint answered ${response.status}${oauthError ? ` (${oauthError})` : ''}`);
    }
  }

  async function parseTokenResponse(response: Response): Promise<TokenSet> {
    try {
      return options.auth.parseToken(await response.json(), clock.now());
    } catch (error) {
      throw new LedgerlineError('LL_UPSTREAM', `token endpoint answered an unreadable token: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  return { accessToken, renew };
}
