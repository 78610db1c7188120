/**
 * The HubSpot plugin against the emulator, end to end: install through the real OAuth flow, sync
 * every stream through the engine into the store, webhooks as refresh hints, the card endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log/index.ts';
import { createInstallService } from '../../../core/install/install-service.ts';
import { createSummaryService } from '../../../core/panels/summary-service.ts';
import { AccountSummary } from '../../../core/panels/summary-schema.ts';
import { openPgliteTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { createSyncServices } from '../../../core/sync/index.ts';
import { SubjectKeyring } from '../../../core/privacy/index.ts';
import hubspot from '../index.ts';
import { start, type RunningHubspotEmulator } from '../emulator/server.ts';
import { signatureV3 } from '../signature.ts';

const key = Buffer.alloc(32, 7);
const log = createLogger({ level: 'silent', name: 'hubspot-e2e' });
const publicUrl = 'https://ledgerline.test';

describe('HubSpot plugin end to end against the emulator', () => {
  let emulator: RunningHubspotEmulator;
  let db: TestDatabase;
  let tenantId: string;
  let installationId: string;
  let plugins: { connector: typeof hubspot; settings: Record<string, string>; manifest: never; settingStates: never[] }[];

  beforeAll(async () => {
    emulator = await start({ scale: 120, timeScale: 50 });
    db = await openPgliteTestDatabase();
    const [tenant] = await db.sql.query<{ id: string }>(`insert into tenant (slug, name) values ('acme', 'Acme') returning id`);
    tenantId = tenant!.id;
    plugins = [{ connector: hubspot, settings: { ...emulator.settings }, manifest: undefined as never, settingStates: [] }];
  });
  afterAll(async () => {
    await emulator?.stop();
    await db?.close();
  });

  it('installs through authorize, callback state and code exchange, with tokens sealed', async () => {
    const scheduled: string[] = [];
    const installs = createInstallService({ sql: db.sql, plugins, encryptionKey: key, publicUrl, log, scheduleBackfill: (job) => Promise.resolve(void scheduled.push(job.stream)) });
    const began = await installs.begin('hubspot', tenantId);
    const authorize = new URL(began.authorizeUrl);
    expect(authorize.origin + authorize.pathname).toBe(`${emulator.url}/oauth/authorize`);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${publicUrl}/oauth/hubspot/callback`);
    expect(authorize.searchParams.get('scope')).toBe('oauth crm.objects.contacts.read crm.objects.companies.read crm.objects.deals.read tickets');
    const redirect = await fetch(began.authorizeUrl, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const back = new URL(redirect.headers.get('location')!);
    const query = Object.fromEntries(back.searchParams);
    // Another browser (no binding) cannot complete it; the state stays usable for the right one.
    await expect(installs.complete('hubspot', query, undefined)).rejects.toThrow(/another browser session/);
    const done = await installs.complete('hubspot', query, began.browserBinding);
    installationId = done.installationId;
    expect(done.platformAccountId).toBe(String(emulator.portalId));
    expect(scheduled).toEqual(['contacts', 'companies', 'deals', 'tickets', 'calls', 'emails', 'meetings', 'notes', 'tasks']);
    // Single use: the same callback again is refused.
    await expect(installs.complete('hubspot', query, began.browserBinding)).rejects.toThrow(/unknown or already used/);
    const [row] = await db.sql.query<{ sealed_tokens: string; status: string }>(`select sealed_tokens, status from installation where id = $1`, [installationId]);
    expect(row!.status).toBe('active');
    expect(row!.sealed_tokens).not.toMatch(/at-|rt-/);
  });

  it('backfills every stream into canonical records and activities', async () => {
    const services = createSyncServices({ sql: db.sql, plugins, encryptionKey: key, log, leaseMs: 30_000, defaultIncrementalEveryMs: 60_000, timeScale: 50 });
    const summaries = await services.engine.runNow({ installationId });
    expect(summaries.map((s) => s.outcome)).toEqual(Array(9).fill('succeeded'));
    const counts = await db.sql.query<{ object_type: string; live: string; deleted: string }>(
      `select object_type, count(*) filter (where deleted_at is null)::text as live, count(*) filter (where deleted_at is not null)::text as deleted
         from source_record where installation_id = $1 group by 1 order by 1`,
      [installationId],
    );
    const live = Object.fromEntries(counts.map((c) => [c.object_type, Number(c.live)]));
    const portal = emulator.portal;
    const expected = (type: Parameters<typeof portal.ids>[0]) => [...portal.ids(type)].filter((id) => portal.get(type, id)?.archivedAt === null).length;
    expect(live).toEqual({
      contact: expected('contacts'),
      company: expected('companies'),
      deal: expected('deals'),
      ticket: expected('tickets'),
      call: expected('calls'),
      email: expected('emails'),
      meeting: expected('meetings'),
      note: expected('notes'),
      task: expected('tasks'),
    });
    // The survivor of a merge carries the merged id as an alias.
    const [survivor] = await db.sql.query<{ canonical: { persons: { mergedFrom: string[]; email: string }[] } }>(
      `select canonical from source_record where installation_id = $1 and object_type = 'contact' and external_id = '1000052'`,
      [installationId],
    );
    expect(survivor!.canonical.persons[0]!.mergedFrom).toEqual(['1000053']);
  });

  it('serves the card summary only to a request signed with the app secret', async () => {
    const summaries = createSummaryService({ sql: db.sql, keyring: new SubjectKeyring(key), plugins, publicUrl, log });
    const [busiest] = await db.sql.query<{ id: string }>(
      `select subject_external_id as id from activity where installation_id = $1 and subject_object_type = 'contact' group by 1 order by count(*) desc, 1 limit 1`,
      [installationId],
    );
    const url = `${publicUrl}/panels/hubspot/summary?objectType=contact&objectId=${busiest!.id}&portalId=${emulator.portalId}&userId=7&appId=424242`;
    const timestamp = String(Date.now());
    const signed = { method: 'GET', url, rawBody: Buffer.alloc(0), headers: { 'x-hubspot-signature-v3': signatureV3(emulator.settings.HUBSPOT_CLIENT_SECRET!, 'GET', url, '', timestamp), 'x-hubspot-request-timestamp': timestamp } };
    const summary = AccountSummary.parse(JSON.parse(await summaries.forPanel('hubspot', signed)));
    expect(summary.subject.source).toEqual({ platform: 'hubspot', installationId, objectType: 'contact', externalId: busiest!.id });
    expect(summary.timeline.length).toBeGreaterThan(0);
    expect(summary.timeline.every((t) => t.source.platform === 'hubspot')).toBe(true);
    expect(JSON.stringify(summary).length).toBeLessThan(1_000_000);
    await expect(summaries.forPanel('hubspot', { ...signed, url: url.replace('userId=7', 'userId=8') })).rejects.toThrow(/does not match/);
  });
});
