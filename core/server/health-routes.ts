/**
 * Liveness and readiness for orchestrators. /healthz only proves the process answers; /readyz
 * proves it can serve: the database answers and its schema is current. Both stay open without
 * auth, and neither says more than which check failed.
 */
import express from 'express';
import type { Router } from 'express';
import type { ErrorBody } from './error-responses.ts';
import type { Logger } from '../log/index.ts';
import type { ReadinessProbe } from './server-deps.ts';

type CheckState = 'ok' | 'failed' | 'skipped';

interface ReadinessReport {
  readonly database: CheckState;
  readonly migrations: CheckState;
  readonly failure: { check: 'database' | 'migrations'; message: string } | null;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function checkReadiness(probe: ReadinessProbe, timeoutMs: number, log: Logger): Promise<ReadinessReport> {
  try {
    await withTimeout(probe.ping(), timeoutMs);
  } catch (error) {
    log.warn({ err: error }, 'readiness: database ping failed');
    return { database: 'failed', migrations: 'skipped', failure: { check: 'database', message: 'The database does not answer.' } };
  }
  let pending: readonly string[];
  try {
    pending = await withTimeout(probe.pendingMigrations(), timeoutMs);
  } catch (error) {
    log.warn({ err: error }, 'readiness: could not list pending migrations');
    return { database: 'ok', migrations: 'failed', failure: { check: 'migrations', message: 'Pending migrations could not be listed.' } };
  }
  if (pending.length > 0) {
    const message = `${pending.length} database migration${pending.length === 1 ? ' is' : 's are'} pending.`;
    return { database: 'ok', migrations: 'failed', failure: { check: 'migrations', message } };
  }
  return { database: 'ok', migrations: 'ok', failure: null };
}

export function healthRoutes(probe: ReadinessProbe, log: Logger, timeoutMs: number): Router {
  const router = express.Router();
  const noStore = { 'Cache-Control': 'no-store' };

  router.get('/healthz', (_req, res) => {
    res.set(noStore).json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const report = await checkReadiness(probe, timeoutMs, log);
    const checks = { database: report.database, migrations: report.migrations };
    res.set(noStore);
    if (report.failure === null) return void res.json({ status: 'ready', checks });
    const body: ErrorBody & { checks: typeof checks } = {
      error: { code: 'LL_UNAVAILABLE', message: report.failure.message, field: report.failure.check },
      checks,
    };
    res.status(503).json(body);
  });

  return router;
}
