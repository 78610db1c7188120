/**
 * A loopback API that enforces a rate limit per installation the way platforms do, and records
 * every arrival, so tests can check from the server's side that a governed client never sent a
 * request while the budget said no. Paths: `/<installation>/<anything>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RateLimitedServerOptions {
  /** Accepted requests allowed in any rolling window of `windowMs`. */
  readonly limit: number;
  readonly windowMs: number;
  /**
   * How an excess request is refused: 429 with `Retry-After` (and no request accepted until then),
   * or HubSpot's 429 body `policyName: TEN_SECONDLY_ROLLING` without Retry-After.
   */
  readonly refusal: 'retry-after' | 'hubspot-body';
  /** The Retry-After header value, in platform seconds. */
  readonly retryAfterSeconds?: number;
  /** Platform seconds run this many times faster than real ones (a sandbox's timeScale). */
  readonly timeScale?: number;
  /** After this many accepted requests, answer `policyName: DAILY` until `dailyResetMs` later. */
  readonly dailyLimit?: number;
  readonly dailyResetMs?: number;
}

export interface Arrival {
  readonly installation: string;
  readonly at: number;
  readonly status: number;
  readonly authorization: string | undefined;
}

/** A span during which the server refuses everything for one installation. */
export interface BlockWindow {
  readonly installation: string;
  readonly from: number;
  readonly until: number;
  readonly kind: 'retry-after' | 'daily';
}

interface InstallationState {
  accepted: number[];
  blockedUntil: number;
  dailyCount: number;
  dailyResetAt: number;
}

export interface RateLimitedServer {
  readonly url: string;
  readonly arrivals: Arrival[];
  readonly blocks: BlockWindow[];
  /** Arrivals of an installation strictly inside one of its block windows (after the refusal that opened it). */
  arrivalsInsideBlocks(installation: string): Arrival[];
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startRateLimitedServer(options: RateLimitedServerOptions): Promise<RateLimitedServer> {
  const states = new Map<string, InstallationState>();
  const arrivals: Arrival[] = [];
  const blocks: BlockWindow[] = [];
  const timeScale = options.timeScale ?? 1;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const now = performance.now();
    const installation = (req.url ?? '/').split('/')[1] ?? '';
    const state = states.get(installation) ?? { accepted: [], blockedUntil: 0, dailyCount: 0, dailyResetAt: 0 };
    states.set(installation, state);
    const record = (status: number) => arrivals.push({ installation, at: now, status, authorization: req.headers.authorization });

    if (state.dailyResetAt > 0 && now >= state.dailyResetAt) {
      state.dailyCount = 0;
      state.dailyResetAt = 0;
    }
    if (options.dailyLimit !== undefined && state.dailyCount >= options.dailyLimit) {
      record(429);
      // The first refusal is how the client learns of it; the window it must respect starts there.
      if (!blocks.some((b) => b.installation === installation && b.kind === 'daily' && b.until === state.dailyResetAt)) {
        blocks.push({ installation, from: now, until: state.dailyResetAt, kind: 'daily' });
      }
      const resetInMs = Math.ceil((state.dailyResetAt - now) * timeScale);
      send(res, 429, { status: 'error', errorType: 'RATE_LIMIT', policyName: 'DAILY' }, { 'x-daily-reset-ms': String(resetInMs) });
      return;
    }
    state.accepted = state.accepted.filter((t) => t > now - options.windowMs);
    if (now < state.blockedUntil || state.accepted.length >= options.limit) {
      record(429);
      if (options.refusal === 'hubspot-body') {
        send(res, 429, { status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' });
        return;
      }
      const seconds = options.retryAfterSeconds ?? 1;
      if (now >= state.blockedUntil) {
        state.blockedUntil = now + (seconds * 1000) / timeScale;
        blocks.push({ installation, from: now, until: state.blockedUntil, kind: 'retry-after' });
      }
      send(res, 429, { status: 'error', message: 'rate limited' }, { 'retry-after': String(seconds) });
      return;
    }
    state.accepted.push(now);
    state.dailyCount += 1;
    if (options.dailyLimit !== undefined && state.dailyCount === options.dailyLimit) {
      state.dailyResetAt = now + (options.dailyResetMs ?? 1000);
    }
    record(200);
    send(res, 200, { ok: true, n: state.dailyCount }, { 'x-ratelimit-remaining': String(options.limit - state.accepted.length) });
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    blocks,
    arrivalsInsideBlocks: (installation) =>
      arrivals.filter((a) => a.installation === installation && blocks.some((b) => b.installation === installation && a.at > b.from && a.at < b.until)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
