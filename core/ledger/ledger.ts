/**
 * The accountable ledger: for each tenant, one hash chain of entries. Entry n carries its sequence
 * number, the hash of entry n − 1 (32 zero bytes before the first) and its own hash:
 *
 *   hash(n) = SHA-256( hash(n − 1) ‖ JCS({ tenantId, seq, kind, body, corrects, recordedAt }) )
 *
 * where JCS is RFC 8785 canonical JSON. Appends for one tenant queue on that tenant's `ledger_head`
 * row (locked until the appending transaction ends), so they are serialised per tenant while other
 * tenants append in parallel. The database refuses UPDATE, DELETE and TRUNCATE on entries; a
 * correction is a new entry whose `corrects` names the corrected sequence number.
 */
import { createHash } from 'node:crypto';
import { LedgerlineError } from '../errors/index.ts';
import type { SqlExecutor } from '../store/bulk-ingest.ts';
import { canonicalize } from './canonical-json.ts';

/** A statement runner inside the caller's transaction (the ingest path's `SqlExecutor`). */
export type LedgerExecutor = SqlExecutor;

export const genesisHash: Buffer = Buffer.alloc(32);

export interface LedgerEntryInput {
  /** What happened: `activity`, `install.installed`, `panel.viewed`, `correction`… */
  readonly kind: string;
  /** The entry's content: JSON only (see canonicalize). */
  readonly body: Readonly<Record<string, unknown>>;
  /** The sequence number of the entry this one corrects. */
  readonly corrects?: number | null;
}

export interface LedgerEntry {
  readonly tenantId: string;
  readonly seq: number;
  readonly kind: string;
  readonly body: Record<string, unknown>;
  readonly corrects: number | null;
  /** ISO-8601 with milliseconds, as hashed. */
  readonly recordedAt: string;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export function entryHash(prevHash: Buffer, entry: Omit<LedgerEntry, 'prevHash' | 'hash'>): Buffer {
  const content = canonicalize({ tenantId: entry.tenantId, seq: entry.seq, kind: entry.kind, body: entry.body, corrects: entry.corrects, recordedAt: entry.recordedAt });
  return createHash('sha256').update(prevHash).update(content, 'utf8').digest();
}

const kindPattern = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

function checkKind(kind: string): void {
  if (!kindPattern.test(kind)) throw new LedgerlineError('LL_INVALID_INPUT', `ledger entry kind '${kind}' is not a dotted lower-case name`, { details: { field: 'kind' } });
}

/** Refuses (LL_INVALID_INPUT) an entry `appendEntries` would refuse: a kind that is not a dotted name, or a body JSON cannot carry. */
export function checkEntryInput(input: LedgerEntryInput): void {
  checkKind(input.kind);
  canonicalize({ body: input.body });
}

/** The entries that follow a head (`prevHash`, `prevSeq`), hashed in order. Pure: no storage. */
export function chainEntries(tenantId: string, prevHash: Buffer, prevSeq: number, inputs: readonly LedgerEntryInput[], now: Date): LedgerEntry[] {
  const recordedAt = now.toISOString();
  let prev = prevHash;
  let seq = prevSeq;
  return inputs.map((input) => {
    seq += 1;
    const entry = { tenantId, seq, kind: input.kind, body: { ...input.body }, corrects: input.corrects ?? null, recordedAt };
    const hash = entryHash(prev, entry);
    const stored: LedgerEntry = { ...entry, prevHash: prev, hash };
    prev = hash;
    return stored;
  });
}

/** Whether there is anything to append; an entry of an unknown kind is refused here, before any I/O. */
function anythingToAppend(inputs: readonly LedgerEntryInput[]): boolean {
  for (const input of inputs) checkKind(input.kind);
  return inputs.length > 0;
}

/**
 * Appends entries to a tenant's chain inside the caller's transaction and returns them as stored.
 * Must run in a transaction: the head row stays locked until it commits or rolls back, and then
 * the entries and the head move together or not at all.
 */
export async function appendEntries(exec: LedgerExecutor, tenantId: string, inputs: readonly LedgerEntryInput[], now: Date = new Date()): Promise<LedgerEntry[]> {
  if (!anythingToAppend(inputs)) return [];
  // A body JSON cannot carry is refused while hashing (chainEntries), before anything is inserted.
  const lockHead = () => exec(`select seq::text as seq, encode(hash, 'hex') as hash from ledger_head where tenant_id = $1 for update`, [tenantId]);
  let [head] = await lockHead();
  if (!head) {
    // The tenant's first entry: create its head, then lock it like any other.
    await exec(`insert into ledger_head (tenant_id, seq, hash) values ($1, 0, $2) on conflict (tenant_id) do nothing`, [tenantId, genesisHash]);
    [head] = await lockHead();
  }
  if (!head) throw new LedgerlineError('LL_NOT_FOUND', `no ledger head for tenant ${tenantId}`);
  const entries = chainEntries(tenantId, Buffer.from(String(head.hash), 'hex'), Number(head.seq), inputs, now);
  await exec(appendStatement, appendParameters(tenantId, entries, now));
  return entries;
}

/** Inserts the entries ($2–$8) and moves the head to the last ($9, $10), in one statement. */
const insertEntries = `insert into ledger_entry (tenant_id, seq, kind, body, corrects, recorded_at, prev_hash, hash)
       select $1::uuid, u.seq, u.kind, u.body, u.corrects, $6::timestamptz, decode(u.prev_hash, 'hex'), decode(u.hash, 'hex')
         from unnest($2::bigint[], $3::text[], $4::jsonb[], $5::bigint[], $7::text[], $8::text[]) as u(seq, kind, body, corrects, prev_hash, hash)`;

const appendStatement = `with appended as (${insertEntries})
     update ledger_head set seq = $9, hash = decode($10, 'hex'), updated_at = now() where tenant_id = $1`;

/**
 * The same, only if the head is still where the caller last saw it ($11 seq, $12 hash): the head
 * moves first, and the entries go in only with it, so one statement either appends all of them to
 * exactly that head or changes nothing.
 */
const appendAfterStatement = `with moved as (
       update ledger_head set seq = $9, hash = decode($10, 'hex'), updated_at = now()
        where tenant_id = $1 and seq = $11 and hash = decode($12, 'hex') returning 1),
     appended as (${insertEntries} where exists (select 1 from moved))
     select count(*)::int as moved from moved`;

function appendParameters(tenantId: string, entries: readonly LedgerEntry[], now: Date): unknown[] {
  const last = entries.at(-1)!;
  return [
    tenantId,
    entries.map((e) => e.seq),
    entries.map((e) => e.kind),
    entries.map((e) => JSON.stringify(e.body)),
    entries.map((e) => e.corrects),
    now.toISOString(),
    entries.map((e) => e.prevHash.toString('hex')),
    entries.map((e) => e.hash.toString('hex')),
    last.seq,
    last.hash.toString('hex'),
  ];
}

/**
 * Appends entries after a head the caller knows (the last entry it appended itself), in one
 * statement that needs no transaction around it: null, and nothing written, when the head has
 * moved since (another process appended) — then `appendEntries` under the head's lock is the way.
 * Under the head row's lock a concurrent append waits, then finds the head moved.
 */
export async function appendEntriesAfter(exec: LedgerExecutor, tenantId: string, head: { readonly seq: number; readonly hash: Buffer }, inputs: readonly LedgerEntryInput[], now: Date = new Date()): Promise<LedgerEntry[] | null> {
  if (!anythingToAppend(inputs)) return [];
  const entries = chainEntries(tenantId, head.hash, head.seq, inputs, now);
  const [row] = await exec(appendAfterStatement, [...appendParameters(tenantId, entries, now), head.seq, head.hash.toString('hex')]);
  return row?.moved === 1 ? entries : null;
}

/**
 * Reads the entries whose sequence numbers lie in `(afterSeq, afterSeq + span]`, in order: a
 * bounded range of the primary key, so a walk over the whole chain reads each row once whatever
 * the planner's statistics say. Missing numbers simply leave the range short.
 */
export async function readEntries(exec: LedgerExecutor, tenantId: string, afterSeq: number, span: number): Promise<LedgerEntry[]> {
  const rows = await exec(
    `select seq::text as seq_text, kind, body, corrects::text as corrects_text, recorded_at, encode(prev_hash, 'hex') as prev_hex, encode(hash, 'hex') as hash_hex
       from ledger_entry e where e.tenant_id = $1 and e.seq > $2 and e.seq <= $2 + $3 order by e.seq`,
    [tenantId, afterSeq, span],
  );
  return rows.map(entryOf(tenantId));
}

/** The highest sequence number stored for a tenant (0 when none). */
export async function lastStoredSeq(exec: LedgerExecutor, tenantId: string): Promise<number> {
  const [row] = await exec(`select coalesce(max(seq), 0)::text as seq from ledger_entry where tenant_id = $1`, [tenantId]);
  return Number(row?.seq ?? 0);
}

function entryOf(tenantId: string): (r: Record<string, unknown>) => LedgerEntry {
  return (r) => ({
    tenantId,
    seq: Number(r.seq_text),
    kind: String(r.kind),
    body: r.body as Record<string, unknown>,
    corrects: r.corrects_text === null ? null : Number(r.corrects_text),
    recordedAt: new Date(r.recorded_at as string | Date).toISOString(),
    prevHash: Buffer.from(String(r.prev_hex), 'hex'),
    hash: Buffer.from(String(r.hash_hex), 'hex'),
  });
}

export interface EntryQuery {
  /** Entries after this sequence number (paging). */
  readonly after?: number;
  readonly limit?: number;
  readonly kind?: string;
  /** Everything that happened under one driver (ticket, deal, case, order). */
  readonly driver?: { readonly objectType: string; readonly externalId: string };
}

/** A tenant's entries in sequence order, optionally of one kind or under one driver. */
export async function listEntries(exec: LedgerExecutor, tenantId: string, query: EntryQuery = {}): Promise<LedgerEntry[]> {
  const rows = await exec(
    `select seq::text as seq_text, kind, body, corrects::text as corrects_text, recorded_at, encode(prev_hash, 'hex') as prev_hex, encode(hash, 'hex') as hash_hex
       from ledger_entry e
      where e.tenant_id = $1 and e.seq > $2
        and ($3::text is null or e.kind = $3)
        and ($4::text is null or (e.body ? 'driver' and e.body -> 'driver' ->> 'objectType' = $4 and e.body -> 'driver' ->> 'externalId' = $5))
      order by e.seq limit $6`,
    [tenantId, query.after ?? 0, query.kind ?? null, query.driver?.objectType ?? null, query.driver?.externalId ?? null, Math.min(Math.max(query.limit ?? 100, 1), 1000)],
  );
  return rows.map(entryOf(tenantId));
}

/** An entry as the API and the CLI show it. */
export function entryJson(entry: LedgerEntry) {
  return { seq: entry.seq, kind: entry.kind, recordedAt: entry.recordedAt, corrects: entry.corrects, body: entry.body, prevHash: entry.prevHash.toString('hex'), hash: entry.hash.toString('hex') };
}
