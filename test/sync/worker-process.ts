/**
 * A sync worker in its own process, for the fault tests: `run` syncs one installation in the
 * foreground until it succeeds (waiting out a dead predecessor's lease); `worker` runs a queue
 * worker until killed. Progress goes to stdout as JSON lines.
 */
import { openDatabase } from '../../core/store/index.ts';
import { openSyncQueue, startSyncWorker } from '../../core/sync/index.ts';
import { quietLog, scriptedServices } from './sync-harness.ts';

const mode = process.argv[2];
const databaseUrl = process.env.DATABASE_URL;
const leaseMs = Number(process.env.LEASE_MS ?? '1000');
if (!databaseUrl || (mode !== 'run' && mode !== 'worker')) {
  console.error('usage: DATABASE_URL=… worker-process.ts run|worker');
  process.exit(64);
}

const db = await openDatabase({ databaseUrl, poolSize: 4 });
const { engine } = scriptedServices(db, { leaseMs });

if (mode === 'run') {
  const installationId = process.env.INSTALLATION_ID;
  if (!installationId) throw new Error('INSTALLATION_ID is required');
  for (;;) {
    const [summary] = await engine.runNow({ installationId }, (event) => {
      if (event.type === 'page') console.log(JSON.stringify({ type: 'page', checkpointSeq: event.checkpointSeq, records: event.records }));
    });
    if (summary?.outcome === 'succeeded') {
      console.log(JSON.stringify({ type: 'done', records: summary.records }));
      break;
    }
    // Busy (a killed predecessor's lease has not expired yet) or failed: try again shortly.
    console.log(JSON.stringify({ type: 'retry', outcome: summary?.outcome, error: summary?.error?.code }));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await db.close();
} else {
  const queue = await openSyncQueue({ connectionString: databaseUrl, log: quietLog, retryDelaySeconds: 1, retryDelayMaxSeconds: 2, maxConnections: 3 });
  await startSyncWorker({ engine, queue, sql: db.sql, log: quietLog, concurrency: 2, scheduleEveryMs: 500, pollingIntervalSeconds: 0.5 });
  console.log(JSON.stringify({ type: 'ready', pid: process.pid }));
  // Runs until the test kills it.
}
