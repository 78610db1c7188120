/**
 * Zendesk webhook signatures (https://developer.zendesk.com/documentation/webhooks/verifying/):
 * X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(signing secret, timestamp + raw body)), where
 * the timestamp is X-Zendesk-Webhook-Signature-Timestamp exactly as sent (ISO-8601) and the body
 * may be empty. Zendesk keeps one signing secret per webhook; after a reset
 * (POST /api/v2/webhooks/{id}/signing_secret) the new secret reaches Ledgerline's settings some
 * time before or after Zendesk starts using it, so verification takes the current secret and,
 * while a rotation rolls out, the previous one.
 * Every comparison is constant-time and no error carries an expected value.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LedgerlineError } from '../../core/errors/index.ts';

export const zendeskSignatureHeader = 'x-zendesk-webhook-signature';
export const zendeskSignatureTimestampHeader = 'x-zendesk-webhook-signature-timestamp';

/**
 * How far the signature timestamp may be from our clock, either way. Zendesk documents no window;
 * the timestamp is what makes a captured delivery unreplayable, so it must be bounded. Five
 * minutes (HubSpot's and Slack's figure) covers delivery queueing and ordinary clock drift while
 * keeping a replay window short; a timestamp as far ahead is as suspect as one that old.
 */
export const zendeskSignatureToleranceMs = 5 * 60 * 1000;

export function zendeskWebhookSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(rawBody).digest('base64');
}

export interface ZendeskWebhookVerification {
  /** The current signing secret, or the current and then the previous one while a reset rolls out. */
  readonly secret: string | readonly string[];
  /** X-Zendesk-Webhook-Signature as received. */
  readonly signature: string | undefined;
  /** X-Zendesk-Webhook-Signature-Timestamp as received. */
  readonly timestamp: string | undefined;
  readonly rawBody: Buffer | string;
  readonly now: Date;
  readonly toleranceMs?: number;
}

export interface VerifiedZendeskWebhook {
  readonly signedAt: Date;
  /** Which of the given secrets signed it: 0 the current one; more means a rotation is not finished. */
  readonly secretIndex: number;
}

const bad = (message: string, field?: string): LedgerlineError =>
  new LedgerlineError('LL_BAD_SIGNATURE', `zendesk webhook: ${message}`, field ? { details: { field } } : {});
const malformed = (message: string, field: string): LedgerlineError =>
  new LedgerlineError('LL_INVALID_INPUT', `zendesk webhook: ${message}`, { details: { field } });

const isoTimestamp = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** ISO-8601 date-time with a zone; Date.parse alone takes 2021-02-30 and 24:00, so fields are checked. */
export function parseZendeskTimestamp(value: string): Date | undefined {
  const m = isoTimestamp.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const fieldsExist = utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
  const offset = m[8]!;
  const offsetOk = offset === 'Z' || (Number(offset.slice(1, 3)) < 24 && Number(offset.slice(4, 6)) < 60);
  if (!fieldsExist || !offsetOk) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : new Date(parsed);
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual needs equal lengths; a length differs only for a value that is wrong anyway.
  return a.length === b.length && timingSafeEqual(a, b);
}

function secretsOf(secret: string | readonly string[]): readonly string[] {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0 || secrets.some((s) => s.length === 0)) {
    throw new LedgerlineError('LL_INVALID_CONFIG', 'zendesk webhook: no signing secret is configured (an empty one never verifies anything)');
  }
  return secrets;
}

/**
 * Verifies a delivery Zendesk signed. Throws LL_BAD_SIGNATURE when a header is missing, the
 * timestamp is outside the window or the signature does not match; LL_INVALID_INPUT when a header
 * is present but not of its format.
 */
export function verifyZendeskWebhook(input: ZendeskWebhookVerification): VerifiedZendeskWebhook {
  const secrets = secretsOf(input.secret);
  const tolerance = input.toleranceMs ?? zendeskSignatureToleranceMs;
  const { signature, timestamp } = input;
  if (!signature) throw bad('missing X-Zendesk-Webhook-Signature', zendeskSignatureHeader);
  if (!timestamp) throw bad('missing X-Zendesk-Webhook-Signature-Timestamp', zendeskSignatureTimestampHeader);
  const signedAt = parseZendeskTimestamp(timestamp);
  if (!signedAt) throw malformed('X-Zendesk-Webhook-Signature-Timestamp is not an ISO-8601 date-time with a zone', zendeskSignatureTimestampHeader);
  const age = input.now.getTime() - signedAt.getTime();
  if (Math.abs(age) > tolerance) {
    const when = age > 0 ? `${Math.round(age / 1000)} s old` : `${Math.round(-age / 1000)} s in the future`;
    throw bad(`signature timestamp is ${when} (allowed: ${tolerance / 1000} s either way)`, zendeskSignatureTimestampHeader);
  }
  if (!base64.test(signature)) throw malformed('X-Zendesk-Webhook-Signature is not base64', zendeskSignatureHeader);
  const given = Buffer.from(signature, 'base64');
  // Every secret is tried, so the time taken does not say which one (if any) matched.
  let secretIndex = -1;
  secrets.forEach((secret, index) => {
    const expected = Buffer.from(zendeskWebhookSignature(secret, timestamp, input.rawBody), 'base64');
    if (sameBytes(expected, given) && secretIndex < 0) secretIndex = index;
  });
  if (secretIndex < 0) throw bad('X-Zendesk-Webhook-Signature does not match', zendeskSignatureHeader);
  return { signedAt, secretIndex };
}
