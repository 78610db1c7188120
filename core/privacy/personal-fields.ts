/**
 * Which parts of an activity are personal data. An activity's `summary`, `actor` and every
 * attribute are sealed under the subject's key (see `sealed-fields.ts`); a copy of the attributes
 * with the personal keys removed stays in the clear so that SQL can still filter and group on
 * structural facts (a driver's open/closed state, a priority, a plan, a country).
 *
 * A key is personal when its name says it holds free text or a direct identifier, at any depth.
 * Coarse geography (country, region) stays clear: segments and reports group on it. So does
 * `driverState` (a ticket's or deal's title, status and whether it is open): it describes the
 * ticket or deal the activity happened under, which panels list as open items, not the person.
 */
export const personalAttributeNames: ReadonlySet<string> = new Set(
  [
    'title', 'subject', 'body', 'text', 'html', 'description', 'comment', 'note', 'message', 'reason',
    'name', 'firstName', 'lastName', 'fullName', 'displayName', 'email', 'emails', 'phone', 'mobile',
    'ip', 'ipAddress', 'userAgent', 'device', 'location', 'city', 'postalCode', 'zip', 'address', 'street',
    'latitude', 'longitude',
  ].map((n) => n.toLowerCase()),
);

/** The driver's own state: kept in the clear as a whole. */
export const driverStateAttribute = 'driverState';

export const isPersonalAttribute = (name: string): boolean => personalAttributeNames.has(name.toLowerCase());

/** The attributes with every personal key removed, at any depth. */
export function clearAttributes(attributes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (isPersonalAttribute(name)) continue;
    out[name] = name === driverStateAttribute ? value : clearValue(value);
  }
  return out;
}

function clearValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clearValue);
  if (value !== null && typeof value === 'object') return clearAttributes(value as Record<string, unknown>);
  return value;
}

/** What is sealed of one activity. */
export interface PersonalFields {
  readonly summary: string;
  readonly actor: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** Shown in place of personal fields whose key was destroyed by an erasure. */
export const erasedText = '[erased]';
