import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TokenSet } from '../contract/index.ts';
import { isLedgerlineError } from '../errors/index.ts';
import { openTokens, sealTokens } from '../store/index.ts';
import { databaseVariants, type RateBudgetDatabase } from '../../test/support/rate-budget-databases.ts';
import { createTokenKeeper, refreshTokenHash, retryAfterMs, type TokenKeeperOptions } from './token-keeper.ts';

const TokenResponse = z.object({
  access_token: z.string(),
  refresh_token: z.string().optional(),
  expires_in: z.number().optional(),
  instance_url: z.string().optional(),
});
function parseToken(raw: unknown, now: Date): TokenSet {
  const t = TokenResponse.parse(raw);
  return {
    accessToken: t.access_token,
    refreshToken: t.refresh_token ?? null,
    expiresAt: t.expires_in === undefined ? null : new Date(now.getTime() + t.expires_in * 1000),
    scopes: [],
    extra: t.instance_url ? { instance_url: t.instance_url } : {},
  };
}

interface TokenRequest {
  readonly at: number;
  readonly form: URLSearchParams;
  readonly authorization: string | undefined;
}
type Scripted = { status: number; body: unknown; headers?: Record<string, string> };

/** A loopback token endpoint: answers scripted responses first, then fresh rotating tokens. */
async function startTokenServer(script: Scripted[] = [], token: (n: number) => object = (n) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: 1800 })) {
  const requests: TokenRequest[] = [];
  let issued = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ at: performance.now(), form: new URLSearchParams(body), authorization: req.headers.authorization });
      const next = script.shift() ?? { status: 200, body: token((issued += 1)) };
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers }).end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/oauth/token`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * A loopback authorization server that rotates like Zendesk: a refresh issues a new pair and
 * deletes the old access and refresh token at once (a second use of a refresh token is
 * invalid_grant), and GET /me answers 200 only to a live access token.
 */
async function startRotatingServer() {
  const live = { access: new Set(['access-1']), refresh: new Map([['refresh-1', 'access-1']]) };
  const refreshes: string[] = [];
  let issued = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'GET' && req.url === '/me') {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        json(live.access.has(token) ? 200 : 401, live.access.has(token) ? { ok: true } : { error: 'invalid_token' });
        return;
      }
      const form = new URLSearchParams(body);
      const old = form.get('refresh_token') ?? '';
      refreshes.push(old);
      const oldAccess = live.refresh.get(old);
      if (form.get('grant_type') !== 'refresh_token' || oldAccess === undefined) {
        json(400, { error: 'invalid_grant', error_description: 'The provided authorization grant is invalid, expired, revoked…' });
        return;
      }
      live.refresh.delete(old);
      live.access.delete(oldAccess);
      issued += 1;
      live.access.add(`access-${issued}`);
      live.refresh.set(`refresh-${issued}`, `access-${issued}`);
      json(200, { access_token: `access-${issued}`, refresh_token: `refresh-${issued}`, expires_in: 1800 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/oauth/token`,
    refreshes,
    /** Whether the API accepts this access token. */
    accepts: async (accessToken: string) => (await fetch(`${base}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status === 200,
    /** What the token endpoint answers to a refresh with this token (it rotates on success). */
    refreshWith: async (refreshToken: string) => {
      const response = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }) });
      return { status: response.status, body: (await response.json()) as { error?: string } };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The store's sealed token row, shared by every "process"; slow on purpose to widen races. */
function tokenStore(initial: TokenSet) {
  let current = initial;
  const saved: TokenSet[] = [];
  const pause = () => new Promise((resolve) => setTimeout(resolve, 2));
  return {
    saved,
    load: async () => (await pause(), current),
    save: async (tokens: TokenSet) => {
      await pause();
      saved.push(tokens);
      current = tokens;
    },
  };
}

/** The journal seals as the store seals installation tokens: AES-GCM bound to tenant and installation. */
const journalKey = Buffer.alloc(32, 17);
const journalTenant = randomUUID();
const journalFor = (installationId: string): TokenKeeperOptions['journal'] => ({
  seal: (tokens) => sealTokens(journalKey, { tenantId: journalTenant, installationId }, tokens),
  open: (sealed) => openTokens(journalKey, { tenantId: journalTenant, installationId }, sealed),
});

const expiringIn = (ms: number, accessToken = 'access-1', refreshToken: string | null = 'refresh-1'): TokenSet => ({
  accessToken,
  refreshToken,
  expiresAt: new Date(Date.now() + ms),
  scopes: ['read'],
  extra: { shop: 'loopback' },
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2026-11-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Sun, 01 Nov 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs(null, now)).toBeNull();
  });
});

for (const variant of databaseVariants()) {
  describe.skipIf(variant.skipReason !== null)(`token keeper on ${variant.label}${variant.skipReason ? ` (skipped: ${variant.skipReason})` : ''}`, () => {
    let db: RateBudgetDatabase;
    const servers: { close(): Promise<void> }[] = [];
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await db?.close();
    });
    const tokenServer = async (...args: Parameters<typeof startTokenServer>) => {
      const server = await startTokenServer(...args);
      servers.push(server);
      return server;
    };
    const keeper = (installationId: string, tokenUrl: string, store: ReturnType<typeof tokenStore>, options: Partial<TokenKeeperOptions> = {}) =>
      createTokenKeeper({
        sql: db.sql,
        installationId,
        auth: { clientAuth: 'body', parseToken },
        tokenUrl,
        clientId: 'client id',
        clientSecret: 's3cret&more',
        load: store.load,
        save: store.save,
        journal: journalFor(installationId),
        pollMs: 20,
        ...options,
      });

    it('refreshes once across processes, after waiting out the endpoint’s own 429, and everyone gets the new token', async () => {
      const server = await tokenServer([{ status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': '1' } }]);
      const store = tokenStore(expiringIn(60_000));
      const installation = randomUUID();
      const processes = Array.from({ length: 4 }, (_, i) =>
        // The same owner name on purpose: keepers must still not share the lease.
        keeper(installation, server.url, store, { sql: i % 2 === 0 ? db.sql : db.otherProcess, owner: 'host:1:tokens' }),
      );
      const tokens = await Promise.all(processes.flatMap((p) => Array.from({ length: 5 }, () => p.accessToken())));
      expect(new Set(tokens)).toEqual(new Set(['access-2']));
      expect(server.requests.map((r) => Object.fromEntries(r.form))).toEqual(
        Array(2).fill({ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'client id', client_secret: 's3cret&more' }),
      );
      expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(990);
      expect(store.saved).toHaveLength(1);
      expect(store.saved[0]).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2', scopes: ['read'], extra: { shop: 'loopback' } });
      expect(await db.sql('select * from token_refresh_lease where installation_id = $1', [installation])).toEqual([]);
    });

    it('does not call the endpoint while the token is outside the skew', async () => {
      const server = await tokenServer();
      const k = keeper(randomUUID(), server.url, tokenStore(expiringIn(20 * 60_000)));
      expect(await k.accessToken()).toBe('access-1');
      expect(server.requests).toHaveLength(0);
    });

    it('authenticates with HTTP Basic when the platform wants it and keeps a refresh token the response omits', async () => {
      const server = await tokenServer([], (n) => ({ access_token: `access-${n}`, instance_url: 'https://na1.loopback' }));
      const store = tokenStore(expiringIn(-1000));
      const k = keeper(randomUUID(), server.url, store, { auth: { clientAuth: 'basic', parseToken } });
      expect(await k.accessToken()).toBe('access-2');
      const [request] = server.requests;
      expect(request!.authorization).toBe(`Basic ${Buffer.from('client+id:s3cret%26more').toString('base64')}`);
      expect(request!.form.has('client_secret')).toBe(false);
      expect(store.saved[0]).toMatchObject({ refreshToken: 'refresh-1', expiresAt: null, extra: { shop: 'loopback', instance_url: 'https://na1.loopback' } });
    });

    it('renews a rejected token once, and a process whose rejected token was already replaced only re-reads', async () => {
      const server = await tokenServer();
      const store = tokenStore(expiringIn(20 * 60_000));
      const installation = randomUUID();
      const [a, b] = [keeper(installation, server.url, store), keeper(installation, server.url, store, { sql: db.otherProcess })];
      expect(await a.accessToken()).toBe('access-1');
      expect(await b.accessToken()).toBe('access-1');
      await a.renew();
      await b.renew();
      expect(await b.accessToken()).toBe('access-2');
      expect(server.requests).toHaveLength(1);
    });

    it('waits for a lease another process holds and takes over when it expires without a new token', async () => {
      const server = await tokenServer();
      const installation = randomUUID();
      await db.sql(
        `insert into token_refresh_lease (installation_id, owner, lease_until) values ($1, 'crashed', clock_timestamp() + interval '150 milliseconds')`,
        [installation],
      );
      const started = performance.now();
      expect(await keeper(installation, server.url, tokenStore(expiringIn(0))).accessToken()).toBe('access-2');
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(server.requests).toHaveLength(1);
    });

    it('reports a revoked refresh token as LL_AUTH_REVOKED and releases the lease', async () => {
      const server = await tokenServer([{ status: 400, body: { error: 'invalid_grant' } }]);
      const installation = randomUUID();
      const error: unknown = await keeper(installation, server.url, tokenStore(expiringIn(0)))
        .accessToken()
        .catch((e: unknown) => e);
      expect(isLedgerlineError(error, 'LL_AUTH_REVOKED')).toBe(true);
      expect(await db.sql('select * from token_refresh_lease where installation_id = $1', [installation])).toEqual([]);
    });

    const journalRows = (installation: string) => db.sql('select sealed_tokens, replaces_refresh_hash from token_journal where installation_id = $1', [installation]);

    it('a process that dies between the token answer and the save leaves the rotated pair in the journal, and the next keeper adopts it', async () => {
      const server = await startRotatingServer();
      servers.push(server);
      const store = tokenStore(expiringIn(60_000));
      const installation = randomUUID();
      // The "crash": the installation write fails once the platform has already rotated the pair.
      const dying = keeper(installation, server.url, store, { save: () => Promise.reject(new Error('process killed')) });
      await expect(dying.accessToken()).rejects.toThrow('process killed');
      expect(server.refreshes).toEqual(['refresh-1']);
      expect(store.saved).toEqual([]);
      // The old pair is gone at the platform; the new one exists only in the journal, sealed.
      expect(await server.refreshWith('refresh-1')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      const [entry] = await journalRows(installation);
      expect(entry).toMatchObject({ replaces_refresh_hash: refreshTokenHash('refresh-1') });
      expect(String(entry!.sealed_tokens)).not.toMatch(/access-2|refresh-2/);

      // Another process starts, reads the installation, finds the journal and adopts it: no refresh.
      const next = keeper(installation, server.url, store, { sql: db.otherProcess });
      expect(await next.accessToken()).toBe('access-2');
      expect(server.refreshes).toEqual(['refresh-1', 'refresh-1']);
      expect(store.saved).toHaveLength(1);
      expect(store.saved[0]).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-2', extra: { shop: 'loopback' } });
      expect(await journalRows(installation)).toEqual([]);
      expect(await server.accepts('access-2')).toBe(true);
      // The adopted refresh token is the live one: the platform rotates it again.
      expect((await server.refreshWith('refresh-2')).status).toBe(200);
    });

    it('a refresh refused with invalid_grant adopts the pair another process rotated while stalled past its lease', async () => {
      const server = await startRotatingServer();
      servers.push(server);
      const store = tokenStore(expiringIn(60_000));
      const installation = randomUUID();
      let stalled = false;
      // Process A gets the answer, then stalls (GC, a paused VM) long past its 200 ms lease before journaling.
      const stallingFetch: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        const text = await response.text();
        stalled = true;
        await new Promise((resolve) => setTimeout(resolve, 700));
        return new Response(text, { status: response.status, headers: response.headers });
      };
      const a = keeper(installation, server.url, store, { fetch: stallingFetch, leaseMs: 200 });
      const b = keeper(installation, server.url, store, { sql: db.otherProcess, leaseMs: 200, journalGraceMs: 3_000 });
      const first = a.accessToken();
      while (!stalled) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 250));
      // B takes the expired lease and refreshes with refresh-1, which A already rotated away.
      const second = b.accessToken();
      expect(await Promise.all([first, second])).toEqual(['access-2', 'access-2']);
      expect(server.refreshes).toEqual(['refresh-1', 'refresh-1']);
      expect(store.saved.map((t) => t.refreshToken)).toEqual(['refresh-2']);
      expect(await journalRows(installation)).toEqual([]);
      expect(await server.accepts('access-2')).toBe(true);
    });

    it('discards a journal entry that does not replace the stored pair (left from before a reinstall) instead of adopting it', async () => {
      const server = await startRotatingServer();
      servers.push(server);
      const installation = randomUUID();
      const store = tokenStore(expiringIn(0));
      await db.sql('insert into token_journal (installation_id, sealed_tokens, replaces_refresh_hash) values ($1, $2, $3)', [
        installation,
        journalFor(installation).seal(expiringIn(3_600_000, 'access-from-old-grant', 'refresh-from-old-grant')),
        refreshTokenHash('refresh-before-reinstall'),
      ]);
      expect(await keeper(installation, server.url, store).accessToken()).toBe('access-2');
      expect(server.refreshes).toEqual(['refresh-1']);
      expect(store.saved.map((t) => t.accessToken)).toEqual(['access-2']);
      expect(await journalRows(installation)).toEqual([]);
    });

    it('retries 5xx answers with backoff and gives up with LL_UPSTREAM', async () => {
      const server = await tokenServer(Array(3).fill({ status: 503, body: {} }));
      const error: unknown = await keeper(randomUUID(), server.url, tokenStore(expiringIn(0)), { maxAttempts: 3, backoff: { baseMs: 10, maxMs: 50 } })
        .accessToken()
        .catch((e: unknown) => e);
      expect(isLedgerlineError(error, 'LL_UPSTREAM')).toBe(true);
      expect(server.requests).toHaveLength(3);
    });
  });
}
