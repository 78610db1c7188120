/**
 * The official SDK (`@hubspot/api-client`) over Ledgerline's governed fetch. The SDK's `Client`
 * sends through the global fetch with no way to swap it; its generated API classes take an
 * `httpApi`, so they are built here with one that sends through `ctx.fetch` — the installation's
 * token, the shared rate governor and its 429 handling sit in front of every call, and the SDK's
 * own retries and Bottleneck limiter (process-wide singletons) stay off.
 */
import {
  BasicApi as ObjectsBasicApi,
  BatchApi as ObjectsBatchApi,
  SearchApi as ObjectsSearchApi,
  ApiException,
  createConfiguration as objectsConfiguration,
  ServerConfiguration as ObjectsServer,
  ResponseContext as ObjectsResponse,
  type RequestContext as ObjectsRequest,
} from '@hubspot/api-client/lib/codegen/crm/objects/index.js';
import {
  BatchApi as AssociationsBatchApi,
  createConfiguration as associationsConfiguration,
  ServerConfiguration as AssociationsServer,
  ResponseContext as AssociationsResponse,
  type HttpLibrary as AssociationsHttpLibrary,
  type RequestContext as AssociationsRequest,
} from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import { from } from '@hubspot/api-client/lib/codegen/crm/objects/rxjsStub.js';
import { LedgerlineError, isLedgerlineError } from '../../core/errors/index.ts';
import { classifyHubspotError } from './errors.ts';

type AnyRequest = ObjectsRequest | AssociationsRequest;

function httpLibrary<R extends typeof ObjectsResponse | typeof AssociationsResponse>(send: typeof fetch, signal: AbortSignal, Response: R) {
  return {
    send(request: AnyRequest) {
      const body = request.getBody();
      const promise = send(request.getUrl(), {
        method: request.getHttpMethod().toString(),
        headers: request.getHeaders(),
        ...(body === undefined ? {} : { body: body as string }),
        signal,
      }).then(async (response) => {
        const bytes = Buffer.from(await response.arrayBuffer());
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          headers[name] = value;
        });
        return new Response(response.status, headers, { text: () => Promise.resolve(bytes.toString('utf8')), binary: () => Promise.resolve(bytes) });
      });
      return from(promise);
    },
  };
}

export interface HubspotApis {
  readonly objects: { basic: ObjectsBasicApi; batch: ObjectsBatchApi; search: ObjectsSearchApi };
  readonly associations: AssociationsBatchApi;
}

/** The SDK's API classes for one installation; `fetch` is the stream context's governed fetch. */
export function hubspotApis(options: { baseUrl: string; fetch: typeof fetch; signal: AbortSignal }): HubspotApis {
  const objects = objectsConfiguration({
    baseServer: new ObjectsServer(options.baseUrl, {}),
    httpApi: httpLibrary(options.fetch, options.signal, ObjectsResponse),
  });
  const associations = associationsConfiguration({
    baseServer: new AssociationsServer(options.baseUrl, {}),
    httpApi: httpLibrary(options.fetch, options.signal, AssociationsResponse) as unknown as AssociationsHttpLibrary,
  });
  return {
    objects: { basic: new ObjectsBasicApi(objects), batch: new ObjectsBatchApi(objects), search: new ObjectsSearchApi(objects) },
    associations: new AssociationsBatchApi(associations),
  };
}

/** Runs one SDK call; a platform error becomes a LedgerlineError with HubSpot's message and category. */
export async function hubspotCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isLedgerlineError(error)) throw error;
    if (error instanceof ApiException) {
      const body = parseBody(error.body);
      const code = classifyHubspotError({ status: error.code, body });
      const message = typeof body === 'object' && body !== null && 'message' in body ? String((body).message) : `HTTP ${error.code}`;
      throw new LedgerlineError(code, `hubspot ${what}: ${message}`, { cause: error, details: { plugin: 'hubspot' } });
    }
    throw new LedgerlineError('LL_UPSTREAM', `hubspot ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, details: { plugin: 'hubspot' } });
  }
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
