/**
 * Archiving under a retention policy: old entries leave the hot table for segment files, the
 * database still refuses every other deletion, and verification walks archive and database as one
 * chain — catching an altered, swapped or missing segment file.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../test/support/database.ts';
import { archiveLedger, archivedSegments } from './archive.ts';
import { checkpointSigner, writeCheckpoints } from './checkpoints.ts';
import { appendEntries, lastStoredSeq, listEntries, type LedgerExecutor } from './ledger.ts';
import { verifyChain } from './verify.ts';

const signer = checkpointSigner(Buffer.alloc(32, 5));
const day = 86_400_000;

describeOnTestDatabases('ledger archiving', (db) => {
  const exec: () => LedgerExecutor = () => (sql, params) => db().sql.query(sql, params);
  const append = (tenantId: string, from: number, to: number, at: Date) =>
    db().sql.transaction((tx) => appendEntries((s, p) => tx.query(s, p), tenantId, Array.from({ length: to - from + 1 }, (_, i) => ({ kind: 'test.entry', body: { n: from + i } })), at));

  it('moves old entries into segment files and keeps verifying the whole chain, archive first', async () => {
    const { tenantId } = await seedInstallation(db());
    const archiveDir = mkdtempSync(join(tmpdir(), 'll-archive-'));
    const checkpointDir = mkdtempSync(join(tmpdir(), 'll-archive-checkpoints-'));
    await append(tenantId, 1, 40, new Date(Date.now() - 400 * day));
    await writeCheckpoints(exec(), checkpointDir, signer);
    await append(tenantId, 41, 50, new Date(Date.now() - 10 * day));

    const result = await archiveLedger(db().sql, tenantId, { archiveDir, olderThan: new Date(Date.now() - 365 * day) });
    expect(result).toMatchObject({ archivedEntries: 40, segments: [{ fromSeq: 1, toSeq: 40 }] });
    const [segment] = await archivedSegments(exec(), tenantId);
    expect(segment).toMatchObject({ fromSeq: 1, toSeq: 40, entries: 40 });
    // The hot table starts after the segment; the archiving itself is the newest entry.
    expect((await db().sql.query<{ n: string }>(`select count(*)::text as n from ledger_entry where tenant_id = $1 and seq <= 40`, [tenantId]))[0]!.n).toBe('0');
    const [archivedEntry] = await listEntries(exec(), tenantId, { kind: 'ledger.archived' });
    expect(archivedEntry).toMatchObject({ seq: 51, body: { fromSeq: 1, toSeq: 40, entries: 40, file: segment!.file, fileSha256: segment!.fileSha256.toString('hex') } });
    const lines = gunzipSync(readFileSync(join(archiveDir, segment!.file))).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(40);
    expect(JSON.parse(lines[0]!)).toMatchObject({ seq: 1, kind: 'test.entry', body: { n: 1 } });

    const options = { checkpointDir, archiveDir, publicKey: signer.publicKey };
    // The checkpoint written before archiving (at entry 40) is still held against the archived entry.
    expect(await verifyChain(exec(), tenantId, options)).toMatchObject({ ok: true, verified: 51, lastSeq: 51, checkpoints: { checked: 1 } });
    // Nothing more is old enough: a second run archives nothing, and appends continue the chain.
    expect((await archiveLedger(db().sql, tenantId, { archiveDir, olderThan: new Date(Date.now() - 365 * day) })).archivedEntries).toBe(0);
    await append(tenantId, 52, 53, new Date());
    expect(await verifyChain(exec(), tenantId, options)).toMatchObject({ ok: true, verified: 53 });

    // Without the archive the chain cannot be shown whole, and verify says so.
    expect((await verifyChain(exec(), tenantId, { checkpointDir, publicKey: signer.publicKey })).firstBreak).toEqual({ seq: 1, reason: expect.stringMatching(/entries 1–40 are archived, and no archive directory/) });
  });

  it('names an archive segment that was altered, re-hashed or removed', async () => {
    const { tenantId } = await seedInstallation(db());
    const archiveDir = mkdtempSync(join(tmpdir(), 'll-archive-'));
    await append(tenantId, 1, 12, new Date(Date.now() - 30 * day));
    await append(tenantId, 13, 14, new Date());
    await archiveLedger(db().sql, tenantId, { archiveDir, olderThan: new Date(Date.now() - day) });
    const [segment] = await archivedSegments(exec(), tenantId);
    const path = join(archiveDir, segment!.file);
    const original = readFileSync(path);
    chmodSync(path, 0o644);

    // An edited entry inside a re-compressed file: the file is no longer the one registered.
    const edited = gunzipSync(original).toString('utf8').replace('"n":5', '"n":500');
    writeFileSync(path, gzipSync(Buffer.from(edited)));
    expect((await verifyChain(exec(), tenantId, { archiveDir })).firstBreak).toEqual({ seq: 1, reason: expect.stringMatching(/segment file .* is not the one archived \(its SHA-256 differs\)/) });

    rmSync(path);
    expect((await verifyChain(exec(), tenantId, { archiveDir })).firstBreak).toEqual({ seq: 1, reason: expect.stringMatching(/segment file .* cannot be read/) });

    writeFileSync(path, original);
    expect((await verifyChain(exec(), tenantId, { archiveDir })).ok).toBe(true);
  });

  it('the database still refuses to delete entries no archive segment covers, and refuses to archive a broken chain', async () => {
    const { tenantId } = await seedInstallation(db());
    const archiveDir = mkdtempSync(join(tmpdir(), 'll-archive-'));
    await append(tenantId, 1, 6, new Date(Date.now() - 30 * day));
    await expect(db().sql.query(`delete from ledger_entry where tenant_id = $1 and seq = 2`, [tenantId])).rejects.toThrow(/DELETE on ledger_entry refused/);
    await expect(db().sql.query(`delete from ledger_archive`)).rejects.toThrow(/DELETE on ledger_archive refused/);
    // A superuser rewrites entry 3 without re-hashing: archiving refuses to launder it.
    await db().sql.transaction(async (tx) => {
      await tx.query(`alter table ledger_entry disable trigger ledger_entry_append_only`);
      await tx.query(`update ledger_entry set body = '{"n": 33}' where tenant_id = $1 and seq = 3`, [tenantId]);
      await tx.query(`alter table ledger_entry enable trigger ledger_entry_append_only`);
    });
    await expect(archiveLedger(db().sql, tenantId, { archiveDir, olderThan: new Date() })).rejects.toThrow(/refusing to archive a broken chain: entry 3 was altered/);
    expect(await archivedSegments(exec(), tenantId)).toEqual([]);
    expect(await lastStoredSeq(exec(), tenantId)).toBe(6);
  });
});
