/**
 * Secure links to a delivered report: a 32-byte random token (only its SHA-256 is stored), an
 * expiry, and optionally a one-time code sent separately (stored as a hash bound to the token, so
 * the stored hash alone cannot be tried offline). Unknown, expired and revoked links all answer the
 * same LL_NOT_FOUND; five wrong codes revoke a link; every open and every refusal is on the ledger.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { LedgerlineError } from '../../errors/index.ts';
import type { SqlSession } from '../../store/sql-session.ts';
import type { RenderedFile } from '../report-model.ts';
import { readStoredFile } from './report-requests.ts';
import { loadRequestViews, type ReportRequestView } from './request-view.ts';
import { record, type WorkflowContext } from './workflow-context.ts';

export const maxWrongCodes = 5;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const codeHashOf = (token: string, code: string): string => sha256(`${token}:${code}`);

export interface NewLink {
  readonly token: string;
  readonly code: string | null;
  readonly tokenHash: string;
  readonly codeHash: string | null;
}

export function newLink(requireCode: boolean): NewLink {
  const token = randomBytes(32).toString('base64url');
  const code = requireCode ? String(randomInt(0, 1_000_000)).padStart(6, '0') : null;
  return { token, code, tokenHash: sha256(token), codeHash: code === null ? null : codeHashOf(token, code) };
}

export const linkUrl = (publicUrl: string, token: string): string => `${publicUrl}/reports/links/${token}`;

/** Stored with the delivery, in its transaction: a link whose e-mail never went out is never valid. */
export async function storeLink(tx: SqlSession, requestId: string, link: NewLink, expiresAt: Date, now: Date): Promise<string> {
  const [row] = await tx.query<{ id: string }>(
    `insert into report_link (request_id, token_hash, code_hash, expires_at, created_at) values ($1, $2, $3, $4, $5) returning id`,
    [requestId, link.tokenHash, link.codeHash, expiresAt.toISOString(), now.toISOString()],
  );
  return row!.id;
}

export type LinkOutcome = { status: 'ok'; file: RenderedFile; request: ReportRequestView } | { status: 'code_required' } | { status: 'wrong_code'; attemptsLeft: number };

const LinkRow = z.object({
  id: z.string(),
  request_id: z.string(),
  tenant_id: z.string(),
  format: z.string(),
  code_hash: z.string().nullable(),
  expires_at: z.union([z.string(), z.date()]).transform((v) => new Date(v)),
  failed_attempts: z.coerce.number(),
  revoked_at: z.unknown(),
});

const notFound = () => new LedgerlineError('LL_NOT_FOUND', 'This link does not exist or is no longer valid.');

/** The network an open came from, not the address: the ledger cannot be erased, so it keeps no full IP. */
function networkOf(ip: string | undefined): string | null {
  if (!ip) return null;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  return `${ip.split(':').slice(0, 3).join(':')}::/48`;
}

function sameHash(expectedHex: string, actualHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = Buffer.from(actualHex, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export async function openLink(ctx: WorkflowContext, token: string, code: string | undefined, meta: { ip?: string } = {}): Promise<LinkOutcome> {
  const now = ctx.now();
  const network = networkOf(meta.ip);
  // The refusal is recorded and committed before the caller hears it, so it is answered after the transaction.
  const outcome = await ctx.sql.transaction(async (tx): Promise<LinkOutcome | 'not_found'> => {
    // The token is the only key a visitor has: it finds the request, and with it the tenant.
    const [found] = await tx.query(
      `select l.id, l.request_id, r.tenant_id, r.format, l.code_hash, l.expires_at, l.failed_attempts, l.revoked_at
         from report_link l join report_request r on r.id = l.request_id
        where l.token_hash = $1 for update of l`,
      [sha256(token)],
    );
    if (!found) {
      ctx.log.warn({ network }, 'an unknown report link was opened');
      return 'not_found';
    }
    const link = LinkRow.parse(found);
    const refuse = async (reason: string, extra: Record<string, unknown> = {}) =>
      record(tx, link.tenant_id, [{ kind: 'report.link_refused', body: { requestId: link.request_id, linkId: link.id, reason, network, ...extra } }], now);
    if (link.revoked_at !== null) return refuse('revoked').then(() => 'not_found' as const);
    if (link.expires_at <= now) return refuse('expired', { expiredAt: link.expires_at.toISOString() }).then(() => 'not_found' as const);
    if (link.code_hash !== null) {
      if (code === undefined) return refuse('code_required').then(() => ({ status: 'code_required' as const }));
      if (!sameHash(link.code_hash, codeHashOf(token, code))) {
        const failed = link.failed_attempts + 1;
        const attemptsLeft = Math.max(0, maxWrongCodes - failed);
        await tx.query(`update report_link set failed_attempts = $2, revoked_at = case when $3 then $4::timestamptz else revoked_at end where id = $1`, [link.id, failed, attemptsLeft === 0, now.toISOString()]);
        await refuse('wrong_code', { attemptsLeft, revoked: attemptsLeft === 0 });
        return { status: 'wrong_code', attemptsLeft };
      }
    }
    const file = await readStoredFile(tx, link.tenant_id, link.request_id, link.format);
    const [request] = await loadRequestViews(tx, link.tenant_id, { id: link.request_id, limit: 1 }, now);
    if (!file || !request) return refuse('file_missing').then(() => 'not_found' as const);
    await tx.query(`update report_link set last_opened_at = $2 where id = $1`, [link.id, now.toISOString()]);
    await record(tx, link.tenant_id, [{ kind: 'report.link_opened', body: { requestId: link.request_id, linkId: link.id, format: file.format, sha256: file.sha256, withCode: link.code_hash !== null, network } }], now);
    return { status: 'ok', file: { format: file.format, fileName: file.fileName, contentType: file.contentType, body: file.body }, request };
  });
  if (outcome === 'not_found') throw notFound();
  return outcome;
}
