/**
 * Zendesk OAuth, authorization code grant
 * (https://developer.zendesk.com/documentation/api-basics/authentication/using-oauth-to-authenticate-zendesk-api-requests-in-a-web-app/):
 * the admin names the account (subdomain); authorize at `https://{subdomain}.zendesk.com/oauth/authorizations/new`
 * with `state` (and a PKCE S256 challenge); exchange at `POST /oauth/tokens`, client id and secret
 * in the body. Access tokens now expire (30 minutes by default for new clients) and refresh tokens
 * rotate: a refresh deletes the old pair at once
 * (https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token/,
 * https://support.zendesk.com/hc/en-us/articles/9182123625370), which the token keeper's
 * write-ahead journal makes crash-safe (core/sync/token-keeper.ts).
 *
 * Scope `read` only: Ledgerline never writes to Zendesk. The resource scopes (`tickets:read`,
 * `users:read`, `organizations:read`) name resources, while the connector also needs the
 * incremental export endpoints, `/users/me` and the token's own record; `read` is Zendesk's
 * documented read-only scope for every GET endpoint
 * (https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/#scopes).
 */
import { z } from 'zod';
import { oauth2, type TokenSet } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';
import { responseBody, zendeskResponseError } from './errors.ts';
import { ZendeskInstallParams, zendeskAccountOf, zendeskSettings } from './settings.ts';
import { apiUrl } from './zendesk-api.ts';

export const zendeskScopes = ['read'] as const;

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().nullish(),
  scope: z.string().nullish(),
  // Tokens of clients created before expiring tokens existed carry neither of these.
  expires_in: z.number().int().positive().nullish(),
  refresh_token: z.string().min(1).nullish(),
  refresh_token_expires_in: z.number().int().positive().nullish(),
});

const Me = z.object({ user: z.object({ id: z.number().int(), role: z.string(), name: z.string().nullish(), active: z.boolean().nullish() }).loose() });

/** The revoke call, and the refresh that precedes it when the stored access token has expired. */
async function deleteCurrentToken(send: typeof fetch, baseUrl: string, accessToken: string): Promise<Response> {
  return send(apiUrl(baseUrl, '/api/v2/oauth/tokens/current.json'), { method: 'DELETE', headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(30_000) });
}

export const zendeskAuth = oauth2<ZendeskInstallParams>({
  installParams: ZendeskInstallParams,
  endpoints: (settings, params) => {
    const { baseUrl } = zendeskAccountOf(settings, params);
    return {
      authorizeUrl: `${baseUrl}/oauth/authorizations/new`,
      tokenUrl: `${baseUrl}/oauth/tokens`,
      // https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/#revoke-token (see `revoke`).
      revokeUrl: apiUrl(baseUrl, '/api/v2/oauth/tokens/current.json'),
    };
  },
  client: (settings) => {
    const s = zendeskSettings(settings);
    return { clientId: s.clientId, clientSecret: s.clientSecret };
  },
  scopes: zendeskScopes,
  pkce: true,
  clientAuth: 'body',
  refreshTokenRotates: true,
  parseToken: (raw, now): TokenSet => {
    const parsed = TokenResponse.safeParse(raw);
    if (!parsed.success) throw new LedgerlineError('LL_UPSTREAM', `zendesk token endpoint answered an unexpected body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const t = parsed.data;
    const scopes = (t.scope ?? '').split(/\s+/).filter((s) => s !== '');
    const refreshExpiresAt = t.refresh_token_expires_in ? new Date(now.getTime() + t.refresh_token_expires_in * 1000).toISOString() : null;
    return {
      accessToken: t.access_token,
      refreshToken: t.refresh_token ?? null,
      expiresAt: t.expires_in ? new Date(now.getTime() + t.expires_in * 1000) : null,
      scopes: scopes.length > 0 ? scopes : [...zendeskScopes],
      extra: refreshExpiresAt ? { refresh_token_expires_at: refreshExpiresAt } : {},
    };
  },
  identify: async ({ token, params, settings, fetch }) => {
    const { subdomain, baseUrl } = zendeskAccountOf(settings, params);
    const response = await fetch(apiUrl(baseUrl, '/api/v2/users/me.json'), { headers: { accept: 'application/json', authorization: `Bearer ${token.accessToken}` } });
    const body = await responseBody(response);
    if (!response.ok) throw zendeskResponseError('identify (GET /api/v2/users/me)', response, body);
    const me = Me.safeParse(body);
    if (!me.success) throw new LedgerlineError('LL_UPSTREAM', 'zendesk /api/v2/users/me answered an unexpected body');
    // The incremental export API is for admins only
    // (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/, "Allowed for").
    if (me.data.user.role !== 'admin') {
      throw new LedgerlineError('LL_FORBIDDEN', `zendesk: ${me.data.user.name ?? `user ${me.data.user.id}`} is ${me.data.user.role === 'agent' ? 'an agent' : `a ${me.data.user.role}`}; an admin must install Ledgerline (the incremental exports it reads are admin-only)`);
    }
    // Zendesk has no API that returns the account's numeric id; the subdomain names the account.
    return { platformAccountId: subdomain, displayName: `${subdomain}.zendesk.com`, apiBaseUrl: baseUrl };
  },
  /**
   * DELETE /api/v2/oauth/tokens/current.json with the installation's access token deletes the grant
   * (its refresh token with it). An expired access token is first refreshed (rotating the pair,
   * which is then deleted). The contract hands revoke no installation, so the account comes from
   * ZENDESK_API_BASE_URL or ZENDESK_SUBDOMAIN; without either the grant is left to expire and the
   * failure is recorded on the installation (revoke it in Admin Center → OAuth Clients).
   */
  revoke: async ({ tokens, settings, fetch }) => {
    let baseUrl: string;
    try {
      ({ baseUrl } = zendeskAccountOf(settings, {}));
    } catch (error) {
      throw new LedgerlineError('LL_INVALID_CONFIG', 'zendesk: the grant cannot be revoked from here without ZENDESK_SUBDOMAIN (revoke it in Admin Center → Apps and integrations → APIs → OAuth Clients); it expires on its own', {
        cause: error,
        details: { field: 'ZENDESK_SUBDOMAIN', plugin: 'zendesk' },
      });
    }
    let response = await deleteCurrentToken(fetch, baseUrl, tokens.accessToken);
    if (response.status === 401 && tokens.refreshToken !== null) {
      const s = zendeskSettings(settings);
      const refreshed = await fetch(`${baseUrl}/oauth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, client_id: s.clientId, client_secret: s.clientSecret }),
        signal: AbortSignal.timeout(30_000),
      });
      // invalid_grant: the grant is already gone (revoked in Zendesk, or the app was removed there).
      if (refreshed.status === 400) return;
      const body = await responseBody(refreshed);
      if (!refreshed.ok) throw zendeskResponseError('revoke (refresh before revoking)', refreshed, body);
      const fresh = TokenResponse.safeParse(body);
      if (!fresh.success) throw new LedgerlineError('LL_UPSTREAM', 'zendesk token endpoint answered an unexpected body while revoking');
      response = await deleteCurrentToken(fetch, baseUrl, fresh.data.access_token);
    }
    // 404/401: the token is already gone. Anything else is a failure to report.
    if (!response.ok && response.status !== 404 && response.status !== 401) throw zendeskResponseError('revoke (DELETE /api/v2/oauth/tokens/current)', response, await responseBody(response));
  },
});
