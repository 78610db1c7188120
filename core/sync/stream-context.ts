/**
 * Builds the context a stream reads through: the installation's tokens (opened from the vault,
 * refreshed once per installation across processes), and a fetch with the rate governor in front.
 * One token keeper per installation per process, shared by every stream and panel call.
 */
import { hostname } from 'node:os';
import type { Clock, Logger, StreamContext, TokenSet } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import { openTokens, sealTokens, type SqlSession } from '../store/index.ts';
import { createGovernedFetch } from './governed-fetch.ts';
import type { RateGovernor } from './rate-governor.ts';
import type { SyncTarget } from './sync-engine.ts';
import { createTokenKeeper, type TokenKeeper } from './token-keeper.ts';

export interface StreamContextOptions {
  readonly sql: SqlSession;
  readonly governor: RateGovernor;
  readonly encryptionKey: Buffer;
  readonly clock: Clock;
  readonly log: Logger;
  /** The fetch underneath everything (tests may point it at a recorder); the global one by default. */
  readonly fetch?: typeof fetch;
}

interface TokenRow {
  sealed_tokens: string | null;
  status: string;
}

export function createStreamContextFactory(options: StreamContextOptions) {
  const keepers = new Map<string, TokenKeeper>();
  const exec = (text: string, params?: readonly unknown[]) => options.sql.query(text, params);

  function keeperFor(target: SyncTarget): TokenKeeper {
    const { installation, plugin } = target;
    const existing = keepers.get(installation.id);
    if (existing) return existing;
    const owner = { tenantId: installation.tenantId, installationId: installation.id };
    const auth = plugin.connector.auth;
    const client = auth.client(plugin.settings);
    const keeper = createTokenKeeper({
      sql: exec,
      installationId: installation.id,
      auth,
      // The token endpoint may depend on what the admin gave at install (Zendesk subdomain, Shopify shop).
      tokenUrl: auth.endpoints(plugin.settings, auth.installParams.parse(installation.installParams)).tokenUrl,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      owner: `${hostname()}:${process.pid}:tokens`,
      clock: options.clock,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      load: async (): Promise<TokenSet> => {
        const [row] = await options.sql.query<TokenRow>(`select sealed_tokens, status from installation where id = $1 and tenant_id = $2`, [
          installation.id,
          installation.tenantId,
        ]);
        if (!row || row.status === 'uninstalled' || !row.sealed_tokens) {
          throw new LedgerlineError('LL_AUTH_REVOKED', `installation ${installation.id} has no credentials (uninstalled or never authorized)`);
        }
        return openTokens(options.encryptionKey, owner, row.sealed_tokens);
      },
      // The refresh journal seals exactly as the installation's tokens are sealed.
      journal: { seal: (tokens) => sealTokens(options.encryptionKey, owner, tokens), open: (sealed) => openTokens(options.encryptionKey, owner, sealed) },
      save: async (tokens: TokenSet): Promise<void> => {
        await options.sql.query(`update installation set sealed_tokens = $3, token_expires_at = $4, updated_at = now() where id = $1 and tenant_id = $2`, [
          installation.id,
          installation.tenantId,
          sealTokens(options.encryptionKey, owner, tokens),
          tokens.expiresAt ? tokens.expiresAt.toISOString() : null,
        ]);
      },
    });
    keepers.set(installation.id, keeper);
    return keeper;
  }

  return (target: SyncTarget, signal: AbortSignal, onWait: (reason: string, ms: number) => void): StreamContext => {
    const keeper = keeperFor(target);
    const connector = target.plugin.connector;
    return {
      installation: target.installation,
      settings: target.plugin.settings,
      accessToken: () => keeper.accessToken(),
      fetch: createGovernedFetch({
        installationId: target.installation.id,
        policy: connector.rate,
        governor: options.governor,
        accessToken: () => keeper.accessToken(),
        onAuthExpired: (rejected) => keeper.renew(rejected),
        classifyError: connector.classifyError,
        signal,
        onWait: (wait) => onWait(wait.detail ? `${wait.reason} (${wait.detail})` : wait.reason, wait.ms),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
      log: options.log,
      clock: options.clock,
      signal,
    };
  };
}
