/**
 * Framed panels' sessions: what one carries, how long it lives, and that any change to it, a
 * foreign key, or a malformed value is refused as LL_UNAUTHENTICATED with a message a person can act on.
 */
import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { frameSessionKeyFrom, frameSessionLifetimeSeconds, mintFrameSession, readFrameSession } from './frame-session.ts';

const key = frameSessionKeyFrom(Buffer.alloc(32, 5));
const now = new Date('2026-11-23T10:00:00Z');
const grant = {
  tenantId: '0b7a3c1e-2f4d-4e5a-8b6c-7d8e9f0a1b2c',
  installationId: '1c8b4d2f-3a5e-4f6b-9c7d-8e9f0a1b2c3d',
  plugin: 'zendesk',
  location: 'ticket_sidebar',
  platformAccountId: 'acme',
  platformUserId: '42',
};

function refusal(token: string | undefined, at = now): string {
  try {
    readFrameSession(key, token, at);
  } catch (error) {
    if (isLedgerlineError(error, 'LL_UNAUTHENTICATED')) return error.message;
    throw error;
  }
  throw new Error('the session was accepted');
}

describe('frame panel sessions', () => {
  it('carries the grant for 15 minutes', () => {
    const { token, expiresAt } = mintFrameSession(key, grant, now);
    expect(expiresAt.getTime() - now.getTime()).toBe(frameSessionLifetimeSeconds * 1000);
    expect(readFrameSession(key, token, new Date(now.getTime() + 14 * 60_000))).toEqual({ ...grant, issuedAt: now.getTime() / 1000, expiresAt: expiresAt.getTime() / 1000 });
    expect(refusal(token, expiresAt)).toMatch(/has expired. Reload the app/);
  });

  it('refuses a session with changed claims, a foreign key, or no valid shape', () => {
    const { token } = mintFrameSession(key, grant, now);
    const [payload, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forge = (changes: Record<string, unknown>) => `${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${mac}`;
    expect(refusal(forge({ tenantId: '2d9c5e3a-4b6f-4a7c-8d8e-9f0a1b2c3d4e' }))).toMatch(/not issued by this server/);
    expect(refusal(forge({ location: 'user_sidebar' }))).toMatch(/not issued by this server/);
    expect(refusal(mintFrameSession(frameSessionKeyFrom(Buffer.alloc(32, 6)), grant, now).token)).toMatch(/not issued by this server/);
    expect(refusal(undefined)).toMatch(/has no session/);
    expect(refusal('')).toMatch(/has no session/);
    expect(refusal(`${payload}.${mac}x`)).toMatch(/malformed/);
    expect(refusal('a.b.c')).toMatch(/malformed/);
  });

  it('derives its key from the encryption key, so every server of a deployment agrees and no other key works', () => {
    expect(frameSessionKeyFrom(Buffer.alloc(32, 5)).equals(key)).toBe(true);
    expect(frameSessionKeyFrom(Buffer.alloc(32, 5)).equals(Buffer.alloc(32, 5))).toBe(false);
  });

  it('refuses to mint a session for a grant that is not one', () => {
    expect(() => mintFrameSession(key, { ...grant, tenantId: 'acme' }, now)).toThrow();
  });
});
