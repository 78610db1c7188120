/**
 * Crashes at any instant lose and duplicate nothing: SIGKILLed workers, terminated database
 * connections, and three workers competing for one queue. Needs a PostgreSQL server that other
 * processes can reach (DATABASE_URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresTestDatabase, type TestDatabase } from '../support/database.ts';
import { startScriptedSource, type RunningScriptedSource } from '../fixtures/scripted-source/server.ts';
import { installScripted, scriptedServices, storeContents, uniqueAccount } from './sync-harness.ts';

const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const skipReason = process.env.DATABASE_URL ? null : 'DATABASE_URL is not set: crash tests need a PostgreSQL server other processes can reach';
if (skipReason) console.info(`[crash recovery] skipped: ${skipReason}`);

function startWorker(db: TestDatabase, mode: 'run' | 'worker', env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [workerScript, mode], {
    env: { ...process.env, DATABASE_URL: db.connectionUrl, LEASE_MS: '1000', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Polls the checkpoint while workers run, and fails if it ever moves backwards. */
function watchCheckpoints(db: TestDatabase, installationId: string) {
  const seen: { seq: number; after: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [row] = await db.sql.query<{ checkpoint_seq: string; cursor: { after: number } | null }>(
        `select checkpoint_seq, cursor from sync_state where installation_id = $1`,
        [installationId],
      );
      if (row?.cursor) seen.push({ seq: Number(row.checkpoint_seq), after: row.cursor.after });
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    seen,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

describe.skipIf(skipReason !== null)('crash recovery on PostgreSQL', () => {
  let db: TestDatabase;
  let source: RunningScriptedSource;
  let clean: Awaited<ReturnType<typeof storeContents>>;

  beforeAll(async () => {
    db = await openPostgresTestDatabase();
    source = await startScriptedSource({ records: 50_000, pageSize: 500, deleteEvery: 97 });
    const { installationId } = await installScripted(db, source.url, uniqueAccount());
    const [summary] = await scriptedServices(db).engine.runNow({ installationId });
    expect(summary?.outcome).toBe('succeeded');
    clean = await storeContents(db, installationId);
    expect(clean.records).toHaveLength(50_000);
  }, 180_000);

  afterAll(async () => {
    const t0 = Date.now();
    await source?.stop();
    console.info(`[crash recovery] source stopped after ${Date.now() - t0} ms`);
    await db?.close();
    console.info(`[crash recovery] database dropped after ${Date.now() - t0} ms`);
  }, 120_000);

  it('SIGKILL at random points, ten times, ends with exactly the clean run’s store and checkpoints never go back', async () => {
    // The same data served slowly enough that ten kills land inside one sync.
    const slow = await startScriptedSource({ records: 50_000, pageSize: 500, deleteEvery: 97, latencyMs: 60 });
    const { installationId } = await installScripted(db, slow.url, uniqueAccount());
    const watch = watchCheckpoints(db, installationId);
    let kills = 0;
    while (kills < 10) {
      const child = startWorker(db, 'run', { INSTALLATION_ID: installationId });
      // Somewhere between start-up and well into the run.
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 1600));
      if (child.exitCode !== null) break;
      child.kill('SIGKILL');
      await exited(child);
      kills += 1;
    }
    const last = startWorker(db, 'run', { INSTALLATION_ID: installationId });
    expect(await exited(last)).toBe(0);
    await watch.stop();
    await slow.stop();

    expect(kills).toBe(10);
    expect(await storeContents(db, installationId)).toEqual(clean);
    for (let i = 1; i < watch.seen.length; i++) {
      expect(watch.seen[i]!.seq).toBeGreaterThanOrEqual(watch.seen[i - 1]!.seq);
      expect(watch.seen[i]!.after).toBeGreaterThanOrEqual(watch.seen[i - 1]!.after);
    }
  }, 240_000);

  it('pg_terminate_backend on the worker’s connections mid-run: the run resumes and nothing is lost', async () => {
    const { installationId } = await installScripted(db, source.url, uniqueAccount());
    const { engine } = scriptedServices(db, { leaseMs: 1000 });
    let terminated = 0;
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const [summary] = await engine.runNow({ installationId }, (event) => {
        if (event.type === 'page' && terminated < 2 && event.pages % 20 === 10) {
          terminated += 1;
          // Kill every other backend of this database, mid-batch for whichever is in a transaction.
          void db.sql.query(
            `select pg_terminate_backend(pid) from pg_stat_activity
              where datname = current_database() and pid <> pg_backend_pid()`,
          );
        }
      });
      outcomes.push(summary?.outcome ?? 'none');
      if (summary?.outcome === 'succeeded') break;
      if (summary?.error) console.info('[crash recovery] run failed:', summary.error.code, summary.error.message, (summary.error.cause as Error)?.message);
      if (summary?.error) expect(summary.error.retryable).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(terminated).toBe(2);
    expect(outcomes.at(-1)).toBe('succeeded');
    expect(await storeContents(db, installationId)).toEqual(clean);
  }, 240_000);

  it('three workers on one queue: one run per stream at a time, every record stored once', async () => {
    const installations = [];
    for (let i = 0; i < 4; i++) installations.push(await installScripted(db, source.url, uniqueAccount()));
    const workers = [startWorker(db, 'worker'), startWorker(db, 'worker'), startWorker(db, 'worker')];
    try {
      const deadline = Date.now() + 180_000;
      for (;;) {
        const rows = await db.sql.query<{ n: string }>(
          `select count(*) as n from sync_state where installation_id = any($1::uuid[]) and last_success_at is not null`,
          [installations.map((i) => i.installationId)],
        );
        if (Number(rows[0]?.n) === installations.length) break;
        if (Date.now() > deadline) throw new Error('workers did not finish in time');
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map(exited));
    }
    for (const { installationId } of installations) {
      expect(await storeContents(db, installationId)).toEqual(clean);
      const runs = await db.sql.query<{ owner: string; started_at: string; finished_at: string | null }>(
        `select owner, started_at, finished_at from sync_run where installation_id = $1 order by started_at`,
        [installationId],
      );
      for (let i = 1; i < runs.length; i++) {
        const previousEnd = runs[i - 1]!.finished_at;
        // A run starts only after the previous one finished (or its lease expired after a crash).
        if (previousEnd) expect(Date.parse(runs[i]!.started_at)).toBeGreaterThanOrEqual(Date.parse(previousEnd));
      }
    }
    const owners = await db.sql.query<{ owner: string }>(
      `select distinct owner from sync_run where installation_id = any($1::uuid[])`,
      [installations.map((i) => i.installationId)],
    );
    expect(owners.length).toBeGreaterThan(1);
  }, 240_000);
});
