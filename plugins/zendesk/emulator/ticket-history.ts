/**
 * A ticket's history as Zendesk keeps it: a list of updates ("audits"), each by one author through
 * one channel, each carrying field changes and at most one comment. The ticket itself is the fold
 * of its history, and the same history renders as the Ticket Audits API, the ticket's comments,
 * and the incremental ticket events export — so the three always agree.
 *
 * Shapes:
 * - Audits: https://developer.zendesk.com/api-reference/ticketing/tickets/ticket_audits/ and the
 *   event reference https://developer.zendesk.com/documentation/ticketing/reference-guides/ticket-audit-events-reference
 *   (`{type: "Change", field_name, value, previous_value}`, `{type: "Comment", ...}`,
 *   `{type: "SatisfactionRating", score, assignee_id, body}`).
 * - Incremental ticket events:
 *   https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/#incremental-ticket-event-export
 *   The parent event is `{id, ticket_id, timestamp, created_at, updater_id, via, system, metadata,
 *   event_type: "Audit", child_events}` with `via` a label string ("Web form"). A Create or Change
 *   child names its field as a key (`{"status": "solved", "previous_value": "open",
 *   "event_type": "Change"}`), as in "Exporting ticket events" of
 *   https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api —
 *   unlike audits, which say `field_name`/`value`. A comment child is the full comment only with
 *   `include=comment_events`; otherwise the child carries just `comment_present`/`comment_public`.
 */

export const ticketFields = ['subject', 'status', 'priority', 'type', 'requester_id', 'assignee_id', 'group_id', 'tags', 'satisfaction_score', 'satisfaction_comment'] as const;
export type TicketField = (typeof ticketFields)[number];
export type FieldValue = string | number | null | readonly string[];
export type TicketState = Record<TicketField, FieldValue>;

/** Ticket channels (`via.channel`) the emulator produces, and the label ticket events use for them. */
export const channelLabels = { web: 'Web form', email: 'Mail', api: 'Web service', rule: 'Rule', merge: 'Merge' } as const;
export type Channel = keyof typeof channelLabels;

export interface FieldChange {
  readonly field: TicketField;
  readonly value: FieldValue;
  readonly previous: FieldValue;
}

export interface StepComment {
  readonly body: string;
  readonly public: boolean;
  readonly authorId: number;
}

export interface TicketStep {
  /** Unix seconds. */
  readonly at: number;
  /** The updater; -1 is Zendesk itself (automations, merges). */
  readonly authorId: number;
  readonly channel: Channel;
  readonly kind: 'Create' | 'Change';
  readonly changes: readonly FieldChange[];
  readonly comment: StepComment | null;
}

export const emptyState = (): TicketState => ({
  subject: null, status: null, priority: null, type: null, requester_id: null, assignee_id: null, group_id: null, tags: [], satisfaction_score: 'unoffered', satisfaction_comment: null,
});

function same(a: FieldValue, b: FieldValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

export function applyStep(state: TicketState, step: TicketStep): void {
  for (const change of step.changes) state[change.field] = change.value;
}

/** Builds a history while tracking the state, so every change knows its previous value. */
export class HistoryBuilder {
  readonly steps: TicketStep[];
  readonly state: TicketState;
  constructor(steps: readonly TicketStep[] = []) {
    this.steps = [...steps];
    this.state = emptyState();
    for (const step of steps) applyStep(this.state, step);
  }

  /** Appends an update with the fields that actually change; null when nothing would. */
  add(at: number, authorId: number, channel: Channel, set: Partial<TicketState>, comment: StepComment | null = null): TicketStep | null {
    const kind = this.steps.length === 0 ? 'Create' : 'Change';
    const changes: FieldChange[] = [];
    for (const field of ticketFields) {
      const value = set[field];
      if (value === undefined || (kind === 'Change' && same(value, this.state[field]))) continue;
      changes.push({ field, value, previous: this.state[field] });
    }
    if (changes.length === 0 && comment === null) return null;
    const step: TicketStep = { at, authorId, channel, kind, changes, comment };
    applyStep(this.state, step);
    this.steps.push(step);
    return step;
  }
}

const AUDIT_BASE = 40_000_000_000_000;
/** Updates per ticket the id scheme leaves room for. */
export const maxStepsPerTicket = 1024;

export const auditId = (ticketId: number, step: number): number => AUDIT_BASE + ticketId * maxStepsPerTicket + step;
/** Event ids within an audit: the comment first, then the field changes, then a satisfaction rating. */
const eventId = (audit: number, k: number): number => audit * 16 + k;
/** The event-index id of a step, ordering events of one second by ticket, then step. */
export const eventKey = (ticketId: number, step: number): number => ticketId * maxStepsPerTicket + step;
export const fromEventKey = (key: number): { ticketId: number; step: number } => ({ ticketId: Math.floor(key / maxStepsPerTicket), step: key % maxStepsPerTicket });

/** ISO-8601 without milliseconds, as Zendesk writes timestamps. */
export const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const viaObject = (channel: Channel) => ({ channel, source: { from: {}, to: {}, rel: channel === 'rule' ? 'automation' : null } });

function systemOf(step: TicketStep): Record<string, unknown> {
  if (step.channel === 'rule' || step.channel === 'merge') return {};
  return { client: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36', ip_address: `198.51.100.${(step.authorId % 200) + 20}`, location: 'Berlin, BE, Germany', latitude: 52.52, longitude: 13.405 };
}

/** The comment as GET /api/v2/tickets/{id}/comments returns it. */
export function commentOf(ticketId: number, index: number, step: TicketStep): Record<string, unknown> | null {
  const comment = step.comment;
  if (comment === null) return null;
  const audit = auditId(ticketId, index);
  return {
    id: eventId(audit, 0),
    type: 'Comment',
    author_id: comment.authorId,
    body: comment.body,
    html_body: `<div class="zd-comment" dir="auto"><p dir="auto">${escapeHtml(comment.body)}</p></div>`,
    plain_body: comment.body,
    public: comment.public,
    attachments: [],
    audit_id: audit,
    via: viaObject(step.channel),
    created_at: iso(step.at),
    metadata: { system: systemOf(step), custom: {} },
  };
}

/** One audit of GET /api/v2/tickets/{id}/audits; `after` is the ticket's state once the step applied. */
export function auditOf(ticketId: number, index: number, step: TicketStep, after: TicketState): Record<string, unknown> {
  const audit = auditId(ticketId, index);
  const events: Record<string, unknown>[] = [];
  const comment = commentOf(ticketId, index, step);
  if (comment !== null) events.push({ id: comment.id, type: 'Comment', author_id: comment.author_id, body: comment.body, html_body: comment.html_body, plain_body: comment.plain_body, public: comment.public, attachments: [], audit_id: audit });
  step.changes.forEach((change, k) => {
    events.push(step.kind === 'Create'
      ? { id: eventId(audit, k + 1), type: 'Create', field_name: change.field, value: change.value }
      : { id: eventId(audit, k + 1), type: 'Change', field_name: change.field, value: change.value, previous_value: change.previous });
  });
  const rating = step.changes.find((c) => c.field === 'satisfaction_score' && (c.value === 'good' || c.value === 'bad'));
  if (rating) events.push({ id: eventId(audit, 15), type: 'SatisfactionRating', score: rating.value, assignee_id: after.assignee_id, body: after.satisfaction_comment ?? '' });
  return {
    id: audit,
    ticket_id: ticketId,
    created_at: iso(step.at),
    author_id: step.authorId,
    metadata: { system: systemOf(step), custom: {} },
    via: viaObject(step.channel),
    events,
  };
}

/** One item of /api/v2/incremental/ticket_events. */
export function ticketEventOf(ticketId: number, index: number, step: TicketStep, includeComments: boolean): Record<string, unknown> {
  const audit = auditId(ticketId, index);
  const via = channelLabels[step.channel];
  const children: Record<string, unknown>[] = [];
  const comment = commentOf(ticketId, index, step);
  if (comment !== null) {
    children.push(includeComments
      ? { ...comment, via: viaObject(step.channel), via_reference_id: null, event_type: 'Comment' }
      : { id: comment.id, via, via_reference_id: null, comment_present: true, comment_public: comment.public, event_type: 'Comment' });
  }
  step.changes.forEach((change, k) => {
    children.push(step.kind === 'Create'
      ? { id: eventId(audit, k + 1), via, via_reference_id: null, [change.field]: change.value, event_type: 'Create' }
      : { id: eventId(audit, k + 1), via, via_reference_id: null, [change.field]: change.value, previous_value: change.previous, event_type: 'Change' });
  });
  return {
    id: audit,
    ticket_id: ticketId,
    timestamp: step.at,
    created_at: iso(step.at),
    updater_id: step.authorId,
    via,
    system: systemOf(step),
    metadata: { system: systemOf(step), custom: {} },
    event_type: 'Audit',
    merged_ticket_ids: [],
    child_events: children,
  };
}
