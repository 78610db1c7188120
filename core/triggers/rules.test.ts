import { describe, expect, it } from 'vitest';
import { matches, privateTarget, quietMinutesLeft, RuleDefinition } from './rules.ts';

describe('trigger rules', () => {
  it('match on kind, category, platform and an amount at or over a threshold in one currency', () => {
    const rule = RuleDefinition.parse({ match: { kind: 'transaction', category: 'refund', platform: 'shopify', amountAtLeast: { value: 100, currency: 'EUR' } }, channels: [{ type: 'email', to: ['ops@acme.example'] }] });
    const refund = { kind: 'transaction', category: 'refund', platform: 'shopify', amount: { value: '100', currency: 'EUR' } };
    expect(matches(rule, refund)).toBe(true);
    expect(matches(rule, { ...refund, amount: { value: '99.99', currency: 'EUR' } })).toBe(false);
    expect(matches(rule, { ...refund, amount: { value: '500', currency: 'USD' } })).toBe(false);
    expect(matches(rule, { ...refund, amount: null })).toBe(false);
    expect(matches(rule, { ...refund, platform: 'hubspot' })).toBe(false);
  });

  it('refuses a rule that could not work, naming the field', () => {
    const parsed = RuleDefinition.safeParse({ match: {}, channels: [{ type: 'webhook', url: 'ftp://x', secret: 'short' }], quietHours: { from: '25:00', to: '07:00', timeZone: 'Mars/Olympus' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['channels.0.secret', 'channels.0.url', 'quietHours.from', 'quietHours.timeZone']);
  });

  it('quiet hours are local to their time zone and may span midnight', () => {
    const quiet = { from: '22:00', to: '07:00', timeZone: 'Europe/Berlin' };
    // 21:59 UTC is 22:59 in Berlin (winter): quiet for 8 h 1 min more.
    expect(quietMinutesLeft(quiet, new Date('2026-11-20T21:59:00Z'))).toBe(8 * 60 + 1);
    expect(quietMinutesLeft(quiet, new Date('2026-11-21T05:59:00Z'))).toBe(1);
    expect(quietMinutesLeft(quiet, new Date('2026-11-21T06:00:00Z'))).toBe(0);
    expect(quietMinutesLeft(quiet, new Date('2026-11-20T12:00:00Z'))).toBe(0);
    expect(quietMinutesLeft({ from: '12:00', to: '13:00', timeZone: 'UTC' }, new Date('2026-11-20T12:30:00Z'))).toBe(30);
  });

  it('recognises webhook targets inside the network, as written', () => {
    for (const url of ['http://localhost:8080/x', 'http://127.0.0.1/x', 'http://10.1.2.3/x', 'http://172.20.0.5/x', 'http://192.168.1.1/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://[fd12:3456::1]/x', 'http://db.internal/x']) {
      expect(privateTarget(url), url).not.toBeNull();
    }
    for (const url of ['https://hooks.acme.example/ledgerline', 'https://172.32.0.1/x', 'https://8.8.8.8/x', 'https://[2001:db8::1]/x']) expect(privateTarget(url), url).toBeNull();
  });
});
