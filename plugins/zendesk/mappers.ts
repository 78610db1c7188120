/**
 * Pure mapping of Zendesk objects to canonical records.
 *
 * - An end user is a person (agents and admins are staff, not customers: stored, not mapped).
 * - An organization is an account; its first valid `domain_names` entry is its domain.
 * - A ticket is a driver (type `ticket`). The ticket stream gives its opening; the ticket events
 *   give everything that happened after, with its time: status changes (reopening as its own
 *   category), satisfaction ratings, public replies and internal notes, and user merges. Every
 *   activity that states the ticket's state carries `attributes.driverState` ({title, status,
 *   open}), so a summary lists open tickets from the newest state it holds.
 */
import type { ActivityRecordInput, DriverRef, MappedRecordsInput, SubjectRef } from '../../core/model/index.ts';
import { bareDomain, e164, emailAddress, oneLine } from './normalize.ts';
import { fieldChange, openTicketStatuses, type ZendeskChildEvent, type ZendeskOrganization, type ZendeskTicket, type ZendeskTicketEvent, type ZendeskUser } from './raw.ts';

const userRef = (id: number): SubjectRef => ({ kind: 'person', objectType: 'user', externalId: String(id) });
const ticketDriver = (id: number): DriverRef => ({ type: 'ticket', objectType: 'ticket', externalId: String(id) });
/** Zendesk itself (automations, merges) updates as user -1. */
const actorOf = (userId: number | null | undefined): string | null => (userId !== null && userId !== undefined && userId > 0 ? `Zendesk user ${userId}` : null);
const titleOf = (subject: string | null | undefined, ticketId: number): string => (subject?.trim() ? subject.trim() : `Ticket ${ticketId}`);
const nonEmpty = (values: readonly string[] | null | undefined): string[] => (values ?? []).filter((v) => v.trim() !== '');

export function mapUser(u: ZendeskUser): MappedRecordsInput {
  if (u.role !== 'end-user') return {};
  const email = emailAddress(u.email);
  const tags = nonEmpty(u.tags);
  return {
    persons: [
      {
        source: { objectType: 'user', externalId: String(u.id) },
        email,
        // Zendesk's `verified`: the user proved an identity (e-mail or otherwise); only claimed for a usable address.
        emailVerified: email === null ? null : (u.verified ?? null),
        phone: e164(u.phone),
        // Zendesk keeps one name field; splitting it into first and last would be a guess.
        displayName: u.name?.trim() || email,
        account: u.organization_id ? { objectType: 'organization', externalId: String(u.organization_id) } : null,
        // Zendesk's user resource does not name users merged into it; see ticket events for merges.
        mergedFrom: [],
        attributes: {
          ...(tags.length > 0 ? { tags } : {}),
          ...(u.locale ? { locale: u.locale } : {}),
        },
      },
    ],
  };
}

export function mapOrganization(o: ZendeskOrganization): MappedRecordsInput {
  const domains = nonEmpty(o.domain_names).map(bareDomain).filter((d): d is string => d !== null);
  const tags = nonEmpty(o.tags);
  return {
    accounts: [
      {
        source: { objectType: 'organization', externalId: String(o.id) },
        name: o.name?.trim() || null,
        domain: domains[0] ?? null,
        attributes: {
          ...(domains.length > 1 ? { otherDomains: domains.slice(1) } : {}),
          ...(tags.length > 0 ? { tags } : {}),
        },
      },
    ],
  };
}

/** Whom a ticket is about: its requester, else its organization. */
function ticketSubject(requesterId: number | null | undefined, organizationId: number | null | undefined): SubjectRef | null {
  if (requesterId) return userRef(requesterId);
  if (organizationId) return { kind: 'account', objectType: 'organization', externalId: String(organizationId) };
  return null;
}

/** A ticket: its opening, under the ticket, stating the ticket's state as first synced. */
export function mapTicket(t: ZendeskTicket): MappedRecordsInput {
  const subject = ticketSubject(t.requester_id, t.organization_id);
  if (!subject) return {};
  const title = titleOf(t.subject ?? t.raw_subject, t.id);
  const priority = t.priority ?? null;
  const channel = t.via?.channel === undefined || t.via.channel === null ? null : String(t.via.channel);
  return {
    activities: [
      {
        kind: 'interaction',
        category: 'ticket',
        occurredAt: t.created_at,
        subject,
        driver: ticketDriver(t.id),
        source: { objectType: 'ticket', externalId: String(t.id) },
        discriminator: 'created',
        summary: `Ticket opened: ${title}${priority ? ` (${priority} priority)` : ''}`,
        actor: actorOf(t.submitter_id),
        attributes: {
          // The state when Ledgerline first saw the ticket; the ticket events record each later change with its time.
          driverState: { title, status: t.status, open: openTicketStatuses.has(t.status) },
          priority,
          ...(t.type ? { ticketType: t.type } : {}),
          ...(channel ? { channel } : {}),
        },
      },
    ],
  };
}

function statusLine(status: string, previous: unknown, title: string): { category: string; summary: string } {
  const wasResolved = previous === 'solved' || previous === 'closed';
  if (wasResolved && openTicketStatuses.has(status)) return { category: 'ticket_reopened', summary: `Ticket reopened: ${title}` };
  if (status === 'solved') return { category: 'ticket', summary: `Ticket solved: ${title}` };
  if (status === 'closed') return { category: 'ticket', summary: `Ticket closed: ${title}` };
  return { category: 'ticket', summary: `Ticket ${status === 'hold' ? 'on hold' : `set to ${status}`}: ${title}` };
}

const satisfactionScores: ReadonlySet<string> = new Set(['good', 'bad']);

/** The satisfaction rating an audit gives (a score change to good/bad, or a SatisfactionRating event), with its comment. */
function satisfactionOf(children: readonly ZendeskChildEvent[]): { child: ZendeskChildEvent; score: string; comment: string | null } | null {
  let comment: string | null = null;
  let found: { child: ZendeskChildEvent; score: string } | null = null;
  for (const child of children) {
    const score = fieldChange(child, 'satisfaction_score');
    if (score && typeof score.value === 'string' && satisfactionScores.has(score.value)) found = { child, score: score.value };
    if (child.event_type === 'SatisfactionRating' && child.score && satisfactionScores.has(child.score)) {
      found ??= { child, score: child.score };
      comment ??= child.body?.trim() || null;
    }
    const said = fieldChange(child, 'satisfaction_comment');
    if (said && typeof said.value === 'string' && said.value.trim() !== '') comment = said.value.trim();
  }
  return found ? { ...found, comment } : null;
}

/**
 * One ticket event (an audit): what happened to the ticket's requester at that moment. Field
 * changes of the creating audit are the ticket's opening (the ticket stream's); its comment is the
 * description, a public comment like any other.
 */
export function mapTicketEvent(e: ZendeskTicketEvent): MappedRecordsInput {
  const context = e.ledgerline_ticket ?? null;
  const occurredAt = e.created_at;
  const source = { objectType: 'ticket_event', externalId: String(e.id) };
  const driver = ticketDriver(e.ticket_id);
  const title = titleOf(context?.subject, e.ticket_id);
  const requester = context?.requester_id ?? null;
  const viaMerge = e.via === 'Merge' || (typeof e.via === 'object' && e.via?.channel === 'merge');
  const activities: ActivityRecordInput[] = [];

  for (const child of e.child_events) {
    // A requester change made by a user merge: Zendesk moves the duplicate's tickets to the survivor
    // (https://support.zendesk.com/hc/en-us/articles/203690896). One activity per merge, however many
    // tickets moved: keyed by the merged user and the survivor.
    const moved = fieldChange(child, 'requester_id');
    if (viaMerge && moved && child.event_type === 'Change' && typeof moved.value === 'number' && typeof moved.previous === 'number' && moved.previous !== moved.value) {
      activities.push({
        kind: 'profile_change',
        category: 'merged',
        occurredAt,
        subject: userRef(moved.previous),
        driver: null,
        source: { objectType: 'user', externalId: String(moved.previous) },
        discriminator: `merged-into:${moved.value}`,
        summary: `Zendesk user ${moved.previous} was merged into user ${moved.value}`,
        actor: null,
        attributes: { mergedInto: String(moved.value) },
      });
    }
  }
  if (requester === null) return { activities };
  const subject = userRef(requester);

  for (const child of e.child_events) {
    if (child.event_type === 'Comment' && typeof child.body === 'string') {
      const isPublic = child.public !== false;
      const text = oneLine(child.plain_body ?? child.body) || '(empty)';
      activities.push({
        kind: 'interaction',
        category: 'comment',
        occurredAt,
        subject,
        driver,
        source,
        discriminator: `comment:${child.id ?? 'main'}`,
        summary: `${isPublic ? 'Public reply' : 'Internal note'} on "${title}": ${text}`,
        actor: actorOf(child.author_id ?? e.updater_id),
        attributes: { public: isPublic },
      });
      continue;
    }
    const status = child.event_type === 'Change' ? fieldChange(child, 'status') : null;
    if (status && typeof status.value === 'string' && status.value !== 'deleted' && status.value !== status.previous) {
      const line = statusLine(status.value, status.previous, title);
      activities.push({
        kind: 'interaction',
        category: line.category,
        occurredAt,
        subject,
        driver,
        source,
        discriminator: `status:${child.id ?? status.value}`,
        summary: line.summary,
        actor: actorOf(e.updater_id),
        attributes: {
          driverState: { title, status: status.value, open: openTicketStatuses.has(status.value) },
          previousStatus: typeof status.previous === 'string' ? status.previous : null,
        },
      });
    }
  }

  const rating = satisfactionOf(e.child_events);
  if (rating) {
    activities.push({
      kind: 'interaction',
      category: `satisfaction_${rating.score}`,
      occurredAt,
      subject,
      driver,
      source,
      discriminator: `satisfaction:${rating.child.id ?? rating.score}`,
      summary: `Satisfaction rated ${rating.score} on "${title}"${rating.comment ? `: ${oneLine(rating.comment)}` : ''}`,
      actor: actorOf(e.updater_id),
      attributes: { score: rating.score, ...(rating.comment ? { comment: rating.comment } : {}) },
    });
  }
  return { activities };
}
