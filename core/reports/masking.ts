/**
 * Masking of collected report data before any renderer sees it, as the reader's role requires:
 * - `masked`: names become initials (`J*** D***`), e-mails keep their domain (`j***@example.org`),
 *   phone numbers keep their last two digits, IPv4 addresses their first three parts
 *   (`203.0.113.x`) and IPv6 addresses their first two groups — in every field and free text.
 * - `anonymized`: each distinct customer becomes "Customer N" (numbered in order of first
 *   appearance, the same person the same pseudonym in every section), each agent "Agent N",
 *   e-mails are dropped, and free text is scrubbed as when masked.
 * Free text (summaries, details, notes, sync failure reasons) is scanned for e-mails, addresses,
 * phone numbers and the names of every person in the report, because sources write names into it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { CustomerRow, ReportData, ReportRow, SectionData, SourceFreshness } from './report-model.ts';

const maskedWord = (word: string): string => `${[...word][0] ?? ''}***`;

/** Initials per word: "Jane van Doe" → "J*** v*** D***"; an e-mail used as a name is masked as one. */
export function maskName(name: string): string {
  if (emailPattern().test(name.trim())) return maskEmail(name.trim());
  return name.split(/\s+/).filter(Boolean).map(maskedWord).join(' ');
}

/** Keeps the first letter and the domain: who the mail provider is may matter, who the person is not. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return at <= 0 ? maskedWord(email) : `${maskedWord(email.slice(0, at))}${email.slice(at)}`;
}

/** Every digit but the last two hidden, the shape kept: "+49 30 1234567" → "+** ** *****67". */
export function maskPhone(phone: string): string {
  let digitsLeft = phone.replace(/\D/g, '').length;
  return phone.replace(/\d/g, (digit) => (--digitsLeft < 2 ? digit : '*'));
}

/** IPv4 keeps its network part (`203.0.113.x`), IPv6 its first two groups; anything else is hidden. */
export function maskIp(address: string): string {
  const trimmed = address.trim();
  if (isIPv4(trimmed)) return `${trimmed.split('.').slice(0, 3).join('.')}.x`;
  if (isIPv6(trimmed)) {
    const [head = ''] = trimmed.split('::');
    const groups = head === '' ? [] : head.split(':');
    while (groups.length < 2) groups.push('0');
    return `${groups.slice(0, 2).join(':')}:x:x:x:x:x:x`;
  }
  return scrubContacts(address);
}

// Fresh regexes per use: global regexes carry `lastIndex` between calls.
const emailPattern = () => /^[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}$/u;
const emailsIn = () => /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
const ipv6In = () => /(?<![\p{L}\p{N}:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\p{L}\p{N}:]|\.\d)/giu;
const ipv4In = () => /(?<![\p{N}.])\d{1,3}(?:\.\d{1,3}){3}(?!\p{N}|\.\d)/gu;
// Not glued to a word before it (INV-2026-0042) and not followed by more dotted parts (an address).
const phonesIn = () => /(?<![\p{L}\p{N}+*#/_-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\p{L}\p{N}]|\.[\p{L}\p{N}])/gu;
/** Dates look like phone numbers to the pattern above and are not personal. */
const datePattern = /^(\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$/;

function isPhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15 || datePattern.test(candidate)) return false;
  // A bare run of digits is an order or ticket number unless it is written like a phone number.
  return /[+( .-]/.test(candidate) || digits >= 10;
}

/** E-mails, IP addresses and phone numbers in free text, masked. */
export function scrubContacts(text: string): string {
  return text
    .replace(emailsIn(), maskEmail)
    .replace(ipv6In(), (m) => (isIPv6(m) ? maskIp(m) : m))
    .replace(ipv4In(), (m) => (isIPv4(m) ? maskIp(m) : m))
    .replace(phonesIn(), (m) => (isPhone(m) ? maskPhone(m) : m));
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const normalized = (text: string): string => text.trim().toLocaleLowerCase('und').replace(/\s+/g, ' ');

/** Replaces whole-word, case-insensitive occurrences of the given names (longest first). */
function nameReplacer(replacements: ReadonlyMap<string, string>): (text: string) => string {
  const names = [...replacements.keys()].filter((n) => [...n].length >= 2).sort((a, b) => b.length - a.length);
  if (names.length === 0) return (text) => text;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${names.map((n) => escapeRegExp(n).replace(/ /g, '\\s+')).join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  return (text) => text.replace(pattern, (m) => replacements.get(normalized(m)) ?? m);
}

interface Person {
  readonly key?: string;
  readonly name: string;
  readonly email: string | null;
}

/** How one mode treats people; `text` scrubs free text mentioning the given people. */
interface Masker {
  customerName(person: Person): string;
  customerEmail(person: Person): string | null;
  customerKey(person: Person & { key: string }): string;
  actor(actor: string, rowCustomer: Person): string;
  text(text: string, about?: { readonly customer: Person; readonly actor?: string | null }): string;
}

function everyone(data: ReportData): { customers: Person[]; actors: string[] } {
  const customers: Person[] = data.subject ? [data.subject] : [];
  const actors: string[] = [];
  for (const section of data.sections) {
    if (section.type === 'summary') {
      for (const row of section.rows) {
        customers.push(row.customer);
        if (row.actor && normalized(row.actor) !== normalized(row.customer.name)) actors.push(row.actor);
      }
    }
    if (section.type === 'customers') customers.push(...section.rows.map((r) => ({ key: r.customer, name: r.name, email: r.email })));
    if (section.type === 'drill_down') customers.push(...section.customers.map((c) => ({ key: c.customer, name: c.name, email: c.email })));
  }
  return { customers, actors };
}

function createMasker(mode: 'masked' | 'anonymized', data: ReportData): Masker {
  const { customers, actors } = everyone(data);
  const pseudonyms = pseudonymBook();
  // Numbering follows the order of first appearance in the report.
  for (const person of customers) pseudonyms.customer(person);
  for (const actor of actors) pseudonyms.agent(actor);

  const replacement = (person: Person): string => (mode === 'anonymized' ? pseudonyms.customer(person) : maskName(person.name));
  const agentReplacement = (actor: string): string => (mode === 'anonymized' ? pseudonyms.agent(actor) : maskName(actor));
  const known = new Map<string, string>();
  for (const person of customers) known.set(normalized(person.name), replacement(person));
  for (const actor of actors) if (!known.has(normalized(actor))) known.set(normalized(actor), agentReplacement(actor));
  const replaceKnownNames = nameReplacer(known);
  // A customer acting on their own account (a login, a profile change) stays that customer.
  const actor = (name: string, rowCustomer: Person): string => (normalized(name) === normalized(rowCustomer.name) ? replacement(rowCustomer) : agentReplacement(name));

  return {
    customerName: replacement,
    customerEmail: (person) => (mode === 'anonymized' || person.email === null ? null : maskEmail(person.email)),
    customerKey: (person) => (mode === 'anonymized' ? pseudonyms.customer(person) : scrubContacts(person.key)),
    actor,
    text: (text, about) => {
      // First names alone ("Jane called") are matched only for the people the text is about.
      const words = new Map<string, string>();
      const addWords = (name: string, replace: (word: string) => string): void => {
        for (const word of name.split(/\s+/)) if ([...word].length >= 3) words.set(normalized(word), replace(word));
      };
      if (about?.actor && about.customer) {
        const actorReplacement = actor(about.actor, about.customer);
        addWords(about.actor, (word) => (mode === 'anonymized' ? actorReplacement : maskedWord(word)));
      }
      if (about?.customer) {
        const customerReplacement = replacement(about.customer);
        addWords(about.customer.name, (word) => (mode === 'anonymized' ? customerReplacement : maskedWord(word)));
      }
      return nameReplacer(words)(replaceKnownNames(scrubContacts(text)));
    },
  };
}

function pseudonymBook() {
  const byKey = new Map<string, string>();
  const byEmail = new Map<string, string>();
  const byName = new Map<string, string>();
  const agents = new Map<string, string>();
  let customers = 0;
  return {
    customer(person: Person): string {
      const email = person.email ? normalized(person.email) : null;
      const name = normalized(person.name);
      const found =
        (person.key === undefined ? undefined : byKey.get(person.key)) ??
        (email === null ? undefined : byEmail.get(email)) ??
        // Without an e-mail the name is all there is to recognise the same person by.
        (email === null ? byName.get(name) : undefined);
      const pseudonym = found ?? `Customer ${++customers}`;
      if (person.key !== undefined) byKey.set(person.key, pseudonym);
      if (email !== null) byEmail.set(email, pseudonym);
      if (!byName.has(name)) byName.set(name, pseudonym);
      return pseudonym;
    },
    agent(actor: string): string {
      const name = normalized(actor);
      const pseudonym = agents.get(name) ?? `Agent ${agents.size + 1}`;
      agents.set(name, pseudonym);
      return pseudonym;
    },
  };
}

function maskRow(masker: Masker, row: ReportRow): ReportRow {
  const customer = row.customer;
  const details = Object.fromEntries(Object.entries(row.details).map(([key, value]) => [key, key === 'ip' ? maskIp(value) : masker.text(value, { customer })]));
  return {
    ...row,
    summary: masker.text(row.summary, { customer, actor: row.actor }),
    actor: row.actor === null ? null : masker.actor(row.actor, customer),
    customer: { name: masker.customerName(customer), email: masker.customerEmail(customer) },
    details,
  };
}

function maskCustomerRow(masker: Masker, row: CustomerRow): CustomerRow {
  const person = { key: row.customer, name: row.name, email: row.email };
  return { ...row, customer: masker.customerKey(person), name: masker.customerName(person), email: masker.customerEmail(person) };
}

function maskSection(masker: Masker, section: SectionData): SectionData {
  switch (section.type) {
    case 'summary':
      return { ...section, rows: section.rows.map((row) => maskRow(masker, row)) };
    case 'customers':
      return { ...section, rows: section.rows.map((row) => maskCustomerRow(masker, row)) };
    case 'drill_down':
      return {
        ...section,
        customers: section.customers.map((c) => {
          const person = { key: c.customer, name: c.name, email: c.email };
          return { customer: masker.customerKey(person), name: masker.customerName(person), email: masker.customerEmail(person) };
        }),
      };
    case 'text':
      return { ...section, text: masker.text(section.text) };
    case 'kpis':
    case 'chart':
    case 'segment_comparison':
      return section;
  }
}

function maskSource(masker: Masker, source: SourceFreshness): SourceFreshness {
  return { ...source, gaps: source.gaps.map((gap) => ({ ...gap, reason: gap.reason === null ? null : masker.text(gap.reason) })) };
}

/** Applies `data.masking`; 'none' returns the data as it is. */
export function maskReportData(data: ReportData): ReportData {
  if (data.masking === 'none') return data;
  const masker = createMasker(data.masking, data);
  return {
    ...data,
    subject: data.subject ? { name: masker.customerName(data.subject), email: masker.customerEmail(data.subject) } : null,
    sections: data.sections.map((section) => maskSection(masker, section)),
    sources: data.sources.map((source) => maskSource(masker, source)),
  };
}
