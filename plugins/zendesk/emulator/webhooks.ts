/**
 * Zendesk event webhooks, as the emulator delivers them to the app's endpoint:
 *
 * - Body: the event envelope of https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/
 *   — `{type: "zen:event-type:…", account_id, id, time, zendesk_event_version, subject, detail, event}`,
 *   ticket `detail` ids as strings and status/priority/type upper-case
 *   (https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/).
 * - Signature (https://developer.zendesk.com/documentation/webhooks/verifying/):
 *   `X-Zendesk-Webhook-Signature` = base64(HMAC-SHA256(signing secret, timestamp + raw body)),
 *   `X-Zendesk-Webhook-Signature-Timestamp` the ISO-8601 timestamp signed, plus
 *   `X-Zendesk-Account-Id`, `X-Zendesk-Webhook-Id` and `X-Zendesk-Webhook-Invocation-Id`
 *   (https://developer.zendesk.com/documentation/webhooks/anatomy-of-a-webhook-request/).
 * - A failed attempt (any non-2xx answer, a network error, or no answer within Zendesk's 12 s) is
 *   retried three times, quickly; each attempt is signed afresh, the invocation id stays.
 *   Deliveries go out one at a time, in order.
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface WebhookEvent {
  readonly type: string;
  readonly subject: string;
  readonly detail: Record<string, unknown>;
  readonly event: Record<string, unknown>;
}

export interface WebhookOutcome {
  readonly delivered: number;
  readonly failed: number;
}

/**
 * The documented signature: base64(HMAC-SHA256(secret, timestamp + body)). Computed here rather than
 * borrowed from the plugin's verifier, so a fault there is not mirrored by the platform it is tested against.
 */
export const zendeskWebhookSignature = (secret: string, timestamp: string, body: string): string =>
  createHmac('sha256', secret).update(timestamp + body).digest('base64');

export const webhookId = '01HXSANDBXZENDESKWEBHK0001';
const retryDelaysMs = [25, 50, 100];

export class WebhookSender {
  private target: { url: string; secret: string } | null = null;
  private readonly accountId: number;
  private readonly now: () => number;
  private readonly onAttempt: (ok: boolean, answered: boolean) => void;
  private chain: Promise<void> = Promise.resolve();
  private outcome = { delivered: 0, failed: 0 };
  private invocation = 7_000_000_000;
  private readonly stopping = new AbortController();

  constructor(options: { accountId: number; now: () => number; onAttempt: (ok: boolean, answered: boolean) => void }) {
    this.accountId = options.accountId;
    this.now = options.now;
    this.onAttempt = options.onAttempt;
  }

  setTarget(url: string | null, secret: string): void {
    this.target = url === null ? null : { url, secret };
  }

  /** Queues an event for the current target; nothing is sent without one. */
  send(event: WebhookEvent): void {
    const target = this.target;
    if (target === null) return;
    const body = JSON.stringify({
      type: event.type,
      account_id: this.accountId,
      id: randomUUID(),
      time: new Date(this.now()).toISOString(),
      zendesk_event_version: '2022-11-06',
      subject: event.subject,
      detail: event.detail,
      event: event.event,
    });
    const invocation = String(this.invocation++);
    this.chain = this.chain.then(async () => {
      const ok = await this.deliver(target, body, invocation);
      if (ok) this.outcome.delivered += 1;
      else this.outcome.failed += 1;
    });
  }

  private async deliver(target: { url: string; secret: string }, body: string, invocation: string): Promise<boolean> {
    for (let attempt = 0; attempt <= retryDelaysMs.length; attempt++) {
      if (this.stopping.signal.aborted) return false;
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt - 1]));
      const timestamp = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Zendesk Webhook',
            'x-zendesk-account-id': String(this.accountId),
            'x-zendesk-webhook-id': webhookId,
            'x-zendesk-webhook-invocation-id': invocation,
            'x-zendesk-webhook-signature': zendeskWebhookSignature(target.secret, timestamp, body),
            'x-zendesk-webhook-signature-timestamp': timestamp,
          },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(12_000), this.stopping.signal]),
        });
        await response.arrayBuffer();
        this.onAttempt(response.ok, true);
        if (response.ok) return true;
      } catch {
        this.onAttempt(false, false);
      }
    }
    return false;
  }

  /** Waits for every queued delivery (retries included); returns what happened since the last flush. */
  async flush(): Promise<WebhookOutcome> {
    await this.chain;
    const outcome = this.outcome;
    this.outcome = { delivered: 0, failed: 0 };
    return outcome;
  }

  /** Abandons deliveries in flight (used by stop). */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.chain;
  }
}
