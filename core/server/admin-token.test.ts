import * as crypto from 'node:crypto';
import type * as NodeCrypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { bearerToken, createSessionValue, sessionIsValid, sessionLifetimeMs, tokensMatch } from './admin-token.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof NodeCrypto>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const token = 'correct-horse-battery-staple-0123';

describe('tokensMatch', () => {
  it('compares through timingSafeEqual on equal-length digests, whatever the input lengths', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    expect(tokensMatch('short', token)).toBe(false);
    expect(tokensMatch(token + 'x', token)).toBe(false);
    expect(tokensMatch(token, token)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it('tells tokens of the same length apart', () => {
    expect(tokensMatch(token.replace(/3$/, '4'), token)).toBe(false);
  });
});

describe('bearerToken', () => {
  it('reads the token from a Bearer header only', () => {
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
    expect(bearerToken(`bearer ${token}`)).toBe(token);
    expect(bearerToken(`Basic ${token}`)).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('console session value', () => {
  const now = new Date('2026-11-22T12:00:00Z');

  it('is valid for the token that made it until it expires', () => {
    const value = createSessionValue(token, now);
    expect(value).not.toContain(token);
    expect(sessionIsValid(token, value, now)).toBe(true);
    expect(sessionIsValid(token, value, new Date(now.getTime() + sessionLifetimeMs + 1000))).toBe(false);
  });

  it('is invalid under another token, when tampered with, or when malformed', () => {
    const value = createSessionValue(token, now);
    expect(sessionIsValid('another-token-that-is-long-enough', value, now)).toBe(false);
    const [expiry, mac] = value.split('.') as [string, string];
    expect(sessionIsValid(token, `${Number(expiry) + 3600}.${mac}`, now)).toBe(false);
    expect(sessionIsValid(token, 'garbage', now)).toBe(false);
    expect(sessionIsValid(token, undefined, now)).toBe(false);
  });
});
