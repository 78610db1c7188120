export { openDatabase, sqlSessionOf, type Database, type DatabaseOptions } from './database.ts';
export type { QueryOptions, SqlSession } from './sql-session.ts';
export {
  entities,
  TenantEntity,
  InstallationEntity,
  SourceRecordEntity,
  ActivityEntity,
  PersonEntity,
  AccountEntity,
  installationStatuses,
  type Tenant,
  type Installation,
  type InstallationStatus,
  type SourceRecordRow,
  type ActivityRow,
  type Person,
  type Account,
} from './entities.ts';
export { ingestBatch, canonicalJson, contentHash, erasedPayload, type IngestBatch, type IngestResult, type IngestSourceRecord, type SqlExecutor } from './bulk-ingest.ts';
export { sealTokens, openTokens, keyId, type TokenOwner } from './token-vault.ts';
export { createTenantDirectory, createInstallationDirectory, type TenantView, type InstallationView } from './directories.ts';
export {
  createRecordQueries,
  type RecordQueries,
  type SourceRecordView,
  type ActivityView,
  type TimelineOptions,
} from './record-queries.ts';
export { isTransientDatabaseError, transientDatabaseError } from './database-errors.ts';
export { createBatcher, type BatcherOptions } from './batcher.ts';
