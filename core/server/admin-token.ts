/**
 * The admin token and the console session derived from it. Comparisons hash both sides first so
 * timingSafeEqual always sees equal lengths: neither the token's content nor its length leaks
 * through response timing.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

export const sessionLifetimeMs = 12 * 60 * 60 * 1000;

function sessionMac(adminToken: string, expiresAtSeconds: number): string {
  return createHmac('sha256', adminToken).update(`ledgerline-console-session|${expiresAtSeconds}`).digest('base64url');
}

/**
 * `<expiry>.<HMAC(admin token, expiry)>`: proves the holder knew the token, without storing it in
 * the browser or server-side sessions. Rotating the token ends every session.
 */
export function createSessionValue(adminToken: string, now: Date): string {
  const expiresAtSeconds = Math.floor((now.getTime() + sessionLifetimeMs) / 1000);
  return `${expiresAtSeconds}.${sessionMac(adminToken, expiresAtSeconds)}`;
}

export function sessionIsValid(adminToken: string, value: string | undefined, now: Date): boolean {
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!match) return false;
  const expiresAtSeconds = Number(match[1]);
  if (expiresAtSeconds * 1000 <= now.getTime()) return false;
  return tokensMatch(match[2] ?? '', sessionMac(adminToken, expiresAtSeconds));
}
