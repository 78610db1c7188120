/**
 * A trigger rule: which activities fire it (kind, category, platform, an amount at or over a
 * threshold, optionally a count of matching activities of the same customer within a window), the
 * channels its notification goes to, and whether someone must acknowledge it by a due time before
 * it escalates to the next recipients.
 */
import { z } from 'zod';

export const Channel = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('email'), to: z.array(z.email()).min(1).max(20) }),
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    /** Signs each delivery: X-Ledgerline-Signature = sha256=hex(HMAC-SHA256(secret, timestamp + "." + body)). */
    secret: z.string().min(16, 'at least 16 characters'),
  }),
]);
export type Channel = z.infer<typeof Channel>;

export const RuleDefinition = z.strictObject({
  match: z.strictObject({
    kind: z.string().min(1).optional(),
    category: z.string().min(1).optional(),
    platform: z.string().min(1).optional(),
    /** Fires only for amounts at or above this, in this currency. */
    amountAtLeast: z.strictObject({ value: z.number().positive(), currency: z.string().regex(/^[A-Z]{3}$/) }).optional(),
  }),
  /** Fires when at least `count` matching activities of one customer fall within `withinMinutes`. */
  threshold: z.strictObject({ count: z.number().int().min(2).max(1000), withinMinutes: z.number().int().min(1).max(60 * 24 * 90) }).optional(),
  channels: z.array(Channel).min(1).max(10),
  /** No notification is sent in this daily window (local time); they are held until it ends, and that is recorded. */
  quietHours: z
    .strictObject({
      from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
      to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
      timeZone: z.string().refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-GB', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'an IANA time zone such as Europe/Berlin'),
    })
    .optional(),
  /** An obligation: someone acknowledges within this time, or it escalates to `escalateTo`. */
  acknowledge: z.strictObject({ withinMinutes: z.number().int().min(1), escalateTo: z.array(z.email()).min(1).max(20) }).optional(),
});
export type RuleDefinition = z.infer<typeof RuleDefinition>;

export const NewRule = z.strictObject({ name: z.string().trim().min(1).max(200), definition: RuleDefinition, enabled: z.boolean().default(true) });

/** The activity fields a rule looks at (a ledger `activity` entry's body). */
export interface ActivityFacts {
  readonly kind: string;
  readonly category: string;
  readonly platform: string | null;
  readonly amount: { value: string; currency: string } | null;
}

export function matches(rule: RuleDefinition, a: ActivityFacts): boolean {
  const m = rule.match;
  if (m.kind !== undefined && m.kind !== a.kind) return false;
  if (m.category !== undefined && m.category !== a.category) return false;
  if (m.platform !== undefined && m.platform !== a.platform) return false;
  if (m.amountAtLeast !== undefined && (a.amount === null || a.amount.currency !== m.amountAtLeast.currency || Number(a.amount.value) < m.amountAtLeast.value)) return false;
  return true;
}

/** Minutes until the quiet hours end, or 0 when `now` is outside them. */
export function quietMinutesLeft(quiet: NonNullable<RuleDefinition['quietHours']>, now: Date): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: quiet.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const minute = Number(parts.find((p) => p.type === 'hour')!.value) * 60 + Number(parts.find((p) => p.type === 'minute')!.value);
  const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const from = toMinutes(quiet.from);
  const to = toMinutes(quiet.to);
  const inside = from <= to ? minute >= from && minute < to : minute >= from || minute < to;
  return inside ? (to - minute + 1440) % 1440 || 1440 : 0;
}

/**
 * Why a webhook URL points inside the network Ledgerline runs in (loopback, private, link-local,
 * unique-local addresses, `localhost`), or null. Rules may only send there when the operator allows
 * it (LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS): otherwise anyone who can write a rule could make
 * Ledgerline call internal services. Names are checked here as written; webhook-post.ts checks the
 * addresses they resolve to at every delivery.
 */
export function privateTarget(url: string): string | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return `${host} is a local name`;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    if (a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)) return `${host} is a private or loopback address`;
  }
  if (host === '::1' || host === '::' || /^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host) || host.startsWith('::ffff:')) return `${host} is a private or loopback address`;
  return null;
}
