/**
 * Deterministic identity resolution: which source records (across every installation of a tenant)
 * are one person, or one account.
 *
 * Records are joined by identifiers, strongest first: the platform's own merges (a merged-away
 * record is an alias of its survivor), then verified e-mail, e-mail, E.164 phone for people, and
 * domain for accounts. Values that identify nobody are blocked (empty, `null`, `anonymous`, all
 * zeros, shared role addresses such as `info@`, free-mail domains for accounts), and a value held
 * by more than `maxRecordsPerValue` records identifies nobody either. A join that would put two
 * records of the same installation and object type into one profile — the platform itself keeps
 * them apart — is not made: it becomes a review item instead.
 *
 * The result does not depend on the order records arrive in: joins are tried in one fixed order
 * (rule, value, record keys), each profile is named by its smallest record key, and each member's
 * evidence is the first join (in that order) that brought it in.
 */

export type IdentityKind = 'person' | 'account';
export type IdentifierType = 'manual-merge' | 'upstream-merge' | 'verified-email' | 'email' | 'phone' | 'domain';

export interface RecordKey {
  readonly installationId: string;
  readonly objectType: string;
  readonly externalId: string;
}

export interface IdentityRecord {
  readonly key: RecordKey;
  readonly kind: IdentityKind;
  readonly email?: string | null;
  readonly emailVerified?: boolean | null;
  readonly phone?: string | null;
  readonly domain?: string | null;
  /** External ids (same installation and object type) the platform merged into this record. */
  readonly mergedFrom?: readonly string[];
}

export interface ResolveOptions {
  /** Record-key pairs an admin merged by hand: joined first, whatever else says. */
  readonly manualMerges?: readonly (readonly [string, string])[];
  /** Record-key pairs an admin separated by hand: no join may put them into one profile. */
  readonly manualSeparations?: readonly (readonly [string, string])[];
  readonly blockedLocalParts?: readonly string[];
  readonly blockedDomains?: readonly string[];
  readonly maxRecordsPerValue?: number;
}

export interface Evidence {
  readonly rule: IdentifierType;
  readonly value: string;
  /** The record the member was joined to. */
  readonly with: string;
}

export interface Profile {
  readonly kind: IdentityKind;
  /** The smallest member key: the profile's stable name. */
  readonly anchor: string;
  readonly members: readonly { readonly key: string; readonly evidence: Evidence | null }[];
}

export interface ReviewItem {
  readonly kind: IdentityKind;
  readonly rule: IdentifierType;
  readonly value: string;
  readonly records: readonly string[];
  readonly reason: string;
}

export const defaultBlockedLocalParts = ['info', 'support', 'sales', 'admin', 'contact', 'hello', 'office', 'noreply', 'no-reply', 'team', 'billing', 'help'];
export const defaultBlockedDomains = ['gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'yahoo.com', 'icloud.com', 'gmx.de', 'web.de', 'proton.me', 'example.com'];
const blockedValues = new Set(['', 'null', 'none', 'n/a', 'na', 'unknown', 'anonymous', 'test', 'undefined']);
const rulePriority: Record<IdentifierType, number> = { 'manual-merge': -1, 'upstream-merge': 0, 'verified-email': 1, email: 2, phone: 3, domain: 4 };

export function keyOf(k: RecordKey): string {
  return `${k.installationId}/${k.objectType}/${k.externalId}`;
}

/** Why a value identifies nobody, or null when it may join records. */
export function blockedReason(rule: IdentifierType, value: string, options: ResolveOptions = {}): string | null {
  const v = value.trim().toLowerCase();
  if (blockedValues.has(v)) return 'a placeholder value';
  if (rule === 'email' || rule === 'verified-email') {
    const [local, domain] = v.split('@');
    if (!local || !domain) return 'not an e-mail address';
    if (blockedValues.has(local) || /^0+$/.test(local)) return 'a placeholder address';
    if ((options.blockedLocalParts ?? defaultBlockedLocalParts).includes(local)) return `a shared role address (${local}@)`;
  }
  if (rule === 'phone' && /^0*$/.test(v.replace(/\D/g, ''))) return 'an all-zero number';
  if (rule === 'domain' && (options.blockedDomains ?? defaultBlockedDomains).includes(v)) return 'a free-mail or shared domain';
  return null;
}

export interface JoinIdentifier {
  readonly rule: IdentifierType;
  readonly value: string;
}

/**
 * The values `resolveIdentities` may join one record on, normalized as it compares them. For
 * `upstream-merge` they are record keys: the record's own and those of the ids merged into it, so
 * two records holding one key are joined by a platform merge. Values blocked by rule are left out
 * (they never join); values blocked only by how many records hold them are kept, as that count changes.
 */
export function joinIdentifiers(record: IdentityRecord, options: ResolveOptions = {}): JoinIdentifier[] {
  const self = keyOf(record.key);
  const keys = new Set([self, ...(record.mergedFrom ?? []).map((merged) => keyOf({ ...record.key, externalId: merged }))]);
  const out: JoinIdentifier[] = [...keys].sort().map((value) => ({ rule: 'upstream-merge', value }));
  const email = record.email?.trim().toLowerCase();
  const values: JoinIdentifier[] = [];
  if (record.kind === 'person' && email) values.push({ rule: record.emailVerified ? 'verified-email' : 'email', value: email });
  if (record.kind === 'person' && record.phone) values.push({ rule: 'phone', value: record.phone.trim() });
  if (record.kind === 'account' && record.domain) values.push({ rule: 'domain', value: record.domain.trim().toLowerCase() });
  for (const v of values) if (!blockedReason(v.rule, v.value, options)) out.push(v);
  return out;
}

interface Edge {
  readonly rule: IdentifierType;
  readonly value: string;
  readonly a: string;
  readonly b: string;
}

export function resolveIdentities(records: readonly IdentityRecord[], options: ResolveOptions = {}): { profiles: Profile[]; reviews: ReviewItem[] } {
  const maxPerValue = options.maxRecordsPerValue ?? 5;
  const byKey = new Map<string, IdentityRecord>();
  for (const r of records) byKey.set(keyOf(r.key), r);
  // Ids a platform merged away belong to their survivor's profile even when no record is stored under them.
  for (const r of records) {
    for (const merged of r.mergedFrom ?? []) {
      const alias = keyOf({ ...r.key, externalId: merged });
      if (!byKey.has(alias)) byKey.set(alias, { key: { ...r.key, externalId: merged }, kind: r.kind });
    }
  }
  const keys = [...byKey.keys()].sort();
  const group = (k: string): string => {
    const r = byKey.get(k)!;
    return `${r.kind}|${r.key.installationId}|${r.key.objectType}`;
  };

  // Identifier values and the records holding them.
  const holders = new Map<string, { rule: IdentifierType; value: string; kind: IdentityKind; keys: Set<string> }>();
  const hold = (rule: IdentifierType, value: string, kind: IdentityKind, key: string): void => {
    const id = `${kind}|${rule}|${value}`;
    let h = holders.get(id);
    if (!h) holders.set(id, (h = { rule, value, kind, keys: new Set() }));
    h.keys.add(key);
  };
  const reviews: ReviewItem[] = [];
  const aliasEdges: Edge[] = [];
  for (const k of keys) {
    const r = byKey.get(k)!;
    for (const merged of [...(r.mergedFrom ?? [])].sort()) {
      const other = keyOf({ ...r.key, externalId: merged });
      if (other !== k) aliasEdges.push({ rule: 'upstream-merge', value: merged, a: k, b: other });
    }
    // Upstream merges join through the alias edges above, not through held values.
    for (const id of joinIdentifiers(r, options)) if (id.rule !== 'upstream-merge') hold(id.rule, id.value, r.kind, k);
  }
  // A verified e-mail also joins the same address unverified elsewhere.
  for (const h of [...holders.values()].filter((h) => h.rule === 'verified-email')) {
    const plain = holders.get(`${h.kind}|email|${h.value}`);
    if (plain) for (const k of plain.keys) h.keys.add(k);
  }

  const manualEdges: Edge[] = [];
  for (const [x, y] of options.manualMerges ?? []) {
    const [a, b] = cmp(x, y) <= 0 ? [x, y] : [y, x];
    // A person and an account are never one profile, whoever says so.
    if (a !== b && byKey.has(a) && byKey.has(b) && byKey.get(a)!.kind === byKey.get(b)!.kind) manualEdges.push({ rule: 'manual-merge', value: `${a}+${b}`, a, b });
  }
  const edges: Edge[] = [...manualEdges, ...aliasEdges];
  for (const h of [...holders.values()].sort((x, y) => rulePriority[x.rule] - rulePriority[y.rule] || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0))) {
    const held = [...h.keys].sort();
    if (held.length < 2) continue;
    const blocked = blockedReason(h.rule, h.value, options);
    if (blocked) continue;
    if (held.length > maxPerValue) {
      reviews.push({ kind: h.kind, rule: h.rule, value: h.value, records: held, reason: `held by ${held.length} records, more than ${maxPerValue}: it identifies no one person` });
      continue;
    }
    for (const other of held.slice(1)) edges.push({ rule: h.rule, value: h.value, a: held[0]!, b: other });
  }
  edges.sort((x, y) => rulePriority[x.rule] - rulePriority[y.rule] || cmp(x.value, y.value) || cmp(x.a, y.a) || cmp(x.b, y.b));

  // Union-find whose components remember which (installation, object type) groups they hold.
  const parent = new Map<string, string>(keys.map((k) => [k, k]));
  const groups = new Map<string, Set<string>>(keys.map((k) => [k, new Set([group(k)])]));
  const accepted: Edge[] = [];
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let n = k; n !== root; ) {
      const next = parent.get(n)!;
      parent.set(n, root);
      n = next;
    }
    return root;
  };
  const refused = new Map<string, ReviewItem>();
  // Keys an admin separated, per component, so no join ever puts a separated pair together.
  const separated = new Map<string, Set<string>>();
  for (const [x, y] of options.manualSeparations ?? []) {
    separated.set(x, new Set([...(separated.get(x) ?? []), y]));
    separated.set(y, new Set([...(separated.get(y) ?? []), x]));
  }
  const tagged = new Map<string, Set<string>>(keys.filter((k) => separated.has(k)).map((k) => [k, new Set([k])]));
  const apart = (ra: string, rb: string): boolean => {
    const inB = tagged.get(rb);
    if (!inB) return false;
    for (const k of tagged.get(ra) ?? []) for (const other of separated.get(k)!) if (inB.has(other)) return true;
    return false;
  };
  for (const e of edges) {
    const ra = find(e.a);
    const rb = find(e.b);
    if (ra === rb) continue;
    const ga = groups.get(ra)!;
    const gb = groups.get(rb)!;
    if (apart(ra, rb)) continue;
    const clash = e.rule !== 'upstream-merge' && e.rule !== 'manual-merge' && [...ga].some((g) => gb.has(g));
    if (clash) {
      const id = `${e.rule}|${e.value}`;
      const item = refused.get(id);
      const involved = new Set([...(item?.records ?? []), e.a, e.b]);
      refused.set(id, {
        kind: byKey.get(e.a)!.kind,
        rule: e.rule,
        value: e.value,
        records: [...involved].sort(),
        reason: 'would join records the platform keeps apart (same installation and object type): review and merge by hand if they are one',
      });
      continue;
    }
    const [root, child] = cmp(ra, rb) <= 0 ? [ra, rb] : [rb, ra];
    parent.set(child, root);
    groups.set(root, new Set([...ga, ...gb]));
    groups.delete(child);
    if (tagged.has(child) || tagged.has(root)) tagged.set(root, new Set([...(tagged.get(root) ?? []), ...(tagged.get(child) ?? [])]));
    tagged.delete(child);
    accepted.push(e);
  }
  // A member's evidence: the first accepted join (in the fixed order) it took part in.
  const evidence = new Map<string, Evidence>();
  for (const e of accepted) {
    if (!evidence.has(e.a)) evidence.set(e.a, { rule: e.rule, value: e.value, with: e.b });
    if (!evidence.has(e.b)) evidence.set(e.b, { rule: e.rule, value: e.value, with: e.a });
  }
  reviews.push(...[...refused.values()].sort((x, y) => cmp(`${x.rule}|${x.value}`, `${y.rule}|${y.value}`)));

  const components = new Map<string, string[]>();
  for (const k of keys) {
    const root = find(k);
    const list = components.get(root);
    if (list) list.push(k);
    else components.set(root, [k]);
  }
  const profiles = [...components.values()]
    .map((members): Profile => {
      const sorted = members.sort();
      return { kind: byKey.get(sorted[0]!)!.kind, anchor: sorted[0]!, members: sorted.map((k) => ({ key: k, evidence: k === sorted[0] ? null : (evidence.get(k) ?? null) })) };
    })
    .sort((x, y) => cmp(x.anchor, y.anchor));
  return { profiles, reviews };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
