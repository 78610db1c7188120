/**
 * HubSpot OAuth (https://developers.hubspot.com/docs/api/oauth-quickstart-guide): authorize on
 * app.hubspot.com, exchange at /oauth/v1/token (form body, client id and secret in the body),
 * 30-minute access tokens and a refresh token that does not rotate. The portal an access token
 * belongs to comes from the token-info endpoint; uninstall deletes the refresh token, which also
 * ends its access tokens. HubSpot sends no uninstall webhook.
 */
import { z } from 'zod';
import { oauth2, type TokenSet } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';
import { hubspotSettings } from './settings.ts';

export const hubspotScopes = ['oauth', 'crm.objects.contacts.read', 'crm.objects.companies.read', 'crm.objects.deals.read', 'tickets'] as const;

const TokenResponse = z.object({
  token_type: z.string().nullish(),
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
});

const AccessTokenInfo = z
  .object({
    hub_id: z.number().int(),
    hub_domain: z.string().nullish(),
    app_id: z.number().int().nullish(),
    scopes: z.array(z.string()).nullish(),
    user: z.string().nullish(),
  })
  .loose();

export const hubspotAuth = oauth2({
  installParams: z.strictObject({}),
  endpoints: (settings) => {
    const s = hubspotSettings(settings);
    return { authorizeUrl: s.authorizeUrl, tokenUrl: `${s.apiBaseUrl}/oauth/v1/token`, revokeUrl: `${s.apiBaseUrl}/oauth/v1/refresh-tokens` };
  },
  client: (settings) => {
    const s = hubspotSettings(settings);
    return { clientId: s.clientId, clientSecret: s.clientSecret };
  },
  scopes: hubspotScopes,
  pkce: false,
  clientAuth: 'body',
  refreshTokenRotates: false,
  refreshRejected: ({ status, body }) => status === 400 && /"status"\s*:\s*"BAD_REFRESH_TOKEN"/.test(body),
  parseToken: (raw, now): TokenSet => {
    const parsed = TokenResponse.safeParse(raw);
    if (!parsed.success) throw new LedgerlineError('LL_UPSTREAM', `hubspot token endpoint answered an unexpected body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const t = parsed.data;
    return { accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: new Date(now.getTime() + t.expires_in * 1000), scopes: [...hubspotScopes], extra: {} };
  },
  identify: async ({ token, settings, fetch }) => {
    const s = hubspotSettings(settings);
    const response = await fetch(`${s.apiBaseUrl}/oauth/v1/access-tokens/${encodeURIComponent(token.accessToken)}`, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new LedgerlineError('LL_UPSTREAM', `hubspot token info answered ${response.status}`);
    const info = AccessTokenInfo.safeParse(await response.json());
    if (!info.success) throw new LedgerlineError('LL_UPSTREAM', 'hubspot token info answered an unexpected body');
    if (s.appId !== null && info.data.app_id !== null && info.data.app_id !== undefined && String(info.data.app_id) !== s.appId) {
      throw new LedgerlineError('LL_FORBIDDEN', `hubspot: the token belongs to app ${info.data.app_id}, not HUBSPOT_APP_ID ${s.appId}`);
    }
    return { platformAccountId: String(info.data.hub_id), displayName: info.data.hub_domain ?? `HubSpot portal ${info.data.hub_id}`, apiBaseUrl: s.apiBaseUrl };
  },
  revoke: async ({ tokens, settings, fetch }) => {
    if (!tokens.refreshToken) return;
    const s = hubspotSettings(settings);
    const response = await fetch(`${s.apiBaseUrl}/oauth/v1/refresh-tokens/${encodeURIComponent(tokens.refreshToken)}`, { method: 'DELETE' });
    // 404: already gone (revoked in HubSpot, or uninstalled there first). Anything else is a failure to report.
    if (!response.ok && response.status !== 404) throw new LedgerlineError('LL_UPSTREAM', `hubspot refresh token revoke answered ${response.status}`);
  },
});
