/**
 * The ledger in the database: per-tenant chains under concurrent appends, the database refusing to
 * change or remove entries, and signed checkpoints outside the database catching what someone with
 * superuser rights could do to the chain itself (re-hash a rewritten stretch, delete the tail).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { openActivityFields } from '../privacy/index.ts';
import { ingestBatch } from '../store/index.ts';
import { checkpointSigner, writeCheckpoints } from './checkpoints.ts';
import { appendEntries, chainEntries, readEntries, type LedgerExecutor } from './ledger.ts';
import { verifyChain } from './verify.ts';

const signer = checkpointSigner(Buffer.alloc(32, 9));
const body = (n: number) => ({ n, note: `entry ${n}` });

describeOnTestDatabases('ledger in the database', (db) => {
  const exec: () => LedgerExecutor = () => (sql, params) => db().sql.query(sql, params);
  const inTransaction = <T>(work: (exec: LedgerExecutor) => Promise<T>): Promise<T> => db().sql.transaction((tx) => work((sql, params) => tx.query(sql, params)));

  it('appends from concurrent transactions into one gap-free chain per tenant, and both verify', async () => {
    const a = await seedInstallation(db());
    const b = await seedInstallation(db());
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        inTransaction((tx) => appendEntries(tx, i % 2 === 0 ? a.tenantId : b.tenantId, [{ kind: 'test.entry', body: body(i) }, { kind: 'test.entry', body: body(100 + i) }])),
      ),
    );
    for (const tenantId of [a.tenantId, b.tenantId]) {
      const entries = await readEntries(exec(), tenantId, 0, 100);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(await verifyChain(exec(), tenantId)).toMatchObject({ ok: true, verified: 12, headSeq: 12, lastSeq: 12, firstBreak: null });
    }
  });

  it('every activity the ingest path stores is on the ledger, once, with its content', async () => {
    const { tenantId, installationId } = await seedInstallation(db());
    const activity = (id: string) => ({
      kind: 'interaction' as const,
      category: 'email',
      occurredAt: new Date('2026-11-01T10:00:00Z'),
      subject: { kind: 'person' as const, objectType: 'contact', externalId: id },
      driver: { type: 'ticket' as const, objectType: 'ticket', externalId: 't-1' },
      source: { objectType: 'email', externalId: `e-${id}` },
      discriminator: 'main',
      amount: null,
      summary: `Email to ${id}`,
      actor: null,
      attributes: { direction: 'outbound' },
    });
    const batch = { tenantId, installationId, sourceRecords: [], activities: [activity('1'), activity('2')] };
    await inTransaction((tx) => ingestBatch(tx, { ...batch, keyring: testKeyring }));
    // The same activities again (a re-sync) append nothing.
    await inTransaction((tx) => ingestBatch(tx, { ...batch, keyring: testKeyring, activities: [activity('2'), activity('3')] }));
    const entries = await readEntries(exec(), tenantId, 0, 100);
    expect(entries.map((e) => [e.kind, (e.body.subject as { externalId: string }).externalId])).toEqual([
      ['activity', '1'],
      ['activity', '2'],
      ['activity', '3'],
    ]);
    const [stored] = await db().sql.query<{ id: string }>(`select id::text from activity where tenant_id = $1 and subject_external_id = '1'`, [tenantId]);
    expect(entries[0]!.body).toEqual({
      activityId: stored!.id,
      installationId,
      kind: 'interaction',
      category: 'email',
      occurredAt: '2026-11-01T10:00:00.000Z',
      subject: { kind: 'person', objectType: 'contact', externalId: '1' },
      driver: { type: 'ticket', objectType: 'ticket', externalId: 't-1' },
      source: { objectType: 'email', externalId: 'e-1' },
      discriminator: 'main',
      amount: null,
      attributes: { direction: 'outbound' },
      personal: expect.stringMatching(/^p1\./),
    });
    // The personal fields are on the chain only sealed, and open to what was ingested.
    expect(JSON.stringify(entries[0]!.body)).not.toContain('Email to 1');
    const [opened] = await openActivityFields(exec(), testKeyring, tenantId, [
      { installationId, sourceObjectType: 'email', sourceExternalId: 'e-1', discriminator: 'main', personal: entries[0]!.body.personal as string, summary: null, actor: null, attributes: {} },
    ]);
    expect(opened).toEqual({ summary: 'Email to 1', actor: null, attributes: { direction: 'outbound' } });
    expect((await verifyChain(exec(), tenantId)).ok).toBe(true);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of ledger entries and activities, whoever asks', async () => {
    const { tenantId } = await seedInstallation(db());
    await inTransaction((tx) => appendEntries(tx, tenantId, [{ kind: 'test.entry', body: body(1) }]));
    await expect(db().sql.query(`update ledger_entry set body = '{}' where tenant_id = $1`, [tenantId])).rejects.toThrow(/UPDATE on ledger_entry refused: ledger rows are append-only/);
    await expect(db().sql.query(`delete from ledger_entry where tenant_id = $1`, [tenantId])).rejects.toThrow(/DELETE on ledger_entry refused/);
    await expect(db().sql.query(`truncate ledger_entry cascade`)).rejects.toThrow(/TRUNCATE on ledger_entry refused/);
    await expect(db().sql.query(`delete from activity`)).rejects.toThrow(/DELETE on activity refused/);
    await expect(db().sql.query(`update activity set summary = 'x'`)).rejects.toThrow(/UPDATE on activity refused/);
    expect(await verifyChain(exec(), tenantId)).toMatchObject({ ok: true, verified: 1 });
  });

  it('a corrected mistake is a new entry naming the one it corrects', async () => {
    const { tenantId } = await seedInstallation(db());
    await inTransaction((tx) => appendEntries(tx, tenantId, [{ kind: 'test.entry', body: body(1) }]));
    await inTransaction((tx) => appendEntries(tx, tenantId, [{ kind: 'correction', body: { reason: 'wrong amount', amount: '12.00' }, corrects: 1 }]));
    await expect(inTransaction((tx) => appendEntries(tx, tenantId, [{ kind: 'correction', body: {}, corrects: 99 }]))).rejects.toThrow(/ledger_entry_corrects|foreign key/);
    await expect(inTransaction((tx) => appendEntries(tx, tenantId, [{ kind: 'correction', body: { amount: Number.NaN } }]))).rejects.toThrow(/body\.amount is NaN/);
    const entries = await readEntries(exec(), tenantId, 0, 10);
    expect(entries.map((e) => [e.seq, e.kind, e.corrects])).toEqual([
      [1, 'test.entry', null],
      [2, 'correction', 1],
    ]);
    expect((await verifyChain(exec(), tenantId)).ok).toBe(true);
  });

  it('signed checkpoints catch a superuser who rewrote an entry and re-hashed the chain after it', async () => {
    const { tenantId } = await seedInstallation(db());
    const dir = mkdtempSync(join(tmpdir(), 'll-checkpoints-'));
    await inTransaction((tx) => appendEntries(tx, tenantId, [1, 2, 3].map((n) => ({ kind: 'test.entry', body: body(n) }))));
    await writeCheckpoints(exec(), dir, signer);
    await inTransaction((tx) => appendEntries(tx, tenantId, [4, 5, 6, 7, 8].map((n) => ({ kind: 'test.entry', body: body(n) }))));
    expect((await writeCheckpoints(exec(), dir, signer)).filter((c) => c.tenantId === tenantId).map((c) => c.seq)).toEqual([8]);

    // With the triggers off, entry 5 gets another amount and 5–8 get consistent new hashes.
    const entries = await readEntries(exec(), tenantId, 0, 100);
    const rewritten = chainEntries(tenantId, entries[3]!.hash, 4, entries.slice(4).map((e) => ({ kind: e.kind, body: e.seq === 5 ? { ...e.body, note: 'rewritten' } : e.body })), new Date(entries[4]!.recordedAt));
    await db().sql.transaction(async (tx) => {
      await tx.query(`alter table ledger_entry disable trigger ledger_entry_append_only`);
      for (const e of rewritten) {
        await tx.query(`update ledger_entry set body = $3, prev_hash = decode($4, 'hex'), hash = decode($5, 'hex') where tenant_id = $1 and seq = $2`, [tenantId, e.seq, JSON.stringify(e.body), e.prevHash.toString('hex'), e.hash.toString('hex')]);
      }
      await tx.query(`update ledger_head set hash = decode($2, 'hex') where tenant_id = $1`, [tenantId, rewritten.at(-1)!.hash.toString('hex')]);
      await tx.query(`alter table ledger_entry enable trigger ledger_entry_append_only`);
    });
    // The chain alone cannot tell: it is consistent in itself.
    expect((await verifyChain(exec(), tenantId)).ok).toBe(true);
    const report = await verifyChain(exec(), tenantId, { checkpointDir: dir, publicKey: signer.publicKey });
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ seq: 4, reason: expect.stringMatching(/^entries 4–8 were rewritten: the checkpoint signed at .* holds another hash for entry 8$/) });
    expect(report.checkpoints).toMatchObject({ checked: 2, newestSeq: 8, problems: [] });
  });

  it('signed checkpoints catch a deleted tail, and a forged checkpoint file is reported', async () => {
    const { tenantId } = await seedInstallation(db());
    const dir = mkdtempSync(join(tmpdir(), 'll-checkpoints-'));
    await inTransaction((tx) => appendEntries(tx, tenantId, [1, 2, 3, 4, 5, 6].map((n) => ({ kind: 'test.entry', body: body(n) }))));
    await writeCheckpoints(exec(), dir, signer);
    const entries = await readEntries(exec(), tenantId, 0, 100);
    await db().sql.transaction(async (tx) => {
      await tx.query(`alter table ledger_entry disable trigger ledger_entry_append_only`);
      await tx.query(`delete from ledger_entry where tenant_id = $1 and seq > 3`, [tenantId]);
      await tx.query(`update ledger_head set seq = 3, hash = decode($2, 'hex') where tenant_id = $1`, [tenantId, entries[2]!.hash.toString('hex')]);
      await tx.query(`alter table ledger_entry enable trigger ledger_entry_append_only`);
    });
    expect((await verifyChain(exec(), tenantId)).ok).toBe(true);
    const report = await verifyChain(exec(), tenantId, { checkpointDir: dir, publicKey: signer.publicKey });
    expect(report.firstBreak).toMatchObject({ seq: 4, reason: expect.stringMatching(/^entries 4–6 \(at least\) were removed: the chain ends at 3/) });

    // Someone edits the checkpoint to match: its signature no longer verifies.
    const [file] = readdirSync(join(dir, tenantId));
    const path = join(dir, tenantId, file!);
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), hash: entries[2]!.hash.toString('hex') }));
    const forged = await verifyChain(exec(), tenantId, { checkpointDir: dir, publicKey: signer.publicKey });
    expect(forged.ok).toBe(false);
    expect(forged.checkpoints.problems).toEqual([expect.stringMatching(/the signature does not verify/)]);
  });

  it('the application role without UPDATE, DELETE or TRUNCATE privileges is refused by PostgreSQL itself', async () => {
    const role = `ll_app_${randomBytes(4).toString('hex')}`;
    await db().sql.query(`create role ${role} nologin`);
    await db().sql.query(`grant select, insert on ledger_entry, ledger_head, activity to ${role}`);
    await db().sql.query(`grant update on ledger_head to ${role}`);
    const client = new pg.Client({ connectionString: db().connectionUrl });
    await client.connect();
    try {
      await client.query(`set role ${role}`);
      // The trigger would refuse too; the privilege check comes first.
      await expect(client.query(`update ledger_entry set kind = 'x'`)).rejects.toThrow(/permission denied for table ledger_entry/);
      await expect(client.query(`delete from ledger_entry`)).rejects.toThrow(/permission denied for table ledger_entry/);
      await expect(client.query(`truncate ledger_entry`)).rejects.toThrow(/permission denied for table ledger_entry/);
      await expect(client.query(`delete from activity`)).rejects.toThrow(/permission denied for table activity/);
      expect((await client.query(`select count(*) from ledger_entry`)).rows).toHaveLength(1);
    } finally {
      await client.query('reset role');
      await client.end();
      await db().sql.query(`revoke all on ledger_entry, ledger_head, activity from ${role}`);
      await db().sql.query(`drop role ${role}`);
    }
  });
});
