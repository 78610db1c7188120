/**
 * A sync engine over the scripted source, as a worker process would build it: real store, real
 * rate governor in the database, tokens sealed in the vault.
 */
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../core/log/index.ts';
import type { Database } from '../../core/store/index.ts';
import { sealTokens } from '../../core/store/index.ts';
import { createSyncServices } from '../../core/sync/index.ts';
import scriptedConnector from '../fixtures/scripted-source/connector.ts';
import { seedInstallation } from '../support/database.ts';

export const testKey = Buffer.alloc(32, 42);
export const quietLog = createLogger({ level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'silent', name: 'sync-test' });

export async function installScripted(db: Database, apiBaseUrl: string, platformAccountId?: string) {
  const ids = await seedInstallation(db, { platform: 'scripted', apiBaseUrl, ...(platformAccountId ? { platformAccountId } : {}) });
  const sealed = sealTokens(testKey, ids, {
    accessToken: 'scripted-access-token',
    refreshToken: null,
    expiresAt: null,
    scopes: ['records.read'],
    extra: {},
  });
  await db.sql.query(`update installation set sealed_tokens = $2 where id = $1`, [ids.installationId, sealed]);
  return ids;
}

export function scriptedServices(db: Pick<Database, 'sql'>, options: { leaseMs?: number; maxRateWaitMs?: number } = {}) {
  return createSyncServices({
    sql: db.sql,
    plugins: [{ connector: scriptedConnector, settings: {} }],
    encryptionKey: testKey,
    log: quietLog,
    leaseMs: options.leaseMs ?? 5_000,
    defaultIncrementalEveryMs: 60_000,
    ...(options.maxRateWaitMs ? { maxRateWaitMs: options.maxRateWaitMs } : {}),
  });
}

export function uniqueAccount(): string {
  return `acct-${randomBytes(4).toString('hex')}`;
}

/** What a sync leaves in the store, in a stable order, for comparing runs. */
export async function storeContents(db: Pick<Database, 'sql'>, installationId: string) {
  const records = await db.sql.query<{ external_id: string; content_hash: string; deleted: boolean; canonical: unknown }>(
    `select external_id, content_hash, deleted_at is not null as deleted, canonical
       from source_record where installation_id = $1 order by object_type, external_id`,
    [installationId],
  );
  const activities = await db.sql.query<{ key: string; kind: string; category: string; amount: string | null; summary: string }>(
    `select source_external_id || '/' || discriminator as key, kind, category, amount, summary
       from activity where installation_id = $1 order by source_object_type, source_external_id, discriminator`,
    [installationId],
  );
  return { records, activities };
}
