/**
 * Zendesk event webhooks (https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/):
 * one event per request, `{type: "zen:event-type:…", account_id, id, time, zendesk_event_version,
 * subject: "zen:ticket:123", detail, event}`, signed per
 * https://developer.zendesk.com/documentation/webhooks/verifying/ (see signature.ts). Each event
 * becomes refresh hints keyed by its `id`; the worker then reads the record's current state, so
 * order and duplicates do not matter.
 *
 * Which account: the payload names it only by a numeric `account_id` that no Zendesk API returns
 * (so an install cannot learn it), hence the webhook's endpoint URL carries the subdomain —
 * `https://<ledgerline>/webhooks/zendesk?subdomain=acme` — as it is configured in Admin Center.
 */
import { z } from 'zod';
import type { InboundRequest, PluginSettings, RefreshHint, WebhookContribution } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';
import { ZendeskSubdomain, zendeskWebhookSecrets } from './settings.ts';
import { verifyZendeskWebhook, zendeskSignatureHeader, zendeskSignatureTimestampHeader } from './signature.ts';

export const zendeskWebhookTopics = [
  'zen:event-type:ticket.created',
  'zen:event-type:ticket.status_changed',
  'zen:event-type:ticket.comment_added',
  'zen:event-type:ticket.subject_changed',
  'zen:event-type:ticket.priority_changed',
  'zen:event-type:ticket.requester_changed',
  'zen:event-type:ticket.soft_deleted',
  'zen:event-type:ticket.permanently_deleted',
  'zen:event-type:user.created',
  'zen:event-type:user.merged',
  'zen:event-type:user.active_changed',
  'zen:event-type:user.name_changed',
  'zen:event-type:user.identity_changed',
  'zen:event-type:user.organization_membership_created',
  'zen:event-type:user.organization_membership_deleted',
  'zen:event-type:organization.created',
  'zen:event-type:organization.name_changed',
  'zen:event-type:organization.deleted',
] as const;

const ZendeskEvent = z
  .object({
    type: z.string().regex(/^zen:event-type:[a-z_]+\.[a-z_]+$/, 'like zen:event-type:ticket.status_changed'),
    account_id: z.number().int().nullish(),
    id: z.string().min(1).max(200),
    time: z.iso.datetime({ offset: true }),
    zendesk_event_version: z.string().nullish(),
    subject: z.string().regex(/^zen:[a-z_]+:\d{1,20}$/, 'like zen:ticket:123'),
    detail: z.object({ id: z.union([z.string(), z.number()]).nullish() }).loose().nullish(),
    event: z.unknown().optional(),
  })
  .loose();

/** The stream each subject kind refreshes. Domains Ledgerline does not sync (articles, posts, agent availability…) are absent. */
const streamsBySubject: Readonly<Record<string, readonly string[]>> = {
  // The ticket's state, and its events (a new comment or status change is an activity).
  ticket: ['tickets', 'ticket_events'],
  user: ['users'],
  organization: ['organizations'],
};

const deletions: ReadonlySet<string> = new Set(['ticket.soft_deleted', 'ticket.permanently_deleted', 'organization.deleted']);

function accountOf(request: InboundRequest): string {
  const given = new URL(request.url).searchParams.get('subdomain');
  const parsed = ZendeskSubdomain.safeParse(given);
  if (given === null || !parsed.success) {
    throw new LedgerlineError('LL_INVALID_INPUT', 'zendesk webhook: the endpoint URL must name the account, as /webhooks/zendesk?subdomain=<subdomain> (Zendesk’s payload has only a numeric account id)', {
      details: { field: 'subdomain' },
    });
  }
  return parsed.data;
}

export function parseZendeskWebhook(request: InboundRequest): RefreshHint[] {
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString('utf8'));
  } catch (error) {
    throw new LedgerlineError('LL_INVALID_INPUT', 'zendesk webhook: the body is not JSON', { cause: error });
  }
  const parsed = ZendeskEvent.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LedgerlineError('LL_INVALID_INPUT', `zendesk webhook: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body'}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  const event = parsed.data;
  const [, kind = '', externalId = ''] = event.subject.split(':');
  const type = event.type.slice('zen:event-type:'.length);
  const streams = streamsBySubject[kind];
  // An event type Ledgerline does not sync is acknowledged and dropped, never an error: Zendesk
  // adds event types, and a 4xx would make it retry and eventually deactivate the webhook.
  if (streams === undefined || !type.startsWith(`${kind}.`)) return [];
  const base = { platformAccountId: accountOf(request), externalId, occurredAt: new Date(event.time) };
  const action = deletions.has(type) ? 'delete' : 'upsert';
  return streams.map((stream, i): RefreshHint => ({
    ...base,
    // The event id is the dedupe key; a second stream's hint for the same event gets its own.
    eventId: i === 0 ? event.id : `${event.id}:${stream}`,
    stream,
    action: stream === 'ticket_events' ? 'upsert' : action,
  }));
}

export const zendeskWebhooks: WebhookContribution = {
  topics: zendeskWebhookTopics,
  verify: (request: InboundRequest, settings: PluginSettings, now: Date): void => {
    verifyZendeskWebhook({
      secret: zendeskWebhookSecrets(settings),
      signature: request.headers[zendeskSignatureHeader],
      timestamp: request.headers[zendeskSignatureTimestampHeader],
      rawBody: request.rawBody,
      now,
    });
  },
  parse: parseZendeskWebhook,
  endpointQuery: (subdomain) => ({ subdomain }),
};
