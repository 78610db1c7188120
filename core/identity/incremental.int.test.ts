/**
 * Incremental identity resolution, in the database: after any sequence of edits, deletions, new
 * records, erasures and manual merges and splits, resolving only the changed records' components
 * leaves exactly what a full resolution of the same data leaves — memberships, evidence, kept
 * identifiers, profiles, review items, ledger entries — and a change touches no row of an unrelated
 * profile. A full run instead when the change reaches more than half the tenant.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../test/support/database.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { overrideIdentity, resolveTenant, type ResolveTenantOptions } from './identity-store.ts';
import { eraseSubject } from './subject-erasure.ts';

const rules = { maxRecordsPerValue: 3 } as const;

interface Fields {
  readonly email: string | null;
  readonly emailVerified: boolean;
  readonly phone: string | null;
  readonly domain: string | null;
  readonly mergedFrom: readonly string[];
}

/** A record of a small tenant: which installation, person or account, which id, what it holds. */
const recordArb = fc.record({
  installation: fc.integer({ min: 0, max: 1 }),
  kind: fc.constantFrom('person' as const, 'account' as const),
  id: fc.integer({ min: 1, max: 5 }),
  fields: fc.record({
    email: fc.option(fc.constantFrom('a@x.example', 'A@X.example', 'b@x.example', 'c@y.example', 'info@x.example'), { nil: null }),
    emailVerified: fc.boolean(),
    phone: fc.option(fc.constantFrom('+4911', '+4922', '+000'), { nil: null }),
    domain: fc.option(fc.constantFrom('x.example', 'y.example', 'gmail.com'), { nil: null }),
    mergedFrom: fc.array(fc.integer({ min: 1, max: 6 }).map(String), { maxLength: 1 }),
  }),
});
type RecordSpec = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

const changeArb = fc.oneof(
  fc.record({ op: fc.constant('edit' as const), target: fc.nat(), fields: recordArb.map((r) => r.fields) }),
  fc.record({ op: fc.constant('add' as const), record: recordArb }),
  fc.record({ op: fc.constant('delete' as const), target: fc.nat() }),
  fc.record({ op: fc.constant('erase' as const), target: fc.nat() }),
  fc.record({ op: fc.constantFrom('merge' as const, 'split' as const), target: fc.nat(), other: fc.nat() }),
);

const objectType = (kind: 'person' | 'account', installation: number) => (kind === 'person' ? ['contact', 'user'] : ['company', 'organization'])[installation]!;

async function put(sql: SqlSession, tenantId: string, installationId: string, kind: 'person' | 'account', type: string, id: string, f: Fields): Promise<void> {
  const canonical =
    kind === 'person'
      ? { persons: [{ source: { objectType: type, externalId: id }, email: f.email, emailVerified: f.emailVerified, phone: f.phone, displayName: `Person ${id}`, mergedFrom: f.mergedFrom }] }
      : { accounts: [{ source: { objectType: type, externalId: id }, domain: f.domain, name: `Account ${id}`, mergedFrom: f.mergedFrom }] };
  await sql.query(
    `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical) values ($1, $2, $3, $4, 'h', '{}', $5)
     on conflict (installation_id, object_type, external_id) do update set canonical = excluded.canonical, deleted_at = null, last_changed_at = clock_timestamp()`,
    [tenantId, installationId, type, id, JSON.stringify(canonical)],
  );
}

/** Everything a resolution leaves for the tenant, and the ledger entries it appended. */
async function resolveAndRead(tx: SqlSession, tenantId: string, options: ResolveTenantOptions) {
  const [head] = await tx.query<{ seq: string }>(`select coalesce(max(seq), 0)::text as seq from ledger_entry where tenant_id = $1`, [tenantId]);
  const summary = await resolveTenant(tx, tenantId, { ...rules, ...options });
  const read = (q: string) => tx.query(q, [tenantId]);
  return {
    summary,
    stored: {
      members: await read(`select installation_id || '/' || object_type || '/' || external_id as key, kind, profile_id, anchor, rule, evidence from identity_member where tenant_id = $1 order by 1`),
      keys: await read(`select installation_id || '/' || object_type || '/' || external_id as key, kind, rule, value from identity_key where tenant_id = $1 order by 1, 3, 4`),
      reviews: await read(`select kind, rule, value, records, reason, first_seen_at::text from identity_review where tenant_id = $1 order by 1, 2, 3`),
      people: await read(`select id, display_name, primary_email from person where tenant_id = $1 order by id`),
      accounts: await read(`select id, name, domain from account where tenant_id = $1 order by id`),
      state: await read(`select records, profiles, changes_since::text, options_digest from identity_state where tenant_id = $1`),
      ledger: await tx.query(`select kind, body from ledger_entry where tenant_id = $1 and seq > $2::bigint order by seq`, [tenantId, head!.seq]),
    },
  };
}

describeOnTestDatabases('incremental identity resolution', (db) => {
  it('after any sequence of changes, resolving only the changed components leaves exactly what a full resolution leaves', async () => {
    let incremental = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(recordArb, { selector: (r) => `${r.installation}/${r.kind}/${r.id}`, minLength: 3, maxLength: 12 }),
        fc.array(changeArb, { minLength: 1, maxLength: 8 }),
        async (initial, changes) => {
          const sql = db().sql;
          const hub = await seedInstallation(db(), { platform: 'hubspot' });
          const [zen] = await sql.query<{ id: string }>(
            `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', gen_random_uuid()::text, 'Support', 'http://127.0.0.1:9') returning id`,
            [hub.tenantId],
          );
          const t = hub.tenantId;
          const installations = [hub.installationId, zen!.id];
          const keys: string[] = [];
          const add = async (r: RecordSpec) => {
            const type = objectType(r.kind, r.installation);
            await put(sql, t, installations[r.installation]!, r.kind, type, String(r.id), r.fields);
            const key = `${installations[r.installation]}/${type}/${r.id}`;
            if (!keys.includes(key)) keys.push(key);
          };
          for (const r of initial) await add(r);
          expect(await resolveTenant(sql, t, rules)).toMatchObject({ mode: 'full' });

          for (const change of changes) {
            const target = 'target' in change ? keys[change.target % keys.length]! : '';
            const [installationId, type, id] = target.split('/') as [string, string, string];
            if (change.op === 'add') await add(change.record);
            else if (change.op === 'edit') await put(sql, t, installationId, ['contact', 'user'].includes(type) ? 'person' : 'account', type, id, change.fields);
            else if (change.op === 'delete') await sql.query(`update source_record set deleted_at = now(), last_changed_at = clock_timestamp() where tenant_id = $1 and installation_id = $2 and object_type = $3 and external_id = $4`, [t, installationId, type, id]);
            // What an erasure leaves of a record for resolution (eraseSubject itself has its own test below).
            else if (change.op === 'erase') await sql.query(`update source_record set canonical = null, last_changed_at = clock_timestamp() where tenant_id = $1 and installation_id = $2 and object_type = $3 and external_id = $4`, [t, installationId, type, id]);
            else {
              // As `overrideIdentity` keeps it, without resolving at once: the next run must pick it up.
              const [a, b] = [target, keys[change.other % keys.length]!].sort() as [string, string];
              if (a !== b) {
                await sql.query(
                  `insert into identity_override (tenant_id, action, a, b, by) values ($1, $2, $3, $4, 'test')
                   on conflict (tenant_id, a, b) do update set action = excluded.action, created_at = now()`,
                  [t, change.op, a, b],
                );
              }
            }
            // Both runs on the same data: the full one rolled back, the incremental one kept.
            await sql.transaction(async (tx) => {
              await tx.query('savepoint full_run');
              const full = await resolveAndRead(tx, t, { mode: 'full' });
              await tx.query('rollback to savepoint full_run');
              const inc = await resolveAndRead(tx, t, { maxComponentShare: 1 });
              expect(inc.summary.mode).toBe('incremental');
              expect(inc.stored).toEqual(full.stored);
              const { mode: _m, resolved: _r, ...same } = full.summary;
              expect(inc.summary).toMatchObject(same);
              expect(inc.summary.resolved).toBeLessThanOrEqual(full.summary.resolved);
            });
            incremental += 1;
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(incremental).toBeGreaterThan(20);
  }, 120_000);

  it('re-resolves only the component a change reaches: rows of unrelated profiles stay as they were', async () => {
    const sql = db().sql;
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [shop] = await sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'shopify', gen_random_uuid()::text, 'Shop', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    // 150 people, each a HubSpot contact and a Shopify customer sharing an address: 150 profiles of two.
    for (const [installationId, type] of [[hub.installationId, 'contact'], [shop!.id, 'customer']] as const) {
      await sql.query(
        `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical)
         select $1, $2, $3, n::text, 'h', '{}', jsonb_build_object('persons', jsonb_build_array(jsonb_build_object(
                  'source', jsonb_build_object('objectType', $3::text, 'externalId', n::text), 'email', 'p' || n || '@birch.example', 'mergedFrom', '[]'::jsonb)))
           from generate_series(1, 150) as n`,
        [t, installationId, type],
      );
    }
    expect(await resolveTenant(sql, t)).toMatchObject({ mode: 'full', changed: 300, resolved: 300, records: 300, profiles: 150, merged: 150 });
    // A row's xmin is the transaction that wrote it: rewritten rows get a new one.
    const rowVersions = async (table: 'identity_member' | 'identity_key') =>
      new Map(
        (await sql.query<{ row: string; record: string; v: string }>(`select t::text as row, object_type || '/' || external_id as record, xmin::text as v from ${table} t where tenant_id = $1`, [t])).map((r) => [r.row, r]),
      );
    const rewritten = (before: Awaited<ReturnType<typeof rowVersions>>, after: Awaited<ReturnType<typeof rowVersions>>) =>
      [...new Set([...after.values()].filter((r) => before.get(r.row)?.v !== r.v).map((r) => r.record))].sort();
    const membersBefore = await rowVersions('identity_member');
    const keysBefore = await rowVersions('identity_key');

    // Customer 7 changes address: only contact 7 and customer 7 are resolved again, and they split.
    await sql.query(`update source_record set canonical = jsonb_set(canonical, '{persons,0,email}', '"p7.new@birch.example"'), last_changed_at = clock_timestamp() where tenant_id = $1 and installation_id = $2 and external_id = '7'`, [t, shop!.id]);
    expect(await resolveTenant(sql, t)).toEqual({ mode: 'incremental', changed: 1, resolved: 2, records: 300, profiles: 151, merged: 0, split: 1, reviews: 0 });
    const membersAfter = await rowVersions('identity_member');
    expect(rewritten(membersBefore, membersAfter)).toEqual(['contact/7', 'customer/7']);
    expect(rewritten(keysBefore, await rowVersions('identity_key'))).toEqual(['contact/7', 'customer/7']);
    expect(membersAfter.size).toBe(300);

    // Nothing changed: nothing resolved.
    expect(await resolveTenant(sql, t)).toMatchObject({ mode: 'incremental', changed: 0, resolved: 0, records: 300, profiles: 151 });

    // A change reaching more than half the tenant is resolved whole.
    await sql.query(`update source_record set last_changed_at = clock_timestamp() where tenant_id = $1 and external_id::int <= 80`, [t]);
    expect(await resolveTenant(sql, t)).toMatchObject({ mode: 'full', changed: 160, resolved: 300, records: 300, profiles: 151, merged: 0, split: 0 });
  });

  it('picks up a merge decided while a record was deleted when the record comes back', async () => {
    const sql = db().sql;
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [shop] = await sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'shopify', gen_random_uuid()::text, 'Shop', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    const none = { email: null, emailVerified: false, phone: null, domain: null, mergedFrom: [] };
    await put(sql, t, hub.installationId, 'person', 'contact', '1', { ...none, email: 'sam@birch.example' });
    await put(sql, t, shop!.id, 'person', 'customer', '1', { ...none, email: 'samuel@home.example' });
    await put(sql, t, hub.installationId, 'person', 'contact', '2', { ...none, email: 'kai@birch.example' });
    await resolveTenant(sql, t);
    await sql.query(`update source_record set deleted_at = now(), last_changed_at = clock_timestamp() where tenant_id = $1 and external_id = '1' and object_type = 'contact'`, [t]);
    await resolveTenant(sql, t);
    const [contact, customer] = [`${hub.installationId}/contact/1`, `${shop!.id}/customer/1`];
    expect(await overrideIdentity(sql, t, { action: 'merge', records: [contact, customer], by: 'ops@acme.example' })).toMatchObject({ profiles: 2, merged: 0 });
    // Back again: nothing but the decision links it to the customer, who has not changed.
    await put(sql, t, hub.installationId, 'person', 'contact', '1', { ...none, email: 'sam@birch.example' });
    expect(await resolveTenant(sql, t, { maxComponentShare: 1 })).toMatchObject({ mode: 'incremental', changed: 1, resolved: 2, records: 3, profiles: 2, merged: 1 });
    const rules = await sql.query<{ key: string; rule: string | null }>(`select installation_id || '/' || object_type || '/' || external_id as key, rule from identity_member where tenant_id = $1 and external_id = '1'`, [t]);
    expect(rules.map((r) => r.rule).sort()).toEqual(['manual-merge', null]);
  });

  it('keeps no address in clear among the kept identifiers, and drops an erased person at the next run', async () => {
    const sql = db().sql;
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [zen] = await sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', gen_random_uuid()::text, 'Support', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    const none = { email: null, emailVerified: false, phone: null, domain: null, mergedFrom: [] };
    await put(sql, t, hub.installationId, 'person', 'contact', '21', { ...none, email: 'kim@birch.example', phone: '+4930111' });
    await put(sql, t, zen!.id, 'person', 'user', '8', { ...none, email: 'kim@birch.example' });
    await put(sql, t, hub.installationId, 'person', 'contact', '22', { ...none, email: 'pat@birch.example' });
    await resolveTenant(sql, t);
    const kept = async () => JSON.stringify(await sql.query(`select * from identity_key where tenant_id = $1`, [t]));
    expect(await kept()).toMatch(/contact\/21/);
    for (const value of ['kim@birch.example', '+4930111', 'pat@birch.example']) expect(await kept()).not.toContain(value);

    await eraseSubject(sql, t, `${hub.installationId}/contact/21`, 'dpo@acme.example');
    expect(await resolveTenant(sql, t, { maxComponentShare: 1 })).toMatchObject({ mode: 'incremental', changed: 2, resolved: 0, records: 1, profiles: 1, merged: 0, split: 0 });
    expect(await kept()).not.toMatch(/contact\/21|user\/8/);
    expect(await sql.query(`select external_id from identity_member where tenant_id = $1`, [t])).toEqual([{ external_id: '22' }]);
  });
});
