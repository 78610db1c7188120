/**
 * Resolves a tenant's identities from what its syncs stored and keeps the result: one row per
 * source record naming its profile, rule and evidence; `person` and `account` rows named by their
 * anchor (the same id every time the same records resolve together); review items; and, on the
 * tenant's ledger, every merge and split with its evidence and every new review item.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import { appendEntries, type LedgerEntryInput } from '../ledger/ledger.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { keyOf, resolveIdentities, type IdentityRecord, type Profile, type ResolveOptions } from './resolve.ts';

interface CanonicalRow {
  installation_id: string;
  object_type: string;
  external_id: string;
  canonical: {
    persons?: { source?: { objectType: string; externalId: string }; email?: string | null; emailVerified?: boolean | null; phone?: string | null; displayName?: string | null; mergedFrom?: string[] }[];
    accounts?: { source?: { objectType: string; externalId: string }; domain?: string | null; name?: string | null; mergedFrom?: string[] }[];
  } | null;
}

/** The profile id: a UUID derived from the tenant and the anchor record, stable across runs. */
export function profileId(tenantId: string, anchor: string): string {
  const h = createHash('sha256').update(`${tenantId}\u0000${anchor}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

export interface ResolveSummary {
  readonly records: number;
  readonly profiles: number;
  readonly merged: number;
  readonly split: number;
  readonly reviews: number;
}

export async function resolveTenant(sql: SqlSession, tenantId: string, options: ResolveOptions = {}): Promise<ResolveSummary> {
  return sql.transaction(async (tx) => {
    // One resolution per tenant at a time, whichever process runs it.
    await tx.query(`select pg_advisory_xact_lock(hashtext('ledgerline:identity:' || $1::text))`, [tenantId]);
    const rows = await tx.query<CanonicalRow>(
      `select installation_id, object_type, external_id, canonical from source_record
        where tenant_id = $1 and deleted_at is null and canonical is not null`,
      [tenantId],
    );
    const names = new Map<string, { displayName: string | null; email: string | null; name: string | null; domain: string | null }>();
    const records: IdentityRecord[] = [];
    for (const row of rows) {
      const key = { installationId: row.installation_id, objectType: row.object_type, externalId: row.external_id };
      const person = row.canonical?.persons?.find((p) => !p.source || (p.source.objectType === row.object_type && p.source.externalId === row.external_id));
      const account = row.canonical?.accounts?.find((a) => !a.source || (a.source.objectType === row.object_type && a.source.externalId === row.external_id));
      if (person) {
        records.push({ key, kind: 'person', email: person.email ?? null, emailVerified: person.emailVerified ?? null, phone: person.phone ?? null, mergedFrom: person.mergedFrom ?? [] });
        names.set(keyOf(key), { displayName: person.displayName ?? null, email: person.email?.trim().toLowerCase() ?? null, name: null, domain: null });
      } else if (account) {
        records.push({ key, kind: 'account', domain: account.domain ?? null, mergedFrom: account.mergedFrom ?? [] });
        names.set(keyOf(key), { displayName: null, email: null, name: account.name ?? null, domain: account.domain ?? null });
      }
    }
    const overrides = await tx.query<{ action: 'merge' | 'split'; a: string; b: string }>(`select action, a, b from identity_override where tenant_id = $1 order by a, b`, [tenantId]);
    const { profiles, reviews } = resolveIdentities(records, {
      ...options,
      manualMerges: overrides.filter((o) => o.action === 'merge').map((o) => [o.a, o.b] as const),
      manualSeparations: overrides.filter((o) => o.action === 'split').map((o) => [o.a, o.b] as const),
    });

    const previous = new Map(
      (await tx.query<{ key: string; profile_id: string }>(`select installation_id || '/' || object_type || '/' || external_id as key, profile_id from identity_member where tenant_id = $1`, [tenantId])).map((r) => [r.key, r.profile_id]),
    );
    // Each profile's id, derived once from its anchor.
    const idOf = new Map(profiles.map((p) => [p.anchor, profileId(tenantId, p.anchor)]));
    const now = new Map<string, string>();
    for (const p of profiles) for (const m of p.members) now.set(m.key, idOf.get(p.anchor)!);

    const entries: LedgerEntryInput[] = [];
    // The ledger names the rule and the records each join came from; the identifier value itself (an
    // email, a phone) stays in identity_member, which an erasure can clear, and never in the chain.
    const evidenceOf = (p: Profile) => p.members.map((m) => ({ record: m.key, ...(m.evidence ? { rule: m.evidence.rule, with: m.evidence.with } : { rule: 'anchor' }) }));
    for (const p of profiles) {
      if (p.members.length < 2) continue;
      const before = new Set(p.members.map((m) => previous.get(m.key) ?? `new:${m.key}`));
      const together = before.size === 1 && !p.members.some((m) => !previous.has(m.key));
      if (!together) entries.push({ kind: 'identity.merged', body: { profileId: idOf.get(p.anchor)!, kind: p.kind, anchor: p.anchor, members: evidenceOf(p) } });
    }
    const previousProfiles = new Map<string, string[]>();
    for (const [key, id] of previous) previousProfiles.set(id, [...(previousProfiles.get(id) ?? []), key]);
    let split = 0;
    for (const [id, members] of previousProfiles) {
      const after = new Set(members.map((m) => now.get(m) ?? 'gone'));
      if (members.length > 1 && after.size > 1) {
        split += 1;
        entries.push({ kind: 'identity.split', body: { profileId: id, into: [...after].sort(), records: members.sort() } });
      }
    }
    const openReviews = new Set((await tx.query<{ id: string }>(`select kind || '|' || rule || '|' || value as id from identity_review where tenant_id = $1`, [tenantId])).map((r) => r.id));
    for (const r of reviews) if (!openReviews.has(`${r.kind}|${r.rule}|${r.value}`)) entries.push({ kind: 'identity.review_opened', body: { kind: r.kind, rule: r.rule, reason: r.reason, records: [...r.records] } });

    await tx.query(`delete from identity_member where tenant_id = $1`, [tenantId]);
    const flat = profiles.flatMap((p) => p.members.map((m) => ({ p, m })));
    for (let i = 0; i < flat.length; i += 5000) {
      const chunk = flat.slice(i, i + 5000);
      await tx.query(
        `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor, rule, evidence)
         select $1, u.installation_id, u.object_type, u.external_id, u.kind, u.profile_id, u.anchor, u.rule, u.evidence
           from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::jsonb[])
             as u(installation_id, object_type, external_id, kind, profile_id, anchor, rule, evidence)`,
        [
          tenantId,
          chunk.map(({ m }) => m.key.split('/')[0]),
          chunk.map(({ m }) => m.key.split('/')[1]),
          chunk.map(({ m }) => m.key.split('/').slice(2).join('/')),
          chunk.map(({ p }) => p.kind),
          chunk.map(({ p }) => idOf.get(p.anchor)!),
          chunk.map(({ p }) => p.anchor),
          chunk.map(({ m }) => m.evidence?.rule ?? null),
          chunk.map(({ m }) => (m.evidence ? JSON.stringify(m.evidence) : null)),
        ],
      );
    }
    // Profiles: named after their anchor record, with the best name and address among the members;
    // written in batches, as a tenant may hold a hundred thousand of them.
    const people = profiles.filter((p) => p.kind === 'person');
    const accounts = profiles.filter((p) => p.kind === 'account');
    await tx.query(`delete from person where tenant_id = $1 and id <> all($2::uuid[])`, [tenantId, people.map((p) => idOf.get(p.anchor)!)]);
    await tx.query(`delete from account where tenant_id = $1 and id <> all($2::uuid[])`, [tenantId, accounts.map((p) => idOf.get(p.anchor)!)]);
    const known = (p: Profile) => p.members.map((m) => names.get(m.key)).filter((n) => n !== undefined);
    for (let i = 0; i < people.length; i += 5000) {
      const chunk = people.slice(i, i + 5000);
      await tx.query(
        `insert into person (id, tenant_id, display_name, primary_email)
         select u.id, $1, u.display_name, u.primary_email from unnest($2::uuid[], $3::text[], $4::text[]) as u(id, display_name, primary_email)
         on conflict (id) do update set display_name = excluded.display_name, primary_email = excluded.primary_email, updated_at = now()`,
        [tenantId, chunk.map((p) => idOf.get(p.anchor)!), chunk.map((p) => known(p).find((n) => n.displayName)?.displayName ?? null), chunk.map((p) => known(p).find((n) => n.email)?.email ?? null)],
      );
    }
    for (let i = 0; i < accounts.length; i += 5000) {
      const chunk = accounts.slice(i, i + 5000);
      await tx.query(
        `insert into account (id, tenant_id, name, domain)
         select u.id, $1, u.name, u.domain from unnest($2::uuid[], $3::text[], $4::text[]) as u(id, name, domain)
         on conflict (id) do update set name = excluded.name, domain = excluded.domain, updated_at = now()`,
        [tenantId, chunk.map((p) => idOf.get(p.anchor)!), chunk.map((p) => known(p).find((n) => n.name)?.name ?? null), chunk.map((p) => known(p).find((n) => n.domain)?.domain ?? null)],
      );
    }
    await tx.query(`delete from identity_review where tenant_id = $1 and kind || '|' || rule || '|' || value <> all($2::text[])`, [tenantId, reviews.map((r) => `${r.kind}|${r.rule}|${r.value}`)]);
    for (const r of reviews) {
      await tx.query(
        `insert into identity_review (tenant_id, kind, rule, value, records, reason) values ($1, $2, $3, $4, $5, $6)
         on conflict (tenant_id, kind, rule, value) do update set records = excluded.records, reason = excluded.reason`,
        [tenantId, r.kind, r.rule, r.value, JSON.stringify(r.records), r.reason],
      );
    }
    await tx.query(
      `insert into identity_state (tenant_id, resolved_at, records, profiles) values ($1, now(), $2, $3)
       on conflict (tenant_id) do update set resolved_at = now(), records = excluded.records, profiles = excluded.profiles`,
      [tenantId, records.length, profiles.length],
    );
    await appendEntries((s, params) => tx.query(s, params), tenantId, entries);
    return { records: records.length, profiles: profiles.length, merged: entries.filter((e) => e.kind === 'identity.merged').length, split, reviews: reviews.length };
  });
}

/** Tenants whose stored records changed since their last resolution (or that were never resolved). */
export async function tenantsToResolve(sql: Pick<SqlSession, 'query'>): Promise<string[]> {
  const rows = await sql.query<{ tenant_id: string }>(
    `select t.id as tenant_id from tenant t left join identity_state s on s.tenant_id = t.id
      where exists (select 1 from source_record r where r.tenant_id = t.id and (s.resolved_at is null or r.last_changed_at > s.resolved_at))
      order by t.id`,
  );
  return rows.map((r) => r.tenant_id);
}

export interface Explanation {
  readonly record: string;
  readonly profileId: string;
  readonly kind: string;
  readonly anchor: string;
  readonly displayName: string | null;
  readonly members: readonly { key: string; rule: string | null; evidence: { rule: string; value: string; with: string } | null }[];
  readonly reviews: readonly { rule: string; value: string; records: string[]; reason: string }[];
}

/** Why a record's profile is what it is: its members, the rule and evidence that joined each, and open reviews. */
export async function explainRecord(sql: Pick<SqlSession, 'query'>, tenantId: string, objectType: string, externalId: string, installationId?: string): Promise<Explanation[]> {
  const found = await sql.query<{ installation_id: string; profile_id: string; kind: string; anchor: string }>(
    `select installation_id, profile_id, kind, anchor from identity_member
      where tenant_id = $1 and object_type = $2 and external_id = $3 and ($4::uuid is null or installation_id = $4) order by installation_id`,
    [tenantId, objectType, externalId, installationId ?? null],
  );
  const out: Explanation[] = [];
  for (const f of found) {
    const members = await sql.query<{ key: string; rule: string | null; evidence: { rule: string; value: string; with: string } | null }>(
      `select installation_id || '/' || object_type || '/' || external_id as key, rule, evidence from identity_member where tenant_id = $1 and profile_id = $2 order by 1`,
      [tenantId, f.profile_id],
    );
    const [profile] = await sql.query<{ name: string | null }>(
      f.kind === 'person' ? `select display_name as name from person where id = $1 and tenant_id = $2` : `select name from account where id = $1 and tenant_id = $2`,
      [f.profile_id, tenantId],
    );
    const keys = members.map((m) => m.key);
    const reviews = await sql.query<{ rule: string; value: string; records: string[]; reason: string }>(
      `select rule, value, records, reason from identity_review where tenant_id = $1 and records ?| $2::text[] order by rule, value`,
      [tenantId, keys],
    );
    out.push({ record: `${f.installation_id}/${objectType}/${externalId}`, profileId: f.profile_id, kind: f.kind, anchor: f.anchor, displayName: profile?.name ?? null, members, reviews });
  }
  return out;
}

/** Re-resolves, every `everyMs`, each tenant whose stored records changed; failures are logged as errors. */
export function scheduleIdentity(sql: SqlSession, everyMs: number, log: Logger): Periodic {
  return runPeriodically('identity resolution', everyMs, log, async (stopping) => {
    for (const tenantId of await tenantsToResolve(sql)) {
      if (stopping()) return;
      const result = await resolveTenant(sql, tenantId);
      log.info({ tenant: tenantId, ...result }, 'identities resolved');
    }
  });
}

/**
 * An admin's merge (these two records are one customer) or split (they are not), kept so every
 * later resolution honours it, recorded on the ledger with who decided and why, and applied at once.
 */
export async function overrideIdentity(
  sql: SqlSession,
  tenantId: string,
  decision: { action: 'merge' | 'split'; records: readonly [string, string]; by: string; reason?: string | null },
): Promise<ResolveSummary> {
  const [x, y] = decision.records;
  if (x === y) throw new LedgerlineError('LL_INVALID_INPUT', 'name two different records', { details: { field: 'records' } });
  const [a, b] = x < y ? [x, y] : [y, x];
  for (const key of [a, b]) {
    const [installationId, objectType, ...rest] = key.split('/');
    const [found] = await sql.query(`select 1 from source_record where tenant_id = $1 and installation_id::text = $2 and object_type = $3 and external_id = $4`, [tenantId, installationId, objectType, rest.join('/')]);
    if (!found) throw new LedgerlineError('LL_NOT_FOUND', `no synced record ${key} in this tenant (give <installation id>/<object type>/<external id>)`, { details: { field: 'records' } });
  }
  await sql.transaction(async (tx) => {
    await tx.query(
      `insert into identity_override (tenant_id, action, a, b, by, reason) values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant_id, a, b) do update set action = excluded.action, by = excluded.by, reason = excluded.reason, created_at = now()`,
      [tenantId, decision.action, a, b, decision.by, decision.reason ?? null],
    );
    await appendEntries((s2, p) => tx.query(s2, p), tenantId, [{ kind: `identity.manual_${decision.action}`, body: { records: [a, b], by: decision.by, reason: decision.reason ?? null } }]);
  });
  return resolveTenant(sql, tenantId);
}

export interface IdentityOverview {
  readonly resolvedAt: string | null;
  readonly records: number;
  readonly profiles: number;
  readonly reviews: readonly { kind: string; rule: string; value: string; records: string[]; reason: string; firstSeenAt: string }[];
  readonly manual: readonly { action: string; a: string; b: string; by: string; reason: string | null; at: string }[];
}

/** What the console shows of a tenant's identities: the last resolution, open review items, manual decisions. */
export async function identityOverview(sql: Pick<SqlSession, 'query'>, tenantId: string): Promise<IdentityOverview> {
  const [state] = await sql.query<{ resolved_at: string; records: number; profiles: number }>(`select resolved_at, records, profiles from identity_state where tenant_id = $1`, [tenantId]);
  const reviews = await sql.query<{ kind: string; rule: string; value: string; records: string[]; reason: string; first_seen_at: string }>(
    `select kind, rule, value, records, reason, first_seen_at from identity_review where tenant_id = $1 order by first_seen_at desc, rule, value limit 500`,
    [tenantId],
  );
  const manual = await sql.query<{ action: string; a: string; b: string; by: string; reason: string | null; created_at: string }>(
    `select action, a, b, by, reason, created_at from identity_override where tenant_id = $1 order by created_at desc limit 200`,
    [tenantId],
  );
  return {
    resolvedAt: state ? new Date(state.resolved_at).toISOString() : null,
    records: state?.records ?? 0,
    profiles: state?.profiles ?? 0,
    reviews: reviews.map((r) => ({ kind: r.kind, rule: r.rule, value: r.value, records: r.records, reason: r.reason, firstSeenAt: new Date(r.first_seen_at).toISOString() })),
    manual: manual.map((m) => ({ action: m.action, a: m.a, b: m.b, by: m.by, reason: m.reason, at: new Date(m.created_at).toISOString() })),
  };
}
