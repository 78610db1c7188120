/**
 * The connector on recorded Zendesk HTTP (fixtures/backfill.json, replayed by nock; no emulator):
 * every stream backfills through the engine on both databases, every recorded request is used,
 * and the canonical records stored are exactly what the Zendesk objects say — end users and
 * organizations, tickets as drivers with their events, a reopened ticket, a bad satisfaction
 * rating, a user merge and deletions.
 */
import nock from 'nock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnTestDatabases } from '../../../test/support/database.ts';
import { loadRecording, recordedToken, syncOnce, type Recording } from './replay.ts';

const recording: Recording = loadRecording();
const bodies = recording.definitions.map((d) => d.response as Record<string, unknown>);
const exported = <T>(key: string): T[] => bodies.flatMap((b) => (Array.isArray(b[key]) ? (b[key] as T[]) : []));

describeOnTestDatabases('Zendesk backfill replayed from recorded HTTP', (db) => {
  let installationId: string;
  let outcomes: string[];

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.define(recording.definitions);
    ({ installationId, outcomes } = await syncOnce(db(), recording.baseUrl, recording.subdomain, recordedToken));
  });
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const stored = async (objectType: string, externalId: string) =>
    (
      await db().sql.query<{ canonical: unknown; deleted_at: string | null; payload: Record<string, unknown> }>(
        `select canonical, deleted_at, payload from source_record where installation_id = $1 and object_type = $2 and external_id = $3`,
        [installationId, objectType, externalId],
      )
    )[0];
  const canonical = async (objectType: string, externalId: string): Promise<unknown> => (await stored(objectType, externalId))?.canonical;

  it('runs all four streams to success on exactly the recorded requests, one export call each', () => {
    expect(outcomes).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(nock.pendingMocks()).toEqual([]);
    expect(recording.definitions.map((d) => String(d.path).split('?')[0])).toEqual([
      '/api/v2/incremental/users/cursor.json',
      '/api/v2/incremental/organizations.json',
      '/api/v2/incremental/tickets/cursor.json',
      '/api/v2/incremental/ticket_events.json',
    ]);
  });

  it('stores one source record per exported object, with deleted tickets and deleted end users marked deleted', async () => {
    const users = exported<{ id: number; role: string; active: boolean }>('users');
    const tickets = exported<{ id: number; status: string }>('tickets');
    const rows = await db().sql.query<{ object_type: string; live: string; deleted: string }>(
      `select object_type, count(*) filter (where deleted_at is null)::text as live, count(*) filter (where deleted_at is not null)::text as deleted
         from source_record where installation_id = $1 group by 1`,
      [installationId],
    );
    const deletedUsers = users.filter((u) => u.role === 'end-user' && !u.active).length;
    const deletedTickets = tickets.filter((t) => t.status === 'deleted').length;
    expect(deletedUsers).toBe(1);
    expect(deletedTickets).toBe(2);
    expect(Object.fromEntries(rows.map((r) => [r.object_type, [Number(r.live), Number(r.deleted)]]))).toEqual({
      user: [users.length - deletedUsers, deletedUsers],
      organization: [exported('organizations').length, 0],
      ticket: [tickets.length - deletedTickets, deletedTickets],
      ticket_event: [exported('ticket_events').length, 0],
    });
    expect(await db().sql.query(`select stream, problem, message from sync_reject where installation_id = $1`, [installationId])).toEqual([]);
  });

  it('maps an end user to a person with E.164 phone, verified e-mail and their organization', async () => {
    expect(await canonical('user', '380000000014')).toEqual({
      persons: [
        {
          source: { objectType: 'user', externalId: '380000000014' },
          email: 'vera.garcia.11@cobalt-logistics.example',
          emailVerified: true,
          phone: '+49304451924',
          displayName: 'Vera Garcia',
          account: { objectType: 'organization', externalId: '360000000002' },
          mergedFrom: [],
          attributes: { tags: ['vip'], locale: 'de' },
        },
      ],
      accounts: [],
      activities: [],
    });
  });

  it('keeps admins and agents as stored records without making them people', async () => {
    expect(await canonical('user', '380000000001')).toEqual({ persons: [], accounts: [], activities: [] });
    expect(await canonical('user', '380000000002')).toEqual({ persons: [], accounts: [], activities: [] });
  });

  it('maps an organization to an account with its bare domain', async () => {
    expect(await canonical('organization', '360000000002')).toEqual({
      persons: [],
      accounts: [
        {
          source: { objectType: 'organization', externalId: '360000000002' },
          name: 'Cobalt Logistics',
          domain: 'cobalt-logistics.example',
          mergedFrom: [],
          attributes: { tags: ['smb'] },
        },
      ],
      activities: [],
    });
  });

  it('maps a ticket to its opening under the ticket driver, about its requester, with the state first synced', async () => {
    expect(await canonical('ticket', '4')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          kind: 'interaction',
          category: 'ticket',
          occurredAt: '2026-08-25T05:00:14.000Z',
          subject: { kind: 'person', objectType: 'user', externalId: '380000000011' },
          driver: { type: 'ticket', objectType: 'ticket', externalId: '4' },
          source: { objectType: 'ticket', externalId: '4' },
          discriminator: 'created',
          summary: 'Ticket opened: Refund for a duplicate charge (urgent priority)',
          actor: 'Zendesk user 380000000011',
          attributes: { channel: 'web', priority: 'urgent', ticketType: 'incident', driverState: { open: false, title: 'Refund for a duplicate charge', status: 'solved' } },
        },
      ],
    });
  });

  it('records a reopening as its own category, with the reply that came with it and the state it left', async () => {
    const about = {
      kind: 'interaction',
      occurredAt: '2026-09-22T15:33:40.000Z',
      subject: { kind: 'person', objectType: 'user', externalId: '380000000017' },
      driver: { type: 'ticket', objectType: 'ticket', externalId: '3' },
      source: { objectType: 'ticket_event', externalId: '40000000003075' },
      actor: 'Zendesk user 380000000017',
    };
    expect(await canonical('ticket_event', '40000000003075')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          ...about,
          category: 'comment',
          discriminator: 'comment:640000000049200',
          summary: 'Public reply on "Invoice shows the wrong VAT number": The corrected invoice still has the old number.',
          attributes: { public: true },
        },
        {
          ...about,
          category: 'ticket_reopened',
          discriminator: 'status:640000000049201',
          summary: 'Ticket reopened: Invoice shows the wrong VAT number',
          attributes: { previousStatus: 'solved', driverState: { open: true, title: 'Invoice shows the wrong VAT number', status: 'open' } },
        },
      ],
    });
    // The whole life of ticket 3 under its driver: opened, replied, solved, reopened twice.
    const timeline = await db().sql.query<{ category: string; state: { status: string; open: boolean } | null }>(
      `select category, attributes -> 'driverState' as state from activity
        where installation_id = $1 and driver_object_type = 'ticket' and driver_external_id = '3' and category <> 'comment'
        order by occurred_at, discriminator`,
      [installationId],
    );
    expect(timeline.map((t) => [t.category, t.state?.status, t.state?.open])).toEqual([
      ['ticket', 'open', true],
      ['ticket', 'open', true],
      ['ticket', 'solved', false],
      ['ticket_reopened', 'open', true],
      ['ticket', 'solved', false],
      ['ticket_reopened', 'open', true],
    ]);
  });

  it('records a bad satisfaction rating with its comment, at the time it was given', async () => {
    expect(await canonical('ticket_event', '40000000004100')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          kind: 'interaction',
          category: 'satisfaction_bad',
          occurredAt: '2026-10-20T18:26:22.000Z',
          subject: { kind: 'person', objectType: 'user', externalId: '380000000011' },
          driver: { type: 'ticket', objectType: 'ticket', externalId: '4' },
          source: { objectType: 'ticket_event', externalId: '40000000004100' },
          discriminator: 'satisfaction:640000000065601',
          summary: 'Satisfaction rated bad on "Refund for a duplicate charge": Took far too long to get an answer.',
          actor: 'Zendesk user 380000000011',
          attributes: { score: 'bad', comment: 'Took far too long to get an answer.' },
        },
      ],
    });
    // The comment is personal: sealed in the activity row, not in its clear attributes.
    const [row] = await db().sql.query<{ attributes: unknown }>(`select attributes from activity where installation_id = $1 and discriminator = 'satisfaction:640000000065601'`, [installationId]);
    expect(row!.attributes).toEqual({ score: 'bad' });
  });

  it('carries a user merge: the duplicate is kept but marked deleted, with one merge activity however many tickets moved', async () => {
    const loser = await stored('user', '380000000017');
    expect(loser!.deleted_at).not.toBeNull();
    expect(new Date(loser!.deleted_at!).toISOString()).toBe('2026-11-04T11:12:14.000Z');
    expect(loser!.payload).toMatchObject({ active: false, name: 'Nora Kowalski' });
    const moved = exported<{ via: string; child_events: { requester_id?: number; previous_value?: unknown }[] }>('ticket_events').filter(
      (e) => e.via === 'Merge' && e.child_events.some((c) => c.requester_id === 380000000016 && c.previous_value === 380000000017),
    );
    expect(moved.length).toBe(5);
    expect(await canonical('ticket_event', '40000000003078')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          kind: 'profile_change',
          category: 'merged',
          occurredAt: '2026-11-04T11:12:14.000Z',
          subject: { kind: 'person', objectType: 'user', externalId: '380000000017' },
          driver: null,
          source: { objectType: 'user', externalId: '380000000017' },
          discriminator: 'merged-into:380000000016',
          summary: 'Zendesk user 380000000017 was merged into user 380000000016',
          actor: null,
          attributes: { mergedInto: '380000000016' },
        },
      ],
    });
    const merges = await db().sql.query<{ subject_external_id: string; attributes: unknown }>(
      `select subject_external_id, attributes from activity where installation_id = $1 and category = 'merged'`,
      [installationId],
    );
    expect(merges).toEqual([{ subject_external_id: '380000000017', attributes: { mergedInto: '380000000016' } }]);
    // After the merge the survivor is the requester of the moved tickets.
    const [after] = await db().sql.query<{ subject: string }>(
      `select subject_external_id as subject from activity where installation_id = $1 and source_object_type = 'ticket_event' and source_external_id = '40000000009218' and category = 'comment'`,
      [installationId],
    );
    expect(after!.subject).toBe('380000000016');
  });

  it('marks a deleted ticket deleted at its deletion, keeping its last payload', async () => {
    const ticket = await stored('ticket', '7');
    expect(new Date(ticket!.deleted_at!).toISOString()).toBe('2026-09-05T21:07:22.000Z');
    expect(ticket!.payload).toMatchObject({ id: 7, status: 'deleted' });
  });
});
