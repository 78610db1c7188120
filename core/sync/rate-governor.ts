/**
 * The rate governor: one budget per installation shared by every process (workers, web server),
 * kept in the `rate_budget` table (migration Migration20261122000100_sync) and drawn from with one
 * atomic UPDATE per bucket on the database clock, so processes on different machines agree on
 * what is left.
 *
 * A platform limit "capacity per perMs" is a window (HubSpot's 110 / 10 s is rolling). A plain
 * token bucket of that capacity would allow twice the capacity inside one window, so each bucket
 * bursts only `burstFraction` of the capacity (at least one request) and refills
 * `capacity − burst + ½` tokens per window: a window of perMs, open or closed, then holds at most
 * burst + ⌊capacity − burst + ½⌋ = capacity requests, and the half token keeps half a request's
 * spacing between the capacity-th and the next as a margin for clock jitter. The default burst is
 * 2%: HubSpot's 110 / 10 s sustains 108.5 per window (98.6%), and a small limit such as Zendesk's
 * 10 exports a minute (burst 1) sustains 9.5 (95%) — a whole token of margin would cap it at 90%.
 *
 * `timeScale` (default 1) divides every window, reset, Retry-After and backoff: a sandbox that runs
 * its rate-limit clock N times faster reports platform-time values (Retry-After: 10 means 10
 * platform seconds = 10/N real seconds), and a governor with timeScale N matches it.
 */
import type { Clock, RateBucket, RateObservation, RatePolicy } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import type { SqlExecutor } from '../store/index.ts';
import { systemClock } from './clock.ts';

/** The row every acquire passes first: a block on it stops every bucket of the installation. */
export const INSTALLATION_WIDE = '*';

export interface RateRequest {
  readonly method: string;
  readonly url: string | URL;
}

/** Why a request is held back, for progress output ("rate limit 3.2 s"). */
export interface RateWait {
  readonly reason: 'rate limit';
  readonly bucket: string;
  readonly ms: number;
  /** The block's cause ('throttled', 'daily limit', 'budget exhausted'); null while a bucket refills. */
  readonly detail: string | null;
}

export interface AcquireOptions {
  readonly signal?: AbortSignal;
  readonly onWait?: (wait: RateWait) => void;
}

export interface ObserveResult {
  /** Real milliseconds until the installation (or the throttled bucket) may send again; 0 if free. */
  readonly blockedMs: number;
}

export interface RateGovernor {
  /** Resolves when every bucket the request draws from granted it; waits (abortably) otherwise. */
  acquire(installationId: string, policy: RatePolicy, request: RateRequest, options?: AcquireOptions): Promise<void>;
  /**
   * Records what a response to `request` said about the budget: throttles block, reported figures
   * tighten. A block lands on the named bucket when the request draws from it, else on the whole
   * installation, so the retry of that request always waits for it.
   */
  observe(installationId: string, policy: RatePolicy, observation: RateObservation, request?: RateRequest): Promise<ObserveResult>;
}

export interface RateGovernorOptions {
  readonly sql: SqlExecutor;
  readonly clock?: Clock;
  /** Divides every window and wait (see the file comment). */
  readonly timeScale?: number;
  /** Share of a window's capacity that may go out at once; the rest is spread over the window. */
  readonly burstFraction?: number;
  /** Backoff for throttles that say nothing about when to retry: baseMs · 2^streak, capped, + ≤25% jitter. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** How long a daily refusal blocks when the policy could not compute the reset. */
  readonly dailyFallbackMs?: number;
  /** A wait longer than this throws LL_RATE_LIMITED so the scheduler retries later instead of sleeping. */
  readonly maxWaitMs?: number;
  readonly random?: () => number;
}

interface Draw {
  readonly bucket: string;
  readonly capacity: number;
  readonly perMs: number;
  readonly cost: number;
}

interface Denial {
  readonly bucket: string;
  readonly ms: number;
  readonly detail: string | null;
}

// Tokens as of now: what was left plus the refill since refreshed_at, never above capacity.
const available = `least(capacity, tokens + greatest(0, extract(epoch from clock_timestamp() - refreshed_at)::double precision * 1000) * capacity / per_ms)`;
const msUntilUnblocked = `greatest(0, coalesce(extract(epoch from blocked_until - clock_timestamp())::double precision * 1000, 0))`;

// A request costlier than the whole burst may go when the bucket is full and leaves it in debt.
const drawSql = `
  with drawn as (
    update rate_budget
       set tokens = ${available} - $3, refreshed_at = clock_timestamp()
     where installation_id = $1 and bucket = $2
       and (blocked_until is null or blocked_until <= clock_timestamp())
       and ${available} >= least($3, capacity)
    returning 1
  )
  select (select count(*) from drawn)::int as granted,
         ${msUntilUnblocked} as blocked_ms,
         blocked_reason,
         greatest(0, (least($3, capacity) - ${available}) * per_ms / capacity) as refill_ms
    from rate_budget where installation_id = $1 and bucket = $2`;

// A new row starts full. A process that declares a different shape (a new plugin version) resets
// it once at start; a lower limit the platform reports tightens it again on the next response.
const ensureSql = `
  insert into rate_budget (installation_id, bucket, capacity, per_ms, tokens)
  values ($1, $2, $3, $4, $3)
  on conflict (installation_id, bucket) do update
     set capacity = excluded.capacity, per_ms = excluded.per_ms, tokens = least(rate_budget.tokens, excluded.capacity)
   where rate_budget.capacity <> excluded.capacity or rate_budget.per_ms <> excluded.per_ms`;

const refundSql = `update rate_budget set tokens = least(capacity, tokens + $3) where installation_id = $1 and bucket = $2`;

// Never shortens a block another process set; drains the bucket because the platform said no.
const blockSql = `
  update rate_budget
     set blocked_until = greatest(coalesce(blocked_until, clock_timestamp()),
                                  clock_timestamp() + coalesce($3::double precision,
                                    least($4::double precision, $5::double precision * power(2, least(throttle_streak, 30))) * (1 + $6::double precision)) * interval '1 millisecond'),
         blocked_reason = $7,
         throttle_streak = throttle_streak + 1,
         tokens = least(${available}, 0), refreshed_at = clock_timestamp()
   where installation_id = $1 and bucket = $2
  returning ${msUntilUnblocked} as blocked_ms`;

// The platform's own figures win when they are lower than what we think is left.
const tightenSql = `
  update rate_budget
     set tokens = least(${available}, coalesce($3::double precision, capacity)), refreshed_at = clock_timestamp(),
         capacity = least(capacity, coalesce($4::double precision, capacity)),
         per_ms = case when $4::double precision < capacity then $5::double precision else per_ms end
   where installation_id = $1 and bucket = $2`;

const resetStreakSql = `update rate_budget set throttle_streak = 0 where installation_id = $1 and throttle_streak > 0`;

export function createRateGovernor(options: RateGovernorOptions): RateGovernor {
  const sql = options.sql;
  const clock = options.clock ?? systemClock;
  const timeScale = options.timeScale ?? 1;
  const burstFraction = options.burstFraction ?? 0.02;
  const backoff = options.backoff ?? { baseMs: 1000, maxMs: 60_000 };
  const dailyFallbackMs = options.dailyFallbackMs ?? 3_600_000;
  const maxWaitMs = options.maxWaitMs ?? 15 * 60_000;
  const random = options.random ?? Math.random;
  if (!(timeScale > 0)) throw new LedgerlineError('LL_INVALID_INPUT', 'rate governor: timeScale must be > 0');
  const ensured = new Set<string>();

  /** A window limit as a token bucket that can never exceed it within any window (file comment). */
  function tokenBucket(capacity: number, windowMs: number): { capacity: number; perMs: number } {
    const scaledWindow = windowMs / timeScale;
    const burst = Math.min(capacity, Math.max(1, Math.round(capacity * burstFraction)));
    const refillPerWindow = Math.max(0.5, capacity - burst + 0.5);
    return { capacity: burst, perMs: (scaledWindow * burst) / refillPerWindow };
  }

  function drawsFor(policy: RatePolicy, request: RateRequest): Draw[] {
    const target = { method: request.method.toUpperCase(), url: new URL(request.url) };
    const draws: Draw[] = [{ bucket: INSTALLATION_WIDE, capacity: 1, perMs: 1, cost: 0 }];
    for (const bucket of policy.buckets) {
      if (bucket.appliesTo && !bucket.appliesTo(target)) continue;
      draws.push({ bucket: bucket.name, ...tokenBucket(bucket.capacity, bucket.perMs), cost: bucket.cost?.(target) ?? 1 });
    }
    return draws;
  }

  async function ensure(installationId: string, draw: Pick<Draw, 'bucket' | 'capacity' | 'perMs'>): Promise<void> {
    const key = `${installationId}\u0000${draw.bucket}`;
    if (ensured.has(key)) return;
    await sql(ensureSql, [installationId, draw.bucket, draw.capacity, draw.perMs]);
    ensured.add(key);
  }

  async function drawOne(installationId: string, draw: Draw): Promise<Denial | null> {
    for (;;) {
      const row = (await sql(drawSql, [installationId, draw.bucket, draw.cost]))[0];
      if (!row) {
        ensured.delete(`${installationId}\u0000${draw.bucket}`);
        await ensure(installationId, draw);
        continue;
      }
      if (Number(row.granted) === 1) return null;
      const blockedMs = Number(row.blocked_ms);
      if (blockedMs > 0) return { bucket: draw.bucket, ms: blockedMs, detail: typeof row.blocked_reason === 'string' ? row.blocked_reason : 'blocked' };
      // Another process may have taken the token between the update and this read: retry soon.
      return { bucket: draw.bucket, ms: Math.max(1, Number(row.refill_ms)), detail: null };
    }
  }

  /** Draws from every bucket in turn; on a refusal gives back what was already drawn. */
  async function drawAll(installationId: string, draws: readonly Draw[]): Promise<Denial | null> {
    for (const [index, draw] of draws.entries()) {
      const denial = await drawOne(installationId, draw);
      if (!denial) continue;
      for (const done of draws.slice(0, index)) {
        if (done.cost > 0) await sql(refundSql, [installationId, done.bucket, done.cost]);
      }
      return denial;
    }
    return null;
  }

  async function acquire(installationId: string, policy: RatePolicy, request: RateRequest, acquireOptions: AcquireOptions = {}): Promise<void> {
    const draws = drawsFor(policy, request);
    for (const draw of draws) await ensure(installationId, draw);
    for (;;) {
      acquireOptions.signal?.throwIfAborted();
      const denial = await drawAll(installationId, draws);
      if (!denial) return;
      if (denial.ms > maxWaitMs) {
        throw new LedgerlineError('LL_RATE_LIMITED', `rate limit: ${denial.bucket} is blocked for ${Math.ceil(denial.ms / 1000)} s (${denial.detail ?? 'budget'})`, {
          details: { retryAfterSeconds: Math.ceil(denial.ms / 1000) },
        });
      }
      acquireOptions.onWait?.({ reason: 'rate limit', bucket: denial.bucket, ms: denial.ms, detail: denial.detail });
      // A little jitter so processes woken by the same refill do not all collide on it.
      await clock.sleep(denial.ms + random() * Math.min(20, denial.ms * 0.1), acquireOptions.signal);
    }
  }

  function declaredBucket(policy: RatePolicy, name: string | undefined, request: RateRequest | undefined): RateBucket | undefined {
    const bucket = name === undefined ? undefined : policy.buckets.find((b) => b.name === name);
    if (!bucket || !request || !bucket.appliesTo) return bucket;
    return bucket.appliesTo({ method: request.method.toUpperCase(), url: new URL(request.url) }) ? bucket : undefined;
  }

  async function block(installationId: string, bucket: string, explicitMs: number | null, reason: string): Promise<number> {
    const rows = await sql(blockSql, [
      installationId,
      bucket,
      explicitMs === null ? null : explicitMs / timeScale,
      backoff.maxMs / timeScale,
      backoff.baseMs / timeScale,
      random() * 0.25,
      reason,
    ]);
    return Number(rows[0]?.blocked_ms ?? 0);
  }

  async function observe(installationId: string, policy: RatePolicy, observation: RateObservation, request?: RateRequest): Promise<ObserveResult> {
    const declared = observation.daily ? undefined : declaredBucket(policy, observation.bucket, request);
    const target = declared ? { bucket: declared.name, ...tokenBucket(declared.capacity, declared.perMs) } : { bucket: INSTALLATION_WIDE, capacity: 1, perMs: 1 };
    await ensure(installationId, target);

    if (observation.throttled) {
      const explicitMs = observation.daily
        ? (observation.resetInMs ?? dailyFallbackMs)
        : (observation.retryAfterMs ?? observation.resetInMs ?? null);
      const reason = observation.daily ? 'daily limit' : 'throttled';
      return { blockedMs: await block(installationId, target.bucket, explicitMs, reason) };
    }

    await sql(resetStreakSql, [installationId]);
    if (observation.remaining !== undefined && observation.remaining <= 0) {
      const waitMs = observation.resetInMs ?? declared?.perMs ?? backoff.baseMs;
      return { blockedMs: await block(installationId, target.bucket, waitMs, observation.daily ? 'daily limit' : 'budget exhausted') };
    }
    if (declared && (observation.remaining !== undefined || observation.limit !== undefined)) {
      const reported = observation.limit === undefined ? null : tokenBucket(observation.limit, declared.perMs);
      await sql(tightenSql, [installationId, declared.name, observation.remaining ?? null, reported?.capacity ?? null, reported?.perMs ?? null]);
    }
    return { blockedMs: 0 };
  }

  return { acquire, observe };
}
