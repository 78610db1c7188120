/**
 * Zendesk's OAuth authorization server, as a marketplace app meets it
 * (https://developer.zendesk.com/documentation/api-basics/authentication/using-oauth-to-authenticate-zendesk-api-requests-in-a-web-app/,
 * https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token):
 *
 * - GET /oauth/authorizations/new auto-approves as the account's admin and redirects back with
 *   `code` and `state` (codes live 120 s, are single-use, and honour PKCE S256 when a challenge
 *   was sent).
 * - POST /oauth/tokens (JSON or form; client credentials in the body or HTTP Basic) for
 *   `authorization_code` and `refresh_token`, answering `{access_token, token_type: "bearer",
 *   scope, expires_in, refresh_token, refresh_token_expires_in}`. `expires_in` /
 *   `refresh_token_expires_in` may be asked for (300 s–48 h, 7–90 days).
 * - Refresh tokens rotate: a refresh issues a new pair and deletes the old access AND refresh
 *   token, so the old refresh token's second use is `400 invalid_grant`.
 * - Defaults are the TTLs Zendesk enforces for new OAuth clients since 2026: access tokens 30
 *   minutes, refresh tokens 30 days
 *   (https://support.zendesk.com/hc/en-us/articles/10212201463962).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpError } from './wire.ts';

export interface OAuthClient {
  readonly id: string;
  readonly secret: string;
}

export interface Grant {
  readonly tokenId: number;
  readonly userId: number;
  readonly scopes: readonly string[];
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly createdAt: number;
  readonly accessExpiresAt: number;
  readonly refreshExpiresAt: number;
}

/** Zendesk's OAuth scopes (https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/#scopes). */
const knownScopes = new Set([
  'read', 'write', 'impersonate',
  ...['tickets', 'users', 'organizations', 'auditlogs', 'hc', 'apps', 'triggers', 'automations', 'targets', 'webhooks', 'zis', 'macros', 'requests', 'satisfaction_ratings', 'dynamic_content', 'any_channel', 'web_widget', 'chat']
    .flatMap((resource) => [`${resource}:read`, `${resource}:write`]),
]);

const invalidGrant = (): HttpError => new HttpError(400, {
  error: 'invalid_grant',
  error_description: 'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
});

const invalidToken = (): HttpError => new HttpError(401, {
  error: 'invalid_token',
  error_description: 'The access token provided is expired, revoked, malformed or invalid for other reasons.',
}, { 'WWW-Authenticate': 'Bearer realm="Zendesk", error="invalid_token"' });

function equalSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function ttlFrom(fields: Record<string, string>, name: string, min: number, max: number, fallback: number): number {
  const raw = fields[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new HttpError(400, { error: 'invalid_request', error_description: `${name} must be an integer between ${min} and ${max}` });
  }
  return value;
}

export class OAuthServer {
  private readonly client: OAuthClient;
  private readonly now: () => number;
  private readonly userId: number;
  private accessTtlSeconds: number;
  private readonly refreshTtlSeconds: number;
  private readonly onRefresh: () => void;
  private readonly codes = new Map<string, { redirectUri: string; scopes: string[]; expiresAt: number; challenge: string | null }>();
  private readonly byAccess = new Map<string, Grant>();
  private readonly byRefresh = new Map<string, Grant>();
  private nextTokenId = 9_100_000_001;

  constructor(options: { client: OAuthClient; now: () => number; userId: number; accessTtlSeconds: number; refreshTtlSeconds: number; onRefresh: () => void }) {
    this.client = options.client;
    this.now = options.now;
    this.userId = options.userId;
    this.accessTtlSeconds = options.accessTtlSeconds;
    this.refreshTtlSeconds = options.refreshTtlSeconds;
    this.onRefresh = options.onRefresh;
  }

  setAccessTtl(seconds: number): void {
    this.accessTtlSeconds = seconds;
  }

  /** GET /oauth/authorizations/new: the admin approves at once; returns where to redirect. */
  authorize(url: URL): string {
    const q = url.searchParams;
    const redirect = q.get('redirect_uri') ?? '';
    let target: URL;
    try {
      target = new URL(redirect);
    } catch {
      throw new HttpError(400, { error: 'invalid_request', error_description: 'redirect_uri is missing or not an absolute URL' });
    }
    if (q.get('client_id') !== this.client.id) throw new HttpError(400, { error: 'invalid_client', error_description: 'Unknown client_id' });
    const fail = (error: string, description: string): string => {
      target.searchParams.set('error', error);
      target.searchParams.set('error_description', description);
      const state = q.get('state');
      if (state !== null) target.searchParams.set('state', state);
      return target.toString();
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    const scopes = (q.get('scope') ?? 'read').split(/[\s+]+/).filter((s) => s !== '');
    const unknown = scopes.find((s) => !knownScopes.has(s));
    if (unknown !== undefined) return fail('invalid_scope', `The requested scope is invalid, unknown, or malformed: ${unknown}`);
    const method = q.get('code_challenge_method');
    if (q.get('code_challenge') !== null && method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
    const code = randomBytes(24).toString('hex');
    this.codes.set(code, { redirectUri: redirect, scopes, expiresAt: this.now() + 120_000, challenge: q.get('code_challenge') });
    target.searchParams.set('code', code);
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return target.toString();
  }

  /** POST /oauth/tokens with the request's fields (body, and client credentials from Basic auth). */
  token(fields: Record<string, string>, authorization: string | undefined): Record<string, unknown> {
    const basic = /^Basic (.+)$/i.exec(authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const clientId = fields.client_id ?? basicId;
    const clientSecret = fields.client_secret ?? basicSecret;
    if (clientId !== this.client.id || clientSecret === undefined || !equalSecret(clientSecret, this.client.secret)) {
      throw new HttpError(401, { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' });
    }
    const accessTtl = ttlFrom(fields, 'expires_in', 300, 172_800, this.accessTtlSeconds);
    const refreshTtl = ttlFrom(fields, 'refresh_token_expires_in', 604_800, 7_776_000, this.refreshTtlSeconds);
    if (fields.grant_type === 'authorization_code') {
      const code = this.codes.get(fields.code ?? '');
      if (code) this.codes.delete(fields.code ?? '');
      if (!code || code.expiresAt <= this.now() || code.redirectUri !== fields.redirect_uri) throw invalidGrant();
      if (code.challenge !== null) {
        const verifier = fields.code_verifier ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) throw invalidGrant();
      }
      return this.issue(code.scopes, accessTtl, refreshTtl);
    }
    if (fields.grant_type === 'refresh_token') {
      const grant = this.byRefresh.get(fields.refresh_token ?? '');
      if (!grant || grant.refreshExpiresAt <= this.now()) throw invalidGrant();
      this.revoke(grant);
      this.onRefresh();
      return this.issue(grant.scopes, accessTtl, refreshTtl);
    }
    throw new HttpError(400, { error: 'unsupported_grant_type', error_description: 'The authorization grant type is not supported by the authorization server.' });
  }

  private issue(scopes: readonly string[], accessTtl: number, refreshTtl: number): Record<string, unknown> {
    const at = this.now();
    const grant: Grant = {
      tokenId: this.nextTokenId++,
      userId: this.userId,
      scopes,
      accessToken: randomBytes(32).toString('hex'),
      refreshToken: randomBytes(32).toString('hex'),
      createdAt: at,
      accessExpiresAt: at + accessTtl * 1000,
      refreshExpiresAt: at + refreshTtl * 1000,
    };
    this.byAccess.set(grant.accessToken, grant);
    this.byRefresh.set(grant.refreshToken, grant);
    return {
      access_token: grant.accessToken,
      token_type: 'bearer',
      scope: scopes.join(' '),
      expires_in: accessTtl,
      refresh_token: grant.refreshToken,
      refresh_token_expires_in: refreshTtl,
    };
  }

  /** The grant behind `Authorization: Bearer …`, or 401 invalid_token. */
  authenticate(authorization: string | undefined): Grant {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    const grant = token === undefined ? undefined : this.byAccess.get(token);
    if (!grant || grant.accessExpiresAt <= this.now()) throw invalidToken();
    return grant;
  }

  /** Deletes a grant's access and refresh token (a refresh, DELETE /api/v2/oauth/tokens/current). */
  revoke(grant: Grant): void {
    this.byAccess.delete(grant.accessToken);
    this.byRefresh.delete(grant.refreshToken);
  }

  revokeAll(): void {
    this.byAccess.clear();
    this.byRefresh.clear();
    this.codes.clear();
  }

  /** GET /api/v2/oauth/tokens/current (https://developer.zendesk.com/api-reference/ticketing/oauth/oauth_tokens/#show-token). */
  describe(grant: Grant, baseUrl: string): Record<string, unknown> {
    return {
      token: {
        url: `${baseUrl}/api/v2/oauth/tokens/${grant.tokenId}.json`,
        id: grant.tokenId,
        user_id: grant.userId,
        client_id: 9_200_000_001,
        token: `${grant.accessToken.slice(0, 10)}…`,
        refresh_token: null,
        created_at: new Date(grant.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        expires_at: new Date(grant.accessExpiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        used_at: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        scopes: grant.scopes,
      },
    };
  }
}
