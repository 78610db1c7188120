/**
 * The canonical model: what every connector maps platform objects into, and what identity,
 * ledger, panels and reports read. Schemas are the source of truth; types are inferred from them.
 */
import { z } from 'zod';

export const activityKinds = [
  'login',
  'transaction',
  'interaction',
  'subscription',
  'profile_change',
  'notification',
  'security_alert',
  'custom',
] as const;
export const ActivityKind = z.enum(activityKinds);
export type ActivityKind = z.infer<typeof ActivityKind>;

/** Suggested categories per kind (from the seed documents); `custom` and plugins may add others. */
export const activityCategories = {
  login: ['login_succeeded', 'login_failed', 'logout'],
  transaction: ['purchase', 'payment', 'refund', 'transfer'],
  interaction: ['chat', 'email', 'call', 'meeting', 'note', 'task', 'ticket', 'ticket_comment'],
  subscription: ['plan_change', 'renewal', 'usage', 'cancellation'],
  profile_change: ['profile_updated', 'merged', 'deleted'],
  notification: ['notification_sent'],
  security_alert: ['failed_login', 'password_reset', 'recovery', 'suspicious_activity'],
  custom: [],
} as const satisfies Record<ActivityKind, readonly string[]>;

const ExternalId = z.string().min(1).max(255);
const ObjectType = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'object types are lower_snake_case');
const Category = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'categories are lower_snake_case');

/** A platform object, named within its installation: (object type, external id). */
export const SourceRef = z.strictObject({ objectType: ObjectType, externalId: ExternalId });
export type SourceRef = z.infer<typeof SourceRef>;

/** Whom an activity happened to, named by the source object that represents them. */
export const SubjectRef = z.strictObject({
  kind: z.enum(['person', 'account']),
  objectType: ObjectType,
  externalId: ExternalId,
});
export type SubjectRef = z.infer<typeof SubjectRef>;

/** The ticket, deal, case, order or opportunity an activity belongs to. */
export const DriverRef = z.strictObject({
  type: z.enum(['ticket', 'deal', 'case', 'order', 'opportunity', 'subscription', 'conversation']),
  objectType: ObjectType,
  externalId: ExternalId,
});
export type DriverRef = z.infer<typeof DriverRef>;

/** A decimal amount as a string (no float rounding) with its ISO 4217 currency. */
export const Money = z.strictObject({
  value: z.string().regex(/^-?\d{1,16}(\.\d{1,4})?$/, 'a decimal with at most 4 fraction digits'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code'),
});
export type Money = z.infer<typeof Money>;

const JsonValue: z.ZodType<unknown> = z.json();
export const Attributes = z.record(z.string().max(100), JsonValue);
export type Attributes = z.infer<typeof Attributes>;

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email());
/** E.164: a plus sign and up to 15 digits. Connectors normalize before mapping. */
const PhoneE164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number');

export const PersonRecord = z.strictObject({
  source: SourceRef,
  email: Email.nullish(),
  emailVerified: z.boolean().nullish(),
  phone: PhoneE164.nullish(),
  firstName: z.string().max(200).nullish(),
  lastName: z.string().max(200).nullish(),
  displayName: z.string().max(400).nullish(),
  /** The account (company, organization) this person belongs to in the same installation. */
  account: SourceRef.nullish(),
  /** Ids the platform merged into this record (HubSpot merged contacts, Zendesk user merges…). */
  mergedFrom: z.array(ExternalId).default([]),
  country: z.string().regex(/^[A-Z]{2}$/).nullish(),
  attributes: Attributes.default({}),
});
export type PersonRecord = z.infer<typeof PersonRecord>;
export type PersonRecordInput = z.input<typeof PersonRecord>;

export const AccountRecord = z.strictObject({
  source: SourceRef,
  name: z.string().max(400).nullish(),
  domain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a bare domain name')
    .nullish(),
  mergedFrom: z.array(ExternalId).default([]),
  country: z.string().regex(/^[A-Z]{2}$/).nullish(),
  attributes: Attributes.default({}),
});
export type AccountRecord = z.infer<typeof AccountRecord>;
export type AccountRecordInput = z.input<typeof AccountRecord>;

export const ActivityRecord = z.strictObject({
  kind: ActivityKind,
  category: Category,
  occurredAt: z.coerce.date(),
  subject: SubjectRef,
  driver: DriverRef.nullish(),
  /** The source object this activity was derived from. */
  source: SourceRef,
  /**
   * Distinguishes several activities derived from one source object (a ticket's creation and
   * each status change). Together with the source it is the activity's idempotency key.
   */
  discriminator: z.string().min(1).max(200).default('main'),
  amount: Money.nullish(),
  /** One line a person can read in a timeline. */
  summary: z.string().max(1000),
  /** Who performed it on the platform side (an agent, a rep), when known. */
  actor: z.string().max(400).nullish(),
  attributes: Attributes.default({}),
});
export type ActivityRecord = z.infer<typeof ActivityRecord>;
export type ActivityRecordInput = z.input<typeof ActivityRecord>;

/** What a stream mapper returns for one raw platform object. */
export const MappedRecords = z.strictObject({
  persons: z.array(PersonRecord).default([]),
  accounts: z.array(AccountRecord).default([]),
  activities: z.array(ActivityRecord).default([]),
});
export type MappedRecords = z.infer<typeof MappedRecords>;
export type MappedRecordsInput = z.input<typeof MappedRecords>;

/** A raw platform object as stored: keyed by (installation, object type, external id). */
export const SourceRecordInput = z.strictObject({
  objectType: ObjectType,
  externalId: ExternalId,
  /** The platform's own modification time, used to refuse older payloads over newer data. */
  updatedAt: z.coerce.date().nullish(),
  payload: z.record(z.string(), JsonValue),
  deletedAt: z.coerce.date().nullish(),
});
export type SourceRecordInput = z.infer<typeof SourceRecordInput>;

export const canonicalRecordKinds = ['person', 'account', 'activity'] as const;
export type CanonicalRecordKind = (typeof canonicalRecordKinds)[number];
