/**
 * HubSpot CRM objects as the v3 API documents them (`SimplePublicObject`): string-valued
 * properties (null when unset), ISO timestamps, and for list calls with `associations=` the
 * associated ids. Search results carry no associations, so the reader adds them from the v4
 * batch endpoint in the same v3 shape; one stored shape whichever call fetched the object.
 */
import { z } from 'zod';

const Associated = z.object({ id: z.string().min(1), type: z.string() }).loose();

export const HubspotObject = z
  .object({
    id: z.string().regex(/^\d{1,20}$/, 'a HubSpot object id'),
    properties: z.record(z.string(), z.string().nullable()),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
    archived: z.boolean().nullish(),
    archivedAt: z.iso.datetime({ offset: true }).nullish(),
    associations: z.record(z.string(), z.object({ results: z.array(Associated) }).loose()).nullish(),
  })
  .loose();
export type HubspotObject = z.infer<typeof HubspotObject>;

/** The ids associated with `object` of one type ('contacts', 'deals'…), in HubSpot's order, without repeats. */
export function associatedIds(object: HubspotObject, toType: string): string[] {
  const results = object.associations?.[toType]?.results ?? [];
  return [...new Set(results.map((r) => r.id))];
}

/** A property's value, null when unset or blank. */
export function prop(object: HubspotObject, name: string): string | null {
  const value = object.properties[name];
  return value === undefined || value === null || value.trim() === '' ? null : value;
}

/** A datetime property (epoch milliseconds or ISO, both occur) as a Date; null when unset or unreadable. */
export function dateProp(object: HubspotObject, name: string): Date | null {
  const value = prop(object, name);
  if (value === null) return null;
  const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
