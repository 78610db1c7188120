/**
 * The short session of a framed panel (Zendesk sidebar, Canvas): minted once the host's signed
 * first load has verified, good for one iframe's fetches for 15 minutes.
 *
 * Why a token in the page and a request header, not a cookie: inside Zendesk the panel is a
 * third-party frame, and browsers block or partition third-party cookies (Safari and Firefox by
 * default, Chrome with tracking protection), so a cookie would silently vanish for some agents. A
 * header is also sent only by our own script, so no other site can ride on the session (no CSRF),
 * and it dies with the iframe: a reload of the app gets a fresh signed first load.
 *
 * Format: `<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "ledgerline-frame-session.v1." + claims))>`.
 * The key is derived from the encryption key, so every server of a deployment accepts it.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';

/** The header the panel page sends its session in. */
export const frameSessionHeader = 'x-ledgerline-panel-session';
export const frameSessionLifetimeSeconds = 15 * 60;
const purpose = 'ledgerline-frame-session.v1.';

const Uuid = z.uuid();
export const FrameSessionClaims = z.strictObject({
  /** Tenant and installation the session may read. */
  tenantId: Uuid,
  installationId: Uuid,
  plugin: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/),
  /** The host location it was opened for; it decides which records the page may ask about. */
  location: z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/),
  platformAccountId: z.string().min(1).max(255),
  platformUserId: z.string().min(1).max(255).nullable(),
  issuedAt: z.number().int().nonnegative(),
  expiresAt: z.number().int().positive(),
});
export type FrameSessionClaims = z.infer<typeof FrameSessionClaims>;

/** 32 bytes for frame sessions only, from the deployment's encryption key (HKDF-SHA256). */
export function frameSessionKeyFrom(encryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'ledgerline frame panel sessions', 32));
}

const mac = (key: Buffer, payload: string): Buffer => createHmac('sha256', key).update(purpose + payload).digest();

export function mintFrameSession(key: Buffer, claims: Omit<FrameSessionClaims, 'issuedAt' | 'expiresAt'>, now: Date): { token: string; expiresAt: Date } {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const full = FrameSessionClaims.parse({ ...claims, issuedAt, expiresAt: issuedAt + frameSessionLifetimeSeconds });
  const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
  return { token: `${payload}.${mac(key, payload).toString('base64url')}`, expiresAt: new Date(full.expiresAt * 1000) };
}

const refused = (message: string): LedgerlineError => new LedgerlineError('LL_UNAUTHENTICATED', message, { details: { field: frameSessionHeader } });

/** The claims of a session this server minted and that has not expired; LL_UNAUTHENTICATED otherwise. */
export function readFrameSession(key: Buffer, token: string | undefined, now: Date): FrameSessionClaims {
  if (token === undefined || token === '') throw refused('This panel has no session. Reload the app to open a new one.');
  const match = /^([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) throw refused('The panel session is malformed. Reload the app to open a new one.');
  const [, payload = '', signature = ''] = match;
  const expected = mac(key, payload);
  const presented = Buffer.from(signature, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw refused('The panel session was not issued by this server. Reload the app to open a new one.');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw refused('The panel session is malformed. Reload the app to open a new one.');
  }
  const claims = FrameSessionClaims.safeParse(json);
  if (!claims.success) throw refused('The panel session is malformed. Reload the app to open a new one.');
  if (claims.data.expiresAt * 1000 <= now.getTime()) throw refused('The panel session has expired. Reload the app to open a new one.');
  return claims.data;
}
