/**
 * The HubSpot emulator's portal: deterministic CRM data computed from (seed, object type, index)
 * instead of stored, so 100,000 contacts and 200,000 engagements cost a few sorted index arrays.
 * Changes made while it runs (updates, archives, merges, new engagements) live in an overlay.
 */
import { companySuffix, companyWords, firstNames, lastNames, pick, random } from '../../../core/sandbox/index.ts';

export const objectTypes = ['contacts', 'companies', 'deals', 'tickets', 'calls', 'emails', 'meetings', 'notes', 'tasks'] as const;
export type ObjectType = (typeof objectTypes)[number];
export const engagementTypes = ['calls', 'emails', 'meetings', 'notes', 'tasks'] as const;

/** HubSpot's object type ids, accepted in URLs in place of the names. */
export const objectTypeIds: Readonly<Record<string, ObjectType>> = {
  '0-1': 'contacts', '0-2': 'companies', '0-3': 'deals', '0-5': 'tickets', '0-48': 'calls', '0-49': 'emails', '0-47': 'meetings', '0-46': 'notes', '0-27': 'tasks',
};
export const typeIdOf: Readonly<Record<ObjectType, string>> = {
  contacts: '0-1', companies: '0-2', deals: '0-3', tickets: '0-5', calls: '0-48', emails: '0-49', meetings: '0-47', notes: '0-46', tasks: '0-27',
};

const idBase: Readonly<Record<ObjectType, number>> = {
  contacts: 1_000_000, companies: 2_000_000, deals: 3_000_000, tickets: 4_000_000, calls: 5_000_000, emails: 6_000_000, meetings: 7_000_000, notes: 8_000_000, tasks: 9_000_000,
};

export interface CrmObject {
  readonly type: ObjectType;
  readonly id: string;
  properties: Record<string, string | null>;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
  /** Associated ids by object type. */
  associations: Partial<Record<ObjectType, string[]>>;
}

const countries = [['Germany', '+49'], ['Spain', '+34'], ['United States', '+1'], ['France', '+33'], ['Netherlands', '+31'], ['United Kingdom', '+44']] as const;
const industries = ['COMPUTER_SOFTWARE', 'RETAIL', 'LOGISTICS_AND_SUPPLY_CHAIN', 'FOOD_BEVERAGES', 'HOSPITAL_HEALTH_CARE', 'RENEWABLES_ENVIRONMENT'];

export interface PortalShape {
  readonly contacts: number;
  readonly companies: number;
  readonly deals: number;
  readonly tickets: number;
  /** Per engagement type. */
  readonly engagements: number;
}

export function shapeFor(scale: 'demo' | 'bench' | number | undefined): PortalShape {
  const contacts = scale === 'bench' ? 100_000 : scale === 'demo' || scale === undefined ? 40 : Math.max(1, Math.floor(scale));
  return {
    contacts,
    companies: Math.max(3, Math.floor(contacts / 8)),
    deals: Math.max(2, Math.floor(contacts / 4)),
    tickets: Math.max(2, Math.floor(contacts / 5)),
    // Two engagements per contact, spread over the five types.
    engagements: Math.max(1, Math.floor((contacts * 2) / 5)),
  };
}

const dayMs = 86_400_000;

/**
 * The generated portal. `anchor` is the instant the data is "as of" (records were created in the
 * 120 days before it); every generated timestamp is at or before it.
 */
export class Portal {
  readonly shape: PortalShape;
  readonly seed: number;
  readonly anchor: number;
  private readonly overlay = new Map<string, CrmObject>();
  /** Merged contact id → surviving contact id. */
  readonly mergedInto = new Map<string, string>();
  private readonly added: Record<ObjectType, string[]> = { contacts: [], companies: [], deals: [], tickets: [], calls: [], emails: [], meetings: [], notes: [], tasks: [] };
  private nextId: Record<ObjectType, number>;
  /** Per type: indexes sorted by (modified, id), for search windows. */
  private sorted = new Map<ObjectType, { ids: string[]; modified: Float64Array }>();

  constructor(options: { seed: number; anchor: number; shape: PortalShape }) {
    this.seed = options.seed;
    this.anchor = options.anchor;
    this.shape = options.shape;
    this.nextId = Object.fromEntries(objectTypes.map((t) => [t, idBase[t] + this.count(t) + 1])) as Record<ObjectType, number>;
    // Every 53rd contact was merged into the one before it (HubSpot keeps the survivor's id).
    for (let i = 53; i <= this.shape.contacts; i += 53) this.mergedInto.set(String(idBase.contacts + i), String(idBase.contacts + i - 1));
  }

  count(type: ObjectType): number {
    switch (type) {
      case 'contacts': return this.shape.contacts;
      case 'companies': return this.shape.companies;
      case 'deals': return this.shape.deals;
      case 'tickets': return this.shape.tickets;
      default: return this.shape.engagements;
    }
  }

  /** Ids of one type in id order (generated, then created while running), merged contacts left out. */
  *ids(type: ObjectType): Generator<string> {
    for (let i = 1; i <= this.count(type); i++) {
      const id = String(idBase[type] + i);
      if (type === 'contacts' && this.mergedInto.has(id)) continue;
      yield id;
    }
    yield* this.added[type];
  }

  /** The object with this id as it is now (overlay first), or null. Merged contacts are not objects. */
  get(type: ObjectType, id: string): CrmObject | null {
    const changed = this.overlay.get(`${type}:${id}`);
    if (changed) return changed;
    const index = Number(id) - idBase[type];
    if (!Number.isInteger(index) || index < 1 || index > this.count(type)) return null;
    if (type === 'contacts' && this.mergedInto.has(id)) return null;
    return this.generate(type, index);
  }

  private contactOf(rnd: () => number): number {
    return 1 + Math.floor(rnd() * this.shape.contacts);
  }

  private generate(type: ObjectType, index: number): CrmObject {
    const r = random(this.seed, type, index);
    const id = String(idBase[type] + index);
    const createdAt = this.anchor - Math.floor(r() * 120 * dayMs) - 3_600_000;
    let updatedAt = createdAt + Math.floor(r() * (this.anchor - createdAt));
    const object: CrmObject = { type, id, properties: {}, createdAt, updatedAt, archivedAt: null, associations: {} };
    const p = object.properties;
    const owner = String(100 + Math.floor(r() * 5));
    switch (type) {
      case 'contacts': {
        const first = pick(r, firstNames);
        const last = pick(r, lastNames);
        const company = 1 + ((index * 7) % this.shape.companies);
        const companyName = this.companyName(company);
        const [country, dial] = pick(r, countries);
        // About 2.5% share one modification instant, so readers must handle ties.
        if (index % 41 === 5) updatedAt = this.anchor - 3 * dayMs;
        object.updatedAt = updatedAt;
        Object.assign(p, {
          email: `${first}.${last}.${index}@${this.companyDomain(company)}`.toLowerCase(),
          firstname: first,
          lastname: last,
          phone: `${dial} ${String(100 + Math.floor(r() * 900))} ${String(1_000_000 + Math.floor(r() * 8_999_999))}`,
          company: companyName,
          country,
          lifecyclestage: pick(r, ['lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'customer']),
          associatedcompanyid: String(idBase.companies + company),
          hubspot_owner_id: owner,
          hs_merged_object_ids: this.mergedInto.has(String(idBase.contacts + index + 1)) ? String(idBase.contacts + index + 1) : null,
        });
        object.associations.companies = [String(idBase.companies + company)];
        break;
      }
      case 'companies':
        Object.assign(p, {
          name: this.companyName(index),
          domain: this.companyDomain(index),
          country: pick(r, countries)[0],
          industry: pick(r, industries),
          annualrevenue: String(100_000 + Math.floor(r() * 9_900_000)),
          numberofemployees: String(5 + Math.floor(r() * 2000)),
          hubspot_owner_id: owner,
        });
        break;
      case 'deals': {
        const contact = this.liveContact(this.contactOf(r));
        const stage = pick(r, ['appointmentscheduled', 'qualifiedtobuy', 'contractsent', 'closedwon', 'closedwon', 'closedlost']);
        const closed = stage === 'closedwon' || stage === 'closedlost';
        Object.assign(p, {
          dealname: `${pick(r, ['Annual plan', 'Pilot', 'Expansion', 'Renewal', 'Onboarding package'])} ${index}`,
          amount: String(500 + Math.floor(r() * 50_000)),
          deal_currency_code: 'EUR',
          dealstage: stage,
          pipeline: 'default',
          dealtype: r() < 0.3 ? 'existingbusiness' : 'newbusiness',
          closedate: closed ? new Date(updatedAt).toISOString() : new Date(this.anchor + 30 * dayMs).toISOString(),
          hs_is_closed_won: String(stage === 'closedwon'),
          hs_is_closed: String(closed),
          hubspot_owner_id: owner,
        });
        object.associations = { contacts: [contact], companies: this.companyOfContact(contact) };
        break;
      }
      case 'tickets': {
        const contact = this.liveContact(this.contactOf(r));
        const stage = pick(r, ['1', '2', '3', '4', '4']);
        Object.assign(p, {
          subject: pick(r, ['Cannot log in', 'Invoice question', 'Refund request', 'Delivery delayed', 'Feature request', 'Password reset not arriving']),
          content: 'Customer wrote in through the help center.',
          hs_pipeline: '0',
          hs_pipeline_stage: stage,
          hs_ticket_priority: pick(r, ['LOW', 'MEDIUM', 'HIGH']),
          hs_ticket_category: pick(r, ['BILLING_ISSUE', 'PRODUCT_ISSUE', 'GENERAL_INQUIRY']),
          closed_date: stage === '4' ? new Date(updatedAt).toISOString() : null,
          hubspot_owner_id: owner,
        });
        object.associations = { contacts: [contact], companies: this.companyOfContact(contact) };
        break;
      }
      default: {
        const contact = this.liveContact(this.contactOf(r));
        const at = new Date(createdAt).toISOString();
        p.hs_timestamp = at;
        p.hubspot_owner_id = owner;
        if (type === 'calls') Object.assign(p, { hs_call_title: pick(r, ['Discovery call', 'Check-in', 'Renewal call', 'Support follow-up']), hs_call_direction: pick(r, ['INBOUND', 'OUTBOUND']), hs_call_duration: String(60_000 + Math.floor(r() * 1_800_000)), hs_call_status: 'COMPLETED', hs_call_body: 'Notes from the call.' });
        if (type === 'emails') Object.assign(p, { hs_email_subject: pick(r, ['Your quote', 'Welcome aboard', 'Invoice attached', 'Quick question']), hs_email_direction: pick(r, ['EMAIL', 'INCOMING_EMAIL']), hs_email_text: 'Hello, ...' });
        if (type === 'meetings') Object.assign(p, { hs_meeting_title: pick(r, ['Quarterly review', 'Onboarding', 'Product demo']), hs_meeting_body: 'Agenda attached.', hs_meeting_start_time: at, hs_meeting_end_time: new Date(createdAt + 1_800_000).toISOString(), hs_meeting_outcome: pick(r, ['COMPLETED', 'SCHEDULED', 'NO_SHOW']) });
        if (type === 'notes') Object.assign(p, { hs_note_body: `<p>${pick(r, ['Asked about volume pricing.', 'Prefers email contact.', 'Evaluating a competitor.', 'Happy with onboarding.'])}</p>` });
        if (type === 'tasks') Object.assign(p, { hs_task_subject: pick(r, ['Send proposal', 'Follow up on ticket', 'Schedule review']), hs_task_body: 'Due this week.', hs_task_status: pick(r, ['NOT_STARTED', 'COMPLETED']), hs_task_priority: pick(r, ['LOW', 'MEDIUM', 'HIGH']) });
        object.associations = { contacts: [contact], companies: this.companyOfContact(contact) };
        // Half of the engagements belong to a deal or a ticket.
        if (r() < 0.5) {
          const deal = 1 + Math.floor(r() * this.shape.deals);
          const ticket = 1 + Math.floor(r() * this.shape.tickets);
          if (r() < 0.5) object.associations.deals = [String(idBase.deals + deal)];
          else object.associations.tickets = [String(idBase.tickets + ticket)];
        }
      }
    }
    const created = new Date(createdAt).toISOString();
    p.createdate = created;
    if (type !== 'contacts' && type !== 'companies' && type !== 'deals' && type !== 'tickets') p.hs_createdate = created;
    p[type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate'] = new Date(object.updatedAt).toISOString();
    p.hs_object_id = id;
    // Every 89th object of each type was archived a day after its last change.
    if (index % 89 === 11) object.archivedAt = Math.min(this.anchor, object.updatedAt + dayMs);
    return object;
  }

  private companyName(index: number): string {
    return `${companyWords[index % companyWords.length] ?? 'Acme'} ${companySuffix[Math.floor(index / companyWords.length) % companySuffix.length] ?? 'Labs'}${index >= companyWords.length * companySuffix.length ? ` ${index}` : ''}`;
  }

  private companyDomain(index: number): string {
    return `${this.companyName(index).toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`;
  }

  private liveContact(index: number): string {
    const id = String(idBase.contacts + index);
    return this.mergedInto.get(id) ?? id;
  }

  private companyOfContact(contactId: string): string[] {
    const index = Number(contactId) - idBase.contacts;
    return [String(idBase.companies + 1 + ((index * 7) % this.shape.companies))];
  }

  modifiedProperty(type: ObjectType): string {
    return type === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
  }

  /** Live (not archived) objects of a type sorted by (modified, id): the search index. */
  index(type: ObjectType): { ids: string[]; modified: Float64Array } {
    const cached = this.sorted.get(type);
    if (cached) return cached;
    const rows: [number, number, string][] = [];
    for (const id of this.ids(type)) {
      const o = this.get(type, id);
      if (o && o.archivedAt === null) rows.push([o.updatedAt, Number(id), id]);
    }
    rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const built = { ids: rows.map((r) => r[2]), modified: Float64Array.from(rows.map((r) => r[0])) };
    this.sorted.set(type, built);
    return built;
  }

  /** Records a change; the search index is rebuilt on next use. */
  put(object: CrmObject): void {
    this.overlay.set(`${object.type}:${object.id}`, object);
    this.sorted.delete(object.type);
  }

  create(type: ObjectType, properties: Record<string, string | null>, associations: CrmObject['associations'], at: number): CrmObject {
    const id = String(this.nextId[type]++);
    const iso = new Date(at).toISOString();
    const object: CrmObject = {
      type,
      id,
      properties: { ...properties, createdate: iso, [this.modifiedProperty(type)]: iso, hs_object_id: id },
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
      associations,
    };
    this.added[type].push(id);
    this.put(object);
    return object;
  }

  merge(primaryId: string, mergedId: string, at: number): void {
    const primary = this.get('contacts', primaryId);
    const merged = this.get('contacts', mergedId);
    if (!primary || !merged) throw new Error(`cannot merge ${mergedId} into ${primaryId}: unknown contact`);
    const ids = new Set((primary.properties.hs_merged_object_ids ?? '').split(';').filter((s) => s !== ''));
    ids.add(mergedId);
    this.put({ ...primary, properties: { ...primary.properties, hs_merged_object_ids: [...ids].join(';'), lastmodifieddate: new Date(at).toISOString() }, updatedAt: at });
    this.overlay.delete(`contacts:${mergedId}`);
    this.mergedInto.set(mergedId, primaryId);
    this.sorted.delete('contacts');
  }
}
