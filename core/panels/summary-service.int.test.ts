/**
 * The summary service as a HubSpot card reaches it (a real signed request, the HubSpot plugin's own
 * verification): a person's summary comes from the snapshot read in the same statement as the
 * portal's installation, is what computing afresh gives, and every answer is on the ledger; the
 * account's installation is found (or refused) the same way on a hit and a miss.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { ingestInto, personActivity, personRecord, unheardBySnapshots } from '../../test/support/records.ts';
import hubspot from '../../plugins/hubspot/index.ts';
import { signatureV3 } from '../../plugins/hubspot/signature.ts';
import type { InboundRequest } from '../contract/index.ts';
import type { SqlSession } from '../store/index.ts';
import { createLogger } from '../log/index.ts';
import { buildSummary } from './summary.ts';
import { createSummaryService } from './summary-service.ts';
import { AccountSummary } from './summary-schema.ts';

const settings = { HUBSPOT_CLIENT_ID: 'test-client', HUBSPOT_CLIENT_SECRET: 'test-card-secret-not-real', HUBSPOT_APP_ID: '424242' };
const publicUrl = 'https://ledgerline.test';
const plugins = [{ connector: hubspot, settings, manifest: undefined as never, settingStates: [] }];

function card(portalId: string, objectType: string, objectId: string): InboundRequest {
  const url = `${publicUrl}/panels/hubspot/summary?objectType=${objectType}&objectId=${objectId}&userId=7&appId=424242&portalId=${portalId}`;
  const timestamp = String(Date.now());
  return { method: 'GET', url, rawBody: Buffer.alloc(0), headers: { 'x-hubspot-signature-v3': signatureV3(settings.HUBSPOT_CLIENT_SECRET, 'GET', url, '', timestamp), 'x-hubspot-request-timestamp': timestamp } };
}

/** An e-mail with a person, written by a rep. */
const note = (id: string, key: string, at: Date, summary: string) => personActivity(id, key, at, summary, { actor: 'Sam Rep' });

describeOnTestDatabases('panel summaries through the summary service', (db) => {
  const service = () => createSummaryService({ sql: db().sql, keyring: testKeyring, plugins, publicUrl, log: createLogger({ level: 'silent', name: 'summary-service-test' }) });
  /** The card's answer as the host receives it: JSON text, checked against the summary schema. */
  const forPanel = async (request: InboundRequest) => AccountSummary.parse(JSON.parse(await service().forPanel('hubspot', request)));
  const views = async (tenantId: string) =>
    (await db().sql.query<{ subject: unknown }>(`select body -> 'subject' as subject from ledger_entry where tenant_id = $1 and kind = 'panel.viewed' order by seq`, [tenantId])).map((r) => r.subject);

  it('answers a person from the snapshot read with the installation, equal to a fresh summary, and records each view', async () => {
    const { tenantId, installationId } = await seedInstallation(db(), { platform: 'hubspot', platformAccountId: '880001' });
    const day = new Date(Date.now() - 3 * 86_400_000);
    await ingestInto(db(), { tenantId, installationId }, [personRecord('501', 'Ada Birch')], [note('501', 'n1', day, 'Ada asked about the renewal')]);
    const first = await forPanel(card('880001', 'contact', '501'));
    const [kept] = await db().sql.query<{ n: number }>(`select count(*)::int as n from summary_snapshot where tenant_id = $1`, [tenantId]);
    expect(kept!.n).toBe(1);
    const second = await forPanel(card('880001', 'contact', '501'));
    const fresh = await buildSummary(db().sql, testKeyring, {
      tenantId,
      installationId,
      subject: { kind: 'person', objectType: 'contact', externalId: '501' },
      reportUrl: second.reportUrl,
      snapshots: false,
      now: new Date(second.generatedAt),
    });
    expect(second).toEqual(fresh);
    expect(second.timeline.map((t) => t.summary)).toEqual(['Ada asked about the renewal']);
    expect(second.reportUrl).toBe(first.reportUrl);
    expect(second.reportUrl).toMatch(new RegExp(`^${publicUrl}/tenants/[^/]+/installations/${installationId}/summaries/person/contact/501$`));
    // Proof the answer is the snapshot: an activity written with the change triggers off is not in it.
    await unheardBySnapshots(db(), () => ingestInto(db(), { tenantId, installationId }, [], [note('501', 'n0', new Date(Date.now() - 5 * 86_400_000), 'Unheard note')]));
    expect((await forPanel(card('880001', 'contact', '501'))).timeline.map((t) => t.summary)).toEqual(['Ada asked about the renewal']);
    // A new activity: the next view computes afresh and shows it, having looked for a snapshot once.
    await ingestInto(db(), { tenantId, installationId }, [], [note('501', 'n2', new Date(Date.now() - 86_400_000), 'Ada renewed')]);
    const statements: string[] = [];
    const recording: SqlSession = {
      query: (text, params, options) => {
        statements.push(text);
        return db().sql.query(text, params, options);
      },
      transaction: (work) => db().sql.transaction(work),
    };
    const answer = await createSummaryService({ sql: recording, keyring: testKeyring, plugins, publicUrl, log: createLogger({ level: 'silent', name: 'summary-service-test' }) }).forPanel('hubspot', card('880001', 'contact', '501'));
    expect(AccountSummary.parse(JSON.parse(answer)).timeline.map((t) => t.summary)).toEqual(['Ada renewed', 'Ada asked about the renewal', 'Unheard note']);
    expect(statements.filter((text) => /summary_snapshot s\b/.test(text))).toHaveLength(1);
    expect((await forPanel(card('880001', 'contact', '501'))).timeline.map((t) => t.summary)).toEqual(['Ada renewed', 'Ada asked about the renewal', 'Unheard note']);
    expect(await views(tenantId)).toEqual(Array.from({ length: 5 }, () => ({ kind: 'person', objectType: 'contact', externalId: '501' })));
  });

  it('reads the views waiting behind one in flight in one statement, each answered with its own subject, tenant or refusal', async () => {
    const one = await seedInstallation(db(), { platform: 'hubspot', platformAccountId: '880011' });
    const two = await seedInstallation(db(), { platform: 'hubspot', platformAccountId: '880012' });
    const day = new Date(Date.now() - 2 * 86_400_000);
    await ingestInto(db(), one, [personRecord('501', 'Ada Birch'), personRecord('502', 'Ben Alder')], [note('501', 'a1', day, 'Ada called'), note('502', 'b1', day, 'Ben wrote')]);
    await ingestInto(db(), two, [personRecord('501', 'Cleo Rowan')], [note('501', 'c1', day, 'Cleo asked for a refund')]);
    // Snapshots for Ada and Cleo (a first view keeps one); Ben's view will be a miss.
    await forPanel(card('880011', 'contact', '501'));
    await forPanel(card('880012', 'contact', '501'));
    const reads: unknown[][] = [];
    const recording: SqlSession = {
      query: (text, params, options) => {
        if (/summary_snapshot s\b/.test(text) && text.includes('with ordinality')) reads.push([...(params?.[3] as string[])]);
        return db().sql.query(text, params, options);
      },
      transaction: (work) => db().sql.transaction(work),
    };
    const batched = createSummaryService({ sql: recording, keyring: testKeyring, plugins, publicUrl, log: createLogger({ level: 'silent', name: 'summary-service-test' }), panelReadsInFlight: 1 });
    const ask = (portal: string, id: string) => batched.forPanel('hubspot', card(portal, 'contact', id)).then((json) => AccountSummary.parse(JSON.parse(json)));
    const [first, ada, cleo, ben, unknown] = await Promise.allSettled([ask('880011', '501'), ask('880011', '501'), ask('880012', '501'), ask('880011', '502'), ask('880404', '501')]);
    expect(reads).toEqual([['501'], ['501', '501', '502', '501']]);
    const timeline = (r: PromiseSettledResult<AccountSummary>): unknown => (r.status === 'fulfilled' ? r.value.timeline.map((t) => t.summary) : r.reason);
    expect([first, ada, cleo, ben].map(timeline)).toEqual([['Ada called'], ['Ada called'], ['Cleo asked for a refund'], ['Ben wrote']]);
    expect(unknown).toMatchObject({ status: 'rejected', reason: { code: 'LL_NOT_FOUND' } });
    expect(cleo.status === 'fulfilled' && cleo.value.reportUrl).toMatch(new RegExp(`/installations/${two.installationId}/summaries/person/contact/501$`));
    expect((await views(one.tenantId)).length).toBe(1 + 3);
    expect((await views(two.tenantId)).length).toBe(1 + 1);
  });

  it('refuses a portal with no active installation, or installed in two tenants, whether or not a snapshot exists', async () => {
    await expect(forPanel(card('880404', 'contact', '501'))).rejects.toMatchObject({ code: 'LL_NOT_FOUND', message: expect.stringMatching(/880404 has no active Ledgerline installation/) });
    const { tenantId } = await seedInstallation(db(), { platform: 'hubspot', platformAccountId: '880001' });
    await expect(forPanel(card('880001', 'contact', '501'))).rejects.toMatchObject({ code: 'LL_CONFLICT', message: expect.stringMatching(/installed in 2 tenants/) });
    await expect(forPanel(card('880001', 'company', '9'))).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    expect(await views(tenantId)).toEqual([]);
  });
});
