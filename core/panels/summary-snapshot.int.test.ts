/**
 * Summary snapshots, against the real write paths (sealed ingest, identity resolution, erasure):
 * a kept snapshot answers exactly what computing afresh answers, and stops being used the moment
 * anything it was read from changes — a new activity of any member, a record's change, a record
 * joining the profile, a concurrent write its statement could not see, time moving an activity out
 * of a window, or a destroyed key.
 */
import pg from 'pg';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { ingestInto, personActivity, personRecord, unheardBySnapshots } from '../../test/support/records.ts';
import { resolveTenant } from '../identity/identity-store.ts';
import { eraseSubject } from '../identity/subject-erasure.ts';
import type { Database } from '../store/index.ts';
import { buildSummary, type SummaryRequest } from './summary.ts';
import { compactSummaryChanges, refreshSummaries } from './summary-refresh.ts';

const now = new Date('2026-06-30T12:00:00Z');

/** An e-mail with a person (or a security alert), written by a rep, from an IP address. */
const activity = (subject: string, objectType: string, key: string, at: string, summary: string, kind: 'interaction' | 'security_alert' = 'interaction') =>
  personActivity(subject, key, new Date(at), summary, {
    objectType,
    kind,
    category: kind === 'interaction' ? 'email' : 'new_country_login',
    actor: 'Sam Rep',
    attributes: { ip: '203.0.113.7' },
  });

const person = (objectType: string, id: string, email: string, name: string) => personRecord(id, name, { objectType, email });

async function snapshotCount(db: Database, tenantId: string): Promise<number> {
  const [row] = await db.sql.query<{ n: number }>(`select count(*)::int as n from summary_snapshot where tenant_id = $1`, [tenantId]);
  return row!.n;
}

describeOnTestDatabases('summary snapshots', (db) => {
  let tenantId: string;
  let hub: string;
  let zen: string;
  const request = (at: Date = now): SummaryRequest => ({ tenantId, installationId: hub, subject: { kind: 'person', objectType: 'contact', externalId: '21' }, now: at, reportUrl: 'https://l.test/r' });
  const fresh = (at: Date = now) => buildSummary(db().sql, testKeyring, { ...request(at), snapshots: false });
  const cached = (at: Date = now) => buildSummary(db().sql, testKeyring, request(at));
  const timeline = async (at: Date = now) => (await cached(at)).timeline.map((t) => t.summary);

  it('keeps a sealed snapshot and answers from it exactly what a fresh computation answers', async () => {
    ({ tenantId, installationId: hub } = await seedInstallation(db(), { platform: 'hubspot' }));
    const [z] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', 'snap', 'Support', 'http://127.0.0.1:9') returning id`,
      [tenantId],
    );
    zen = z!.id;
    await ingestInto(db(), { tenantId, installationId: hub }, [person('contact', '21', 'kim@birch.example', 'Kim Lindqvist'), person('contact', '22', 'pat@birch.example', 'Pat Other')], [
      activity('21', 'contact', 'e1', '2025-08-01T09:00:00Z', 'Kim asked about invoices'),
      activity('21', 'contact', 'e2', '2026-06-20T09:00:00Z', 'Kim renewed the plan'),
      activity('21', 'contact', 'e3', '2026-06-10T09:00:00Z', 'Kim signed in from Lisbon', 'security_alert'),
    ]);
    expect(await snapshotCount(db(), tenantId)).toBe(0);
    const first = await cached();
    expect(first.timeline.map((t) => t.summary)).toEqual(['Kim renewed the plan', 'Kim signed in from Lisbon', 'Kim asked about invoices']);
    expect(await snapshotCount(db(), tenantId)).toBe(1);
    // Sealed: no personal text or name in the stored row.
    const [stored] = await db().sql.query<{ sealed: Buffer; key_ids: string[] }>(`select sealed, key_ids::text[] as key_ids from summary_snapshot where tenant_id = $1`, [tenantId]);
    expect(stored!.key_ids).toHaveLength(1);
    for (const text of ['Kim', 'kim@birch', 'Lisbon']) expect(stored!.sealed.includes(Buffer.from(text))).toBe(false);
    expect(await cached()).toEqual(await fresh());
    // Proof that the answer came from the snapshot: an activity written with the triggers off is
    // not in it, while a fresh computation has it.
    await unheardBySnapshots(db(), () => ingestInto(db(), { tenantId, installationId: hub }, [], [activity('21', 'contact', 'e4', '2026-06-29T09:00:00Z', 'Unheard note')]));
    expect(await cached()).toEqual(first);
    expect((await fresh()).timeline[0]!.summary).toBe('Unheard note');
  });

  it('stops using a snapshot when a member gets an activity or its record changes', async () => {
    await cached();
    await ingestInto(db(), { tenantId, installationId: hub }, [], [activity('21', 'contact', 'e5', '2026-06-29T09:00:00Z', 'Kim called about the renewal')]);
    expect((await timeline())[0]).toBe('Kim called about the renewal');
    await ingestInto(db(), { tenantId, installationId: hub }, [person('contact', '21', 'kim@birch.example', 'Kim Lindqvist-Berg')], []);
    expect((await cached()).subject.displayName).toBe('Kim Lindqvist-Berg');
    expect(await cached()).toEqual(await fresh());
  });

  it('stops using a snapshot when another record joins the person\'s profile', async () => {
    await cached();
    await ingestInto(db(), { tenantId, installationId: zen }, [person('user', '8', 'kim@birch.example', 'Kim L.')], [activity('8', 'user', 'z1', '2026-06-29T10:00:00Z', 'Kim opened a ticket')]);
    // Not yet one profile: the Zendesk user's activity is not Kim's.
    expect(await timeline()).not.toContain('Kim opened a ticket');
    await resolveTenant(db().sql, tenantId);
    expect((await timeline())[0]).toBe('Kim opened a ticket');
    expect(await cached()).toEqual(await fresh());
  });

  it('stops using a snapshot when time moves an activity out of the period or a window', async () => {
    const summaryAt = await cached();
    expect(summaryAt.alerts.map((a) => a.message)).toContain('Kim signed in from Lisbon');
    // e1 (2025-08-01) leaves the 365-day period on 2026-08-01; the alert (2026-06-10) leaves its 30 days on 2026-07-10.
    for (const at of ['2026-07-09T12:00:00Z', '2026-07-11T12:00:00Z', '2026-08-02T12:00:00Z']) {
      const later = new Date(at);
      expect(await cached(later)).toEqual(await fresh(later));
    }
    expect((await cached(new Date('2026-07-11T12:00:00Z'))).alerts.map((a) => a.message)).not.toContain('Kim signed in from Lisbon');
    expect(await timeline(new Date('2026-08-02T12:00:00Z'))).not.toContain('Kim asked about invoices');
  });

  it('treats a change by a transaction its statement saw as seen, and one that began after it as missed', async () => {
    await cached();
    const [snap] = await db().sql.query<{ xmin: string; xmax: string; tokens: string[] }>(
      `select pg_snapshot_xmin(computed_snapshot)::text as xmin, pg_snapshot_xmax(computed_snapshot)::text as xmax, tokens from summary_snapshot where tenant_id = $1 and external_id = '21'`,
      [tenantId],
    );
    const token = `${hub}/contact/21`;
    expect(snap!.tokens).toContain(token);
    await unheardBySnapshots(db(), () => ingestInto(db(), { tenantId, installationId: hub }, [], [activity('21', 'contact', 'e6', '2026-06-29T11:00:00Z', 'Kim replied')]));
    // Committed before the snapshot's statement began: one it saw.
    await db().sql.query(`insert into summary_change (tenant_id, token, xid) values ($1, $2, ($3::bigint - 1)::text::xid8)`, [tenantId, token, snap!.xmin]);
    expect(await timeline()).not.toContain('Kim replied');
    // The first transaction it could not see (its xmax): the snapshot is out of date.
    await db().sql.query(`insert into summary_change (tenant_id, token, xid) values ($1, $2, $3::xid8)`, [tenantId, token, snap!.xmax]);
    expect((await timeline())[0]).toBe('Kim replied');
  });

  it('is not fooled by a write that commits while the summary is being computed', async () => {
    if (db().embedded) {
      console.info('[summary snapshots] the concurrent-write case needs two sessions at once; embedded PGlite runs one at a time, so it runs on the PostgreSQL server only');
      expect(db().embedded).toBe(true);
      return;
    }
    const writer = new pg.Client({ connectionString: db().connectionUrl });
    await writer.connect();
    try {
      await writer.query('begin');
      await writer.query(
        `insert into activity (tenant_id, installation_id, kind, category, occurred_at, subject_kind, subject_object_type, subject_external_id, source_object_type, source_external_id, discriminator, summary, attributes)
         values ($1, $2, 'interaction', 'note', '2026-06-29T12:00:00Z', 'person', 'contact', '21', 'note', 'n1', 'main', 'A note written meanwhile', '{}')`,
        [tenantId, hub],
      );
      // Computed (and kept) while the write is in flight: it cannot see the note.
      expect(await timeline()).not.toContain('A note written meanwhile');
      await writer.query('commit');
    } finally {
      await writer.end();
    }
    expect((await timeline())[0]).toBe('A note written meanwhile');
  });

  it('is gone with an erasure, and a summary after it shows nothing of the erased person', async () => {
    await cached();
    expect(await snapshotCount(db(), tenantId)).toBeGreaterThan(0);
    await eraseSubject(db().sql, tenantId, `${hub}/contact/21`, 'dpo@acme.example');
    const [left] = await db().sql.query<{ n: number }>(`select count(*)::int as n from summary_snapshot where tenant_id = $1 and $2 = any(tokens)`, [tenantId, `${hub}/contact/21`]);
    expect(left!.n).toBe(0);
    const after = await cached();
    expect(after.timeline.map((t) => t.summary).filter((s) => s.includes('Kim'))).toEqual([]);
    expect(after.subject.email).toBeNull();
  });

  it('refreshes the people without a current snapshot', async () => {
    await db().sql.query(`delete from summary_snapshot where tenant_id = $1`, [tenantId]);
    const result = await refreshSummaries(db().sql, testKeyring, tenantId, { now: () => now });
    // Kim (erased records keep no person), Pat and the Zendesk user (erased with Kim): what is left of people with a canonical person.
    const [people] = await db().sql.query<{ n: number }>(`select count(*)::int as n from source_record where tenant_id = $1 and canonical -> 'persons' -> 0 is not null and deleted_at is null`, [tenantId]);
    expect(result).toEqual({ refreshed: people!.n, current: people!.n, remaining: 0, failed: [] });
    expect(await snapshotCount(db(), tenantId)).toBe(people!.n);
    expect((await refreshSummaries(db().sql, testKeyring, tenantId, { now: () => now })).refreshed).toBe(0);
  });

  it('reports a summary it cannot compute and goes on with the others', async () => {
    await ingestInto(db(), { tenantId, installationId: hub }, [], [activity('22', 'contact', 'p0', '2026-06-01T10:00:00Z', 'Pat asked for a quote')]);
    await db().sql.query(`delete from summary_snapshot where tenant_id = $1`, [tenantId]);
    // Pat's data key damaged in storage: Pat's summary cannot be opened.
    const [key] = await db().sql.query<{ id: string; wrapped_key: string }>(`select id, wrapped_key from subject_key where tenant_id = $1 and external_id = '22'`, [tenantId]);
    const damaged = Buffer.from(key!.wrapped_key, 'base64');
    damaged[damaged.length - 1]! ^= 0xff;
    await db().sql.query(`update subject_key set wrapped_key = $2 where id = $1`, [key!.id, damaged.toString('base64')]);
    try {
      const result = await refreshSummaries(db().sql, testKeyring, tenantId, { now: () => now });
      expect(result.failed.map((f) => f.record)).toEqual([`${hub}/contact/22`]);
      expect(result.failed[0]!.error).toMatch(/authentic|integrity|key/i);
      expect(result.remaining).toBe(1);
      expect(result.refreshed).toBe(result.current);
    } finally {
      await db().sql.query(`update subject_key set wrapped_key = $2 where id = $1`, [key!.id, key!.wrapped_key]);
    }
    expect(await refreshSummaries(db().sql, testKeyring, tenantId, { now: () => now })).toMatchObject({ refreshed: 1, remaining: 0, failed: [] });
  });

  it('compacts the change rows every snapshot saw, keeps those a stale snapshot missed, and drops expired snapshots', async () => {
    const token = `${hub}/contact/22`;
    /** Compacts until the horizon is past every change of the tenant (on a shared server, other sessions' transactions hold it back for a moment). */
    const compactPastEverything = async () => {
      for (let attempt = 0; ; attempt++) {
        await compactSummaryChanges(db().sql, now);
        const [row] = await db().sql.query<{ behind: boolean }>(`select coalesce(max(xid) >= (select xid from summary_horizon), false) as behind from summary_change where tenant_id = $1`, [tenantId]);
        if (!row!.behind) return;
        if (attempt === 50) throw new Error('the compaction horizon did not pass the tenant\'s changes in 5 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const changeTokens = async () => (await db().sql.query<{ token: string }>(`select token from summary_change where tenant_id = $1 order by token`, [tenantId])).map((r) => r.token);
    await db().sql.query(`delete from summary_snapshot where tenant_id = $1`, [tenantId]);
    await refreshSummaries(db().sql, testKeyring, tenantId, { now: () => now });
    // Pat's snapshot goes out of date: the change it missed must survive compaction.
    await ingestInto(db(), { tenantId, installationId: hub }, [], [activity('22', 'contact', 'p1', '2026-06-29T10:00:00Z', 'Pat wrote in')]);
    expect((await changeTokens()).length).toBeGreaterThan(1);
    await compactPastEverything();
    expect(await changeTokens()).toEqual([token]);
    const pat = { ...request(), subject: { kind: 'person' as const, objectType: 'contact', externalId: '22' } };
    expect((await buildSummary(db().sql, testKeyring, pat)).timeline[0]!.summary).toBe('Pat wrote in');
    // Recomputed (and stored): nothing needs that row any more.
    await compactPastEverything();
    expect(await changeTokens()).toEqual([]);
    expect((await refreshSummaries(db().sql, testKeyring, tenantId, { now: () => now })).refreshed).toBe(0);
    // A day on, every snapshot has expired and goes.
    await compactSummaryChanges(db().sql, new Date(now.getTime() + 86_400_001));
    expect(await snapshotCount(db(), tenantId)).toBe(0);
  });

  it('does not keep a snapshot computed below the compaction horizon', async () => {
    await db().sql.query(`delete from summary_snapshot where tenant_id = $1`, [tenantId]);
    const [saved] = await db().sql.query<{ xid: string }>(`select xid::text from summary_horizon`);
    // As if compaction had just raised the horizon past every transaction the summary could see.
    await db().sql.query(`update summary_horizon set xid = (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text::xid8`);
    try {
      expect(await cached()).toEqual(await fresh());
      expect(await snapshotCount(db(), tenantId)).toBe(0);
    } finally {
      await db().sql.query(`update summary_horizon set xid = $1::xid8`, [saved!.xid]);
    }
    await cached();
    expect(await snapshotCount(db(), tenantId)).toBe(1);
  });
});
