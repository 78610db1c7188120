/**
 * Failed console sign-ins per client address: after `maxFailures` wrong tokens within `windowMs`
 * the address is refused (429 with Retry-After) until the oldest failure leaves the window, so the
 * admin token cannot be guessed at network speed. A success clears the address. The address is
 * the request's client address: the TCP peer, or the client LEDGERLINE_TRUST_PROXY trusted proxies
 * name. Memory is bounded: the table forgets its oldest address beyond `maxAddresses`.
 */
import { LedgerlineError } from '../errors/index.ts';

export interface LoginThrottle {
  /** Throws LL_RATE_LIMITED when the address has used up its failures. */
  check(address: string, now?: number): void;
  failed(address: string, now?: number): void;
  succeeded(address: string): void;
}

export function createLoginThrottle(options: { maxFailures?: number; windowMs?: number; maxAddresses?: number } = {}): LoginThrottle {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const failures = new Map<string, number[]>();

  const recent = (address: string, now: number): number[] => {
    const kept = (failures.get(address) ?? []).filter((at) => now - at < windowMs);
    if (kept.length === 0) failures.delete(address);
    else failures.set(address, kept);
    return kept;
  };

  return {
    check(address, now = Date.now()) {
      const kept = recent(address, now);
      if (kept.length < maxFailures) return;
      const retryAfterSeconds = Math.max(1, Math.ceil((kept[0]! + windowMs - now) / 1000));
      throw new LedgerlineError('LL_RATE_LIMITED', `Too many failed sign-ins from this address; try again in ${retryAfterSeconds} s.`, { details: { retryAfterSeconds } });
    },
    failed(address, now = Date.now()) {
      const kept = recent(address, now);
      failures.delete(address);
      failures.set(address, [...kept, now]);
      if (failures.size > maxAddresses) failures.delete(failures.keys().next().value!);
    },
    succeeded(address) {
      failures.delete(address);
    },
  };
}
