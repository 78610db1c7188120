/**
 * The Zendesk emulator's account: deterministic Support data computed from (seed, kind, index)
 * instead of stored, so 100,000 users and 200,000 tickets cost a few sorted typed arrays. Every
 * timestamp is at or before `anchor` (the start of the hour the emulator started in), so two
 * emulators started in the same hour with the same seed serve the same account. Changes made while
 * it runs (ticket updates, comments, user merges) live in an overlay.
 *
 * What the data exercises: tickets in every status including `deleted` (soft-deleted tickets stay
 * in the incremental export with that status), tickets solved and reopened twice, satisfaction
 * ratings good, bad, offered and unoffered, internal notes, shared modification seconds (every
 * 41st record), and end users merged into another (every end user whose ordinal is 14 mod 29 is a
 * duplicate of the one before it). A merge is visible the way Zendesk shows it
 * (https://support.zendesk.com/hc/en-us/articles/4408887695898): the merged user is soft-deleted
 * (`active: false`, new `updated_at`) and each of its tickets gets a requester change in its
 * events and audits.
 */
import { companySuffix, companyWords, firstNames, lastNames, pick, random } from '../../../core/sandbox/index.ts';
import { RecordIndex, sortRecords, type SortedRecords } from './record-index.ts';
import {
  HistoryBuilder, applyStep, emptyState, eventKey, iso, maxStepsPerTicket, type Channel, type StepComment, type TicketState, type TicketStep,
} from './ticket-history.ts';

export type Scale = 'demo' | 'bench' | number;
export type TicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed' | 'deleted';
export type SatisfactionScore = 'good' | 'bad' | 'offered' | 'unoffered';
export const ticketStatuses: readonly TicketStatus[] = ['new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted'];

/** Someone who also exists in another connected system (a HubSpot contact, a Shopify customer). */
export interface Person {
  readonly name: string;
  readonly email: string;
}

export interface AccountShape {
  readonly users: number;
  readonly organizations: number;
  readonly tickets: number;
}

/** 'demo': 40 users, 8 organizations, 60 tickets; 'bench': 100,000 users, 200,000 tickets; n: n users, 2n tickets. */
export function shapeFor(scale: Scale | undefined): AccountShape {
  if (scale === undefined || scale === 'demo') return { users: 40, organizations: 8, tickets: 60 };
  const users = scale === 'bench' ? 100_000 : Math.max(5, Math.floor(scale));
  return { users, organizations: Math.max(2, Math.ceil(users / 5)), tickets: users * 2 };
}

export const userIdBase = 380_000_000_000;
export const organizationIdBase = 360_000_000_000;
const groupId = 350_000_000_001;
const brandId = 350_000_000_101;
const ticketFormId = 350_000_000_201;
const day = 86_400;

/** Admin (user 1) and agents come first; end users follow. */
const staffFor = (users: number): number => 1 + Math.max(2, Math.floor(users / 40));
/** End users with this ordinal were merged into the end user before them. */
const isMergedOrdinal = (ordinal: number): boolean => ordinal % 29 === 14;

/**
 * The id of the end user who carries `people[index]`: people take the first end users in order,
 * skipping the duplicates that were merged away (so a shared person is always an active user).
 */
export function userIdForPerson(shape: AccountShape, index: number): number {
  let ordinal = 0;
  for (let taken = -1; taken < index; ) {
    ordinal += 1;
    if (!isMergedOrdinal(ordinal)) taken += 1;
  }
  return userIdBase + staffFor(shape.users) + ordinal;
}

const zones = [['Berlin', 'Europe/Berlin', 'de', 8], ['Madrid', 'Europe/Madrid', 'es', 2], ['Eastern Time (US & Canada)', 'America/New_York', 'en-US', 1], ['Paris', 'Europe/Paris', 'fr', 16], ['Amsterdam', 'Europe/Amsterdam', 'nl', 9], ['London', 'Europe/London', 'en-GB', 1176]] as const;
const topics = [
  { subject: 'Cannot log in to the dashboard', description: 'Since this morning the login page says my password is wrong, but the reset email never arrives.', reply: 'Sorry about that. I have resent the reset link; could you check your spam folder?', solution: 'The reset emails were blocked by a filter on our side. It is fixed now.', reopen: 'I still cannot log in, the new link has expired already.' },
  { subject: 'Invoice shows the wrong VAT number', description: 'Our last invoice has an old VAT number on it. Can you issue a corrected one?', reply: 'Thanks, I have asked billing to correct the VAT number.', solution: 'A corrected invoice is attached to your account now.', reopen: 'The corrected invoice still has the old number.' },
  { subject: 'Refund for a duplicate charge', description: 'We were charged twice for the October renewal.', reply: 'I can see both charges and have started the refund.', solution: 'The duplicate charge has been refunded; it takes 3-5 days to show.', reopen: 'Nothing has arrived after a week.' },
  { subject: 'Delivery is late', description: 'The order placed ten days ago has not arrived and tracking has not moved.', reply: 'I have opened an inquiry with the carrier.', solution: 'The carrier found the parcel; it will be delivered tomorrow.', reopen: 'It did not arrive yesterday either.' },
  { subject: 'Export to CSV times out', description: 'Exporting the yearly report to CSV fails after a minute with a timeout.', reply: 'Thanks for the report, we can reproduce it.', solution: 'Large exports now run in the background and are emailed to you.', reopen: 'The emailed export is missing December.' },
  { subject: 'Add a second admin to our account', description: 'Please make my colleague an admin as well.', reply: 'Happy to help, which email address should I use?', solution: 'Your colleague is an admin now.', reopen: 'They still see the agent view only.' },
];
const badComments = ['Took far too long to get an answer.', 'The problem came back twice.', 'Nobody read my first message properly.'];
const goodComments = ['Quick and friendly, thank you!', '', 'Solved in one reply.'];
const tagPool = ['billing', 'login', 'vip', 'renewal', 'shipping', 'export', 'enterprise'];

export interface ZendeskUser {
  id: number; url: string; name: string; email: string; created_at: string; updated_at: string; time_zone: string; iana_time_zone: string;
  phone: string | null; shared_phone_number: boolean | null; photo: null; locale_id: number; locale: string; organization_id: number | null;
  role: 'end-user' | 'agent' | 'admin'; verified: boolean; external_id: string | null; tags: string[]; alias: string; active: boolean; shared: boolean;
  shared_agent: boolean; last_login_at: string | null; two_factor_auth_enabled: boolean | null; signature: string | null; details: string; notes: string;
  role_type: number | null; custom_role_id: number | null; moderator: boolean; ticket_restriction: string | null; only_private_comments: boolean;
  restricted_agent: boolean; suspended: boolean; default_group_id: number | null; report_csv: boolean; user_fields: Record<string, string | null>;
}

export interface ZendeskOrganization {
  url: string; id: number; name: string; shared_tickets: boolean; shared_comments: boolean; external_id: string | null; created_at: string; updated_at: string;
  domain_names: string[]; details: string; notes: string; group_id: number | null; tags: string[]; organization_fields: Record<string, string | null>;
}

export interface SatisfactionRating { id?: number; score: SatisfactionScore; comment?: string }

export interface ZendeskTicket {
  url: string; id: number; external_id: string | null; via: { channel: string; source: { from: object; to: object; rel: string | null } };
  created_at: string; updated_at: string; generated_timestamp: number; type: string | null; subject: string; raw_subject: string; description: string;
  priority: string | null; status: TicketStatus; recipient: string | null; requester_id: number; submitter_id: number; assignee_id: number | null;
  organization_id: number | null; group_id: number | null; collaborator_ids: number[]; follower_ids: number[]; email_cc_ids: number[]; forum_topic_id: null;
  problem_id: null; has_incidents: boolean; is_public: boolean; due_at: null; tags: string[]; custom_fields: never[]; satisfaction_rating: SatisfactionRating;
  sharing_agreement_ids: never[]; fields: never[]; followup_ids: never[]; ticket_form_id: number; brand_id: number; allow_channelback: boolean;
  allow_attachments: boolean; from_messaging_channel: boolean;
}

/** Ticket fields a control method may change. */
export interface TicketPatch {
  readonly status?: TicketStatus;
  readonly priority?: 'low' | 'normal' | 'high' | 'urgent';
  readonly type?: 'question' | 'incident' | 'problem' | 'task';
  readonly subject?: string;
  readonly assignee_id?: number | null;
  readonly tags?: readonly string[];
}

interface UserRecord {
  readonly index: number; readonly id: number; readonly name: string; readonly email: string; readonly phone: string | null;
  readonly role: ZendeskUser['role']; readonly organizationId: number | null; readonly created: number; updated: number;
  readonly zone: (typeof zones)[number]; active: boolean; readonly tags: string[]; readonly plan: string; readonly lastLogin: number | null;
}

interface TicketPlan {
  readonly steps: readonly TicketStep[];
  readonly created: number;
  readonly channel: Channel;
  readonly submitterId: number;
  readonly organizationId: number | null;
}

export class ZendeskAccount {
  readonly seed: number;
  /** Unix seconds the generated data is "as of". */
  readonly anchor: number;
  readonly shape: AccountShape;
  readonly staff: number;
  readonly subdomain: string;
  /** Where the records' `url` fields point; set by the server once it listens. */
  baseUrl = '';
  private readonly people = new Map<number, Person>();
  private readonly userOverlay = new Map<number, UserRecord>();
  private readonly liveSteps = new Map<number, TicketStep[]>();
  /** The generated requester of each ticket (after generated merges), filled with the ticket index. */
  private requesters: Float64Array | null = null;
  private readonly planCache = new Map<number, TicketPlan>();
  readonly users: RecordIndex;
  readonly organizations: RecordIndex;
  readonly tickets: RecordIndex;
  /** Ticket updates in time order, keyed by `eventKey(ticketId, step)`. */
  readonly ticketEvents: RecordIndex;

  constructor(options: { seed: number; anchorMs: number; shape: AccountShape; subdomain?: string; people?: readonly Person[] }) {
    this.seed = options.seed;
    this.anchor = Math.floor(options.anchorMs / 1000);
    this.shape = options.shape;
    this.staff = staffFor(options.shape.users);
    this.subdomain = options.subdomain ?? 'ledgerline-sandbox';
    (options.people ?? []).forEach((person, i) => {
      const index = userIdForPerson(this.shape, i) - userIdBase;
      if (index <= this.shape.users) this.people.set(index - this.staff, person);
    });
    this.users = new RecordIndex(() => this.buildIndex(this.shape.users, (i) => [userIdBase + i, this.userRecord(userIdBase + i)?.updated ?? 0]));
    this.organizations = new RecordIndex(() => this.buildIndex(this.shape.organizations, (i) => [organizationIdBase + i, this.orgTimes(i).updated]));
    this.tickets = new RecordIndex(() => {
      const requesters = new Float64Array(this.shape.tickets);
      const built = this.buildIndex(this.shape.tickets, (i) => {
        const plan = this.generatePlan(i);
        const state = emptyState();
        for (const step of plan.steps) applyStep(state, step);
        requesters[i - 1] = Number(state.requester_id);
        return [i, plan.steps.at(-1)?.at ?? plan.created];
      });
      this.requesters = requesters;
      return built;
    });
    this.ticketEvents = new RecordIndex(() => {
      const ts: number[] = [];
      const keys: number[] = [];
      for (let i = 1; i <= this.shape.tickets; i++) {
        this.generatePlan(i).steps.forEach((step, k) => {
          ts.push(step.at);
          keys.push(eventKey(i, k));
        });
      }
      return sortRecords(Float64Array.from(ts), Float64Array.from(keys));
    });
  }

  private buildIndex(count: number, entry: (index: number) => [number, number]): SortedRecords {
    const ts = new Float64Array(count);
    const ids = new Float64Array(count);
    for (let i = 1; i <= count; i++) {
      const [id, at] = entry(i);
      ids[i - 1] = id;
      ts[i - 1] = at;
    }
    return sortRecords(ts, ids);
  }

  get adminId(): number {
    return userIdBase + 1;
  }

  // --- Users ---------------------------------------------------------------------------------

  /** When the end user with this ordinal was merged into the one before it. */
  private mergedAt(ordinal: number): number {
    return this.anchor - (2 + (ordinal % 17)) * day - ((ordinal * 7919) % 3600);
  }

  /** Every tenth end user writes from a personal address and belongs to no organization. */
  private organizationIndexOf(ordinal: number): number | null {
    return ordinal % 10 === 9 ? null : 1 + ((ordinal * 7) % this.shape.organizations);
  }

  private identity(ordinal: number): { name: string; email: string; organizationIndex: number | null } {
    const organizationIndex = this.organizationIndexOf(ordinal);
    if (isMergedOrdinal(ordinal)) {
      // A duplicate account: the same person writing from a personal address.
      const original = this.identity(ordinal - 1);
      return { name: original.name, email: `${original.email.split('@')[0] ?? 'customer'}@personal-mail.example`, organizationIndex };
    }
    const person = this.people.get(ordinal);
    if (person) return { name: person.name, email: person.email, organizationIndex };
    const r = random(this.seed, 'identity', ordinal);
    const first = pick(r, firstNames);
    const last = pick(r, lastNames);
    const domain = organizationIndex === null ? 'mail.example' : this.organizationDomain(organizationIndex);
    return { name: `${first} ${last}`, email: `${first}.${last}.${ordinal}@${domain}`.toLowerCase(), organizationIndex };
  }

  private userRecord(id: number): UserRecord | null {
    const changed = this.userOverlay.get(id);
    if (changed) return changed;
    const index = id - userIdBase;
    if (!Number.isInteger(index) || index < 1 || index > this.shape.users) return null;
    const r = random(this.seed, 'user', index);
    const zone = pick(r, zones);
    const phone = r() < 0.6 ? `+49 30 ${String(1_000_000 + Math.floor(r() * 8_999_999))}` : null;
    let created = this.anchor - 3600 - Math.floor(r() * 365 * day);
    let updated = created + Math.floor(r() * (this.anchor - created));
    const lastLogin = r() < 0.5 ? updated : null;
    const plan = pick(r, ['basic', 'pro', 'enterprise']);
    if (index <= this.staff) {
      const admin = index === 1;
      created = this.anchor - 400 * day + index * 60;
      updated = Math.max(created, updated);
      const name = admin ? 'Sandbox Admin' : `${pick(r, firstNames)} ${pick(r, lastNames)}`;
      const email = admin ? `admin@${this.subdomain}.example` : `agent${index}@${this.subdomain}.example`;
      return { index, id, name, email, phone: null, role: admin ? 'admin' : 'agent', organizationId: null, created, updated, zone, active: true, tags: [], plan, lastLogin: updated };
    }
    const ordinal = index - this.staff;
    const who = this.identity(ordinal);
    let active = true;
    if (isMergedOrdinal(ordinal) || (ordinal + 1 <= this.shape.users - this.staff && isMergedOrdinal(ordinal + 1))) {
      const mergedAt = this.mergedAt(isMergedOrdinal(ordinal) ? ordinal : ordinal + 1);
      created = Math.min(created, mergedAt - 30 * day);
      updated = isMergedOrdinal(ordinal) ? mergedAt : Math.max(updated, mergedAt);
      active = !isMergedOrdinal(ordinal);
    } else if (index % 41 === 5) {
      updated = Math.max(created, this.anchor - 3 * day);
    }
    const tags = r() < 0.15 ? ['vip'] : [];
    return {
      index, id, name: who.name, email: who.email, phone, role: 'end-user', organizationId: who.organizationIndex === null ? null : organizationIdBase + who.organizationIndex,
      created, updated, zone, active, tags, plan, lastLogin,
    };
  }

  user(id: number): ZendeskUser | null {
    const u = this.userRecord(id);
    if (!u) return null;
    const staff = u.role !== 'end-user';
    return {
      id: u.id, url: `${this.baseUrl}/api/v2/users/${u.id}.json`, name: u.name, email: u.email, created_at: iso(u.created), updated_at: iso(u.updated),
      time_zone: u.zone[0], iana_time_zone: u.zone[1], phone: u.phone, shared_phone_number: u.phone === null ? null : false, photo: null,
      locale_id: u.zone[3], locale: u.zone[2], organization_id: u.organizationId, role: u.role, verified: staff || u.index % 7 !== 3, external_id: null,
      tags: u.tags, alias: '', active: u.active, shared: false, shared_agent: false, last_login_at: u.lastLogin === null ? null : iso(u.lastLogin),
      two_factor_auth_enabled: staff ? true : null, signature: staff ? `${u.name}, Support` : null, details: '', notes: '', role_type: null, custom_role_id: null,
      moderator: staff, ticket_restriction: staff ? null : 'requested', only_private_comments: false, restricted_agent: u.role === 'agent', suspended: false,
      default_group_id: staff ? groupId : null, report_csv: staff, user_fields: { plan: staff ? null : u.plan },
    };
  }

  // --- Organizations -------------------------------------------------------------------------

  private organizationName(index: number): string {
    const word = companyWords[index % companyWords.length] ?? 'Acme';
    const suffix = companySuffix[Math.floor(index / companyWords.length) % companySuffix.length] ?? 'Labs';
    return `${word} ${suffix}${index >= companyWords.length * companySuffix.length ? ` ${index}` : ''}`;
  }

  private organizationDomain(index: number): string {
    return `${this.organizationName(index).toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`;
  }

  private orgTimes(index: number): { created: number; updated: number; tags: string[] } {
    const r = random(this.seed, 'organization', index);
    const created = this.anchor - 3600 - Math.floor((200 + r() * 500) * day);
    return { created, updated: created + Math.floor(r() * (this.anchor - created)), tags: r() < 0.3 ? ['enterprise'] : ['smb'] };
  }

  organization(id: number): ZendeskOrganization | null {
    const index = id - organizationIdBase;
    if (!Number.isInteger(index) || index < 1 || index > this.shape.organizations) return null;
    const { created, updated, tags } = this.orgTimes(index);
    return {
      url: `${this.baseUrl}/api/v2/organizations/${id}.json`, id, name: this.organizationName(index), shared_tickets: false, shared_comments: false, external_id: null,
      created_at: iso(created), updated_at: iso(updated), domain_names: [this.organizationDomain(index)], details: '', notes: '', group_id: null, tags, organization_fields: {},
    };
  }

  // --- Tickets -------------------------------------------------------------------------------

  /** Plans are immutable: the last few are kept, as export pages and events read the same tickets. */
  private plan(i: number): TicketPlan {
    const cached = this.planCache.get(i);
    if (cached) return cached;
    const plan = this.generatePlan(i);
    if (this.planCache.size >= 512) this.planCache.delete(this.planCache.keys().next().value ?? 0);
    this.planCache.set(i, plan);
    return plan;
  }

  private generatePlan(i: number): TicketPlan {
    const r = random(this.seed, 'ticket', i);
    const endUsers = this.shape.users - this.staff;
    const drawn = 1 + Math.floor(r() * endUsers);
    // Every 17th ticket (from the 9th) was written by a duplicate account that was later merged away.
    const duplicates = endUsers >= 14 ? Math.floor((endUsers - 14) / 29) + 1 : 0;
    const ordinal = i % 17 === 9 && duplicates > 0 ? 14 + 29 * (Math.floor(i / 17) % duplicates) : drawn;
    const requesterId = userIdBase + this.staff + ordinal;
    const agentId = userIdBase + 2 + Math.floor(r() * (this.staff - 1));
    const channel: Channel = pick(r, ['web', 'email', 'email', 'api', 'web'] as const);
    const topic = pick(r, topics);
    const priority = pick(r, ['low', 'normal', 'normal', 'high', 'urgent']);
    const type = pick(r, ['question', 'question', 'incident', 'problem', 'task']);
    const tags = [...new Set([pick(r, tagPool), ...(r() < 0.4 ? [pick(r, tagPool)] : [])])].sort();
    const reopened = i % 11 === 3;
    let final: TicketStatus;
    let rating: SatisfactionScore = 'unoffered';
    if (i % 33 === 7) final = 'deleted';
    else if (i % 13 === 4) {
      final = r() < 0.5 ? 'solved' : 'closed';
      rating = 'bad';
    } else {
      const x = r();
      final = x < 0.08 ? 'new' : x < 0.28 ? 'open' : x < 0.4 ? 'pending' : x < 0.45 ? 'hold' : x < 0.72 ? 'solved' : 'closed';
    }
    if (reopened && (final === 'new' || final === 'pending' || final === 'hold')) final = 'open';
    if ((final === 'solved' || final === 'closed') && rating === 'unoffered') {
      const x = r();
      rating = x < 0.35 ? 'good' : x < 0.45 ? 'bad' : x < 0.7 ? 'offered' : 'unoffered';
    }

    type Who = 'requester' | 'agent' | 'system';
    const plan: { who: Who; channel: Channel; set: Partial<TicketState>; comment?: { text: string; public: boolean } }[] = [];
    plan.push({ who: 'requester', channel, set: { subject: topic.subject, status: 'new', priority, type, tags }, comment: { text: topic.description, public: true } });
    const solve = { who: 'agent' as const, channel: 'web' as const, set: { status: 'solved' }, comment: { text: topic.solution, public: true } };
    if (final !== 'new') plan.push({ who: 'agent', channel: 'web', set: { status: 'open', assignee_id: agentId, group_id: groupId }, comment: { text: topic.reply, public: true } });
    if (reopened) for (let k = 0; k < 2; k++) plan.push(solve, { who: 'requester', channel: 'email', set: { status: 'open' }, comment: { text: topic.reopen, public: true } });
    if (final === 'pending') plan.push({ who: 'agent', channel: 'web', set: { status: 'pending' }, comment: { text: 'Could you send us a screenshot of what you see?', public: true } });
    if (final === 'hold') plan.push({ who: 'agent', channel: 'web', set: { status: 'hold' }, comment: { text: 'Waiting for engineering; see the internal issue.', public: false } });
    if (final === 'deleted') plan.push({ who: 'agent', channel: 'web', set: { status: 'deleted' } });
    if (final === 'solved' || final === 'closed') {
      plan.push(solve);
      if (rating !== 'unoffered') plan.push({ who: 'system', channel: 'rule', set: { satisfaction_score: 'offered' } });
      if (rating === 'good' || rating === 'bad') {
        const comment = pick(r, rating === 'bad' ? badComments : goodComments);
        plan.push({ who: 'requester', channel: 'web', set: { satisfaction_score: rating, ...(comment ? { satisfaction_comment: comment } : {}) } });
      }
      if (final === 'closed') plan.push({ who: 'system', channel: 'rule', set: { status: 'closed' } });
    }

    // Times: spread over the ticket's life; every 41st ticket last changed at one shared second.
    const n = plan.length;
    let created: number;
    let end: number;
    if (i % 41 === 5) {
      end = this.anchor - 3 * day;
      created = n === 1 ? end : end - Math.max(n * 120, Math.floor(r() * 20 * day));
    } else {
      created = this.anchor - 3600 - Math.floor(r() * 120 * day);
      end = Math.min(this.anchor, created + Math.max(n * 120, Math.floor((this.anchor - created) * (0.05 + 0.95 * r()))));
    }
    const weights = plan.map(() => 0.3 + r());
    const total = weights.slice(1).reduce((a, b) => a + b, 0);
    const times: number[] = [created];
    let sum = 0;
    for (let k = 1; k < n; k++) {
      sum += weights[k] ?? 1;
      const previous = times[k - 1] ?? created;
      times.push(k === n - 1 ? Math.max(end, previous + 1) : Math.max(previous + 1, created + Math.round(((end - created) * sum) / total)));
    }

    const mergedOrdinal = isMergedOrdinal(ordinal);
    const mergedAt = mergedOrdinal ? this.mergedAt(ordinal) : Infinity;
    const requesterAt = (at: number): number => (at >= mergedAt ? requesterId - 1 : requesterId);
    const builder = new HistoryBuilder();
    let merged = !mergedOrdinal || created >= mergedAt;
    plan.forEach((item, k) => {
      const at = times[k] ?? created;
      if (!merged && at >= mergedAt && builder.state.status !== 'deleted') {
        builder.add(mergedAt, this.adminId, 'merge', { requester_id: requesterId - 1 });
        merged = true;
      }
      const authorId = item.who === 'requester' ? requesterAt(at) : item.who === 'agent' ? agentId : -1;
      const comment: StepComment | null = item.comment ? { body: item.comment.text, public: item.comment.public, authorId } : null;
      builder.add(at, authorId, item.channel, k === 0 ? { ...item.set, requester_id: requesterAt(at) } : item.set, comment);
    });
    if (!merged && builder.state.status !== 'deleted') builder.add(Math.max(mergedAt, (times.at(-1) ?? created) + 1), this.adminId, 'merge', { requester_id: requesterId - 1 });
    const organizationIndex = this.organizationIndexOf(ordinal);
    return {
      steps: builder.steps,
      created,
      channel,
      submitterId: channel === 'api' ? agentId : requesterAt(created),
      organizationId: organizationIndex === null ? null : organizationIdBase + organizationIndex,
    };
  }

  /** Every update of a ticket, generated and live, oldest first; null for an unknown id. */
  history(id: number): readonly TicketStep[] | null {
    if (!Number.isInteger(id) || id < 1 || id > this.shape.tickets) return null;
    return [...this.plan(id).steps, ...(this.liveSteps.get(id) ?? [])];
  }

  ticket(id: number): ZendeskTicket | null {
    const steps = this.history(id);
    if (!steps) return null;
    const plan = this.plan(id);
    const s = emptyState();
    for (const step of steps) applyStep(s, step);
    const updated = steps.at(-1)?.at ?? plan.created;
    const score = String(s.satisfaction_score) as SatisfactionScore;
    const rated = score === 'good' || score === 'bad';
    const subject = String(s.subject);
    return {
      url: `${this.baseUrl}/api/v2/tickets/${id}.json`, id, external_id: null,
      via: { channel: plan.channel, source: { from: {}, to: plan.channel === 'email' ? { address: `support@${this.subdomain}.zendesk.com` } : {}, rel: null } },
      created_at: iso(plan.created), updated_at: iso(updated), generated_timestamp: updated, type: s.type === null ? null : String(s.type), subject, raw_subject: subject,
      description: steps[0]?.comment?.body ?? '', priority: s.priority === null ? null : String(s.priority), status: String(s.status) as TicketStatus,
      recipient: plan.channel === 'email' ? `support@${this.subdomain}.zendesk.com` : null, requester_id: Number(s.requester_id), submitter_id: plan.submitterId,
      assignee_id: s.assignee_id === null ? null : Number(s.assignee_id), organization_id: plan.organizationId, group_id: s.group_id === null ? null : Number(s.group_id),
      collaborator_ids: [], follower_ids: [], email_cc_ids: [], forum_topic_id: null, problem_id: null, has_incidents: false,
      is_public: steps.some((step) => step.comment?.public === true), due_at: null, tags: [...(s.tags as readonly string[])], custom_fields: [],
      satisfaction_rating: rated ? { id: 9_000_000_000 + id, score, comment: String(s.satisfaction_comment ?? '') } : { score },
      sharing_agreement_ids: [], fields: [], followup_ids: [], ticket_form_id: ticketFormId, brand_id: brandId, allow_channelback: false, allow_attachments: true,
      from_messaging_channel: false,
    };
  }

  /** Soft-deleted tickets, as GET /api/v2/deleted_tickets lists them (most recently deleted last). */
  deletedTickets(): Record<string, unknown>[] {
    const candidates = new Set<number>(this.liveSteps.keys());
    for (let i = 7; i <= this.shape.tickets; i += 33) candidates.add(i);
    const out: { at: number; row: Record<string, unknown> }[] = [];
    for (const id of candidates) {
      const steps = this.history(id) ?? [];
      const deletion = steps.findLast((s) => s.changes.some((c) => c.field === 'status'));
      const change = deletion?.changes.find((c) => c.field === 'status');
      if (!deletion || change?.value !== 'deleted') continue;
      const ticket = this.ticket(id);
      const actor = this.user(deletion.authorId);
      out.push({ at: deletion.at, row: { id, subject: ticket?.subject ?? '', description: ticket?.description ?? '', actor: { id: deletion.authorId, name: actor?.name ?? 'Zendesk' }, deleted_at: iso(deletion.at), previous_state: change.previous } });
    }
    return out.sort((a, b) => a.at - b.at || Number(a.row.id) - Number(b.row.id)).map((d) => d.row);
  }

  // --- Changes made while running ------------------------------------------------------------

  /** Appends an update to a ticket; returns it, or null when it would change nothing. */
  appendStep(ticketId: number, at: number, authorId: number, channel: Channel, set: Partial<TicketState>, comment: StepComment | null = null): TicketStep | null {
    const steps = this.history(ticketId);
    if (!steps) throw new Error(`no ticket ${ticketId}`);
    if (steps.length >= maxStepsPerTicket) throw new Error(`ticket ${ticketId} has ${maxStepsPerTicket} updates, the most the emulator keeps`);
    const builder = new HistoryBuilder(steps);
    const step = builder.add(Math.max(at, steps.at(-1)?.at ?? at), authorId, channel, set, comment);
    if (step === null) return null;
    const live = this.liveSteps.get(ticketId) ?? [];
    live.push(step);
    this.liveSteps.set(ticketId, live);
    this.tickets.set(ticketId, step.at);
    this.ticketEvents.set(eventKey(ticketId, steps.length), step.at);
    return step;
  }

  /** Merges one end user into another, as PUT /api/v2/users/{id}/merge would; returns the tickets moved. */
  mergeUsers(loserId: number, winnerId: number, at: number): number[] {
    const loser = this.userRecord(loserId);
    const winner = this.userRecord(winnerId);
    if (!loser || !winner || loserId === winnerId) throw new Error(`cannot merge user ${loserId} into ${winnerId}: unknown user`);
    if (loser.role !== 'end-user' || winner.role !== 'end-user') throw new Error('only end users can be merged (agents and admins cannot)');
    if (!loser.active || !winner.active) throw new Error(`cannot merge user ${loserId} into ${winnerId}: one of them is no longer active`);
    this.userOverlay.set(loserId, { ...loser, active: false, updated: at });
    this.userOverlay.set(winnerId, { ...winner, updated: at });
    this.users.set(loserId, at);
    this.users.set(winnerId, at);
    this.tickets.prepare(); // fills the requester column
    const moved: number[] = [];
    for (let i = 1; i <= this.shape.tickets; i++) {
      const requester = this.liveSteps.has(i) ? this.ticket(i)?.requester_id : this.requesters?.[i - 1];
      if (requester !== loserId || this.ticket(i)?.status === 'deleted') continue;
      if (this.appendStep(i, at, this.adminId, 'merge', { requester_id: winnerId })) moved.push(i);
    }
    return moved;
  }
}
