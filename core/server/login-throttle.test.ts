import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { createLoginThrottle } from './login-throttle.ts';

describe('login throttle', () => {
  it('refuses the address after its failures until the oldest leaves the window, and only that address', () => {
    const throttle = createLoginThrottle({ maxFailures: 3, windowMs: 60_000 });
    for (const at of [0, 10_000, 20_000]) {
      throttle.check('10.0.0.1', at);
      throttle.failed('10.0.0.1', at);
    }
    let refusal: unknown;
    try {
      throttle.check('10.0.0.1', 30_000);
    } catch (error) {
      refusal = error;
    }
    expect(isLedgerlineError(refusal, 'LL_RATE_LIMITED')).toBe(true);
    expect((refusal as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBe(30);
    expect(() => throttle.check('10.0.0.2', 30_000)).not.toThrow();
    // The first failure has left the window.
    expect(() => throttle.check('10.0.0.1', 60_000)).not.toThrow();
  });

  it('forgets an address after a success', () => {
    const throttle = createLoginThrottle({ maxFailures: 2, windowMs: 60_000 });
    throttle.failed('a', 0);
    throttle.succeeded('a');
    throttle.failed('a', 1);
    expect(() => throttle.check('a', 2)).not.toThrow();
  });

  it('keeps at most maxAddresses addresses, forgetting the oldest', () => {
    const throttle = createLoginThrottle({ maxFailures: 1, windowMs: 60_000, maxAddresses: 2 });
    throttle.failed('a', 0);
    throttle.failed('b', 0);
    throttle.failed('c', 0);
    expect(() => throttle.check('a', 1)).not.toThrow();
    expect(() => throttle.check('c', 1)).toThrow(/Too many failed sign-ins/);
  });
});
