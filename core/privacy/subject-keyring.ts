/**
 * Per-subject data keys, for crypto-shredding. Each data subject (one source record a person or an
 * account is built from: installation + object type + external id) gets a random 256-bit key the
 * first time an activity about it is stored. The key is kept wrapped (AES-256-GCM) under the
 * deployment's LEDGERLINE_ENCRYPTION_KEY in `subject_key`, a table that — unlike the ledger — can
 * be updated: erasing a subject overwrites its wrapped key with NULL, after which nothing sealed
 * under it can be opened again, while the sealed bytes (and so the ledger's hashes) stay as they are.
 *
 * Keys are read from the database on every use (one query per batch), never from a long-lived
 * cache, so an erasure in one process is honoured at once by every other process.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { LedgerlineError } from '../errors/index.ts';
import type { SqlExecutor } from '../store/bulk-ingest.ts';
import { keyId as masterKeyId } from '../store/token-vault.ts';

export interface SubjectRef {
  readonly installationId: string;
  readonly objectType: string;
  readonly externalId: string;
}

/** A live key, or `null` when the subject was erased. */
export type SubjectKey = { readonly id: string; readonly key: Buffer } | { readonly id: string; readonly key: null };

/** A `subject_key` row as read: its id and its wrapped key (erased keys are never passed). */
export interface WrappedSubjectKey {
  readonly id: string;
  readonly wrapped_key: string;
}

export const subjectKeyOf = (s: SubjectRef): string => `${s.installationId}/${s.objectType}/${s.externalId}`;

const version = 'k1';

/** Unwrapped keys kept per process (about 0.5 KB each): the subjects of a large tenant's panels. */
const defaultMemoSize = 200_000;

export class SubjectKeyring {
  /** The deployment key, imported once (a cipher made from a KeyObject does not import it again). */
  readonly #master: KeyObject;
  readonly #masterId: string;
  /**
   * Unwrapping is memoised by the wrapped text itself (with its tenant and id), so a destroyed key
   * is never served from here.
   * Each key is kept as bytes (for sealing) and as a KeyObject (for opening: ciphers made from a
   * KeyObject skip importing the key again, which is most of the cost of opening a short field).
   * The memo keeps the `memoSize` keys used most recently (a Map in order of last use), so a
   * tenant with more subjects than that still finds the ones its panels keep asking for.
   */
  readonly #unwrapped = new Map<string, { readonly raw: Buffer; readonly secret: KeyObject }>();
  readonly #memoSize: number;

  constructor(masterKey: Buffer, options: { readonly memoSize?: number } = {}) {
    if (masterKey.length !== 32) throw new LedgerlineError('LL_INVALID_CONFIG', 'the encryption key must be 32 bytes', { details: { field: 'LEDGERLINE_ENCRYPTION_KEY' } });
    this.#master = createSecretKey(masterKey);
    this.#masterId = masterKeyId(masterKey);
    this.#memoSize = options.memoSize ?? defaultMemoSize;
  }

  /**
   * The key of each subject, created where missing, locked `for share` until the caller's
   * transaction ends so that an erasure running at the same time waits for this write to commit
   * (and then destroys the key it was sealed under) instead of racing it.
   */
  async keysForWrite(exec: SqlExecutor, tenantId: string, subjects: readonly SubjectRef[]): Promise<Map<string, SubjectKey>> {
    const unique = [...new Map(subjects.map((s) => [subjectKeyOf(s), s])).values()];
    if (unique.length === 0) return new Map();
    const fresh = unique.map(() => randomUUID());
    await exec(
      `insert into subject_key (id, tenant_id, installation_id, object_type, external_id, wrapped_key)
       select u.id, $1::uuid, u.installation_id, u.object_type, u.external_id, u.wrapped_key
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[]) as u(id, installation_id, object_type, external_id, wrapped_key)
       on conflict (tenant_id, installation_id, object_type, external_id) do nothing`,
      [
        tenantId,
        fresh,
        unique.map((s) => s.installationId),
        unique.map((s) => s.objectType),
        unique.map((s) => s.externalId),
        fresh.map((id) => this.#wrap(tenantId, id, randomBytes(32))),
      ],
    );
    const rows = await exec(
      `select k.id::text as id, k.installation_id::text as installation_id, k.object_type, k.external_id, k.wrapped_key
         from subject_key k
         join unnest($2::uuid[], $3::text[], $4::text[]) as u(installation_id, object_type, external_id)
           on k.installation_id = u.installation_id and k.object_type = u.object_type and k.external_id = u.external_id
        where k.tenant_id = $1::uuid
        for share of k`,
      [tenantId, unique.map((s) => s.installationId), unique.map((s) => s.objectType), unique.map((s) => s.externalId)],
    );
    const out = new Map<string, SubjectKey>();
    for (const row of rows) {
      const id = String(row.id);
      const ref = { installationId: String(row.installation_id), objectType: String(row.object_type), externalId: String(row.external_id) };
      const wrapped = row.wrapped_key;
      out.set(subjectKeyOf(ref), { id, key: typeof wrapped === 'string' ? this.#memo(tenantId, id, wrapped).raw : null });
    }
    return out;
  }

  /** The live keys among these ids; erased (or unknown) ids are absent. */
  async keysById(exec: SqlExecutor, tenantId: string, ids: readonly string[]): Promise<Map<string, KeyObject>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await exec(`select id::text as id, wrapped_key from subject_key where tenant_id = $1::uuid and id = any($2::uuid[]) and wrapped_key is not null`, [tenantId, unique]);
    return this.unwrapAll(tenantId, rows.flatMap((r) => (typeof r.wrapped_key === 'string' ? [{ id: String(r.id), wrapped_key: r.wrapped_key }] : [])));
  }

  /** Keys a caller read itself (`subject_key` rows that are not erased), by id. */
  unwrapAll(tenantId: string, rows: readonly WrappedSubjectKey[]): Map<string, KeyObject> {
    return new Map(rows.map((r) => [r.id, this.#memo(tenantId, r.id, r.wrapped_key).secret] as const));
  }

  #aad(tenantId: string, id: string): Buffer {
    return Buffer.from(`ledgerline:subject-key:${version}:${tenantId}:${id}`);
  }

  #wrap(tenantId: string, id: string, key: Buffer): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#master, iv);
    cipher.setAAD(this.#aad(tenantId, id));
    const data = Buffer.concat([cipher.update(key), cipher.final()]);
    return [version, this.#masterId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  #memo(tenantId: string, id: string, wrapped: string): { readonly raw: Buffer; readonly secret: KeyObject } {
    // By tenant and id as well as the text: a wrapped key copied onto another subject's row must
    // fail its authentication (the id and tenant are its associated data), memoised or not.
    const memoKey = `${tenantId}/${id}/${wrapped}`;
    const memo = this.#unwrapped.get(memoKey);
    if (memo) {
      // Most recently used last: re-inserted, so eviction takes the least recently used first.
      this.#unwrapped.delete(memoKey);
      this.#unwrapped.set(memoKey, memo);
      return memo;
    }
    const [v, master, iv, tag, data] = wrapped.split('.');
    if (v !== version || !iv || !tag || !data) throw new LedgerlineError('LL_INTEGRITY', `subject key ${id} is not a recognised envelope`);
    if (master !== this.#masterId) {
      throw new LedgerlineError('LL_INTEGRITY', `subject key ${id} was wrapped with another encryption key (${master}); set the LEDGERLINE_ENCRYPTION_KEY it was written with`, {
        details: { field: 'LEDGERLINE_ENCRYPTION_KEY' },
      });
    }
    let key: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#master, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAAD(this.#aad(tenantId, id));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      key = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
    } catch (error) {
      throw new LedgerlineError('LL_INTEGRITY', `subject key ${id} failed authentication: tampered, or wrapped for another tenant`, { cause: error });
    }
    const unwrapped = { raw: key, secret: createSecretKey(key) };
    this.#unwrapped.set(memoKey, unwrapped);
    if (this.#unwrapped.size > this.#memoSize) this.#unwrapped.delete(this.#unwrapped.keys().next().value!);
    return unwrapped;
  }
}
