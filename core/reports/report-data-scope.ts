/**
 * Whom a report covers: the whole tenant, a saved segment's customers, or one subject (a person
 * with their merged records and resolved profile; an account with its records and its people, as
 * the summary panel counts them). A narrowed scope is a list of subject records, so every figure
 * filters activities with one hashed semi-join on (installation, object type, external id) instead
 * of computing each activity's customer.
 */
import { LedgerlineError } from '../errors/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import type { ReportSubject } from './report-model.ts';
import type { QueryParams } from './segments.ts';

type Sql = Pick<SqlSession, 'query'>;

export interface MemberRecord {
  readonly installationId: string;
  readonly objectType: string;
  readonly externalId: string;
}

export interface ReportScope {
  /** The subject records whose activities count; null for the whole tenant. */
  readonly members: readonly MemberRecord[] | null;
  /** Their customer keys (tenant metrics, customer lists); null for every customer. */
  readonly customers: readonly string[] | null;
}

export const wholeTenant: ReportScope = { members: null, customers: null };

/** ` and <activity alias> belongs to the scope`, or nothing for the whole tenant. */
export function scopeFilter(scope: ReportScope, params: QueryParams, a = 'a'): string {
  if (scope.members === null) return '';
  const members = scope.members;
  return ` and (${a}.installation_id, ${a}.subject_object_type, ${a}.subject_external_id) in (select * from unnest(${params.add(members.map((m) => m.installationId))}::uuid[], ${params.add(members.map((m) => m.objectType))}::text[], ${params.add(members.map((m) => m.externalId))}::text[]))`;
}

/** `installation/object type/external id` keys name a record; any other key is a profile id. */
export function recordOfKey(key: string): MemberRecord | null {
  const match = /^([0-9a-f-]{36})\/([a-z][a-z0-9_]{0,62})\/(.+)$/.exec(key);
  return match ? { installationId: match[1]!, objectType: match[2]!, externalId: match[3]! } : null;
}

/** The scope of a set of customer keys (a segment): every record of their profiles. */
export async function customersScope(sql: Sql, tenantId: string, customers: readonly string[]): Promise<ReportScope> {
  const records = customers.map(recordOfKey);
  const profiles = customers.filter((_, i) => records[i] === null);
  const resolved = profiles.length === 0 ? [] : await sql.query<{ installation_id: string; object_type: string; external_id: string }>(
    `select installation_id, object_type, external_id from identity_member where tenant_id = $1 and profile_id::text = any($2::text[])`,
    [tenantId, profiles],
  );
  const members = [...records.filter((r): r is MemberRecord => r !== null), ...resolved.map((r) => ({ installationId: r.installation_id, objectType: r.object_type, externalId: r.external_id }))];
  return { members, customers: [...customers] };
}

interface PersonCanonical {
  readonly displayName?: string | null;
  readonly firstName?: string | null;
  readonly lastName?: string | null;
  readonly email?: string | null;
  readonly mergedFrom?: readonly string[];
}

interface RecordRow {
  readonly canonical: { persons?: PersonCanonical[]; accounts?: { name?: string | null }[] } | null;
}

/** How a person reads in a report: display name, else first and last name, else e-mail. */
export function personName(person: PersonCanonical | null | undefined): string | null {
  const full = [person?.firstName, person?.lastName].filter((p) => typeof p === 'string' && p.trim() !== '').join(' ');
  return person?.displayName || full || person?.email || null;
}

const memberRows = (rows: readonly { installation_id: string; object_type: string; external_id: string }[]): MemberRecord[] =>
  rows.map((r) => ({ installationId: r.installation_id, objectType: r.object_type, externalId: r.external_id }));

function unique(members: readonly MemberRecord[]): MemberRecord[] {
  return [...new Map(members.map((m) => [`${m.installationId}/${m.objectType}/${m.externalId}`, m])).values()];
}

/** One subject's scope and how it is named; LL_NOT_FOUND when its record was never synced. */
export async function subjectScope(sql: Sql, tenantId: string, subject: ReportSubject): Promise<{ scope: ReportScope; name: string; email: string | null }> {
  const [own] = await sql.query<RecordRow>(
    `select canonical from source_record where tenant_id = $1 and installation_id = $2 and object_type = $3 and external_id = $4`,
    [tenantId, subject.installationId, subject.objectType, subject.externalId],
  );
  if (!own) throw new LedgerlineError('LL_NOT_FOUND', `${subject.objectType} ${subject.externalId} has not been synced from this installation`, { details: { field: 'subject' } });
  const self: MemberRecord = { installationId: subject.installationId, objectType: subject.objectType, externalId: subject.externalId };
  // The records identity resolution put in the subject's profile, in any installation.
  const profile = memberRows(
    await sql.query(
      `select m.installation_id, m.object_type, m.external_id from identity_member me
         join identity_member m on m.tenant_id = me.tenant_id and m.profile_id = me.profile_id
        where me.tenant_id = $1 and me.installation_id = $2 and me.object_type = $3 and me.external_id = $4`,
      [tenantId, subject.installationId, subject.objectType, subject.externalId],
    ),
  );
  let members: MemberRecord[];
  let name: string;
  let email: string | null = null;
  if (subject.kind === 'person') {
    const person = own.canonical?.persons?.[0];
    const aliases = (person?.mergedFrom ?? []).map((externalId) => ({ ...self, externalId }));
    members = unique([self, ...aliases, ...profile]);
    name = personName(person) ?? `${subject.objectType} ${subject.externalId}`;
    email = person?.email ?? null;
  } else {
    const accounts = unique([self, ...profile]);
    const people = memberRows(
      await sql.query(
        `select r.installation_id, r.object_type, r.external_id from source_record r
           join unnest($2::uuid[], $3::text[], $4::text[]) as a(installation_id, object_type, external_id)
             on r.installation_id = a.installation_id
            and r.canonical -> 'persons' -> 0 -> 'account' ->> 'objectType' = a.object_type
            and r.canonical -> 'persons' -> 0 -> 'account' ->> 'externalId' = a.external_id
          where r.tenant_id = $1 and r.deleted_at is null`,
        [tenantId, accounts.map((a) => a.installationId), accounts.map((a) => a.objectType), accounts.map((a) => a.externalId)],
      ),
    );
    members = unique([...accounts, ...people]);
    name = own.canonical?.accounts?.[0]?.name ?? `${subject.objectType} ${subject.externalId}`;
  }
  const keys = await sql.query<{ customer: string }>(
    `select distinct coalesce(m.profile_id::text, u.installation_id || '/' || u.object_type || '/' || u.external_id) as customer
       from unnest($2::uuid[], $3::text[], $4::text[]) as u(installation_id, object_type, external_id)
       left join identity_member m on m.tenant_id = $1 and m.installation_id = u.installation_id and m.object_type = u.object_type and m.external_id = u.external_id`,
    [tenantId, members.map((m) => m.installationId), members.map((m) => m.objectType), members.map((m) => m.externalId)],
  );
  return { scope: { members, customers: keys.map((k) => k.customer) }, name, email };
}

export interface CustomerProfile {
  readonly name: string;
  readonly email: string | null;
  readonly country: string | null;
}

/**
 * Name, e-mail and country of customers by key, from their person records (a profile reads from
 * its first named record); the country is the person's, else their account's.
 */
export async function customerProfiles(sql: Sql, tenantId: string, customers: readonly string[]): Promise<Map<string, CustomerProfile>> {
  if (customers.length === 0) return new Map();
  const records = customers.map((c) => [c, recordOfKey(c)] as const).filter((e): e is readonly [string, MemberRecord] => e[1] !== null);
  const rows = await sql.query<{ customer: string; person: PersonCanonical | null; country: string | null }>(
    `with record as (
       select k.customer, m.installation_id, m.object_type, m.external_id
         from unnest($2::text[]) as k(customer) join identity_member m on m.tenant_id = $1 and m.profile_id::text = k.customer
       union all
       select * from unnest($3::text[], $4::uuid[], $5::text[], $6::text[])
     )
     select distinct on (rec.customer) rec.customer, r.canonical -> 'persons' -> 0 as person,
            coalesce(nullif(r.canonical -> 'persons' -> 0 ->> 'country', ''), acct.canonical -> 'accounts' -> 0 ->> 'country') as country
       from record rec
       join source_record r on r.tenant_id = $1 and r.installation_id = rec.installation_id and r.object_type = rec.object_type and r.external_id = rec.external_id
       left join source_record acct on acct.tenant_id = $1 and acct.installation_id = r.installation_id
             and acct.object_type = r.canonical -> 'persons' -> 0 -> 'account' ->> 'objectType' and acct.external_id = r.canonical -> 'persons' -> 0 -> 'account' ->> 'externalId'
      where jsonb_typeof(r.canonical -> 'persons' -> 0) = 'object'
      order by rec.customer, (r.canonical -> 'persons' -> 0 ->> 'displayName') is null, r.deleted_at is not null, rec.installation_id, rec.object_type, rec.external_id`,
    [tenantId, customers.filter((c) => recordOfKey(c) === null), records.map(([c]) => c), records.map(([, r]) => r.installationId), records.map(([, r]) => r.objectType), records.map(([, r]) => r.externalId)],
  );
  const found = new Map(rows.map((r) => [r.customer, { name: personName(r.person) ?? keyName(r.customer), email: r.person?.email ?? null, country: r.country }]));
  return new Map(customers.map((c) => [c, found.get(c) ?? { name: keyName(c), email: null, country: null }]));
}

/** A customer without a named record reads as its record (`contact 123`) or its key. */
function keyName(key: string): string {
  const record = recordOfKey(key);
  return record ? `${record.objectType} ${record.externalId}` : key;
}
