/**
 * Zendesk Support objects as its API documents them, `.nullish()` wherever Zendesk may omit or null
 * a field. The engine stores the payload as Zendesk sent it; these schemas check and type the fields
 * the mappers read (ticket child events stay loose: their field names are the changed fields):
 * users https://developer.zendesk.com/api-reference/ticketing/users/users/#json-format,
 * organizations https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/#json-format,
 * tickets https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#json-format,
 * ticket events https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-event-export.
 */
import { z } from 'zod';

const Id = z.number().int().positive();
const Timestamp = z.iso.datetime({ offset: true });

export const ZendeskUser = z.object({
  id: Id,
  name: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  role: z.string(),
  verified: z.boolean().nullish(),
  active: z.boolean().nullish(),
  suspended: z.boolean().nullish(),
  organization_id: Id.nullish(),
  locale: z.string().nullish(),
  time_zone: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  external_id: z.string().nullish(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ZendeskUser = z.infer<typeof ZendeskUser>;

export const ZendeskOrganization = z.object({
  id: Id,
  name: z.string().nullish(),
  domain_names: z.array(z.string()).nullish(),
  tags: z.array(z.string()).nullish(),
  external_id: z.string().nullish(),
  created_at: Timestamp,
  updated_at: Timestamp,
  // Set on a deleted organization where Zendesk includes it (the emulator never deletes organizations).
  deleted_at: Timestamp.nullish(),
});
export type ZendeskOrganization = z.infer<typeof ZendeskOrganization>;

export const ZendeskTicket = z.object({
  id: Id,
  subject: z.string().nullish(),
  raw_subject: z.string().nullish(),
  status: z.string(),
  priority: z.string().nullish(),
  type: z.string().nullish(),
  requester_id: Id.nullish(),
  submitter_id: Id.nullish(),
  assignee_id: Id.nullish(),
  organization_id: Id.nullish(),
  group_id: Id.nullish(),
  tags: z.array(z.string()).nullish(),
  via: z.object({ channel: z.union([z.string(), z.number()]).nullish() }).nullish(),
  satisfaction_rating: z.object({ score: z.string().nullish() }).nullish(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type ZendeskTicket = z.infer<typeof ZendeskTicket>;

/**
 * One child of a ticket event: a Create or Change names its field as a key
 * (`{"status": "solved", "previous_value": "open", "event_type": "Change"}`); a Comment carries the
 * comment with `include=comment_events`; other types (Notification, SatisfactionRating, …) pass.
 */
export const ZendeskChildEvent = z
  .object({
    id: z.number().int().nullish(),
    event_type: z.string(),
    previous_value: z.unknown().optional(),
    // Comment (include=comment_events)
    body: z.string().nullish(),
    plain_body: z.string().nullish(),
    public: z.boolean().nullish(),
    author_id: z.number().int().nullish(),
    // SatisfactionRating
    score: z.string().nullish(),
  })
  .loose();
export type ZendeskChildEvent = z.infer<typeof ZendeskChildEvent>;

/**
 * The ticket as it stood at the event, added by Ledgerline's reader (ticket events name neither
 * the requester nor the subject unless they change): from the ticket's own earlier events in the
 * same run, else from the ticket as it is now (GET /api/v2/tickets/show_many).
 */
export const LedgerlineTicketContext = z.strictObject({
  subject: z.string().nullable(),
  requester_id: Id.nullable(),
});
export type LedgerlineTicketContext = z.infer<typeof LedgerlineTicketContext>;

export const ZendeskTicketEvent = z
  .object({
    id: Id,
    ticket_id: Id,
    timestamp: z.number().int().nonnegative(),
    created_at: Timestamp,
    updater_id: z.number().int().nullish(),
    // A label ("Web form", "Mail", "Merge") in this export.
    via: z.union([z.string(), z.object({ channel: z.union([z.string(), z.number()]).nullish() }).loose()]).nullish(),
    event_type: z.string(),
    child_events: z.array(ZendeskChildEvent),
    ledgerline_ticket: LedgerlineTicketContext.nullish(),
  })
  .loose();
export type ZendeskTicketEvent = z.infer<typeof ZendeskTicketEvent>;

/** The value a Create or Change child sets for `field`, when it names that field. */
export function fieldChange(child: ZendeskChildEvent, field: string): { value: unknown; previous: unknown } | null {
  if ((child.event_type !== 'Change' && child.event_type !== 'Create') || !(field in child)) return null;
  return { value: (child as Record<string, unknown>)[field], previous: child.previous_value };
}

/** Ticket statuses Zendesk counts as unresolved. */
export const openTicketStatuses: ReadonlySet<string> = new Set(['new', 'open', 'pending', 'hold']);
