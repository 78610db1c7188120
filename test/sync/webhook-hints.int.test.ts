import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RefreshHint } from '../../core/contract/index.ts';
import { recordHints } from '../../core/sync/index.ts';
import { scriptedRecord } from '../fixtures/scripted-source/server.ts';
import { testDatabases, type TestDatabase } from '../support/database.ts';
import { installScripted, scriptedServices, storeContents, uniqueAccount } from './sync-harness.ts';

const recordsWithVersions = 1_340;
const versions = 5;
const deletedRecords = 300;

/** 7,000 distinct events (5 versions of 1,340 records, 300 deletions after the last version), in order. */
function orderedEvents(account: string): RefreshHint[] {
  const events: RefreshHint[] = [];
  for (let v = 0; v < versions; v++) {
    for (let i = 0; i < recordsWithVersions; i++) {
      const record = scriptedRecord(i, v);
      events.push({
        eventId: `evt-${i}-${v}`,
        platformAccountId: account,
        stream: 'records',
        externalId: record.id,
        occurredAt: new Date(record.updatedAt),
        action: 'upsert',
        record,
      });
    }
  }
  for (let i = 0; i < deletedRecords; i++) {
    const last = scriptedRecord(i * 4, versions - 1);
    events.push({
      eventId: `evt-${i * 4}-deleted`,
      platformAccountId: account,
      stream: 'records',
      externalId: last.id,
      occurredAt: new Date(Date.parse(last.updatedAt) + 1_000),
      action: 'delete',
    });
  }
  return events;
}

/** Deterministic shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed;
  const random = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`webhook refresh hints on ${variant.label}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('10,000 events with 30% duplicates, shuffled and delivered in batches, end in the same state as the ordered run', async () => {
      const { engine } = scriptedServices(db);
      const orderedAccount = uniqueAccount();
      const shuffledAccount = uniqueAccount();
      const ordered = await installScripted(db, 'http://127.0.0.1:9', orderedAccount);
      const messy = await installScripted(db, 'http://127.0.0.1:9', shuffledAccount);

      const inOrder = orderedEvents(orderedAccount);
      expect(inOrder).toHaveLength(7_000);
      for (let i = 0; i < inOrder.length; i += 100) {
        await recordHints(db.sql, 'scripted', inOrder.slice(i, i + 100));
        await engine.runJob({ ...ordered, stream: 'records', mode: 'hints' });
      }

      const base = orderedEvents(shuffledAccount);
      const duplicates = shuffled(base, 7).slice(0, 3_000);
      const deliveries = shuffled([...base, ...duplicates], 11);
      expect(deliveries).toHaveLength(10_000);
      let accepted = 0;
      let dropped = 0;
      for (let i = 0; i < deliveries.length; i += 250) {
        const intake = await recordHints(db.sql, 'scripted', deliveries.slice(i, i + 250));
        accepted += intake.accepted;
        dropped += intake.duplicates;
        if (i % 1_000 === 0) await engine.runJob({ ...messy, stream: 'records', mode: 'hints' });
      }
      await engine.runJob({ ...messy, stream: 'records', mode: 'hints' });
      expect({ accepted, dropped }).toEqual({ accepted: 7_000, dropped: 3_000 });

      const expected = await storeContents(db, ordered.installationId);
      expect(expected.records).toHaveLength(recordsWithVersions);
      expect(expected.records.filter((r) => r.deleted)).toHaveLength(deletedRecords);
      const actual = await storeContents(db, messy.installationId);
      // Name the first difference, not just "not equal", when it fails.
      expect(actual.records.length).toBe(expected.records.length);
      expect(actual.records.find((r, i) => JSON.stringify(r) !== JSON.stringify(expected.records[i])) ?? null).toBeNull();
      expect(actual.activities.length).toBe(expected.activities.length);
      expect(actual.activities.find((a, i) => JSON.stringify(a) !== JSON.stringify(expected.activities[i])) ?? null).toBeNull();
      const pending = await db.sql.query(`select 1 from refresh_hint where installation_id = $1 and processed_at is null`, [messy.installationId]);
      expect(pending).toEqual([]);
    });

    it('delivers an event to every tenant that installed the same platform account', async () => {
      const account = uniqueAccount();
      const first = await installScripted(db, 'http://127.0.0.1:9', account);
      const second = await installScripted(db, 'http://127.0.0.1:9', account);
      const events = orderedEvents(account).slice(0, 3);
      expect(await recordHints(db.sql, 'scripted', events)).toMatchObject({ accepted: 6, duplicates: 0, unknownAccount: 0 });
      expect(await recordHints(db.sql, 'scripted', events)).toMatchObject({ accepted: 0, duplicates: 6 });
      for (const ids of [first, second]) {
        const rows = await db.sql.query(`select event_id from refresh_hint where installation_id = $1 order by event_id`, [ids.installationId]);
        expect(rows).toEqual(events.map((e) => ({ event_id: e.eventId })).sort((a, b) => a.event_id.localeCompare(b.event_id)));
      }
    });

    it('ignores events for accounts with no active installation, and says so', async () => {
      const intake = await recordHints(db.sql, 'scripted', orderedEvents('never-installed').slice(0, 10));
      expect(intake).toEqual({ accepted: 0, duplicates: 0, unknownAccount: 10, installations: [] });
    });
  });
}
