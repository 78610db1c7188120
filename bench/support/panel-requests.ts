/**
 * The requests the panel benchmark sends, made inside the load generator's worker thread: HubSpot
 * card fetches for random contacts, signed per request as HubSpot signs `hubspot.fetch` calls, and
 * the baseline's indexed SELECTs of random activity ids.
 */
import { random } from '../../core/sandbox/seeded-data.ts';
import { signatureV3 } from '../../plugins/hubspot/signature.ts';
import type { LoadRequest } from './load.ts';

/** The HubSpot app as the bench plays it: the card signatures are made with this secret. */
export const benchHubspot = { HUBSPOT_CLIENT_ID: 'bench-client', HUBSPOT_CLIENT_SECRET: 'bench-card-secret', HUBSPOT_APP_ID: '424242' };

/** A card fetch for one contact, signed as HubSpot signs `hubspot.fetch` calls (fresh timestamp). */
export function cardRequest(serverUrl: string, portalId: string, contactId: string): { path: string; headers: Record<string, string> } {
  const path = `/panels/hubspot/summary?objectType=contact&objectId=${contactId}&userId=12&userEmail=rep%40bench.example&appId=${benchHubspot.HUBSPOT_APP_ID}&portalId=${portalId}`;
  const timestamp = String(Date.now());
  return { path, headers: { 'x-hubspot-signature-v3': signatureV3(benchHubspot.HUBSPOT_CLIENT_SECRET, 'GET', `${serverUrl}${path}`, '', timestamp), 'x-hubspot-request-timestamp': timestamp } };
}

export interface CardRequestsArgs {
  readonly serverUrl: string;
  readonly portalId: string;
  readonly contacts: readonly string[];
}

/** Card fetches for contacts picked at random (seeded, so runs pick the same sequence). */
export function cardRequests(args: CardRequestsArgs): () => LoadRequest {
  const r = random(7, 'panel-bench');
  return () => cardRequest(args.serverUrl, args.portalId, args.contacts[Math.floor(r() * args.contacts.length)]!);
}

export interface IndexedRequestsArgs {
  /** The lowest activity id, and how many ids follow it. */
  readonly low: number;
  readonly span: number;
}

/** The baseline route for random activity ids. */
export function indexedRequests(args: IndexedRequestsArgs): () => LoadRequest {
  const r = random(7, 'panel-bench-indexed');
  return () => ({ path: `/panels/bench/indexed?id=${args.low + Math.floor(r() * args.span)}` });
}
