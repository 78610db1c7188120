/**
 * Summary snapshots: a person's summary figures as last computed, kept so a panel view reads one
 * row instead of every activity of the person. A snapshot is used only while it is current:
 * - nothing it was computed from changed since: the triggers of migration 1300 record, per record
 *   and profile, the transactions that wrote activities, source records or identity memberships
 *   (`summary_change`); a snapshot is current while every change to its tokens was visible to its
 *   statement's MVCC snapshot (a write in progress then, or since, makes it out of date);
 * - time alone has not changed a figure (`valid_until`: an activity leaving the period or a
 *   30/90-day window, or a future-dated one entering it), and it is at most a day old;
 * - every subject key its personal texts are sealed under is still there (an erasure destroys one).
 * The sources and open notifications are always read live, in the same statement as the snapshot.
 *
 * The personal texts of the rows shown (and the person's name) are sealed like the activities they
 * come from: AES-256-GCM under each subject key of the rows shown, one layer per key, so
 * destroying any of those keys makes the snapshot unreadable too, in backups as well.
 */
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { LedgerlineError } from '../errors/index.ts';
import type { SubjectKeyring, WrappedSubjectKey } from '../privacy/index.ts';
import type { SqlSession } from '../store/index.ts';
import type { ActivityRow, SummaryFigures, SummaryLive, SummaryParts, SummaryRow } from './summary.ts';
import { notificationsJson, notificationsSince, sourcesJson } from './summary-sql.ts';

type Sql = Pick<SqlSession, 'query'>;

/** Which summary a snapshot is: a person's record in an installation, with a timeline length. */
export interface SnapshotKey {
  readonly tenantId: string;
  readonly installationId: string;
  readonly objectType: string;
  readonly externalId: string;
  readonly limit: number;
}

/** The longest a snapshot is used, even when nothing says it changed. */
const maxAgeMs = 86_400_000;

/**
 * What a snapshot seals: the figures other than the timeline (personal columns dropped) with the
 * alerts' opened texts, then — after a newline, which JSON text never contains — the timeline as
 * the JSON text of its assembled items, so a panel can send it on without parsing it.
 */
interface SealedPart {
  readonly figures: SummaryFigures;
  readonly truncated: boolean;
  /** The alerts' opened texts. */
  readonly texts: readonly (readonly [string, string | null])[];
}

const layerAad = (key: SnapshotKey, keyId: string, layer: number): Buffer =>
  Buffer.from(JSON.stringify(['summary-snapshot/2', key.tenantId, key.installationId, key.objectType, key.externalId, key.limit, keyId, layer]));

/** Deflates, then seals under each key in turn (none: deflated only, for a summary with no rows shown). */
export function sealSnapshot(key: SnapshotKey, plain: string, keys: readonly { id: string; key: KeyObject }[]): Buffer {
  let data = deflateRawSync(Buffer.from(plain, 'utf8'));
  keys.forEach(({ id, key: subjectKey }, layer) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', subjectKey, iv);
    cipher.setAAD(layerAad(key, id, layer));
    const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
    data = Buffer.concat([iv, cipher.getAuthTag(), sealed]);
  });
  return data;
}

export function openSnapshot(key: SnapshotKey, sealed: Buffer, keys: readonly { id: string; key: KeyObject }[]): string {
  let data = sealed;
  for (let layer = keys.length - 1; layer >= 0; layer--) {
    const { id, key: subjectKey } = keys[layer]!;
    try {
      const decipher = createDecipheriv('aes-256-gcm', subjectKey, data.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(layerAad(key, id, layer));
      decipher.setAuthTag(data.subarray(12, 28));
      data = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
    } catch (error) {
      throw new LedgerlineError('LL_INTEGRITY', `the summary snapshot of ${key.objectType} ${key.externalId} failed authentication`, { cause: error });
    }
  }
  return inflateRawSync(data).toString('utf8');
}

/**
 * The condition that snapshot `s` is current as far as changes go: no change to one of its tokens
 * that its statement did not see (`tenant` is the SQL expression of the tenant id).
 */
export const unchangedSince = (tenant: string): string =>
  `not exists (select 1 from summary_change c where c.tenant_id = ${tenant} and c.token = any(s.tokens) and c.xid >= s.computed_xmin and not pg_visible_in_snapshot(c.xid, s.computed_snapshot))`;

/**
 * Serialises storing snapshots (shared) against raising the compaction horizon (exclusive), so no
 * snapshot computed below the horizon is stored after change rows below it may have gone.
 */
export const horizonLock = 0x5eed_5a9e;

/** A snapshot's member records, from the columns of relation `c` (a snapshot row). */
const members = 'unnest(c.member_installations, c.member_types, c.member_ids)';

/** The columns a read gives of snapshot row `c`: the sealed snapshot with its keys, and the live parts. */
const snapshotColumns = (since: string): string => `c.sealed, c.key_ids::text[] as key_ids,
  (select coalesce(json_agg(json_build_object('id', k.id::text, 'wrapped_key', k.wrapped_key)), '[]') from subject_key k
    where k.tenant_id = c.tenant_id and k.id = any(c.key_ids) and k.wrapped_key is not null) as keys,
  ${sourcesJson('c.tenant_id', 'c.installation_id', members)} as sources,
  ${notificationsJson(since, 'c.tenant_id', members)} as notifications`;

const currentColumns = `s.tenant_id, s.installation_id, s.sealed, s.key_ids, s.member_installations, s.member_types, s.member_ids`;

/** A current snapshot with the live parts, in one statement; no row when there is none. */
const readStatement = `
select ${snapshotColumns('$7')}
from (
  select ${currentColumns} from summary_snapshot s
   where s.tenant_id = $1 and s.installation_id = $2 and s.object_type = $3 and s.external_id = $4 and s.timeline_limit = $5 and s.valid_until > $6
     and ${unchangedSince('$1')}
) c`;

/** The active installations of a platform account ($1 platform, $2 account id) with their tenant's slug: how a panel finds where it is installed. */
export const activeInstallationsQuery = `select i.id, i.tenant_id, t.slug from installation i join tenant t on t.id = i.tenant_id
   where i.platform = $1 and i.platform_account_id = $2 and i.status = 'active'`;

/**
 * Panels' reads, many in one statement: for each lookup ($1…$5: platform, account, object type,
 * external id, timeline length, as arrays), the platform account's active installations and, when
 * there is exactly one, its current snapshot of the subject with the live parts. One row per
 * lookup, in order (`n`); the snapshot columns are null on a miss.
 */
const panelReadsStatement = `
select a.n, ins.installations, ${snapshotColumns('$7')}
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) with ordinality as a(platform, account, object_type, external_id, timeline_limit, n)
cross join lateral (
  select coalesce(json_agg(json_build_object('id', i.id::text, 'tenant_id', i.tenant_id::text, 'slug', t.slug)), '[]') as installations,
         count(*) as found, min(i.id::text)::uuid as id, min(i.tenant_id::text)::uuid as tenant_id
    from installation i join tenant t on t.id = i.tenant_id
   where i.platform = a.platform and i.platform_account_id = a.account and i.status = 'active') ins
left join lateral (
  select ${currentColumns} from summary_snapshot s
   where ins.found = 1 and s.tenant_id = ins.tenant_id and s.installation_id = ins.id
     and s.object_type = a.object_type and s.external_id = a.external_id and s.timeline_limit = a.timeline_limit and s.valid_until > $6
     and ${unchangedSince('s.tenant_id')}
) c on true
order by a.n`;

interface ReadRow extends SummaryLive {
  readonly sealed: Buffer;
  readonly key_ids: string[];
  readonly keys: WrappedSubjectKey[];
}

function partsOf(keyring: SubjectKeyring, key: SnapshotKey, row: ReadRow): SummaryParts | null {
  // A key destroyed since (erasure): the snapshot cannot be opened, and must not be.
  if (row.keys.length !== row.key_ids.length) return null;
  const unwrapped = keyring.unwrapAll(key.tenantId, row.keys);
  const keys = row.key_ids.map((id) => ({ id, key: unwrapped.get(id)! }));
  const plain = openSnapshot(key, row.sealed, keys);
  const split = plain.indexOf('\n');
  if (split < 0) throw new LedgerlineError('LL_INTEGRITY', `the summary snapshot of ${key.objectType} ${key.externalId} has no timeline`);
  const part = JSON.parse(plain.slice(0, split)) as SealedPart;
  return { ...part, live: { sources: row.sources, notifications: row.notifications }, names: null, timelineJson: plain.slice(split + 1) };
}

/** The summary parts from a current snapshot, or null (none, out of date, or a key destroyed since). */
export async function readSnapshot(sql: Sql, keyring: SubjectKeyring, key: SnapshotKey, now: Date): Promise<SummaryParts | null> {
  const [row] = await sql.query<ReadRow>(readStatement, [key.tenantId, key.installationId, key.objectType, key.externalId, key.limit, now.toISOString(), notificationsSince(now)], {
    prepared: true,
  });
  return row ? partsOf(keyring, key, row) : null;
}

/** An active installation of a platform account, as a panel finds it. */
export interface PanelInstallation {
  readonly id: string;
  readonly tenant_id: string;
  readonly slug: string;
}

/** What a panel on a person looks up: its subject's snapshot in the platform account's installation. */
export interface PanelLookup {
  readonly platform: string;
  readonly platformAccountId: string;
  readonly objectType: string;
  readonly externalId: string;
  readonly limit: number;
}

/** One lookup's row of `readPanelRows`, as read (the snapshot still sealed). */
export interface PanelRow extends Partial<ReadRow> {
  readonly installations: PanelInstallation[];
}

/** The rows of many panel lookups, in one statement and one round trip, in the lookups' order. */
export function readPanelRows(sql: Sql, lookups: readonly PanelLookup[], now: Date): Promise<PanelRow[]> {
  return sql.query<PanelRow>(
    panelReadsStatement,
    [
      lookups.map((l) => l.platform),
      lookups.map((l) => l.platformAccountId),
      lookups.map((l) => l.objectType),
      lookups.map((l) => l.externalId),
      lookups.map((l) => l.limit),
      now.toISOString(),
      notificationsSince(now),
    ],
    { prepared: true },
  );
}

/**
 * A panel lookup's answer from its row: the platform account's active installations and, when
 * there is exactly one, the parts of its current snapshot of the person (null on a miss).
 */
export function panelSnapshotOf(keyring: SubjectKeyring, lookup: PanelLookup, row: PanelRow): { installations: PanelInstallation[]; parts: SummaryParts | null } {
  const { installations } = row;
  const [only] = installations;
  if (!row.sealed || !row.key_ids || !row.keys || installations.length !== 1 || !only) return { installations, parts: null };
  return {
    installations,
    parts: partsOf(keyring, { tenantId: only.tenant_id, installationId: only.id, objectType: lookup.objectType, externalId: lookup.externalId, limit: lookup.limit }, row as ReadRow),
  };
}

/** Keeps what the summary statement read (a person's summary over the default period) as the subject's snapshot. */
export async function storeSnapshot(sql: SqlSession, keyring: SubjectKeyring, key: SnapshotKey, now: Date, row: SummaryRow, parts: SummaryParts): Promise<void> {
  const keys = [...keyring.unwrapAll(key.tenantId, row.keys)].map(([id, subjectKey]) => ({ id, key: subjectKey })).sort((a, b) => (a.id < b.id ? -1 : 1));
  if (parts.timelineJson === undefined) throw new LedgerlineError('LL_INTERNAL', 'a snapshot is kept with its assembled timeline');
  const shown = parts.figures.timeline.length;
  const withoutPersonal = (r: ActivityRow): ActivityRow => ({ ...r, personal: null, summary: null, actor: null, attributes: {} });
  const f = parts.figures;
  // The figures only (not the statement's other columns), the timeline as its assembled text.
  const figures: SummaryFigures = {
    timeline: [],
    counts: f.counts,
    last_contact: f.last_contact,
    last_activity: f.last_activity,
    frequency: f.frequency,
    money: f.money,
    drivers: f.drivers,
    alerts: f.alerts.map(withoutPersonal),
    tickets_opened: f.tickets_opened,
    cancellations: f.cancellations,
    refunds: f.refunds,
    found: f.found,
    canonical: f.canonical,
  };
  const head = JSON.stringify({ figures, truncated: parts.truncated, texts: parts.texts.slice(shown) } satisfies SealedPart);
  const sealed = sealSnapshot(key, `${head}\n${parts.timelineJson}`, keys);
  const cap = now.getTime() + maxAgeMs;
  const validUntil = new Date(row.valid_until === null ? cap : Math.min(cap, new Date(row.valid_until).getTime()));
  const params = [
    key.tenantId,
    key.installationId,
    key.objectType,
    key.externalId,
    key.limit,
    now.toISOString(),
    row.snapshot,
    validUntil.toISOString(),
    row.tokens,
    row.member_arrays.installations,
    row.member_arrays.types,
    row.member_arrays.ids,
    keys.map((k) => k.id),
    sealed,
  ];
  await sql.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock_shared($1)`, [horizonLock], { prepared: true });
    // Not stored when computed below the horizon: a change it missed may have been compacted away.
    await tx.query(
      `insert into summary_snapshot (tenant_id, installation_id, object_type, external_id, timeline_limit, computed_at, computed_xmin, computed_snapshot, valid_until,
                                     tokens, member_installations, member_types, member_ids, key_ids, sealed)
       select $1, $2, $3, $4, $5, $6, pg_snapshot_xmin($7::pg_snapshot), $7::pg_snapshot, $8, $9::text[], $10::uuid[], $11::text[], $12::text[], $13::uuid[], $14
        where pg_snapshot_xmin($7::pg_snapshot) >= (select xid from summary_horizon)
       on conflict (tenant_id, installation_id, object_type, external_id, timeline_limit) do update
          set computed_at = excluded.computed_at, computed_xmin = excluded.computed_xmin, computed_snapshot = excluded.computed_snapshot,
              valid_until = excluded.valid_until, tokens = excluded.tokens, member_installations = excluded.member_installations,
              member_types = excluded.member_types, member_ids = excluded.member_ids, key_ids = excluded.key_ids, sealed = excluded.sealed`,
      params,
      { prepared: true },
    );
  });
}
