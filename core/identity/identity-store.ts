/**
 * Resolves a tenant's identities from what its syncs stored and keeps the result: one row per
 * source record naming its profile, rule and evidence; the identifiers each record was resolved
 * on, so a later run resolves again only what a change reaches; `person` and `account` rows named
 * by their anchor (the same id every time the same records resolve together); review items; and,
 * on the tenant's ledger, every merge and split with its evidence and every new review item.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import { appendEntries, type LedgerEntryInput } from '../ledger/ledger.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { joinIdentifiers, keyOf, resolveIdentities, type IdentityRecord, type JoinIdentifier, type Profile, type ResolveOptions, type ReviewItem } from './resolve.ts';

interface CanonicalRow {
  installation_id: string;
  object_type: string;
  external_id: string;
  canonical: {
    persons?: { source?: { objectType: string; externalId: string }; email?: string | null; emailVerified?: boolean | null; phone?: string | null; displayName?: string | null; mergedFrom?: string[] }[];
    accounts?: { source?: { objectType: string; externalId: string }; domain?: string | null; name?: string | null; mergedFrom?: string[] }[];
  } | null;
}

interface ProfileNames {
  readonly displayName: string | null;
  readonly email: string | null;
  readonly name: string | null;
  readonly domain: string | null;
}

/** The person or account a stored row is, as the resolver reads it; null when it is neither. */
function identityRecordOf(row: CanonicalRow): { record: IdentityRecord; names: ProfileNames } | null {
  const key = { installationId: row.installation_id, objectType: row.object_type, externalId: row.external_id };
  const person = row.canonical?.persons?.find((p) => !p.source || (p.source.objectType === row.object_type && p.source.externalId === row.external_id));
  const account = row.canonical?.accounts?.find((a) => !a.source || (a.source.objectType === row.object_type && a.source.externalId === row.external_id));
  if (person) {
    return {
      record: { key, kind: 'person', email: person.email ?? null, emailVerified: person.emailVerified ?? null, phone: person.phone ?? null, mergedFrom: person.mergedFrom ?? [] },
      names: { displayName: person.displayName ?? null, email: person.email?.trim().toLowerCase() ?? null, name: null, domain: null },
    };
  }
  if (account) {
    return { record: { key, kind: 'account', domain: account.domain ?? null, mergedFrom: account.mergedFrom ?? [] }, names: { displayName: null, email: null, name: account.name ?? null, domain: account.domain ?? null } };
  }
  return null;
}

/** The profile id: a UUID derived from the tenant and the anchor record, stable across runs. */
export function profileId(tenantId: string, anchor: string): string {
  const h = createHash('sha256').update(`${tenantId}\u0000${anchor}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/**
 * How an identifier is kept in `identity_key`: record keys (upstream merges) as they are; e-mails,
 * phones and domains as a per-tenant digest, since finding who else holds a value needs only
 * equality, and an erasure must not leave an address behind there.
 */
export function storedIdentifier(tenantId: string, id: JoinIdentifier): string {
  return id.rule === 'upstream-merge' ? id.value : createHash('sha256').update(`${tenantId}\u0000${id.value}`).digest('hex');
}

export interface ResolveSummary {
  /** `incremental`: only the changed records' components were resolved; `full`: the whole tenant. */
  readonly mode: 'full' | 'incremental';
  /** Records changed since the last resolution, or named by an admin's merge or split since (on a first run: every record). */
  readonly changed: number;
  /** Records this run resolved. */
  readonly resolved: number;
  /** The tenant's records and profiles after the run. */
  readonly records: number;
  readonly profiles: number;
  readonly merged: number;
  readonly split: number;
  /** The tenant's open review items after the run. */
  readonly reviews: number;
}

export interface ResolveTenantOptions extends ResolveOptions {
  /** `auto` (the default) resolves only the changed records' components when it can; `full` the whole tenant. */
  readonly mode?: 'auto' | 'full';
  /** Changes reaching more than this share of the tenant's records are resolved by a full run (default 0.5; 1 or more: never). */
  readonly maxComponentShare?: number;
}

interface OverrideRow {
  action: 'merge' | 'split';
  a: string;
  b: string;
  /** Decided since the last resolution. */
  fresh: boolean;
}

interface Component {
  readonly keys: ReadonlySet<string>;
  /** The profile each key belonged to at the last resolution. */
  readonly previous: ReadonlyMap<string, string>;
  /** How many of the keys were resolved records at the last resolution. */
  readonly resolvedBefore: number;
}

const batchSize = 5000;

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}

/** Record keys as the three key columns, for `unnest($n::uuid[], $n::text[], $n::text[])`. */
function keyColumns(keys: readonly string[]): [string[], string[], string[]] {
  const parts = keys.map((k) => k.split('/'));
  return [parts.map((p) => p[0]!), parts.map((p) => p[1]!), parts.map((p) => p.slice(2).join('/'))];
}

/** A row's record key in SQL, `<installation id>/<object type>/<external id>`, as `keyOf` writes it. */
const keyText = (t: string): string => `${t}.installation_id || '/' || ${t}.object_type || '/' || ${t}.external_id`;

/** What joins records, besides the options: bumped when a rule is added, so the next run is a full one. */
const ruleSet = 'upstream-merge-events';

/** The rules a run resolved under: under other rules, the identifiers kept from the last run say nothing. */
function rulesDigest(rules: ResolveOptions): string {
  return createHash('sha256').update(JSON.stringify([ruleSet, rules.blockedLocalParts ?? null, rules.blockedDomains ?? null, rules.maxRecordsPerValue ?? null])).digest('hex');
}

/** A verified e-mail joins the same address unverified: looking up either finds both. */
const sameValueRules = (rule: string): string[] => (rule === 'email' || rule === 'verified-email' ? ['email', 'verified-email'] : [rule]);

/** A record a platform merged into another, as a `merged` profile change on the merged record says. */
interface UpstreamMerge {
  /** Record keys (`keyOf`) of the merged record and of its survivor. */
  readonly merged: string;
  readonly survivor: string;
  /** The merged record's external id (same installation and object type as the survivor). */
  readonly mergedId: string;
}

/**
 * Upstream merges reported as events rather than on the surviving record (Zendesk user merges):
 * every `merged` profile change naming `mergedInto`, optionally only those recorded after `since`.
 * The survivor is the record of that id in the same installation and object type.
 */
async function upstreamMerges(tx: SqlSession, tenantId: string, since: string | null): Promise<UpstreamMerge[]> {
  const rows = await tx.query<{ installation_id: string; object_type: string; merged: string; survivor: string }>(
    `select installation_id, subject_object_type as object_type, subject_external_id as merged, attributes ->> 'mergedInto' as survivor
       from activity
      where tenant_id = $1 and kind = 'profile_change' and category = 'merged' and attributes ->> 'mergedInto' is not null
        and ($2::timestamptz is null or recorded_at > $2::timestamptz)`,
    [tenantId, since],
  );
  return rows
    .filter((r) => r.survivor !== r.merged)
    .map((r) => ({
      merged: keyOf({ installationId: r.installation_id, objectType: r.object_type, externalId: r.merged }),
      survivor: keyOf({ installationId: r.installation_id, objectType: r.object_type, externalId: r.survivor }),
      mergedId: r.merged,
    }));
}

/** The records with the ids merged into each survivor added to its `mergedFrom`. */
function withUpstreamMerges(records: readonly IdentityRecord[], merges: readonly UpstreamMerge[]): IdentityRecord[] {
  const into = new Map<string, string[]>();
  for (const m of merges) into.set(m.survivor, [...(into.get(m.survivor) ?? []), m.mergedId]);
  return records.map((r) => {
    const ids = into.get(keyOf(r.key));
    return ids ? { ...r, mergedFrom: [...new Set([...(r.mergedFrom ?? []), ...ids])].sort() } : r;
  });
}

/**
 * The records changed since the last resolution (`since`), with those a newer manual decision
 * names, closed over everything that could join them now or did then: every holder of a value one
 * of them holds now or held at the last resolution (all holders, so counts stay true), every
 * member of a profile one of them was in, and the other record of a manual decision naming one.
 * Nothing outside resolves any differently. Null when it grows past `limit` keys.
 */
async function changedComponent(tx: SqlSession, tenantId: string, rules: ResolveOptions, since: string, overrides: readonly OverrideRow[], limit: number): Promise<{ changed: number; component: Component | null }> {
  // A deleted or erased record holds nothing now, but what it held still leads to whoever it joined.
  const rows = await tx.query<CanonicalRow>(
    `select installation_id, object_type, external_id, case when deleted_at is null then canonical end as canonical
       from source_record where tenant_id = $1 and last_changed_at > $2::timestamptz`,
    [tenantId, since],
  );
  const keys = new Set(rows.map((r) => keyOf({ installationId: r.installation_id, objectType: r.object_type, externalId: r.external_id })));
  for (const o of overrides) if (o.fresh) keys.add(o.a).add(o.b);
  // A merge reported since then joins its two records, whether or not either record changed.
  for (const m of await upstreamMerges(tx, tenantId, since)) keys.add(m.merged).add(m.survivor);
  const changed = keys.size;
  if (changed > limit) return { changed, component: null };
  const decided = new Map<string, string[]>();
  for (const o of overrides) {
    decided.set(o.a, [...(decided.get(o.a) ?? []), o.b]);
    decided.set(o.b, [...(decided.get(o.b) ?? []), o.a]);
  }
  const previous = new Map<string, string>();
  const lookedUp = new Set<string>();
  let resolvedBefore = 0;
  // What changed records hold now; what every record held at the last resolution is in identity_key.
  let values: { rule: string; value: string }[] = rows.flatMap((row) => {
    const now = identityRecordOf(row);
    return now ? joinIdentifiers(now.record, rules).map((id) => ({ rule: id.rule, value: storedIdentifier(tenantId, id) })) : [];
  });
  let frontier = [...keys];
  while (frontier.length > 0) {
    const found = new Set<string>();
    for (const chunk of batches(frontier)) {
      const columns = keyColumns(chunk);
      const held = await tx.query<{ key: string; rule: string; value: string }>(
        `select ${keyText('k')} as key, k.rule, k.value from identity_key k
           join unnest($2::uuid[], $3::text[], $4::text[]) as f(installation_id, object_type, external_id)
             on k.installation_id = f.installation_id and k.object_type = f.object_type and k.external_id = f.external_id
          where k.tenant_id = $1`,
        [tenantId, ...columns],
      );
      for (const h of held) {
        values.push(h);
        if (h.rule === 'upstream-merge' && h.value === h.key) resolvedBefore += 1;
      }
      const peers = await tx.query<{ key: string; profile_id: string }>(
        `select ${keyText('m')} as key, m.profile_id from identity_member m
          where m.tenant_id = $1 and m.profile_id in (
            select p.profile_id from identity_member p
              join unnest($2::uuid[], $3::text[], $4::text[]) as f(installation_id, object_type, external_id)
                on p.installation_id = f.installation_id and p.object_type = f.object_type and p.external_id = f.external_id
             where p.tenant_id = $1)`,
        [tenantId, ...columns],
      );
      for (const p of peers) {
        previous.set(p.key, p.profile_id);
        found.add(p.key);
      }
    }
    for (const k of frontier) for (const other of decided.get(k) ?? []) found.add(other);
    const wanted: { rule: string; value: string }[] = [];
    for (const v of values) {
      for (const rule of sameValueRules(v.rule)) {
        const id = `${rule}\u0000${v.value}`;
        if (!lookedUp.has(id)) wanted.push({ rule, value: v.value });
        lookedUp.add(id);
      }
    }
    values = [];
    for (const chunk of batches(wanted)) {
      const holders = await tx.query<{ key: string }>(
        `select distinct ${keyText('k')} as key from identity_key k
           join unnest($2::text[], $3::text[]) as v(rule, value) on k.rule = v.rule and k.value = v.value
          where k.tenant_id = $1`,
        [tenantId, chunk.map((v) => v.rule), chunk.map((v) => v.value)],
      );
      for (const h of holders) found.add(h.key);
    }
    frontier = [...found].filter((k) => !keys.has(k));
    for (const k of frontier) keys.add(k);
    if (keys.size > limit) return { changed, component: null };
  }
  return { changed, component: { keys, previous, resolvedBefore } };
}

/**
 * Resolves the tenant's identities and keeps the result. After a first run, only what changed is
 * resolved again: the changed records' closed component (see `changedComponent`), its rows
 * replaced and its merges and splits logged exactly as a full run would. A full run instead when
 * the tenant was never resolved (or under other rules), when asked, or when the component would
 * hold more than `maxComponentShare` of the tenant's records.
 */
export async function resolveTenant(sql: SqlSession, tenantId: string, options: ResolveTenantOptions = {}): Promise<ResolveSummary> {
  const { mode = 'auto', maxComponentShare = 0.5, ...rules } = options;
  const digest = rulesDigest(rules);
  return sql.transaction(async (tx) => {
    // One resolution per tenant at a time, whichever process runs it.
    await tx.query(`select pg_advisory_xact_lock(hashtext('ledgerline:identity:' || $1::text))`, [tenantId]);
    // Changes this run may not see carry a stamp after `since`: now, or just before the start of a
    // transaction still open elsewhere (a sync commits its records after stamping them).
    const [mark] = await tx.query<{ since: string }>(
      `select least(now(), (select min(xact_start) - interval '1 microsecond' from pg_stat_activity
                              where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()))::text as since`,
    );
    const [state] = await tx.query<{ records: number; profiles: number; changes_since: string | null; options_digest: string | null }>(
      `select records, profiles, changes_since::text as changes_since, options_digest from identity_state where tenant_id = $1`,
      [tenantId],
    );
    const since = state?.options_digest === digest ? state.changes_since : null;
    const overrides = await tx.query<OverrideRow>(
      `select action, a, b, coalesce(created_at > $2::timestamptz, true) as fresh from identity_override where tenant_id = $1 order by a, b`,
      [tenantId, since],
    );
    const limit = mode === 'full' ? -1 : maxComponentShare >= 1 ? Number.POSITIVE_INFINITY : maxComponentShare * (state?.records ?? 0);
    const found = since !== null ? await changedComponent(tx, tenantId, rules, since, overrides, limit) : null;
    const component = found?.component ?? null;

    let rows: CanonicalRow[] = [];
    if (component) {
      for (const chunk of batches([...component.keys])) {
        const read = await tx.query<CanonicalRow>(
          `select s.installation_id, s.object_type, s.external_id, s.canonical from source_record s
             join unnest($2::uuid[], $3::text[], $4::text[]) as u(installation_id, object_type, external_id)
               on s.installation_id = u.installation_id and s.object_type = u.object_type and s.external_id = u.external_id
            where s.tenant_id = $1 and s.deleted_at is null and s.canonical is not null`,
          [tenantId, ...keyColumns(chunk)],
        );
        rows = rows.concat(read);
      }
    } else {
      rows = await tx.query<CanonicalRow>(`select installation_id, object_type, external_id, canonical from source_record where tenant_id = $1 and deleted_at is null and canonical is not null`, [tenantId]);
    }
    const names = new Map<string, ProfileNames>();
    const read: IdentityRecord[] = [];
    for (const row of rows) {
      const record = identityRecordOf(row);
      if (!record) continue;
      read.push(record.record);
      names.set(keyOf(record.record.key), record.names);
    }
    const records = withUpstreamMerges(read, await upstreamMerges(tx, tenantId, null));
    const touching = component ? overrides.filter((o) => component.keys.has(o.a) || component.keys.has(o.b)) : overrides;
    const { profiles, reviews } = resolveIdentities(records, {
      ...rules,
      manualMerges: touching.filter((o) => o.action === 'merge').map((o) => [o.a, o.b] as const),
      manualSeparations: touching.filter((o) => o.action === 'split').map((o) => [o.a, o.b] as const),
    });
    const previous =
      component?.previous ??
      new Map((await tx.query<{ key: string; profile_id: string }>(`select ${keyText('m')} as key, m.profile_id from identity_member m where m.tenant_id = $1`, [tenantId])).map((r) => [r.key, r.profile_id]));
    // Each profile's id, derived once from its anchor.
    const idOf = new Map(profiles.map((p) => [p.anchor, profileId(tenantId, p.anchor)]));
    const open = new Set(
      (await tx.query<{ id: string }>(`select kind || '|' || rule || '|' || value as id from identity_review where tenant_id = $1 and kind || '|' || rule || '|' || value = any($2::text[])`, [tenantId, reviews.map(reviewId)])).map((r) => r.id),
    );
    const { entries, split } = ledgerEntriesOf(profiles, reviews, previous, idOf, open);

    await keepResolution(tx, tenantId, component, { profiles, reviews, records, names, idOf, previous }, rules);
    const previousProfiles = new Set(previous.values()).size;
    const totals = component && state ? { records: state.records - component.resolvedBefore + records.length, profiles: state.profiles - previousProfiles + profiles.length } : { records: records.length, profiles: profiles.length };
    await tx.query(
      `insert into identity_state (tenant_id, resolved_at, records, profiles, changes_since, options_digest) values ($1, now(), $2, $3, $4::timestamptz, $5)
       on conflict (tenant_id) do update set resolved_at = now(), records = excluded.records, profiles = excluded.profiles, changes_since = excluded.changes_since, options_digest = excluded.options_digest`,
      [tenantId, totals.records, totals.profiles, mark!.since, digest],
    );
    const [openCount] = await tx.query<{ n: number }>(`select count(*)::int as n from identity_review where tenant_id = $1`, [tenantId]);
    await appendEntries((s, params) => tx.query(s, params), tenantId, entries);
    return {
      mode: component ? 'incremental' : 'full',
      changed: found?.changed ?? records.length,
      resolved: records.length,
      ...totals,
      merged: entries.filter((e) => e.kind === 'identity.merged').length,
      split,
      reviews: openCount!.n,
    };
  });
}

const reviewId = (r: ReviewItem): string => `${r.kind}|${r.rule}|${r.value}`;

/**
 * The ledger entries for a resolution, against each record's previous profile: a profile whose
 * members were not already together is a merge, a previous profile now spread over several a
 * split, and a review item not open before is opened. The ledger names the rule and the records
 * each join came from; the identifier value itself (an email, a phone) stays in identity_member,
 * which an erasure can clear, and never in the chain.
 */
function ledgerEntriesOf(profiles: readonly Profile[], reviews: readonly ReviewItem[], previous: ReadonlyMap<string, string>, idOf: ReadonlyMap<string, string>, open: ReadonlySet<string>): { entries: LedgerEntryInput[]; split: number } {
  const now = new Map<string, string>();
  for (const p of profiles) for (const m of p.members) now.set(m.key, idOf.get(p.anchor)!);
  const entries: LedgerEntryInput[] = [];
  const evidenceOf = (p: Profile) => p.members.map((m) => ({ record: m.key, ...(m.evidence ? { rule: m.evidence.rule, with: m.evidence.with } : { rule: 'anchor' }) }));
  for (const p of profiles) {
    if (p.members.length < 2) continue;
    const before = new Set(p.members.map((m) => previous.get(m.key) ?? `new:${m.key}`));
    const together = before.size === 1 && !p.members.some((m) => !previous.has(m.key));
    if (!together) entries.push({ kind: 'identity.merged', body: { profileId: idOf.get(p.anchor)!, kind: p.kind, anchor: p.anchor, members: evidenceOf(p) } });
  }
  // In key order, so a full and an incremental run log the same splits in the same order.
  const previousProfiles = new Map<string, string[]>();
  for (const key of [...previous.keys()].sort()) {
    const id = previous.get(key)!;
    previousProfiles.set(id, [...(previousProfiles.get(id) ?? []), key]);
  }
  let split = 0;
  for (const [id, members] of previousProfiles) {
    const after = new Set(members.map((m) => now.get(m) ?? 'gone'));
    if (members.length > 1 && after.size > 1) {
      split += 1;
      entries.push({ kind: 'identity.split', body: { profileId: id, into: [...after].sort(), records: members } });
    }
  }
  for (const r of reviews) if (!open.has(reviewId(r))) entries.push({ kind: 'identity.review_opened', body: { kind: r.kind, rule: r.rule, reason: r.reason, records: [...r.records] } });
  return { entries, split };
}

/**
 * Replaces the stored resolution of the whole tenant (`component` null) or of one closed
 * component: membership, identifiers, profiles and review items, in set-based batches.
 */
async function keepResolution(
  tx: SqlSession,
  tenantId: string,
  component: Component | null,
  result: { profiles: readonly Profile[]; reviews: readonly ReviewItem[]; records: readonly IdentityRecord[]; names: ReadonlyMap<string, ProfileNames>; idOf: ReadonlyMap<string, string>; previous: ReadonlyMap<string, string> },
  rules: ResolveOptions,
): Promise<void> {
  const { profiles, reviews, records, names, idOf } = result;
  const flat = profiles.flatMap((p) => p.members.map((m) => ({ p, m })));
  if (component) {
    await deleteByRecord(tx, 'identity_member', tenantId, [...new Set([...component.keys, ...flat.map(({ m }) => m.key)])]);
    await deleteByRecord(tx, 'identity_key', tenantId, [...component.keys]);
  } else {
    await tx.query(`delete from identity_member where tenant_id = $1`, [tenantId]);
    await tx.query(`delete from identity_key where tenant_id = $1`, [tenantId]);
  }
  for (const chunk of batches(flat)) {
    const [installations, objectTypes, externalIds] = keyColumns(chunk.map(({ m }) => m.key));
    await tx.query(
      `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor, rule, evidence)
       select $1, u.installation_id, u.object_type, u.external_id, u.kind, u.profile_id, u.anchor, u.rule, u.evidence
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::jsonb[])
           as u(installation_id, object_type, external_id, kind, profile_id, anchor, rule, evidence)`,
      [
        tenantId,
        installations,
        objectTypes,
        externalIds,
        chunk.map(({ p }) => p.kind),
        chunk.map(({ p }) => idOf.get(p.anchor)!),
        chunk.map(({ p }) => p.anchor),
        chunk.map(({ m }) => m.evidence?.rule ?? null),
        chunk.map(({ m }) => (m.evidence ? JSON.stringify(m.evidence) : null)),
      ],
    );
  }
  const held = records.flatMap((r) => joinIdentifiers(r, rules).map((id) => ({ key: keyOf(r.key), kind: r.kind, rule: id.rule, value: storedIdentifier(tenantId, id) })));
  for (const chunk of batches(held)) {
    await tx.query(
      `insert into identity_key (tenant_id, kind, rule, value, installation_id, object_type, external_id)
       select $1, u.kind, u.rule, u.value, u.installation_id, u.object_type, u.external_id
         from unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[]) as u(kind, rule, value, installation_id, object_type, external_id)`,
      [tenantId, chunk.map((h) => h.kind), chunk.map((h) => h.rule), chunk.map((h) => h.value), ...keyColumns(chunk.map((h) => h.key))],
    );
  }

  // Profiles: named after their anchor record, with the best name and address among the members;
  // written in batches, as a tenant may hold a hundred thousand of them.
  const people = profiles.filter((p) => p.kind === 'person');
  const accounts = profiles.filter((p) => p.kind === 'account');
  if (component) {
    const kept = new Set(idOf.values());
    const gone = [...new Set(result.previous.values())].filter((id) => !kept.has(id));
    await tx.query(`delete from person where tenant_id = $1 and id = any($2::uuid[])`, [tenantId, gone]);
    await tx.query(`delete from account where tenant_id = $1 and id = any($2::uuid[])`, [tenantId, gone]);
  } else {
    await tx.query(`delete from person where tenant_id = $1 and id <> all($2::uuid[])`, [tenantId, people.map((p) => idOf.get(p.anchor)!)]);
    await tx.query(`delete from account where tenant_id = $1 and id <> all($2::uuid[])`, [tenantId, accounts.map((p) => idOf.get(p.anchor)!)]);
  }
  const known = (p: Profile) => p.members.map((m) => names.get(m.key)).filter((n) => n !== undefined);
  for (const chunk of batches(people)) {
    await tx.query(
      `insert into person (id, tenant_id, display_name, primary_email)
       select u.id, $1, u.display_name, u.primary_email from unnest($2::uuid[], $3::text[], $4::text[]) as u(id, display_name, primary_email)
       on conflict (id) do update set display_name = excluded.display_name, primary_email = excluded.primary_email, updated_at = now()`,
      [tenantId, chunk.map((p) => idOf.get(p.anchor)!), chunk.map((p) => known(p).find((n) => n.displayName)?.displayName ?? null), chunk.map((p) => known(p).find((n) => n.email)?.email ?? null)],
    );
  }
  for (const chunk of batches(accounts)) {
    await tx.query(
      `insert into account (id, tenant_id, name, domain)
       select u.id, $1, u.name, u.domain from unnest($2::uuid[], $3::text[], $4::text[]) as u(id, name, domain)
       on conflict (id) do update set name = excluded.name, domain = excluded.domain, updated_at = now()`,
      [tenantId, chunk.map((p) => idOf.get(p.anchor)!), chunk.map((p) => known(p).find((n) => n.name)?.name ?? null), chunk.map((p) => known(p).find((n) => n.domain)?.domain ?? null)],
    );
  }

  // Review items: those of the records resolved that no longer hold go; the rest keep when they were first seen.
  const ids = reviews.map(reviewId);
  if (component) {
    for (const chunk of batches([...component.keys])) {
      await tx.query(`delete from identity_review where tenant_id = $1 and records ?| $2::text[] and kind || '|' || rule || '|' || value <> all($3::text[])`, [tenantId, chunk, ids]);
    }
  } else {
    await tx.query(`delete from identity_review where tenant_id = $1 and kind || '|' || rule || '|' || value <> all($2::text[])`, [tenantId, ids]);
  }
  for (const chunk of batches(reviews)) {
    await tx.query(
      `insert into identity_review (tenant_id, kind, rule, value, records, reason)
       select $1, u.kind, u.rule, u.value, u.records, u.reason from unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[]) as u(kind, rule, value, records, reason)
       on conflict (tenant_id, kind, rule, value) do update set records = excluded.records, reason = excluded.reason`,
      [tenantId, chunk.map((r) => r.kind), chunk.map((r) => r.rule), chunk.map((r) => r.value), chunk.map((r) => JSON.stringify(r.records)), chunk.map((r) => r.reason)],
    );
  }
}

/** Deletes a tenant's rows of these records from a table keyed by record. */
async function deleteByRecord(tx: SqlSession, table: 'identity_member' | 'identity_key', tenantId: string, keys: readonly string[]): Promise<void> {
  for (const chunk of batches(keys)) {
    await tx.query(
      `delete from ${table} t using unnest($2::uuid[], $3::text[], $4::text[]) as u(installation_id, object_type, external_id)
        where t.tenant_id = $1 and t.installation_id = u.installation_id and t.object_type = u.object_type and t.external_id = u.external_id`,
      [tenantId, ...keyColumns(chunk)],
    );
  }
}

/** Tenants whose stored records changed since their last resolution (or that were never resolved). */
export async function tenantsToResolve(sql: Pick<SqlSession, 'query'>): Promise<string[]> {
  const rows = await sql.query<{ tenant_id: string }>(
    `select t.id as tenant_id from tenant t left join identity_state s on s.tenant_id = t.id
      where exists (select 1 from source_record r where r.tenant_id = t.id and (s.resolved_at is null or r.last_changed_at > coalesce(s.changes_since, s.resolved_at)))
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

const article = (kind: string): string => (kind === 'account' ? 'an account' : 'a person');

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
  const kinds: (string | null)[] = [];
  for (const key of [a, b]) {
    const [installationId, objectType, ...rest] = key.split('/');
    const [found] = await sql.query<CanonicalRow>(
      `select installation_id, object_type, external_id, canonical from source_record where tenant_id = $1 and installation_id::text = $2 and object_type = $3 and external_id = $4`,
      [tenantId, installationId, objectType, rest.join('/')],
    );
    if (!found) throw new LedgerlineError('LL_NOT_FOUND', `no synced record ${key} in this tenant (give <installation id>/<object type>/<external id>)`, { details: { field: 'records' } });
    kinds.push(identityRecordOf(found)?.record.kind ?? null);
  }
  if (decision.action === 'merge' && kinds[0] && kinds[1] && kinds[0] !== kinds[1]) {
    throw new LedgerlineError('LL_INVALID_INPUT', `${a} is ${article(kinds[0])} and ${b} is ${article(kinds[1])}: a person and an account cannot be one profile`, { details: { field: 'records' } });
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
