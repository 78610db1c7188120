/**
 * Type tests, checked by `tsc` (part of `npm test`): a complete connector compiles, and one that
 * leaves out a required part does not. Each `@ts-expect-error` fails the typecheck if the line
 * below it ever starts compiling. Nothing here runs.
 */
import { z } from 'zod';
import minimal from '../../test/fixtures/plugins/minimal-connector.ts';
import { defineConnector, defineRatePolicy, defineStream, oauth2, type ConnectorDefinition } from './index.ts';

// --- A complete stream and connector, written inline -------------------------------------------

const Ticket = z.object({ id: z.number(), requester_email: z.email().nullish(), updated_at: z.iso.datetime() });
const Since = z.object({ since: z.iso.datetime() });

const tickets = defineStream({
  name: 'tickets',
  objectType: 'ticket',
  produces: ['person'],
  raw: Ticket,
  cursor: { schema: Since, initial: () => ({ since: '1970-01-01T00:00:00Z' }), describe: (c) => `updated after ${c.since}` },
  identify: (t) => ({ externalId: String(t.id), updatedAt: new Date(t.updated_at) }),
  deletes: { via: 'none', note: 'type test' },
  async *read(ctx, checkpoint) {
    await ctx.clock.sleep(0, ctx.signal);
    yield { records: [], checkpoint };
  },
  // `t` is the raw type inferred from `raw`: a misspelt field would not compile.
  map: (t) => ({ persons: [{ source: { objectType: 'ticket', externalId: String(t.id) }, email: t.requester_email }] }),
});

const auth = oauth2({
  installParams: z.object({ subdomain: z.string() }),
  endpoints: (_settings, params) => ({ authorizeUrl: `https://${params.subdomain}.example.com/authorize`, tokenUrl: `https://${params.subdomain}.example.com/token`, revokeUrl: null }),
  client: (settings) => ({ clientId: settings.X_CLIENT_ID ?? '', clientSecret: settings.X_CLIENT_SECRET ?? '' }),
  scopes: ['read'],
  pkce: false,
  clientAuth: 'body',
  refreshTokenRotates: true,
  parseToken: () => ({ accessToken: 'a', refreshToken: 'r', expiresAt: null, scopes: ['read'], extra: {} }),
  identify: ({ params }) => Promise.resolve({ platformAccountId: params.subdomain, displayName: params.subdomain, apiBaseUrl: 'https://example.com' }),
});
const rate = defineRatePolicy({ name: 'x', buckets: [], readsBody: false, observe: (r) => ({ throttled: r.status === 429 }) });
const classifyError = () => 'LL_UPSTREAM' as const;

const complete = defineConnector({ id: 'x', displayName: 'X', auth, rate, streams: [tickets], webhooks: null, panel: null, classifyError, sandbox: null });
export const completeConnectors: ConnectorDefinition[] = [complete, minimal];

// --- Connectors missing a required part ---------------------------------------------------------

// @ts-expect-error a connector without auth
defineConnector({ id: 'x', displayName: 'X', rate, streams: [tickets], webhooks: null, panel: null, classifyError, sandbox: null });
// @ts-expect-error a connector without a rate policy
defineConnector({ id: 'x', displayName: 'X', auth, streams: [tickets], webhooks: null, panel: null, classifyError, sandbox: null });
// @ts-expect-error a connector without streams
defineConnector({ id: 'x', displayName: 'X', auth, rate, webhooks: null, panel: null, classifyError, sandbox: null });
// @ts-expect-error a connector that does not say how platform errors map to Ledgerline codes
defineConnector({ id: 'x', displayName: 'X', auth, rate, streams: [tickets], webhooks: null, panel: null, sandbox: null });
// @ts-expect-error webhooks and panel must be declared, even as null
defineConnector({ id: 'x', displayName: 'X', auth, rate, streams: [tickets], classifyError, sandbox: null });
// @ts-expect-error classifyError answers with a Ledgerline code, not any string
defineConnector({ id: 'x', displayName: 'X', auth, rate, streams: [tickets], webhooks: null, panel: null, classifyError: () => 'RATE', sandbox: null });

// --- Streams missing a required part ------------------------------------------------------------

const { map: _map, raw: _raw, cursor: _cursor, ...rest } = tickets;

// Control: the parts put back together compile, so each case below fails only for what it leaves out.
export const reassembled = defineStream({ ...rest, raw: Ticket, cursor: tickets.cursor, map: tickets.map });

// @ts-expect-error a stream without a mapper
defineStream({ ...rest, raw: Ticket, cursor: tickets.cursor });
// @ts-expect-error a stream without its raw schema
defineStream({ ...rest, cursor: tickets.cursor, map: tickets.map });
// @ts-expect-error a stream without a cursor
defineStream({ ...rest, raw: Ticket, map: tickets.map });

defineStream({
  ...rest,
  raw: Ticket,
  cursor: tickets.cursor,
  // @ts-expect-error a mapper written for another raw shape
  map: (r: { email: number }) => ({ persons: [{ source: { objectType: 'ticket', externalId: String(r.email) } }] }),
});

defineStream({
  ...rest,
  raw: Ticket,
  cursor: tickets.cursor,
  // @ts-expect-error a mapper reading a field the raw schema does not have
  map: (t) => ({ persons: [{ source: { objectType: 'ticket', externalId: String(t.external_id) } }] }),
});

defineStream({
  ...rest,
  raw: Ticket,
  cursor: tickets.cursor,
  // @ts-expect-error a mapper returning something that is not canonical records
  map: () => ({ people: [] }),
});
