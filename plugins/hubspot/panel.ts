/**
 * App cards call Ledgerline with `hubspot.fetch`, which HubSpot signs with signature v3 (always v3
 * here: a card request is never accepted on a replayable v1/v2 digest) and to which it appends
 * `portalId`, `userId`, `userEmail` and `appId`. The card adds the record it is on: `objectType`
 * (contact, company, deal) and `objectId`.
 */
import { z } from 'zod';
import type { InboundRequest, PanelContribution, PanelSubject, PluginSettings, VerifiedPanelRequest } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';
import { hubspotSettings } from './settings.ts';
import { verifyHubspotSignature } from './signature.ts';

const v3Only = new Set(['v3'] as const);

const CardQuery = z.object({
  objectType: z.enum(['contact', 'company', 'deal', 'ticket']),
  objectId: z.string().regex(/^\d{1,20}$/, 'a HubSpot object id'),
  portalId: z.string().regex(/^\d{1,20}$/, 'a HubSpot portal id'),
  userId: z.string().regex(/^\d{1,20}$/).optional(),
  appId: z.string().regex(/^\d{1,20}$/).optional(),
});

function subjectOf(objectType: z.infer<typeof CardQuery>['objectType'], id: string): PanelSubject {
  switch (objectType) {
    case 'contact':
      return { kind: 'person', objectType: 'contact', externalId: id };
    case 'company':
      return { kind: 'account', objectType: 'company', externalId: id };
    case 'deal':
      return { kind: 'driver', type: 'deal', objectType: 'deal', externalId: id };
    case 'ticket':
      return { kind: 'driver', type: 'ticket', objectType: 'ticket', externalId: id };
  }
}

export function verifyHubspotCardRequest(request: InboundRequest, settings: PluginSettings, now: Date): Promise<VerifiedPanelRequest> {
  const s = hubspotSettings(settings);
  verifyHubspotSignature(request, s.clientSecret, now, v3Only);
  const query = CardQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) {
    const issue = query.error.issues[0];
    throw new LedgerlineError('LL_INVALID_INPUT', `hubspot card request: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid query'}`, { details: { field: issue?.path.join('.') ?? 'query' } });
  }
  if (s.appId !== null && query.data.appId !== undefined && query.data.appId !== s.appId) {
    throw new LedgerlineError('LL_FORBIDDEN', `hubspot card request for app ${query.data.appId}, not this app`);
  }
  return Promise.resolve({ platformAccountId: query.data.portalId, userId: query.data.userId ?? null, subject: subjectOf(query.data.objectType, query.data.objectId) });
}

export const hubspotPanel: PanelContribution = {
  locations: [
    { host: 'crm.record.tab', description: 'Account activity summary tab on contact, company and deal records', render: 'json' },
    { host: 'crm.record.sidebar', description: 'Compact account activity summary in the record sidebar', render: 'json' },
  ],
  // Cards fetch JSON; nothing frames Ledgerline in HubSpot.
  frameAncestors: [],
  verify: verifyHubspotCardRequest,
};
