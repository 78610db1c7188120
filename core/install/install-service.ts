/**
 * Marketplace installs over OAuth, for every plugin alike:
 *
 *   begin    → a single-use state (stored as a hash, bound to the admin's browser by a cookie,
 *              valid ten minutes) and the platform's authorize URL;
 *   complete → the state is consumed atomically, the code exchanged, the platform account
 *              identified, the tokens sealed (AES-GCM, bound to tenant and installation) and the
 *              installation created or reactivated in one transaction; then a backfill of every
 *              stream is queued;
 *   uninstall → the grant is revoked at the platform, the tokens destroyed, the installation
 *              marked uninstalled (its syncs stop: only active installations are synced). A revoke
 *              that fails is recorded on the installation and shown in the console.
 */
import { recordInstallEvent } from './install-events.ts';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock, LoadedPlugin, Logger, TokenSet } from '../contract/index.ts';
import { LedgerlineError, isLedgerlineError } from '../errors/index.ts';
import { openTokens, sealTokens, type SqlSession } from '../store/index.ts';
import { tokenRequest } from '../sync/token-keeper.ts';

export interface InstallServiceOptions {
  readonly sql: SqlSession;
  readonly plugins: readonly LoadedPlugin[];
  readonly encryptionKey: Buffer;
  /** Ledgerline's public URL; redirect URIs are `${publicUrl}/oauth/<plugin>/callback`. */
  readonly publicUrl: string;
  readonly log: Logger;
  readonly clock?: Pick<Clock, 'now'>;
  readonly fetch?: typeof fetch;
  /** Queues the backfill of one stream; absent where no queue runs (the backfill then starts with the next scheduled run). */
  readonly scheduleBackfill?: (job: { tenantId: string; installationId: string; stream: string }) => Promise<void>;
}

export interface BeganInstall {
  readonly authorizeUrl: string;
  /** The state's nonce, for the admin's browser (cookie); the callback must present both. */
  readonly browserBinding: string;
}

export interface CompletedInstall {
  readonly tenantId: string;
  readonly installationId: string;
  readonly platformAccountId: string;
  readonly displayName: string;
  readonly reinstalled: boolean;
  readonly backfillStreams: readonly string[];
}

export interface UninstallOutcome {
  readonly revoked: boolean;
  readonly revokeError: string | null;
}

const stateLifetimeMs = 10 * 60_000;
const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export const CallbackQuery = z.union([
  z.object({ code: z.string().min(1).max(4096), state: z.string().min(16).max(200) }),
  z.object({ error: z.string().min(1).max(200), error_description: z.string().max(2000).optional(), state: z.string().max(200).optional() }),
]);
export type CallbackQuery = z.infer<typeof CallbackQuery>;

export function createInstallService(options: InstallServiceOptions) {
  const now = (): Date => options.clock?.now() ?? new Date();
  const send = options.fetch ?? globalThis.fetch;

  function pluginFor(pluginId: string): LoadedPlugin {
    const plugin = options.plugins.find((p) => p.connector.id === pluginId);
    if (!plugin) throw new LedgerlineError('LL_NOT_FOUND', `no plugin '${pluginId}' is loaded`);
    return plugin;
  }

  const redirectUri = (pluginId: string): string => `${options.publicUrl}/oauth/${pluginId}/callback`;

  async function exchange(plugin: LoadedPlugin, tokenUrl: string, grant: Record<string, string>): Promise<TokenSet> {
    const auth = plugin.connector.auth;
    const client = auth.client(plugin.settings);
    const { form, headers } = tokenRequest(auth, client.clientId, client.clientSecret, grant);
    let response: Response;
    try {
      response = await send(tokenUrl, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new LedgerlineError('LL_UPSTREAM', `${plugin.connector.id}: token endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      throw new LedgerlineError('LL_UPSTREAM', `${plugin.connector.id}: the authorization code was refused (${response.status}): ${text.slice(0, 300)}`, { details: { plugin: plugin.connector.id } });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new LedgerlineError('LL_UPSTREAM', `${plugin.connector.id}: token endpoint answered something other than JSON`, { cause: error });
    }
    return auth.parseToken(body, now());
  }

  return {
    /** Starts an install of `pluginId` into a tenant: returns where to send the admin. */
    async begin(pluginId: string, tenantId: string, rawParams: unknown = {}): Promise<BeganInstall> {
      const plugin = pluginFor(pluginId);
      const auth = plugin.connector.auth;
      const params: unknown = auth.installParams.parse(rawParams);
      const endpoints = auth.endpoints(plugin.settings, params);
      const client = auth.client(plugin.settings);
      const state = randomBytes(32).toString('base64url');
      const verifier = auth.pkce ? randomBytes(48).toString('base64url') : null;
      const redirect = redirectUri(pluginId);
      await options.sql.query(`delete from oauth_state where expires_at < $1`, [now().toISOString()]);
      await options.sql.query(
        `insert into oauth_state (state_hash, tenant_id, plugin, install_params, code_verifier, redirect_uri, expires_at) values ($1, $2, $3, $4, $5, $6, $7)`,
        [sha256(state), tenantId, pluginId, JSON.stringify(params ?? {}), verifier, redirect, new Date(now().getTime() + stateLifetimeMs).toISOString()],
      );
      const url = new URL(endpoints.authorizeUrl);
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', redirect);
      url.searchParams.set('scope', auth.scopes.join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('response_type', 'code');
      if (verifier) {
        url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
        url.searchParams.set('code_challenge_method', 'S256');
      }
      // The browser keeps a hash of the state: a callback replayed into another admin's browser fails.
      return { authorizeUrl: url.toString(), browserBinding: sha256(`browser:${state}`) };
    },

    /** The platform redirected back: consume the state, exchange the code, store the installation. */
    async complete(pluginId: string, rawQuery: unknown, browserBinding: string | undefined): Promise<CompletedInstall> {
      const plugin = pluginFor(pluginId);
      const parsedQuery = CallbackQuery.safeParse(rawQuery);
      if (!parsedQuery.success) throw new LedgerlineError('LL_INVALID_INPUT', `${pluginId}: the OAuth callback carries neither a code and state nor an error`);
      const query = parsedQuery.data;
      if ('error' in query) {
        throw new LedgerlineError('LL_FORBIDDEN', `${pluginId}: the install was not authorized (${query.error}${query.error_description ? `: ${query.error_description}` : ''})`);
      }
      if (browserBinding === undefined || browserBinding !== sha256(`browser:${query.state}`)) {
        throw new LedgerlineError('LL_FORBIDDEN', `${pluginId}: this authorization was started in another browser session; start the install again`);
      }
      // Single use: the row is gone whether or not the rest succeeds.
      const [state] = await options.sql.query<{ tenant_id: string; plugin: string; install_params: unknown; code_verifier: string | null; redirect_uri: string; expires_at: string }>(
        `delete from oauth_state where state_hash = $1 returning tenant_id, plugin, install_params, code_verifier, redirect_uri, expires_at`,
        [sha256(query.state)],
      );
      if (!state || state.plugin !== pluginId) throw new LedgerlineError('LL_FORBIDDEN', `${pluginId}: unknown or already used OAuth state; start the install again`);
      if (new Date(state.expires_at).getTime() < now().getTime()) throw new LedgerlineError('LL_FORBIDDEN', `${pluginId}: the OAuth state expired; start the install again`);

      const auth = plugin.connector.auth;
      const params: unknown = auth.installParams.parse(state.install_params);
      const endpoints = auth.endpoints(plugin.settings, params);
      const tokens = await exchange(plugin, endpoints.tokenUrl, {
        grant_type: 'authorization_code',
        code: query.code,
        redirect_uri: state.redirect_uri,
        ...(state.code_verifier ? { code_verifier: state.code_verifier } : {}),
      });
      const account = await auth.identify({ token: tokens, params, settings: plugin.settings, fetch: send });

      const stored = await options.sql.transaction(async (tx) => {
        await tx.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`install:${state.tenant_id}:${pluginId}:${account.platformAccountId}`]);
        const [existing] = await tx.query<{ id: string }>(
          `select id from installation where tenant_id = $1 and platform = $2 and platform_account_id = $3`,
          [state.tenant_id, pluginId, account.platformAccountId],
        );
        const id = existing?.id ?? randomUUID();
        const sealed = sealTokens(options.encryptionKey, { tenantId: state.tenant_id, installationId: id }, tokens);
        await tx.query(
          `insert into installation (id, tenant_id, platform, platform_account_id, display_name, api_base_url, status, scopes, sealed_tokens, token_expires_at, install_params)
           values ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10)
           on conflict (tenant_id, platform, platform_account_id) do update
              set display_name = excluded.display_name, api_base_url = excluded.api_base_url, status = 'active', scopes = excluded.scopes,
                  sealed_tokens = excluded.sealed_tokens, token_expires_at = excluded.token_expires_at, install_params = excluded.install_params,
                  uninstalled_at = null, updated_at = now()`,
          [id, state.tenant_id, pluginId, account.platformAccountId, account.displayName, account.apiBaseUrl, tokens.scopes, sealed, tokens.expiresAt?.toISOString() ?? null, JSON.stringify(params ?? {})],
        );
        await recordInstallEvent((sql, params) => tx.query(sql, params), {
          tenantId: state.tenant_id,
          installationId: id,
          kind: existing ? 'reinstalled' : 'installed',
          detail: { platformAccountId: account.platformAccountId, scopes: tokens.scopes },
        });
        return { id, reinstalled: existing !== undefined };
      });

      const streams = plugin.connector.streams.map((s) => s.name);
      if (options.scheduleBackfill) {
        for (const stream of streams) await options.scheduleBackfill({ tenantId: state.tenant_id, installationId: stored.id, stream });
        await options.sql.transaction((tx) =>
          recordInstallEvent((sql, params) => tx.query(sql, params), { tenantId: state.tenant_id, installationId: stored.id, kind: 'backfill_scheduled', detail: { streams } }),
        );
      }
      options.log.info({ plugin: pluginId, tenant: state.tenant_id, installation: stored.id, account: account.platformAccountId, reinstalled: stored.reinstalled }, 'installation authorized');
      return {
        tenantId: state.tenant_id,
        installationId: stored.id,
        platformAccountId: account.platformAccountId,
        displayName: account.displayName,
        reinstalled: stored.reinstalled,
        backfillStreams: options.scheduleBackfill ? streams : [],
      };
    },

    /** Revokes at the platform (best effort, recorded), destroys the tokens and stops syncing. */
    async uninstall(tenantId: string, installationId: string): Promise<UninstallOutcome> {
      const [row] = await options.sql.query<{ platform: string; sealed_tokens: string | null; status: string }>(
        `select platform, sealed_tokens, status from installation where id = $1 and tenant_id = $2`,
        [installationId, tenantId],
      );
      if (!row) throw new LedgerlineError('LL_NOT_FOUND', `no installation ${installationId} in this tenant`);
      let revokeError: string | null = null;
      let revoked = false;
      if (row.sealed_tokens !== null) {
        const plugin = options.plugins.find((p) => p.connector.id === row.platform);
        try {
          if (!plugin) throw new LedgerlineError('LL_NOT_FOUND', `plugin '${row.platform}' is not loaded, so its grant cannot be revoked`);
          const tokens = openTokens(options.encryptionKey, { tenantId, installationId }, row.sealed_tokens);
          const auth = plugin.connector.auth;
          if (auth.revoke) {
            await auth.revoke({ tokens, settings: plugin.settings, fetch: send });
          } else {
            const revokeUrl = auth.endpoints(plugin.settings, auth.installParams.parse({})).revokeUrl;
            if (revokeUrl !== null) {
              const client = auth.client(plugin.settings);
              const { form, headers } = tokenRequest(auth, client.clientId, client.clientSecret, { token: tokens.refreshToken ?? tokens.accessToken });
              const response = await send(revokeUrl, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(30_000) });
              if (!response.ok) throw new LedgerlineError('LL_UPSTREAM', `revoke endpoint answered ${response.status}`);
            }
          }
          revoked = true;
        } catch (error) {
          revokeError = isLedgerlineError(error) ? error.message : error instanceof Error ? error.message : String(error);
          options.log.warn({ installation: installationId, err: revokeError }, 'revoking the platform grant failed; the installation is uninstalled here regardless');
        }
      }
      await options.sql.transaction(async (tx) => {
        await tx.query(
          `update installation set status = 'uninstalled', sealed_tokens = null, token_expires_at = null, uninstalled_at = coalesce(uninstalled_at, now()), updated_at = now()
            where id = $1 and tenant_id = $2`,
          [installationId, tenantId],
        );
        await recordInstallEvent((sql, params) => tx.query(sql, params), {
          tenantId,
          installationId,
          kind: revokeError === null ? (revoked ? 'revoked' : 'uninstalled') : 'revoke_failed',
          detail: revokeError === null ? {} : { error: revokeError },
        });
      });
      return { revoked, revokeError };
    },

    /** The installation's install/uninstall history, newest first. */
    async events(tenantId: string, installationId: string): Promise<{ kind: string; detail: Record<string, unknown>; at: Date }[]> {
      const rows = await options.sql.query<{ kind: string; detail: Record<string, unknown>; at: string }>(
        `select kind, detail, at from installation_event where tenant_id = $1 and installation_id = $2 order by at desc, id desc limit 50`,
        [tenantId, installationId],
      );
      return rows.map((r) => ({ kind: r.kind, detail: r.detail, at: new Date(r.at) }));
    },
  };
}

export type InstallService = ReturnType<typeof createInstallService>;
