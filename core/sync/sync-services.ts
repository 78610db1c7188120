/**
 * Wires the sync engine for one process: the store's SQL, the shared rate governor, the token
 * vault and the plugins from the manifest. Workers, `serve` and `ledgerline sync` all use this.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Clock, Logger } from '../contract/index.ts';
import type { SqlSession } from '../store/index.ts';
import { systemClock } from './clock.ts';
import { SubjectKeyring } from '../privacy/index.ts';
import { pageWriter } from './page-writer.ts';
import { createRateGovernor } from './rate-governor.ts';
import { createStreamContextFactory } from './stream-context.ts';
import { createSyncEngine, type SyncPlugin } from './sync-engine.ts';

export interface SyncServicesOptions {
  readonly sql: SqlSession;
  readonly plugins: readonly SyncPlugin[];
  readonly encryptionKey: Buffer;
  readonly log: Logger;
  readonly leaseMs: number;
  readonly defaultIncrementalEveryMs: number;
  readonly clock?: Clock;
  /** Divides rate windows for sandboxes that run their limit clocks faster. */
  readonly timeScale?: number;
  /** A rate wait longer than this hands the job back to the queue instead of sleeping (default 15 min). */
  readonly maxRateWaitMs?: number;
  readonly fetch?: typeof fetch;
}

export function createSyncServices(options: SyncServicesOptions) {
  const clock = options.clock ?? systemClock;
  const exec = (text: string, params?: readonly unknown[]) => options.sql.query(text, params);
  const governor = createRateGovernor({
    sql: exec,
    clock,
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    ...(options.maxRateWaitMs ? { maxWaitMs: options.maxRateWaitMs } : {}),
  });
  const context = createStreamContextFactory({
    sql: options.sql,
    governor,
    encryptionKey: options.encryptionKey,
    clock,
    log: options.log,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const engine = createSyncEngine({
    sql: options.sql,
    plugins: options.plugins,
    writePage: pageWriter(new SubjectKeyring(options.encryptionKey)),
    context,
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseMs: options.leaseMs,
    clock,
    log: options.log,
    defaultIncrementalEveryMs: options.defaultIncrementalEveryMs,
  });
  return { engine, governor, context };
}
