/**
 * Keeps one installation's access token valid. Refreshes happen ahead of expiry and at most once
 * per installation at a time across every process: the refresher holds a row in
 * `token_refresh_lease` (migration Migration20261122000100_sync) taken with one atomic upsert, and
 * everyone else waits for it to clear and re-reads the stored tokens. That matters because Zendesk
 * and Shopify rotate refresh tokens: two racing refreshes with the same refresh token leave one
 * process with a dead pair.
 *
 * Rotation also means the platform deletes the old pair the moment it answers
 * (https://support.zendesk.com/hc/en-us/articles/9182123625370), so a process that dies — or whose
 * database write fails — between the answer and the save would lock the installation out until an
 * admin reinstalls. Hence a write-ahead journal (`token_journal`, migration
 * Migration20261202001000_token_journal): the moment the token endpoint answers, before anything
 * else, the new pair is sealed and written there in its own autocommit statement; then it is saved
 * to the installation and the entry cleared. Whoever next reads the installation under the lease
 * adopts an entry that replaced exactly the pair stored (a crash between journal and save), and a
 * refresh refused with invalid_grant first looks for (and waits briefly for) an entry another
 * process wrote for the refresh token it used.
 *
 * The residual window, which no client-side design closes while the platform deletes the old pair
 * with no grace period: from the moment the platform commits the rotation until our journal INSERT
 * commits — the response in flight, its parsing, one round trip to the database. A process killed
 * there, a response lost in transit (the request timed out or the connection dropped after the
 * platform processed it), or a database that refuses the journal write three times and then the
 * save, loses the new pair: the next refresh gets invalid_grant and the installation is marked as
 * needing a reinstall — visibly, not silently.
 */
import { createHash, randomUUID } from 'node:crypto';
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
  /**
   * Seals and opens a token set for the write-ahead journal, exactly as the store seals the
   * installation's tokens (same key, bound to the same tenant and installation).
   */
  readonly journal: { readonly seal: (tokens: TokenSet) => string; readonly open: (sealed: string) => TokenSet };
  /** How long a refresh refused with invalid_grant waits for another process's journal entry; 2 s when omitted. */
  readonly journalGraceMs?: number;
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
const journalWriteSql = `
  insert into token_journal (installation_id, sealed_tokens, replaces_refresh_hash, obtained_at) values ($1, $2, $3, clock_timestamp())
  on conflict (installation_id) do update
     set sealed_tokens = excluded.sealed_tokens, replaces_refresh_hash = excluded.replaces_refresh_hash, obtained_at = excluded.obtained_at`;
const journalReadSql = `select sealed_tokens, replaces_refresh_hash from token_journal where installation_id = $1`;
const journalClearSql = `delete from token_journal where installation_id = $1 and replaces_refresh_hash = $2`;

/** How the journal names the refresh token an entry replaced (never the token itself). */
export const refreshTokenHash = (refreshToken: string): string => createHash('sha256').update(refreshToken).digest('hex');

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

interface JournalEntry {
  readonly tokens: TokenSet;
  /** refreshTokenHash of the refresh token whose refresh produced `tokens`. */
  readonly replaces: string;
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
  const journalGraceMs = options.journalGraceMs ?? 2_000;
  const lease = [options.installationId, owner, leaseMs] as const;
  let cached: TokenSet | null = null;
  let handedOut: string | null = null;
  let refreshing: Promise<TokenSet> | null = null;

  const fresh = (tokens: TokenSet): boolean => tokens.expiresAt === null || tokens.expiresAt.getTime() - clock.now().getTime() > skewMs;
  /** Someone else already replaced the token we consider stale. */
  const replaced = (tokens: TokenSet, stale: string): boolean => tokens.accessToken !== stale && fresh(tokens);

  async function accessToken(): Promise<string> {
    if (!cached || !fresh(cached)) {
      cached = await options.load();
      // A refresh whose save never happened left its pair in the journal: adopt it (under the lease).
      if (await journalSupersedes(cached)) cached = await refreshOnce(cached.accessToken);
    }
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
          const stored = await loadAdopting();
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

  // --- The write-ahead journal -------------------------------------------------------------

  async function readJournal(): Promise<JournalEntry | null> {
    const [row] = (await options.sql(journalReadSql, [options.installationId])) as { sealed_tokens: string; replaces_refresh_hash: string }[];
    return row ? { tokens: options.journal.open(row.sealed_tokens), replaces: row.replaces_refresh_hash } : null;
  }

  /** An entry that replaced exactly the pair stored: the save after its refresh never happened. */
  async function journalSupersedes(stored: TokenSet): Promise<boolean> {
    if (stored.refreshToken === null) return false;
    const entry = await readJournal();
    return entry !== null && entry.replaces === refreshTokenHash(stored.refreshToken);
  }

  /**
   * Writes the new pair before anything else touches it, in its own autocommit statement (the
   * keeper's `sql` runs outside any transaction). Retried briefly: until this commits, the pair
   * exists only in this process. Not abortable: an abort here would lose the pair.
   */
  async function writeJournal(tokens: TokenSet, replacedRefreshToken: string): Promise<boolean> {
    const params = [options.installationId, options.journal.seal(tokens), refreshTokenHash(replacedRefreshToken)];
    for (let attempt = 1; ; attempt += 1) {
      try {
        await options.sql(journalWriteSql, params);
        return true;
      } catch {
        if (attempt >= 3) return false;
        await clock.sleep(50 * attempt);
      }
    }
  }

  async function clearJournal(replaces: string): Promise<void> {
    // A failed clear is harmless: the next reader sees an entry equal to (or older than) what is stored and drops it.
    await options.sql(journalClearSql, [options.installationId, replaces]).catch(() => undefined);
  }

  /** The stored tokens, or — only while holding the lease — a journal entry that superseded them, saved first. */
  async function loadAdopting(): Promise<TokenSet> {
    const stored = await options.load();
    const entry = await readJournal();
    if (entry === null) return stored;
    if (stored.refreshToken !== null && entry.replaces === refreshTokenHash(stored.refreshToken)) {
      await options.save(entry.tokens);
      await clearJournal(entry.replaces);
      return entry.tokens;
    }
    // Saved already (the process stopped between save and clear), or left from before a reinstall.
    await clearJournal(entry.replaces);
    return stored;
  }

  /** After invalid_grant: another process may have rotated this refresh token and be writing its journal entry. */
  async function journalEntryFor(refreshToken: string): Promise<TokenSet | null> {
    const replaces = refreshTokenHash(refreshToken);
    const deadline = clock.now().getTime() + journalGraceMs;
    for (;;) {
      // Keep the lease while waiting, so the stalled process cannot take it and adopt its own entry
      // under us (we would then wait for an entry that was already adopted and cleared).
      if ((await options.sql(extendLeaseSql, lease)).length === 0) throw new LedgerlineError('LL_CONFLICT', 'token refresh lease lost while waiting for the journal');
      const entry = await readJournal();
      if (entry !== null && entry.replaces === replaces) return entry.tokens;
      if (clock.now().getTime() >= deadline) return null;
      await clock.sleep(pollMs, options.signal);
    }
  }

  async function refreshWithEndpoint(current: TokenSet): Promise<TokenSet> {
    if (current.refreshToken === null) {
      throw new LedgerlineError('LL_AUTH_REVOKED', 'the access token expired and there is no refresh token; reinstall the app');
    }
    const answer = await callTokenEndpoint(current.refreshToken);
    const next = answer.tokens;
    const merged: TokenSet = answer.fromJournal
      ? next
      : {
          ...next,
          // Salesforce and non-rotating platforms omit the refresh token on refresh: keep ours.
          refreshToken: next.refreshToken ?? current.refreshToken,
          scopes: next.scopes.length > 0 ? next.scopes : current.scopes,
          extra: { ...current.extra, ...next.extra },
        };
    // First, before anything else can fail: the journal (an adopted entry is in it already).
    const journaled = answer.fromJournal || (await writeJournal(merged, current.refreshToken));
    // Only the lease holder saves. One that stalled past its lease leaves the pair in the journal
    // for the holder, who adopts it (a late save could overwrite a pair rotated since).
    if (journaled && (await options.sql(extendLeaseSql, lease)).length === 0) {
      throw new LedgerlineError('LL_CONFLICT', 'token refresh lease lost after the token endpoint answered; the new tokens are in the journal');
    }
    try {
      await options.save(merged);
    } catch (error) {
      // This process keeps using the pair; the journal (when written) hands it to the next reader.
      cached = merged;
      throw error;
    }
    if (journaled) await clearJournal(refreshTokenHash(current.refreshToken));
    return merged;
  }

  /** The token endpoint's new pair, or the pair another process's journal holds for this refresh token. */
  async function callTokenEndpoint(refreshToken: string): Promise<{ tokens: TokenSet; fromJournal: boolean }> {
    const { form, headers } = tokenRequest(options.auth, options.clientId, options.clientSecret, { grant_type: 'refresh_token', refresh_token: refreshToken });

    for (let attempt = 1; ; attempt += 1) {
      // Refreshing without the lease could race a process that took it over: stop instead.
      if ((await options.sql(extendLeaseSql, lease)).length === 0) throw new LedgerlineError('LL_CONFLICT', 'token refresh lease lost');
      const backoffMs = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
      let response: Response;
      try {
        // Bounded well inside the lease, so no answer can arrive after another process took the lease over.
        const timeout = AbortSignal.timeout(Math.max(1_000, Math.floor(leaseMs / 2)));
        response = await (options.fetch ?? globalThis.fetch)(options.tokenUrl, { method: 'POST', headers, body: form, signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      } catch (error) {
        options.signal?.throwIfAborted();
        if (attempt >= maxAttempts) throw new LedgerlineError('LL_UPSTREAM', `token endpoint unreachable: ${String(error)}`, { cause: error });
        await clock.sleep(backoffMs, options.signal);
        continue;
      }
      if (response.ok) return { tokens: await parseTokenResponse(response), fromJournal: false };

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
      // invalid_grant: the refresh token was revoked, expired or already rotated away — possibly by a
      // process that stalled past its lease after the answer and is writing its journal entry now.
      if (oauthError === 'invalid_grant' || options.auth.refreshRejected?.({ status: response.status, body })) {
        const rotated = await journalEntryFor(refreshToken);
        if (rotated !== null) return { tokens: rotated, fromJournal: true };
        throw new LedgerlineError('LL_AUTH_REVOKED', 'the refresh token was rejected (invalid_grant); reinstall the app');
      }
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
