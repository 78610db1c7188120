/**
 * Type tests, checked by `tsc` (part of `npm test`): a complete connector compiles, and one that
 * leaves out a required part does not. Each `@ts-expect-error` fails the typecheck if the line
 * below it ever starts compiling.
 */
import { z } from 'zod';
import minimal, { thingsStream } from '../../test/fixtures/plugins/minimal-connector.ts';
import { defineConnector, defineStream, type ConnectorDefinition, type StreamDefinition } from './index.ts';

const complete: ConnectorDefinition = minimal;
const { auth, rate, classifyError } = complete;
const stream: StreamDefinition<{ id: string; updated: string }, { since: string }> = thingsStream;
const { raw, cursor, map: _map, read: _read, ...streamRest } = stream;

// @ts-expect-error a connector without auth
defineConnector({ id: 'x', displayName: 'X', rate, streams: [], webhooks: null, panel: null, classifyError, sandbox: null });
// @ts-expect-error a connector without a rate policy
defineConnector({ id: 'x', displayName: 'X', auth, streams: [], webhooks: null, panel: null, classifyError, sandbox: null });
// @ts-expect-error a connector without streams
defineConnector({ id: 'x', displayName: 'X', auth, rate, webhooks: null, panel: null, classifyError, sandbox: null });
// @ts-expect-error a connector that does not say how platform errors map to Ledgerline codes
defineConnector({ id: 'x', displayName: 'X', auth, rate, streams: [], webhooks: null, panel: null, sandbox: null });
// @ts-expect-error webhooks and panel must be declared, even as null
defineConnector({ id: 'x', displayName: 'X', auth, rate, streams: [], classifyError, sandbox: null });

// @ts-expect-error a stream without a mapper
defineStream({ ...streamRest, raw, cursor, read: stream.read });
// @ts-expect-error a stream without its raw schema
defineStream({ ...streamRest, cursor, read: stream.read, map: stream.map });
// @ts-expect-error a stream without a cursor
defineStream({ ...streamRest, raw, read: stream.read, map: stream.map });

defineStream({
  ...streamRest,
  raw,
  cursor,
  read: stream.read,
  // @ts-expect-error a mapper written for another raw shape
  map: (r: { email: number }) => ({ persons: [{ source: { objectType: 'thing', externalId: String(r.email) } }] }),
});

defineStream({
  ...streamRest,
  raw: z.object({ id: z.string(), updated: z.string() }),
  cursor,
  read: stream.read,
  // @ts-expect-error a mapper returning something that is not canonical records
  map: () => ({ people: [] }),
});

export const typeTestsCompile = true;
