/**
 * Signed checkpoints of each tenant's chain head, written outside the database: a file per
 * checkpoint, `<dir>/<tenant id>/<seq>.json`, holding the head's sequence number and hash, when it
 * was taken, and an Ed25519 signature over all of it. Someone able to rewrite the database
 * (a superuser re-hashing the whole chain, or deleting its tail) cannot also produce checkpoints
 * that agree, so `verify` catches what the chain alone cannot. Put the directory on storage the
 * database's operators cannot write (a separate volume, an object store with retention lock).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { canonicalize } from './canonical-json.ts';
import type { LedgerExecutor } from './ledger.ts';

export interface CheckpointSigner {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** First 16 hex digits of SHA-256 of the raw public key: which key signed a checkpoint. */
  readonly keyId: string;
}

// PKCS#8 prefix of an Ed25519 private key (RFC 8410) before its 32-byte seed.
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export function checkpointSigner(seed: Buffer): CheckpointSigner {
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { privateKey, publicKey, keyId: createHash('sha256').update(raw).digest('hex').slice(0, 16) };
}

export const Checkpoint = z.strictObject({
  tenantId: z.uuid(),
  seq: z.number().int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.iso.datetime(),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.string().min(1),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

const signedPart = (c: Omit<Checkpoint, 'signature'>): Buffer => Buffer.from(canonicalize({ tenantId: c.tenantId, seq: c.seq, hash: c.hash, at: c.at, keyId: c.keyId }), 'utf8');

export function signCheckpoint(signer: CheckpointSigner, head: { tenantId: string; seq: number; hash: string }, at: Date): Checkpoint {
  const unsigned = { tenantId: head.tenantId, seq: head.seq, hash: head.hash, at: at.toISOString(), keyId: signer.keyId };
  return { ...unsigned, signature: sign(null, signedPart(unsigned), signer.privateKey).toString('base64') };
}

export function checkpointSignatureValid(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedPart(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

const fileName = (seq: number): string => `${String(seq).padStart(15, '0')}.json`;

/** Writes a checkpoint for every tenant whose head moved past its newest checkpoint; returns them. */
export async function writeCheckpoints(exec: LedgerExecutor, dir: string, signer: CheckpointSigner, now: Date = new Date()): Promise<Checkpoint[]> {
  const heads = await exec(`select tenant_id::text as tenant_id, seq::text as seq, encode(hash, 'hex') as hash from ledger_head where seq > 0 order by tenant_id`);
  const written: Checkpoint[] = [];
  for (const head of heads) {
    const tenantId = String(head.tenant_id);
    const seq = Number(head.seq);
    const tenantDir = join(dir, tenantId);
    const newest = readCheckpointFiles(dir, tenantId).at(-1);
    if (newest && newest.seq >= seq) continue;
    mkdirSync(tenantDir, { recursive: true });
    const checkpoint = signCheckpoint(signer, { tenantId, seq, hash: String(head.hash) }, now);
    const target = join(tenantDir, fileName(seq));
    // Written whole or not at all: a reader never sees half a checkpoint.
    writeFileSync(`${target}.tmp`, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o644 });
    renameSync(`${target}.tmp`, target);
    written.push(checkpoint);
  }
  return written;
}

export interface CheckpointFile {
  readonly file: string;
  readonly seq: number;
  /** The parsed checkpoint, or why it could not be read. */
  readonly checkpoint: Checkpoint | null;
  readonly problem: string | null;
}

/** A tenant's checkpoint files in sequence order; unreadable ones are returned with the problem. */
export function readCheckpointFiles(dir: string, tenantId: string): CheckpointFile[] {
  const tenantDir = join(dir, tenantId);
  if (!existsSync(tenantDir)) return [];
  return readdirSync(tenantDir)
    .filter((f) => /^\d+\.json$/.test(f))
    .sort()
    .map((f): CheckpointFile => {
      const file = join(tenantDir, f);
      const seq = Number(f.slice(0, -5));
      try {
        const parsed = Checkpoint.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (!parsed.success) return { file, seq, checkpoint: null, problem: `not a checkpoint: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
        if (parsed.data.tenantId !== tenantId || parsed.data.seq !== seq) return { file, seq, checkpoint: null, problem: 'names another tenant or sequence number than its file' };
        return { file, seq, checkpoint: parsed.data, problem: null };
      } catch (error) {
        return { file, seq, checkpoint: null, problem: `unreadable: ${(error as Error).message}` };
      }
    });
}
