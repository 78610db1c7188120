export { createSyncServices, type SyncServicesOptions } from './sync-services.ts';
export { createSyncEngine, type SyncEngine, type SyncPlugin, type SyncTarget, type TargetFilter } from './sync-engine.ts';
export { openSyncQueue, listDeadLetters, syncQueueName, deadSyncQueueName, type SyncQueue, type SyncJob, type DeadLetter } from './sync-queue.ts';
export { startSyncWorker, type RunningSyncWorker } from './sync-worker.ts';
export { listSyncStatus, type SyncStatusRow, type StreamKey } from './sync-state.ts';
export { recordHints, type HintIntake } from './refresh-hints.ts';
export { createProgressPrinter, formatProgress } from './progress-printer.ts';
export type { ProgressEvent, RunSummary, SyncMode } from './stream-runner.ts';
export { systemClock } from './clock.ts';
