/**
 * Pure mapping of HubSpot objects to canonical records. Deals and tickets are drivers: every
 * activity they produce carries `attributes.driverState` ({ title, status, open }) so a summary
 * can list open items from the newest state of each driver, whatever platform it came from.
 */
import type { ActivityRecordInput, DriverRef, MappedRecordsInput, SubjectRef } from '../../core/model/index.ts';
import { associatedIds, dateProp, prop, type HubspotObject } from './raw.ts';
import { bareDomain, countryCode, currencyCode, decimal, e164 } from './normalize.ts';

const iso = (date: Date): string => date.toISOString();
const created = (o: HubspotObject): Date => dateProp(o, 'createdate') ?? new Date(o.createdAt);

/** Whom an object is about: its first associated contact, else its first company. */
export function subjectOf(o: HubspotObject): SubjectRef | null {
  const contact = associatedIds(o, 'contacts')[0];
  if (contact) return { kind: 'person', objectType: 'contact', externalId: contact };
  const company = associatedIds(o, 'companies')[0];
  if (company) return { kind: 'account', objectType: 'company', externalId: company };
  return null;
}

function fullName(o: HubspotObject): string | null {
  const name = [prop(o, 'firstname'), prop(o, 'lastname')].filter((p): p is string => p !== null).join(' ');
  return name === '' ? null : name;
}

export function mapContact(o: HubspotObject): MappedRecordsInput {
  const company = prop(o, 'associatedcompanyid');
  const merged = (prop(o, 'hs_merged_object_ids') ?? '').split(';').map((s) => s.trim()).filter((s) => /^\d+$/.test(s) && s !== o.id);
  const name = fullName(o);
  const email = prop(o, 'email');
  const subject: SubjectRef = { kind: 'person', objectType: 'contact', externalId: o.id };
  return {
    persons: [
      {
        source: { objectType: 'contact', externalId: o.id },
        email: email !== null && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? email : null,
        phone: e164(prop(o, 'phone') ?? prop(o, 'mobilephone')),
        firstName: prop(o, 'firstname'),
        lastName: prop(o, 'lastname'),
        displayName: name ?? email,
        account: company && /^\d+$/.test(company) ? { objectType: 'company', externalId: company } : null,
        mergedFrom: merged,
        country: countryCode(prop(o, 'country')),
        attributes: {
          ...(prop(o, 'lifecyclestage') ? { lifecycleStage: prop(o, 'lifecyclestage') } : {}),
          ...(prop(o, 'company') ? { companyName: prop(o, 'company') } : {}),
        },
      },
    ],
    activities: [
      {
        kind: 'profile_change',
        category: 'profile_created',
        occurredAt: iso(created(o)),
        subject,
        source: { objectType: 'contact', externalId: o.id },
        discriminator: 'created',
        summary: `HubSpot contact created: ${name ?? email ?? o.id}`,
        attributes: { lifecycleStage: prop(o, 'lifecyclestage') },
      },
      ...merged.map(
        (id): ActivityRecordInput => ({
          kind: 'profile_change',
          category: 'merged',
          // HubSpot keeps no merge time on the contact; the survivor's modification is the closest it says.
          occurredAt: o.updatedAt,
          subject,
          source: { objectType: 'contact', externalId: o.id },
          discriminator: `merged:${id}`,
          summary: `HubSpot contact ${id} was merged into ${name ?? email ?? o.id}`,
          attributes: { mergedFrom: id },
        }),
      ),
    ],
  };
}

export function mapCompany(o: HubspotObject): MappedRecordsInput {
  const name = prop(o, 'name');
  return {
    accounts: [
      {
        source: { objectType: 'company', externalId: o.id },
        name,
        domain: bareDomain(prop(o, 'domain')),
        country: countryCode(prop(o, 'country')),
        attributes: {
          ...(prop(o, 'industry') ? { industry: prop(o, 'industry') } : {}),
          ...(decimal(prop(o, 'annualrevenue')) ? { annualRevenue: decimal(prop(o, 'annualrevenue')) } : {}),
          ...(prop(o, 'numberofemployees') ? { employees: Number(prop(o, 'numberofemployees')) } : {}),
        },
      },
    ],
    activities: [
      {
        kind: 'profile_change',
        category: 'profile_created',
        occurredAt: iso(created(o)),
        subject: { kind: 'account', objectType: 'company', externalId: o.id },
        source: { objectType: 'company', externalId: o.id },
        discriminator: 'created',
        summary: `HubSpot company created: ${name ?? o.id}`,
      },
    ],
  };
}

const dealStageLabels: Readonly<Record<string, string>> = {
  appointmentscheduled: 'Appointment scheduled',
  qualifiedtobuy: 'Qualified to buy',
  presentationscheduled: 'Presentation scheduled',
  decisionmakerboughtin: 'Decision maker bought in',
  contractsent: 'Contract sent',
  closedwon: 'Closed won',
  closedlost: 'Closed lost',
};

/**
 * A deal: opened, then won or lost. New business is a transaction (a purchase when won); existing
 * business is a subscription (a renewal when won, a cancellation when lost).
 */
export function mapDeal(o: HubspotObject): MappedRecordsInput {
  const subject = subjectOf(o);
  if (!subject) return {};
  const stage = prop(o, 'dealstage') ?? 'unknown';
  const title = prop(o, 'dealname') ?? `Deal ${o.id}`;
  const renewal = prop(o, 'dealtype') === 'existingbusiness';
  const kind = renewal ? 'subscription' : 'transaction';
  const won = prop(o, 'hs_is_closed_won') === 'true' || stage === 'closedwon';
  const lost = !won && (prop(o, 'hs_is_closed') === 'true' || stage === 'closedlost');
  const value = decimal(prop(o, 'amount'));
  const currency = currencyCode(prop(o, 'deal_currency_code'));
  const amount = value !== null && currency !== null ? { value, currency } : null;
  const driver: DriverRef = { type: 'deal', objectType: 'deal', externalId: o.id };
  const status = dealStageLabels[stage] ?? stage;
  const base = { subject, driver, source: { objectType: 'deal', externalId: o.id } } as const;
  const money = amount ? ` (${amount.value} ${amount.currency})` : '';
  const activities: ActivityRecordInput[] = [
    {
      ...base,
      kind,
      category: renewal ? 'renewal_opened' : 'deal_opened',
      occurredAt: iso(created(o)),
      discriminator: 'opened',
      summary: `${renewal ? 'Renewal' : 'Deal'} opened: ${title}${money}`,
      attributes: { driverState: { title, status: won || lost ? 'Open' : status, open: true }, pipeline: prop(o, 'pipeline') },
    },
  ];
  if (won || lost) {
    const closedAt = dateProp(o, 'closedate') ?? new Date(o.updatedAt);
    activities.push({
      ...base,
      kind,
      category: won ? (renewal ? 'renewal' : 'purchase') : renewal ? 'cancellation' : 'deal_lost',
      occurredAt: iso(closedAt),
      discriminator: `closed:${won ? 'won' : 'lost'}:${iso(closedAt)}`,
      amount: won ? amount : null,
      summary: `${renewal ? 'Renewal' : 'Deal'} ${won ? 'won' : 'lost'}: ${title}${money}`,
      attributes: { driverState: { title, status, open: false }, ...(lost && amount ? { lostAmount: amount.value } : {}) },
    });
  }
  return { activities };
}

/** HubSpot's default support pipeline stages. */
const ticketStages: Readonly<Record<string, { label: string; open: boolean }>> = {
  '1': { label: 'New', open: true },
  '2': { label: 'Waiting on contact', open: true },
  '3': { label: 'Waiting on us', open: true },
  '4': { label: 'Closed', open: false },
};

export function mapTicket(o: HubspotObject): MappedRecordsInput {
  const subject = subjectOf(o);
  if (!subject) return {};
  const title = prop(o, 'subject') ?? `Ticket ${o.id}`;
  const stage = prop(o, 'hs_pipeline_stage') ?? '';
  const closedAt = dateProp(o, 'closed_date');
  const known = ticketStages[stage];
  const open = closedAt === null && (known?.open ?? true);
  const status = known?.label ?? (open ? 'Open' : 'Closed');
  const priority = prop(o, 'hs_ticket_priority');
  const base = {
    kind: 'interaction',
    category: 'ticket',
    subject,
    driver: { type: 'ticket', objectType: 'ticket', externalId: o.id },
    source: { objectType: 'ticket', externalId: o.id },
  } as const;
  const activities: ActivityRecordInput[] = [
    {
      ...base,
      occurredAt: iso(created(o)),
      discriminator: 'opened',
      summary: `Ticket opened: ${title}${priority ? ` (${priority.toLowerCase()} priority)` : ''}`,
      attributes: { driverState: { title, status: open ? status : 'New', open: true }, priority, category: prop(o, 'hs_ticket_category') },
    },
  ];
  if (closedAt !== null || !open) {
    const at = closedAt ?? new Date(o.updatedAt);
    activities.push({
      ...base,
      occurredAt: iso(at),
      discriminator: `closed:${iso(at)}`,
      summary: `Ticket closed: ${title}`,
      attributes: { driverState: { title, status: 'Closed', open: false }, priority },
    });
  }
  return { activities };
}

export const engagementTypes = ['calls', 'emails', 'meetings', 'notes', 'tasks'] as const;
export type EngagementType = (typeof engagementTypes)[number];

function minutes(ms: string | null): string | null {
  const n = ms === null ? Number.NaN : Number(ms);
  return Number.isFinite(n) && n > 0 ? `${Math.max(1, Math.round(n / 60_000))} min` : null;
}

function engagementLine(type: EngagementType, o: HubspotObject): { category: string; summary: string; attributes: Record<string, unknown> } {
  switch (type) {
    case 'calls': {
      const direction = prop(o, 'hs_call_direction')?.toLowerCase() ?? null;
      const detail = [direction, minutes(prop(o, 'hs_call_duration'))].filter((d) => d !== null).join(', ');
      return { category: 'call', summary: `Call${detail ? ` (${detail})` : ''}: ${prop(o, 'hs_call_title') ?? 'untitled'}`, attributes: { direction, status: prop(o, 'hs_call_status') } };
    }
    case 'emails': {
      const incoming = prop(o, 'hs_email_direction') === 'INCOMING_EMAIL';
      return { category: 'email', summary: `Email ${incoming ? 'received' : 'sent'}: ${prop(o, 'hs_email_subject') ?? '(no subject)'}`, attributes: { direction: incoming ? 'inbound' : 'outbound' } };
    }
    case 'meetings':
      return { category: 'meeting', summary: `Meeting: ${prop(o, 'hs_meeting_title') ?? 'untitled'}`, attributes: { outcome: prop(o, 'hs_meeting_outcome') } };
    case 'notes': {
      const body = (prop(o, 'hs_note_body') ?? '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
      return { category: 'note', summary: `Note: ${body.length > 120 ? `${body.slice(0, 117)}...` : body || '(empty)'}`, attributes: {} };
    }
    case 'tasks':
      return { category: 'task', summary: `Task: ${prop(o, 'hs_task_subject') ?? 'untitled'}`, attributes: { status: prop(o, 'hs_task_status'), priority: prop(o, 'hs_task_priority') } };
  }
}

/** A call, email, meeting, note or task: an interaction, under the deal or ticket it belongs to. */
export function mapEngagement(type: EngagementType, o: HubspotObject): MappedRecordsInput {
  const subject = subjectOf(o);
  if (!subject) return {};
  const deal = associatedIds(o, 'deals')[0];
  const ticket = associatedIds(o, 'tickets')[0];
  const driver: DriverRef | null = ticket
    ? { type: 'ticket', objectType: 'ticket', externalId: ticket }
    : deal
      ? { type: 'deal', objectType: 'deal', externalId: deal }
      : null;
  const line = engagementLine(type, o);
  const owner = prop(o, 'hubspot_owner_id');
  return {
    activities: [
      {
        kind: 'interaction',
        category: line.category,
        occurredAt: iso(dateProp(o, 'hs_timestamp') ?? created(o)),
        subject,
        driver,
        source: { objectType: type.slice(0, -1), externalId: o.id },
        summary: line.summary,
        actor: owner ? `HubSpot owner ${owner}` : null,
        attributes: line.attributes,
      },
    ],
  };
}
