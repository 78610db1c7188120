/**
 * HubSpot webhook deliveries (https://developers.hubspot.com/docs/api/webhooks): a JSON array of
 * up to 100 events, unordered, possibly duplicated, retried for a day. Each event becomes a
 * refresh hint for its stream; the worker fetches the object's current state, so order does not
 * matter and a duplicate is dropped by its event id.
 */
import { z } from 'zod';
import type { InboundRequest, PluginSettings, RefreshHint, WebhookContribution } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';
import { hubspotSettings } from './settings.ts';
import { verifyHubspotSignature } from './signature.ts';

const streamByObject: Readonly<Record<string, string>> = {
  contact: 'contacts',
  company: 'companies',
  deal: 'deals',
  ticket: 'tickets',
  '0-1': 'contacts',
  '0-2': 'companies',
  '0-3': 'deals',
  '0-5': 'tickets',
  '0-27': 'tasks',
  '0-46': 'notes',
  '0-47': 'meetings',
  '0-48': 'calls',
  '0-49': 'emails',
};

const Id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String);

const HubspotEvent = z
  .object({
    eventId: Id,
    subscriptionId: Id.nullish(),
    portalId: Id,
    appId: Id.nullish(),
    occurredAt: z.number().int().positive(),
    subscriptionType: z.string().regex(/^[a-z]+\.[a-zA-Z]+$/, 'like contact.propertyChange'),
    attemptNumber: z.number().int().nonnegative().nullish(),
    objectId: Id,
    objectTypeId: z.string().nullish(),
    propertyName: z.string().nullish(),
    changeSource: z.string().nullish(),
    mergedObjectIds: z.array(Id).nullish(),
    primaryObjectId: Id.nullish(),
    newObjectId: Id.nullish(),
  })
  .loose();

export const HubspotDelivery = z.array(HubspotEvent).min(1).max(100);

export const hubspotWebhookTopics = [
  'contact.creation',
  'contact.propertyChange',
  'contact.deletion',
  'contact.merge',
  'contact.restore',
  'company.creation',
  'company.propertyChange',
  'company.deletion',
  'company.merge',
  'deal.creation',
  'deal.propertyChange',
  'deal.deletion',
  'ticket.creation',
  'ticket.propertyChange',
  'ticket.deletion',
  'object.creation',
  'object.propertyChange',
  'object.deletion',
] as const;

function hintsFor(event: z.infer<typeof HubspotEvent>): RefreshHint[] {
  const [object, action] = event.subscriptionType.split('.') as [string, string];
  const stream = streamByObject[object === 'object' ? (event.objectTypeId ?? '') : object];
  // Events for objects Ledgerline does not sync (custom objects, products) are acknowledged and dropped.
  if (stream === undefined) return [];
  const base = { platformAccountId: event.portalId, stream, occurredAt: new Date(event.occurredAt) };
  if (action === 'deletion' || action === 'privacyDeletion') return [{ ...base, eventId: event.eventId, externalId: event.objectId, action: 'delete' }];
  if (action === 'merge') {
    const survivor = event.primaryObjectId ?? event.newObjectId ?? event.objectId;
    const merged = (event.mergedObjectIds ?? []).filter((id) => id !== survivor);
    return [
      { ...base, eventId: `${event.eventId}:${survivor}`, externalId: survivor, action: 'upsert' },
      ...merged.map((id): RefreshHint => ({ ...base, eventId: `${event.eventId}:${id}`, externalId: id, action: 'merge', mergedInto: survivor })),
    ];
  }
  return [{ ...base, eventId: event.eventId, externalId: event.objectId, action: 'upsert' }];
}

export function parseHubspotDelivery(request: InboundRequest): RefreshHint[] {
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString('utf8'));
  } catch (error) {
    throw new LedgerlineError('LL_INVALID_INPUT', 'hubspot webhook: the body is not JSON', { cause: error });
  }
  const parsed = HubspotDelivery.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LedgerlineError('LL_INVALID_INPUT', `hubspot webhook: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid body'}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return parsed.data.flatMap(hintsFor);
}

export const hubspotWebhooks: WebhookContribution = {
  topics: hubspotWebhookTopics,
  verify: (request: InboundRequest, settings: PluginSettings, now: Date): void => {
    const s = hubspotSettings(settings);
    verifyHubspotSignature(request, s.clientSecret, now, s.signatureVersions);
  },
  parse: parseHubspotDelivery,
};
