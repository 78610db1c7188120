/**
 * The Zendesk streams: what each reads (through the paginator it names), how deletions show, and
 * how a webhook hint refreshes one record.
 *
 * Deletions: a ticket deleted in Zendesk stays in the ticket export with status `deleted`; a
 * deleted (or merged-away) end user stays in the user export with `active: false`; an organization
 * exported with `deleted_at` is deleted. The record is kept (its last payload) and marked deleted.
 */
import { z } from 'zod';
import type { DeletedRecord, StreamContext } from '../../core/contract/index.ts';
import { defineStream } from '../../core/contract/index.ts';
import { isLedgerlineError } from '../../core/errors/index.ts';
import { mapOrganization, mapTicket, mapTicketEvent, mapUser } from './mappers.ts';
import { zendeskCursorExport, zendeskTimeExport, type CursorExportCheckpoint, type TimeExportCheckpoint } from './paginators.ts';
import { ZendeskOrganization, ZendeskTicket, ZendeskTicketEvent, ZendeskUser } from './raw.ts';
import { ticketContextTracker } from './ticket-context.ts';
import { apiUrl, zendeskGet } from './zendesk-api.ts';

const updated = (raw: { id: number; updated_at: string }) => ({ externalId: String(raw.id), updatedAt: new Date(raw.updated_at) });

/** The records of a page that Zendesk marks deleted, as deletions (the raw is validated by the engine). */
function deletionsOf<T>(items: readonly unknown[], schema: z.ZodType<T>, deletedAt: (record: T) => Date | null, id: (record: T) => number): DeletedRecord[] {
  const out: DeletedRecord[] = [];
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (!parsed.success) continue;
    const at = deletedAt(parsed.data);
    if (at !== null) out.push({ externalId: String(id(parsed.data)), deletedAt: at });
  }
  return out;
}

/** `GET /api/v2/{resource}/{id}.json`, the object under `key`; null when Zendesk says it is gone (404). */
async function showOne(ctx: StreamContext, resource: string, key: string, externalId: string): Promise<unknown> {
  if (!/^\d{1,20}$/.test(externalId)) return null;
  try {
    const body = await zendeskGet(ctx.fetch, apiUrl(ctx.installation.apiBaseUrl, `/api/v2/${resource}/${externalId}.json`), `show ${key} ${externalId}`, z.object({ [key]: z.unknown() }), ctx.signal);
    return body[key] ?? null;
  } catch (error) {
    if (isLedgerlineError(error, 'LL_NOT_FOUND')) return null;
    throw error;
  }
}

export const zendeskUsersStream = defineStream<ZendeskUser, CursorExportCheckpoint>({
  name: 'users',
  objectType: 'user',
  produces: ['person'],
  raw: ZendeskUser,
  cursor: zendeskCursorExport.checkpoint,
  identify: updated,
  deletes: { via: 'deleted-feed', note: 'deleted and merged-away end users stay in the user export with active: false' },
  async *read(ctx, checkpoint) {
    for await (const page of zendeskCursorExport.pages(ctx, { resource: 'users' }, checkpoint)) {
      const deleted = deletionsOf(page.items, ZendeskUser, (u) => (u.role === 'end-user' && u.active === false ? new Date(u.updated_at) : null), (u) => u.id);
      yield { records: page.items, deleted, checkpoint: page.checkpoint };
    }
  },
  map: mapUser,
  fetchOne: (ctx, externalId) => showOne(ctx, 'users', 'user', externalId),
});

export const zendeskOrganizationsStream = defineStream<ZendeskOrganization, TimeExportCheckpoint>({
  name: 'organizations',
  objectType: 'organization',
  produces: ['account'],
  raw: ZendeskOrganization,
  cursor: zendeskTimeExport.checkpoint,
  identify: updated,
  deletes: { via: 'deleted-feed', note: 'an organization exported with deleted_at is marked deleted; organization.deleted webhooks delete it too' },
  async *read(ctx, checkpoint) {
    for await (const page of zendeskTimeExport.pages(ctx, { path: 'organizations', key: 'organizations' }, checkpoint)) {
      const deleted = deletionsOf(page.items, ZendeskOrganization, (o) => (o.deleted_at ? new Date(o.deleted_at) : null), (o) => o.id);
      yield { records: page.items, deleted, checkpoint: page.checkpoint };
    }
  },
  map: mapOrganization,
  fetchOne: (ctx, externalId) => showOne(ctx, 'organizations', 'organization', externalId),
});

export const zendeskTicketsStream = defineStream<ZendeskTicket, CursorExportCheckpoint>({
  name: 'tickets',
  objectType: 'ticket',
  produces: ['activity'],
  raw: ZendeskTicket,
  cursor: zendeskCursorExport.checkpoint,
  identify: updated,
  deletes: { via: 'deleted-feed', note: 'deleted tickets stay in the ticket export with status deleted' },
  async *read(ctx, checkpoint) {
    for await (const page of zendeskCursorExport.pages(ctx, { resource: 'tickets' }, checkpoint)) {
      const deleted = deletionsOf(page.items, ZendeskTicket, (t) => (t.status === 'deleted' ? new Date(t.updated_at) : null), (t) => t.id);
      yield { records: page.items, deleted, checkpoint: page.checkpoint };
    }
  },
  map: mapTicket,
  // A deleted ticket answers 404, which the engine turns into its deletion.
  fetchOne: (ctx, externalId) => showOne(ctx, 'tickets', 'ticket', externalId),
});

export const zendeskTicketEventsStream = defineStream<ZendeskTicketEvent, TimeExportCheckpoint>({
  name: 'ticket_events',
  objectType: 'ticket_event',
  produces: ['activity'],
  raw: ZendeskTicketEvent,
  cursor: zendeskTimeExport.checkpoint,
  identify: (e) => ({ externalId: String(e.id), updatedAt: new Date(e.created_at) }),
  deletes: { via: 'none', note: 'ticket events are immutable history; a deleted ticket is the tickets stream’s deletion' },
  async *read(ctx, checkpoint) {
    const context = ticketContextTracker(ctx);
    for await (const page of zendeskTimeExport.pages(ctx, { path: 'ticket_events', key: 'ticket_events', include: 'comment_events' }, checkpoint)) {
      yield { records: await context.enrich(page.items), checkpoint: page.checkpoint };
    }
  },
  map: mapTicketEvent,
  // No fetchOne: a hint for this stream runs it incrementally (events are read in time order).
});

export const zendeskStreams = [zendeskUsersStream, zendeskOrganizationsStream, zendeskTicketsStream, zendeskTicketEventsStream];
