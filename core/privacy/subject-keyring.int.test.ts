/**
 * The subject keyring's memo of unwrapped keys: bounded, keeping the keys used most recently, and
 * never serving a key whose wrapped text is gone (an erased subject).
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../test/support/database.ts';
import { SubjectKeyring, type WrappedSubjectKey } from './subject-keyring.ts';

describeOnTestDatabases('subject keyring memo', (db) => {
  /** Three subjects' keys created by `keyring`, as `subject_key` rows read back (id and wrapped text). */
  async function threeKeys(keyring: SubjectKeyring): Promise<{ tenantId: string; rows: WrappedSubjectKey[] }> {
    const { tenantId, installationId } = await seedInstallation(db());
    const subjects = ['a', 'b', 'c'].map((externalId) => ({ installationId, objectType: 'contacts', externalId }));
    await keyring.keysForWrite((text, params) => db().sql.query(text, params), tenantId, subjects);
    const rows = await db().sql.query<WrappedSubjectKey & { external_id: string }>(
      `select id::text as id, wrapped_key, external_id from subject_key where tenant_id = $1 order by external_id`,
      [tenantId],
    );
    return { tenantId, rows };
  }

  it('keeps the most recently used keys when it holds more than its size, and unwraps an evicted one again', async () => {
    const keyring = new SubjectKeyring(Buffer.alloc(32, 3), { memoSize: 2 });
    const { tenantId, rows } = await threeKeys(keyring);
    const [a, b, c] = rows as [WrappedSubjectKey, WrappedSubjectKey, WrappedSubjectKey];
    const open = (row: WrappedSubjectKey) => keyring.unwrapAll(tenantId, [row]).get(row.id)!;
    // keysForWrite unwrapped all three (c last), so the memo holds b and c; a is unwrapped afresh.
    const firstA = open(a);
    expect(open(a)).toBe(firstA);
    const firstC = open(c);
    // Using a again makes b the least recently used: c's entry (used after b) stays, b's goes.
    expect(open(a)).toBe(firstA);
    const againB = open(b);
    expect(open(c)).not.toBe(firstC);
    expect(open(b)).toBe(againB);
    // A key unwrapped afresh is the same key.
    expect(open(c).export().equals(firstC.export())).toBe(true);
  });

  it('refuses a wrapped key that was altered, memoised or not', async () => {
    const keyring = new SubjectKeyring(Buffer.alloc(32, 4));
    const { tenantId, rows } = await threeKeys(keyring);
    const row = rows[0]!;
    const parts = row.wrapped_key.split('.');
    const data = Buffer.from(parts[4]!, 'base64url');
    data[0] = data[0]! ^ 1;
    const altered = [...parts.slice(0, 4), data.toString('base64url')].join('.');
    expect(() => keyring.unwrapAll(tenantId, [{ id: row.id, wrapped_key: altered }])).toThrow(/failed authentication/);
    // Memoised for its own subject, it still fails as another subject's key, and in another tenant.
    expect(keyring.unwrapAll(tenantId, [row]).size).toBe(1);
    expect(() => keyring.unwrapAll(tenantId, [{ id: rows[1]!.id, wrapped_key: row.wrapped_key }])).toThrow(/failed authentication/);
    expect(() => keyring.unwrapAll(crypto.randomUUID(), [row])).toThrow(/failed authentication/);
    expect(() => new SubjectKeyring(Buffer.alloc(32, 5)).unwrapAll(tenantId, [row])).toThrow(/another encryption key/);
  });
});
