/**
 * The large tenant the panel and report benchmarks measure against: 10,000 companies, their people
 * on HubSpot, Shopify and Zendesk, ~1,000,000 activities over 13 months, identity profiles for a
 * share of the people, and fresh sync states. It is written through the real ingest path
 * (`ingestBatch`: personal fields sealed, every activity on the ledger), which takes minutes at
 * full size, so a PostgreSQL database keeps it: a later run with the same sizes finds the tenant
 * (slug `bench-large`, sizes in the `bench_large_tenant` marker table) and reuses it.
 *
 * Where: `--database-url` as given; else the database `ledgerline_bench_large` on the DATABASE_URL
 * server (created when missing); else embedded PGlite in memory (seeded every run).
 */
import pg from 'pg';
import { z } from 'zod';
import { SubjectKeyring } from '../../core/privacy/index.ts';
import { ingestBatch, openDatabase, type Database, type IngestSourceRecord } from '../../core/store/index.ts';
import type { ActivityRecord } from '../../core/model/index.ts';
import { benchAccounts, benchActivity, benchPersons, benchPlatforms, benchSourceRecords, largeTenantSeed, type BenchPerson, type BenchPlatform } from './large-tenant-data.ts';

export const largeTenantSlug = 'bench-large';
/** The master key the tenant's subject keys are wrapped under: fixed, so a reused tenant can still be read. */
export const largeTenantKeyring = new SubjectKeyring(Buffer.alloc(32, 21));
export const hubspotPortalId = '77000001';

/** The command-line options both benchmarks share (for `parseArgs`). */
export const largeTenantArgs = {
  activities: { type: 'string', default: '1000000' },
  accounts: { type: 'string', default: '10000' },
  fresh: { type: 'boolean', default: false },
  'database-url': { type: 'string' },
} as const;

const LargeTenantOptions = z.object({
  activities: z.coerce.number().int().min(1000).max(20_000_000),
  accounts: z.coerce.number().int().min(10).max(1_000_000),
  fresh: z.boolean(),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').nullable(),
});
export type LargeTenantOptions = z.infer<typeof LargeTenantOptions>;

export function largeTenantOptions(values: { activities?: string; accounts?: string; fresh?: boolean; 'database-url'?: string }): LargeTenantOptions {
  return LargeTenantOptions.parse({ activities: values.activities, accounts: values.accounts, fresh: values.fresh ?? false, databaseUrl: values['database-url'] ?? null });
}

export interface LargeTenant {
  readonly db: Database;
  readonly tenantId: string;
  readonly installations: Readonly<Record<BenchPlatform, string>>;
  readonly persons: readonly BenchPerson[];
  readonly activities: number;
  readonly accounts: number;
  /** Which engine, for the result line. */
  readonly database: string;
  readonly reused: boolean;
}

type Say = (text: string) => void;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates the database named in `url` on its server when it does not exist yet. */
async function ensureDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bench database name must be a plain lower-case identifier, got ${JSON.stringify(name)}`);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query(`select 1 from pg_database where datname = $1`, [name]);
    if (found.rowCount === 0) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
}

async function openBenchDatabase(options: LargeTenantOptions): Promise<{ db: Database; label: string }> {
  const url = options.databaseUrl ?? (process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'ledgerline_bench_large') : null);
  if (url === null) {
    const db = await openDatabase({ inMemory: true });
    await db.migrate();
    return { db, label: 'embedded PGlite' };
  }
  await ensureDatabase(url);
  const db = await openDatabase({ databaseUrl: url });
  await db.migrate();
  return { db, label: `PostgreSQL (${new URL(url).pathname.slice(1)})` };
}

const markerTable = `create table if not exists bench_large_tenant (
  slug text primary key, tenant_id uuid not null, accounts integer not null, activities integer not null,
  seed integer not null, completed_at timestamptz null)`;

/** The tenant a previous run completed with these sizes, if any. */
async function reusableTenant(db: Database, options: LargeTenantOptions): Promise<string | null> {
  await db.sql.query(markerTable);
  const [marker] = await db.sql.query<{ tenant_id: string; accounts: number; activities: number; seed: number; completed_at: string | null }>(
    `select m.tenant_id, m.accounts, m.activities, m.seed, m.completed_at from bench_large_tenant m join tenant t on t.id = m.tenant_id and t.slug = m.slug where m.slug = $1`,
    [largeTenantSlug],
  );
  const same = marker && marker.completed_at !== null && marker.accounts === options.accounts && marker.activities === options.activities && marker.seed === largeTenantSeed;
  return same && !options.fresh ? marker.tenant_id : null;
}

/**
 * Activities and ledger entries cannot be deleted (append-only), so an outdated tenant is retired
 * instead: renamed, its installations uninstalled, so panels no longer find it.
 */
async function retireOldTenant(db: Database, say: Say): Promise<void> {
  const retiredSlug = `${largeTenantSlug}-retired-${Date.now().toString(36)}`;
  const retired = await db.sql.query<{ id: string }>(`update tenant set slug = $2 where slug = $1 returning id`, [largeTenantSlug, retiredSlug]);
  for (const { id } of retired) {
    await db.sql.query(`update installation set status = 'uninstalled', uninstalled_at = now() where tenant_id = $1`, [id]);
    say(`  retired the previous ${largeTenantSlug} tenant as ${retiredSlug}`);
  }
  await db.sql.query(`delete from bench_large_tenant where slug = $1`, [largeTenantSlug]);
}

async function createTenant(db: Database, options: LargeTenantOptions): Promise<{ tenantId: string; installations: Record<BenchPlatform, string> }> {
  return db.sql.transaction(async (tx) => {
    const [tenant] = await tx.query<{ id: string }>(`insert into tenant (slug, name) values ($1, 'Bench Large Co') returning id`, [largeTenantSlug]);
    const tenantId = tenant!.id;
    const rows = await tx.query<{ id: string; platform: BenchPlatform }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url)
       select $1, u.platform, u.account, u.name, 'http://127.0.0.1:9'
         from unnest($2::text[], $3::text[], $4::text[]) as u(platform, account, name)
       returning id, platform`,
      [tenantId, ['hubspot', 'shopify', 'zendesk'], [hubspotPortalId, 'bench-large-shop', 'bench-large-support'], ['Bench HubSpot', 'Bench Shop', 'Bench Support']],
    );
    const installations = Object.fromEntries(rows.map((r) => [r.platform, r.id])) as Record<BenchPlatform, string>;
    await tx.query(`insert into bench_large_tenant (slug, tenant_id, accounts, activities, seed) values ($1, $2, $3, $4, $5)`, [largeTenantSlug, tenantId, options.accounts, options.activities, largeTenantSeed]);
    return { tenantId, installations };
  });
}

async function ingest(db: Database, tenantId: string, installationId: string, sourceRecords: readonly IngestSourceRecord[], activities: readonly ActivityRecord[]): Promise<void> {
  await db.sql.transaction((tx) => ingestBatch((sql, params) => tx.query(sql, params), { tenantId, installationId, sourceRecords, activities, keyring: largeTenantKeyring }));
}

async function seed(db: Database, tenantId: string, installations: Record<BenchPlatform, string>, persons: readonly BenchPerson[], options: LargeTenantOptions, say: Say): Promise<void> {
  const started = performance.now();
  const records = benchSourceRecords(benchAccounts(options.accounts), persons);
  for (const platform of benchPlatforms) {
    for (let from = 0; from < records[platform].length; from += 2000) await ingest(db, tenantId, installations[platform], records[platform].slice(from, from + 2000), []);
  }
  say(`  ${Object.values(records).reduce((n, r) => n + r.length, 0).toLocaleString('en-US')} source records in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const chunk = 15_000;
  for (let from = 0; from < options.activities; from += chunk) {
    const byPlatform = new Map<BenchPlatform, ActivityRecord[]>(benchPlatforms.map((p) => [p, []]));
    for (let i = from; i < Math.min(options.activities, from + chunk); i++) {
      const { platform, activity } = benchActivity(i, persons);
      byPlatform.get(platform)!.push(activity);
    }
    for (const [platform, activities] of byPlatform) await ingest(db, tenantId, installations[platform], [], activities);
    const done = Math.min(options.activities, from + chunk);
    if (done % 105_000 === 0 || done === options.activities) {
      const seconds = (performance.now() - started) / 1000;
      say(`  ${done.toLocaleString('en-US')} activities after ${seconds.toFixed(0)} s (${Math.round(done / seconds).toLocaleString('en-US')}/s)`);
    }
  }

  // Identity resolution's outcome for the people it linked (one profile across their records).
  const members = persons.flatMap((p) =>
    p.profileId === null
      ? []
      : [
          [installations.hubspot, 'contact', p.contactId, p.profileId],
          ...(p.shopifyId ? [[installations.shopify, 'customer', p.shopifyId, p.profileId]] : []),
          ...(p.zendeskId ? [[installations.zendesk, 'user', p.zendeskId, p.profileId]] : []),
        ],
  );
  await db.sql.query(
    `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor, rule)
     select $1, u.installation_id, u.object_type, u.external_id, 'person', u.profile_id, 'email', 'email'
       from unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[]) as u(installation_id, object_type, external_id, profile_id)`,
    [tenantId, members.map((m) => m[0]), members.map((m) => m[1]), members.map((m) => m[2]), members.map((m) => m[3])],
  );
  const streams: Record<BenchPlatform, string[]> = { hubspot: ['contacts', 'companies', 'calls', 'emails', 'meetings', 'notes'], shopify: ['customers', 'orders'], zendesk: ['users', 'tickets'] };
  const states = benchPlatforms.flatMap((p) => streams[p].map((stream) => [installations[p], stream]));
  await db.sql.query(
    `insert into sync_state (installation_id, stream, tenant_id, status) select u.installation_id, u.stream, $1, 'idle' from unnest($2::uuid[], $3::text[]) as u(installation_id, stream)`,
    [tenantId, states.map((s) => s[0]), states.map((s) => s[1])],
  );
  // What autovacuum would soon do after a bulk load: hint bits, visibility map, statistics.
  for (const table of ['activity', 'source_record', 'identity_member', 'subject_key', 'ledger_entry']) await db.sql.query(`vacuum (analyze) ${table}`);
  await db.sql.query(`update bench_large_tenant set completed_at = now() where slug = $1 and tenant_id = $2`, [largeTenantSlug, tenantId]);
  say(`  seeded in ${((performance.now() - started) / 1000).toFixed(0)} s; ${members.length.toLocaleString('en-US')} identity members`);
}

/** Opens the large tenant, seeding it first unless a completed one of the same sizes is there. */
export async function openLargeTenant(options: LargeTenantOptions, say: Say): Promise<LargeTenant> {
  const { db, label } = await openBenchDatabase(options);
  try {
    const persons = benchPersons(benchAccounts(options.accounts));
    let tenantId = await reusableTenant(db, options);
    const reused = tenantId !== null;
    let installations: Record<BenchPlatform, string>;
    if (tenantId !== null) {
      const rows = await db.sql.query<{ id: string; platform: BenchPlatform }>(`select id, platform from installation where tenant_id = $1 and status = 'active'`, [tenantId]);
      installations = Object.fromEntries(rows.map((r) => [r.platform, r.id])) as Record<BenchPlatform, string>;
      say(`large tenant: reusing ${options.accounts.toLocaleString('en-US')} accounts, ${options.activities.toLocaleString('en-US')} activities on ${label} (--fresh reseeds)`);
    } else {
      say(`large tenant: seeding ${options.accounts.toLocaleString('en-US')} accounts, ${persons.length.toLocaleString('en-US')} people, ${options.activities.toLocaleString('en-US')} activities on ${label}`);
      await retireOldTenant(db, say);
      ({ tenantId, installations } = await createTenant(db, options));
      await seed(db, tenantId, installations, persons, options, say);
    }
    // The syncs count as current: reports refuse data older than their freshness window.
    await db.sql.query(`update sync_state set last_success_at = now() - interval '20 minutes', run_finished_at = now() - interval '20 minutes' where tenant_id = $1`, [tenantId]);
    return { db, tenantId, installations, persons, activities: options.activities, accounts: options.accounts, database: label, reused };
  } catch (error) {
    await db.close();
    throw error;
  }
}
