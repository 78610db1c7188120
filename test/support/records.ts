/**
 * Synced records and activities as connectors map them, and their ingest through the real sealed
 * write path, for tests that put a customer's history straight into the store.
 */
import type { ActivityRecord } from '../../core/model/index.ts';
import { ingestBatch, type Database, type IngestSourceRecord } from '../../core/store/index.ts';
import { testKeyring } from './database.ts';

/** A synced record holding one person, with its canonical copy (e-mail `<id>@birch.example` unless given). */
export function personRecord(id: string, name: string, options: { objectType?: string; email?: string; updatedAt?: Date } = {}): IngestSourceRecord {
  const objectType = options.objectType ?? 'contact';
  const email = options.email ?? `${id}@birch.example`;
  return {
    objectType,
    externalId: id,
    updatedAt: options.updatedAt ?? new Date('2026-06-01T00:00:00Z'),
    payload: { id, email, name },
    canonical: { persons: [{ source: { objectType, externalId: id }, mergedFrom: [], email, displayName: name }], accounts: [], activities: [] },
  };
}

/** An activity of a person (a contact unless `objectType` says otherwise), from source e-mail `key`: an e-mail interaction unless `kind` and `category` say otherwise. */
export function personActivity(
  id: string,
  key: string,
  at: Date,
  summary: string,
  options: { objectType?: string; kind?: ActivityRecord['kind']; category?: string; actor?: string; attributes?: Record<string, unknown> } = {},
): ActivityRecord {
  return {
    kind: options.kind ?? 'interaction',
    category: options.category ?? 'email',
    occurredAt: at,
    subject: { kind: 'person', objectType: options.objectType ?? 'contact', externalId: id },
    driver: null,
    source: { objectType: 'email', externalId: key },
    discriminator: 'main',
    amount: null,
    summary,
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
    attributes: options.attributes ?? {},
  };
}

/** Ingests records and activities into one installation in one transaction, sealed with the test keyring. */
export async function ingestInto(
  db: Database,
  target: { readonly tenantId: string; readonly installationId: string },
  sourceRecords: readonly IngestSourceRecord[],
  activities: readonly ActivityRecord[],
): Promise<void> {
  await db.sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: target.tenantId, installationId: target.installationId, keyring: testKeyring, sourceRecords, activities }));
}

/**
 * Runs `work` with the summary-change trigger of the activity table off: activities it writes are
 * not heard by any summary snapshot, so a test can tell a snapshot's answer from a fresh one.
 */
export async function unheardBySnapshots(db: Database, work: () => Promise<unknown>): Promise<void> {
  await db.sql.query(`alter table activity disable trigger activity_summary_insert`);
  try {
    await work();
  } finally {
    await db.sql.query(`alter table activity enable trigger activity_summary_insert`);
  }
}
