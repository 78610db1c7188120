import { createLedgerService, ledgerOptionsFrom, scheduleCheckpoints } from '../ledger/ledger-service.ts';
import { scheduleIdentity } from '../identity/identity-store.ts';
import { deliveryOptionsFrom, scheduleNotifications } from '../triggers/notifications.ts';
import { scheduleSummaryRefresh } from '../panels/summary-refresh.ts';
import { openSyncQueue, startSyncWorker } from '../sync/index.ts';
import { createReportsService, reportsOptionsFrom, scheduleReportWork } from '../reports/index.ts';
import type { Command } from './commands.ts';
import { untilSignal } from './process-signals.ts';
import { openRuntime } from './runtime.ts';

export const workerCommand: Command = {
  summary: 'Run a sync worker, which also delivers notifications and reports (as many as you like, on any machines, against one PostgreSQL)',
  options: {},
  async run() {
    const runtime = await openRuntime({ name: 'worker', migrate: true });
    const stop = untilSignal();
    try {
      const queue = await openSyncQueue({ connectionString: runtime.db.url, log: runtime.log });
      const worker = await startSyncWorker({
        engine: runtime.sync.engine,
        queue,
        sql: runtime.db.sql,
        log: runtime.log,
        concurrency: runtime.config.syncConcurrency,
      });
      const ledger = createLedgerService({ sql: runtime.db.sql, ...ledgerOptionsFrom(runtime.config) });
      const checkpoints = scheduleCheckpoints(ledger, runtime.config.ledgerCheckpointSeconds * 1000, runtime.log);
      const identities = scheduleIdentity(runtime.db.sql, runtime.config.identityIntervalSeconds * 1000, runtime.log);
      const summaries = scheduleSummaryRefresh(runtime.db.sql, runtime.keyring, runtime.config.summaryRefreshSeconds * 1000, runtime.log);
      const delivery = await deliveryOptionsFrom(runtime.config);
      const notifications = scheduleNotifications(runtime.db.sql, runtime.keyring, delivery, runtime.config.notifyIntervalSeconds * 1000, runtime.log);
      // Report requests and schedules: any number of workers (and serve) share them without doubling.
      const reports = createReportsService({ sql: runtime.db.sql, keyring: runtime.keyring, mail: delivery.mail, log: runtime.log, ...reportsOptionsFrom(runtime.config) });
      const reportWork = scheduleReportWork(reports.workflow, runtime.config.notifyIntervalSeconds * 1000, runtime.log);
      runtime.log.info({ concurrency: runtime.config.syncConcurrency, plugins: runtime.plugins.map((p) => p.connector.id) }, 'sync worker running');
      const reason = await stop.stopped;
      runtime.log.info({ reason }, 'sync worker stopping');
      await worker.stop();
      await notifications.stop();
      await reportWork.stop();
      await reports.close();
      await summaries.stop();
      await identities.stop();
      await checkpoints.stop();
      await queue.stop();
      return 0;
    } finally {
      stop.dispose();
      await runtime.close();
    }
  },
};
