export { canonicalize } from './canonical-json.ts';
export { appendEntries, chainEntries, checkEntryInput, entryHash, genesisHash, readEntries, type LedgerEntry, type LedgerEntryInput, type LedgerExecutor } from './ledger.ts';
export { Checkpoint, checkpointSigner, checkpointSignatureValid, readCheckpointFiles, signCheckpoint, writeCheckpoints, type CheckpointSigner } from './checkpoints.ts';
export { checkEntry, verifyChain, verifyEntries, type ChainBreak, type VerifyReport } from './verify.ts';
export { listEntries, entryJson, type EntryQuery } from './ledger.ts';
export { createLedgerService, ledgerOptionsFrom, scheduleCheckpoints, type LedgerService } from './ledger-service.ts';
export { archiveLedger, archivedSegments, readSegment, type ArchiveResult } from './archive.ts';
export { createGroupAppender, type GroupAppender, type GroupAppenderOptions } from './group-append.ts';
