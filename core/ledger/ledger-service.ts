/**
 * The ledger as the server, the CLI and the workers use it: verification against the signed
 * checkpoints, listing, and writing checkpoints on a schedule.
 */
import type { Logger } from '../contract/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { checkpointSigner, writeCheckpoints, type Checkpoint } from './checkpoints.ts';
import { listEntries, type EntryQuery, type LedgerEntry, type LedgerExecutor } from './ledger.ts';
import { verifyChain, type VerifyReport } from './verify.ts';

export interface LedgerService {
  verify(tenantId: string): Promise<VerifyReport>;
  entries(tenantId: string, query?: EntryQuery): Promise<LedgerEntry[]>;
  writeCheckpoints(): Promise<Checkpoint[]>;
}

export function createLedgerService(options: { sql: Pick<SqlSession, 'query'>; checkpointDir: string; signingKey: Buffer }): LedgerService {
  const exec: LedgerExecutor = (sql, params) => options.sql.query(sql, params);
  const signer = checkpointSigner(options.signingKey);
  return {
    verify: (tenantId) => verifyChain(exec, tenantId, { checkpointDir: options.checkpointDir, publicKey: signer.publicKey }),
    entries: (tenantId, query) => listEntries(exec, tenantId, query),
    writeCheckpoints: () => writeCheckpoints(exec, options.checkpointDir, signer),
  };
}

/** Writes checkpoints every `everyMs` and once more when stopped; a failure is logged as an error each time. */
export function scheduleCheckpoints(ledger: LedgerService, everyMs: number, log: Logger): Periodic {
  return runPeriodically(
    'writing ledger checkpoints',
    everyMs,
    log,
    async () => {
      const written = await ledger.writeCheckpoints();
      if (written.length > 0) log.info({ checkpoints: written.map((c) => ({ tenant: c.tenantId, seq: c.seq })) }, 'ledger checkpoints written');
    },
    { finalRound: true },
  );
}
