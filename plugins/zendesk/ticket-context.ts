/**
 * Ticket events name the ticket, not its requester or subject (those appear only in the creating
 * audit and in changes), yet every activity needs whom it happened to and the ticket's title. The
 * reader keeps, per run, each ticket's subject and requester as its events stream past in time
 * order — a backfill meets every ticket's creating audit before its other events — and looks up
 * tickets it has not met yet (created before the run's window) as they are now, 100 at a time
 * (`GET /api/v2/tickets/show_many.json?ids=…`, the plan's budget, not the export one:
 * https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#show-multiple-tickets).
 * The result is added to each event as `ledgerline_ticket`, the state right after the event.
 */
import { z } from 'zod';
import type { StreamContext } from '../../core/contract/index.ts';
import type { LedgerlineTicketContext } from './raw.ts';
import { apiUrl, zendeskGet } from './zendesk-api.ts';

/** Tickets remembered per run; past this the oldest are forgotten (and looked up again if met). */
const rememberedTickets = 250_000;
const showManyLimit = 100;

const EventShape = z
  .object({
    ticket_id: z.number().int().positive(),
    child_events: z.array(z.object({ event_type: z.string() }).loose()),
  })
  .loose();

const ShowMany = z.object({
  tickets: z.array(z.object({ id: z.number().int(), subject: z.string().nullish(), requester_id: z.number().int().nullish() }).loose()),
});

export interface TicketContextTracker {
  /** The page's events, each with `ledgerline_ticket` added (events it cannot read are left as they are). */
  enrich(events: readonly unknown[]): Promise<unknown[]>;
}

export function ticketContextTracker(ctx: StreamContext): TicketContextTracker {
  const known = new Map<number, LedgerlineTicketContext>();
  const remember = (id: number, context: LedgerlineTicketContext): void => {
    known.delete(id);
    known.set(id, context);
    if (known.size > rememberedTickets) known.delete(known.keys().next().value ?? id);
  };

  async function lookUp(ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += showManyLimit) {
      const chunk = ids.slice(i, i + showManyLimit);
      const url = apiUrl(ctx.installation.apiBaseUrl, '/api/v2/tickets/show_many.json', { ids: chunk.join(',') });
      const body = await zendeskGet(ctx.fetch, url, 'tickets show_many', ShowMany, ctx.signal);
      for (const t of body.tickets) remember(t.id, { subject: t.subject ?? null, requester_id: t.requester_id ?? null });
      // Deleted tickets are not returned: remembered as unknown, so they are not asked for again.
      for (const id of chunk) if (!known.has(id)) remember(id, { subject: null, requester_id: null });
    }
  }

  return {
    async enrich(events) {
      const parsed = events.map((e) => EventShape.safeParse(e).data ?? null);
      // Tickets whose first event here is not their creation and that this run has not met.
      const seen = new Set<number>();
      const missing: number[] = [];
      for (const e of parsed) {
        if (!e || seen.has(e.ticket_id)) continue;
        seen.add(e.ticket_id);
        const creates = e.child_events.some((c) => c.event_type === 'Create');
        if (!creates && !known.has(e.ticket_id)) missing.push(e.ticket_id);
      }
      if (missing.length > 0) await lookUp(missing);
      return events.map((raw, i) => {
        const e = parsed[i];
        if (!e || raw === null || typeof raw !== 'object') return raw;
        const before = known.get(e.ticket_id) ?? { subject: null, requester_id: null };
        const after = { ...before };
        for (const child of e.child_events) {
          if (child.event_type !== 'Create' && child.event_type !== 'Change') continue;
          if (typeof child.subject === 'string') after.subject = child.subject;
          if (typeof child.requester_id === 'number' && child.requester_id > 0) after.requester_id = child.requester_id;
        }
        remember(e.ticket_id, after);
        return { ...(raw as Record<string, unknown>), ledgerline_ticket: after };
      });
    },
  };
}
