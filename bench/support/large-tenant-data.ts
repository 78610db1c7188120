/**
 * The deterministic contents of the benchmarks' large tenant: companies, the people who work at
 * them (a HubSpot contact each, many also a Shopify customer and a Zendesk user), and 13 months of
 * their activities in a realistic mix. Everything derives from one seed and the row's index, so
 * two runs with the same sizes store the same data.
 */
import { createHash } from 'node:crypto';
import { AccountRecord, PersonRecord, type ActivityRecord, type MappedRecords } from '../../core/model/index.ts';
import { companySuffix, companyWords, firstNames, lastNames, pick, random } from '../../core/sandbox/seeded-data.ts';
import type { IngestSourceRecord } from '../../core/store/index.ts';

export const largeTenantSeed = 20_261_202;
/** 13 whole months of history, the last one ending when the report bench's default month ends. */
export const historyFrom = new Date(Date.UTC(2025, 10, 1));
export const historyTo = new Date(Date.UTC(2026, 11, 1));

export type BenchPlatform = 'hubspot' | 'shopify' | 'zendesk';
export const benchPlatforms: readonly BenchPlatform[] = ['hubspot', 'shopify', 'zendesk'];

export interface BenchAccount {
  readonly companyId: string;
  readonly name: string;
  readonly domain: string;
  readonly country: string;
}

export interface BenchPerson {
  readonly index: number;
  readonly contactId: string;
  readonly companyId: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly country: string;
  readonly currency: string;
  readonly shopifyId: string | null;
  readonly zendeskId: string | null;
  /** Identity resolution put this person's records in one profile. */
  readonly profileId: string | null;
}

const countries = ['US', 'US', 'GB', 'DE', 'FR', 'ES', 'NL', 'SE', 'IT'] as const;
const currencyOf = (country: string): string => (country === 'US' ? 'USD' : country === 'GB' ? 'GBP' : 'EUR');

/** A stable UUID-shaped id from a text (profile ids must not change between runs). */
function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function benchAccounts(count: number): BenchAccount[] {
  return Array.from({ length: count }, (_, i) => {
    const r = random(largeTenantSeed, 'account', i);
    const word = pick(r, companyWords);
    const suffix = pick(r, companySuffix);
    return { companyId: String(2_000_000 + i), name: `${word} ${suffix} ${i}`, domain: `${word}-${suffix}-${i}.example`.toLowerCase(), country: pick(r, countries) };
  });
}

/** One to four people per company. */
export function benchPersons(accounts: readonly BenchAccount[]): BenchPerson[] {
  const persons: BenchPerson[] = [];
  accounts.forEach((account, a) => {
    const r = random(largeTenantSeed, 'staff', a);
    const staff = 1 + Math.floor(r() * 4);
    for (let k = 0; k < staff; k++) {
      const index = persons.length;
      const firstName = pick(r, firstNames);
      const lastName = pick(r, lastNames);
      const country = r() < 0.85 ? account.country : pick(r, countries);
      const shopify = r() < 0.6;
      const zendesk = r() < 0.4;
      const resolved = (shopify || zendesk) && r() < 0.7;
      persons.push({
        index,
        contactId: String(1_000_000 + index),
        companyId: account.companyId,
        firstName,
        lastName,
        email: `${firstName}.${lastName}.${index}@${account.domain}`.toLowerCase(),
        country,
        currency: currencyOf(country),
        shopifyId: shopify ? String(3_000_000 + index) : null,
        zendeskId: zendesk ? String(4_000_000 + index) : null,
        profileId: resolved ? stableUuid(`bench-profile-${index}`) : null,
      });
    }
  });
  return persons;
}

const recordTime = new Date(historyFrom.getTime() - 86_400_000);

function personRecord(person: BenchPerson, objectType: string, externalId: string, withAccount: boolean): IngestSourceRecord {
  const canonical: MappedRecords = {
    persons: [
      PersonRecord.parse({
        source: { objectType, externalId },
        email: person.email,
        firstName: person.firstName,
        lastName: person.lastName,
        displayName: `${person.firstName} ${person.lastName}`,
        country: person.country,
        account: withAccount ? { objectType: 'company', externalId: person.companyId } : null,
        attributes: { lifecyclestage: 'customer' },
      }),
    ],
    accounts: [],
    activities: [],
  };
  const payload = { id: externalId, email: person.email, first_name: person.firstName, last_name: person.lastName, country: person.country };
  return { objectType, externalId, updatedAt: recordTime, deletedAt: null, payload, canonical };
}

/** The source records of people and companies, per platform. */
export function benchSourceRecords(accounts: readonly BenchAccount[], persons: readonly BenchPerson[]): Record<BenchPlatform, IngestSourceRecord[]> {
  const companies = accounts.map((a): IngestSourceRecord => ({
    objectType: 'company',
    externalId: a.companyId,
    updatedAt: recordTime,
    deletedAt: null,
    payload: { id: a.companyId, properties: { name: a.name, domain: a.domain, country: a.country } },
    canonical: { persons: [], accounts: [AccountRecord.parse({ source: { objectType: 'company', externalId: a.companyId }, name: a.name, domain: a.domain, country: a.country })], activities: [] },
  }));
  return {
    hubspot: [...companies, ...persons.map((p) => personRecord(p, 'contact', p.contactId, true))],
    shopify: persons.flatMap((p) => (p.shopifyId ? [personRecord(p, 'customer', p.shopifyId, false)] : [])),
    zendesk: persons.flatMap((p) => (p.zendeskId ? [personRecord(p, 'user', p.zendeskId, false)] : [])),
  };
}

const kindWeights: readonly (readonly [ActivityRecord['kind'], number])[] = [
  ['login', 0.28],
  ['transaction', 0.15],
  ['interaction', 0.25],
  ['subscription', 0.05],
  ['profile_change', 0.07],
  ['notification', 0.12],
  ['security_alert', 0.03],
  ['custom', 0.05],
];
const devices = ['iPhone 15', 'Pixel 8', 'Chrome on macOS', 'Firefox on Windows', 'Safari on iPad', 'Edge on Windows'];
const products = ['Starter plan', 'Pro plan', 'Team seats', 'Analytics add-on', 'Onboarding package', 'Support plus'];
const owners = ['Alex Moreau', 'Sam Okafor', 'Kim Becker', 'Jo Tanaka', 'Robin Rossi'];
const agents = ['Ana (support)', 'Ben (support)', 'Cleo (support)'];

function weighted<T>(r: () => number, weights: readonly (readonly [T, number])[]): T {
  let x = r();
  for (const [value, w] of weights) {
    if ((x -= w) < 0) return value;
  }
  return weights[weights.length - 1]![0];
}

export interface GeneratedActivity {
  readonly platform: BenchPlatform;
  readonly activity: ActivityRecord;
}

/**
 * Activity `i`: whose it is (a few people are very active: the index is skewed towards the
 * front), when (more recent months are busier), what, and on which platform it was recorded.
 */
export function benchActivity(i: number, persons: readonly BenchPerson[]): GeneratedActivity {
  const r = random(largeTenantSeed, 'activity', i);
  const person = persons[Math.floor(persons.length * r() ** 1.5)]!;
  const occurredAt = new Date(historyFrom.getTime() + Math.floor((historyTo.getTime() - historyFrom.getTime()) * Math.sqrt(r())));
  const kind = weighted(r, kindWeights);
  const contact = { kind: 'person' as const, objectType: 'contact', externalId: person.contactId };
  const customer = person.shopifyId ? { kind: 'person' as const, objectType: 'customer', externalId: person.shopifyId } : null;
  const user = person.zendeskId ? { kind: 'person' as const, objectType: 'user', externalId: person.zendeskId } : null;
  const money = (low: number, high: number) => ({ value: (low + r() * (high - low)).toFixed(2), currency: person.currency });
  const base = { occurredAt, source: { objectType: 'event', externalId: String(i) }, discriminator: 'main', driver: null, amount: null, actor: null };
  const shop = (a: Omit<ActivityRecord, 'subject' | 'occurredAt' | 'source' | 'discriminator'>): GeneratedActivity =>
    customer ? { platform: 'shopify', activity: { ...base, ...a, subject: customer } } : { platform: 'hubspot', activity: { ...base, ...a, subject: contact } };

  switch (kind) {
    case 'login': {
      const category = weighted(r, [['login_succeeded', 0.85], ['login_failed', 0.1], ['logout', 0.05]] as const);
      const device = pick(r, devices);
      const attributes = { ip: `203.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`, device, location: person.country, ...(category === 'login_failed' ? { failureReason: 'wrong password' } : {}) };
      return shop({ kind, category, summary: `${category === 'logout' ? 'Logout' : category === 'login_failed' ? 'Failed login' : 'Login'} from ${device}`, attributes });
    }
    case 'transaction': {
      const category = weighted(r, [['purchase', 0.55], ['payment', 0.3], ['refund', 0.1], ['transfer', 0.05]] as const);
      const product = pick(r, products);
      const amount = money(10, category === 'purchase' ? 900 : 400);
      const order = String(6_000_000 + Math.floor(i / 2));
      return shop({ kind, category, amount, driver: { type: 'order', objectType: 'order', externalId: order }, summary: `${category[0]!.toUpperCase()}${category.slice(1)} of ${product} (${amount.currency} ${amount.value})`, attributes: { product, orderNumber: order } });
    }
    case 'subscription': {
      const category = weighted(r, [['renewal', 0.55], ['usage', 0.25], ['plan_change', 0.15], ['cancellation', 0.05]] as const);
      const amount = category === 'renewal' ? money(20, 300) : null;
      const driver = { type: 'subscription' as const, objectType: 'subscription', externalId: `sub-${person.index}` };
      return shop({ kind, category, amount, driver, summary: `Subscription ${category.replace('_', ' ')}${amount ? ` (${amount.currency} ${amount.value})` : ''}`, attributes: { plan: pick(r, products) } });
    }
    case 'security_alert': {
      const category = weighted(r, [['failed_login', 0.5], ['password_reset', 0.3], ['suspicious_activity', 0.15], ['recovery', 0.05]] as const);
      return shop({ kind, category, summary: `Security: ${category.replace('_', ' ')}`, attributes: { ip: `198.51.100.${Math.floor(r() * 255)}`, device: pick(r, devices) } });
    }
    case 'interaction': {
      const category = weighted(r, [['email', 0.3], ['call', 0.15], ['meeting', 0.1], ['note', 0.1], ['task', 0.05], ['ticket', 0.12], ['ticket_comment', 0.13], ['chat', 0.05]] as const);
      if ((category === 'ticket' || category === 'ticket_comment' || category === 'chat') && user) {
        const ticket = 5_000_000 + person.index * 8 + Math.floor(r() * 8);
        const open = ticket % 5 === 0;
        const driver = { type: 'ticket' as const, objectType: 'ticket', externalId: String(ticket) };
        const attributes = { priority: pick(r, ['LOW', 'NORMAL', 'NORMAL', 'HIGH']), driverState: { title: `Ticket #${ticket}`, status: open ? 'Open' : 'Solved', open } };
        return { platform: 'zendesk', activity: { ...base, kind, category, subject: user, driver, actor: pick(r, agents), summary: `${category === 'ticket' ? 'Ticket opened' : category === 'chat' ? 'Chat' : 'Ticket comment'}: #${ticket}`, attributes } };
      }
      const onCompany = r() < 0.05;
      const subject = onCompany ? { kind: 'account' as const, objectType: 'company', externalId: person.companyId } : contact;
      return { platform: 'hubspot', activity: { ...base, kind, category, subject, actor: pick(r, owners), summary: `${category[0]!.toUpperCase()}${category.slice(1).replace('_', ' ')} with ${person.firstName} ${person.lastName}`, attributes: { direction: r() < 0.5 ? 'inbound' : 'outbound' } } };
    }
    case 'profile_change':
      return { platform: 'hubspot', activity: { ...base, kind, category: 'profile_updated', subject: contact, summary: 'Profile updated: phone, job title', attributes: { fields: ['phone', 'jobtitle'] } } };
    case 'notification':
      return { platform: 'hubspot', activity: { ...base, kind, category: 'notification_sent', subject: contact, summary: `Newsletter sent: ${pick(r, ['product update', 'invoice reminder', 'webinar invitation'])}`, attributes: { channel: 'email' } } };
    case 'custom':
      return { platform: 'hubspot', activity: { ...base, kind, category: pick(r, ['nps_response', 'webinar_attended', 'feature_request']), subject: contact, summary: 'Custom event', attributes: { score: Math.floor(r() * 11) } } };
  }
}
