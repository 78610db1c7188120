/**
 * The ledger as the server, the CLI and the workers use it: verification against the signed
 * checkpoints, listing, and writing checkpoints on a schedule.
 */
import type { Logger } from '../contract/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import type { SqlSession } from '../store/sql-session.ts';
import type { Config } from '../config/index.ts';
import { archiveLedger, type ArchiveResult } from './archive.ts';
import { checkpointSigner, writeCheckpoints, type Checkpoint } from './checkpoints.ts';
import { listEntries, type EntryQuery, type LedgerEntry, type LedgerExecutor } from './ledger.ts';
import { verifyChain, type VerifyReport } from './verify.ts';

export interface LedgerService {
  verify(tenantId: string): Promise<VerifyReport>;
  entries(tenantId: string, query?: EntryQuery): Promise<LedgerEntry[]>;
  writeCheckpoints(): Promise<Checkpoint[]>;
  /** Archives entries older than `olderThan` (every tenant when none is named). */
  archive(olderThan: Date, tenantId?: string): Promise<ArchiveResult[]>;
  /** The retention policy, if one is configured: entries older than this many days are archived. */
  readonly retentionDays: number | undefined;
}

export interface LedgerServiceOptions {
  readonly sql: SqlSession;
  readonly checkpointDir: string;
  readonly archiveDir: string;
  readonly signingKey: Buffer;
  readonly retentionDays?: number | undefined;
}

/** The ledger settings of a configuration. */
export const ledgerOptionsFrom = (config: Pick<Config, 'ledgerCheckpointDir' | 'ledgerArchiveDir' | 'ledgerSigningKey' | 'ledgerRetentionDays'>) => ({
  checkpointDir: config.ledgerCheckpointDir,
  archiveDir: config.ledgerArchiveDir,
  signingKey: config.ledgerSigningKey,
  retentionDays: config.ledgerRetentionDays,
});

export function createLedgerService(options: LedgerServiceOptions): LedgerService {
  const exec: LedgerExecutor = (sql, params) => options.sql.query(sql, params);
  const signer = checkpointSigner(options.signingKey);
  return {
    verify: (tenantId) => verifyChain(exec, tenantId, { checkpointDir: options.checkpointDir, archiveDir: options.archiveDir, publicKey: signer.publicKey }),
    entries: (tenantId, query) => listEntries(exec, tenantId, query),
    writeCheckpoints: () => writeCheckpoints(exec, options.checkpointDir, signer),
    async archive(olderThan, tenantId) {
      const tenants = tenantId ? [tenantId] : (await exec(`select tenant_id from ledger_head order by tenant_id`)).map((r) => String(r.tenant_id));
      const results: ArchiveResult[] = [];
      for (const t of tenants) results.push(await archiveLedger(options.sql, t, { archiveDir: options.archiveDir, olderThan }));
      return results;
    },
    retentionDays: options.retentionDays,
  };
}

/**
 * Writes checkpoints every `everyMs` (and once more when stopped) and, under a retention policy,
 * archives what has grown old; a failure is logged as an error each time.
 */
export function scheduleCheckpoints(ledger: LedgerService, everyMs: number, log: Logger): Periodic {
  return runPeriodically(
    'writing ledger checkpoints',
    everyMs,
    log,
    async () => {
      const written = await ledger.writeCheckpoints();
      if (written.length > 0) log.info({ checkpoints: written.map((c) => ({ tenant: c.tenantId, seq: c.seq })) }, 'ledger checkpoints written');
      if (ledger.retentionDays !== undefined) {
        const archived = (await ledger.archive(new Date(Date.now() - ledger.retentionDays * 86_400_000))).filter((r) => r.archivedEntries > 0);
        if (archived.length > 0) log.info({ archived: archived.map((r) => ({ tenant: r.tenantId, entries: r.archivedEntries, segments: r.segments.length })) }, 'ledger entries archived');
      }
    },
    { finalRound: true },
  );
}
