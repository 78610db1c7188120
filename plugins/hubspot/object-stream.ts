/**
 * One reader for every HubSpot CRM object stream.
 *
 * Backfill lists objects by id (`GET /crm/v3/objects/{type}`, 100 per call, associations inline,
 * no 10,000-result cap, counted in the 110 / 10 s budget). It then switches to incremental windows
 * on the modification date through search (`POST …/search`, 200 per call, its own 5 / s budget):
 * every call is a fresh query `modified >= since` sorted ascending, and records already taken at
 * exactly `since` are skipped by id, so search's 10,000-result cap is never reached and ties on a
 * timestamp are neither lost nor repeated even across pages (HubSpot gives no tie order). When a
 * whole page shares one timestamp, the reader walks that instant by `hs_object_id` instead. The
 * window ends a minute before the run started: search indexes changes with a delay, and anything
 * newer is the next run's. Each run ends with a sweep of archived objects (HubSpot keeps them 90
 * days) that turns the ones archived since the last sweep into deletions.
 */
import { z } from 'zod';
import type { DeletedRecord, StreamContext, StreamDefinition, StreamPage } from '../../core/contract/index.ts';
import { defineStream } from '../../core/contract/index.ts';
import type { MappedRecordsInput } from '../../core/model/index.ts';
import { hubspotApis, hubspotCall, type HubspotApis } from './hubspot-api.ts';
import { HubspotObject } from './raw.ts';
import { hubspotSettings } from './settings.ts';

export const listPageSize = 100;
export const searchPageSize = 200;
/** How far behind real time the search index may be. */
export const indexLagMs = 60_000;
/** Archived objects whose archivedAt is this close to the last sweep are looked at again (idempotent). */
const sweepOverlapMs = 5 * 60_000;

export const HubspotCursor = z.discriminatedUnion('phase', [
  z.strictObject({
    phase: z.literal('list'),
    /** HubSpot's paging token; null for the first page. */
    after: z.string().nullable(),
    /** When the backfill began (ms): incremental windows start here, so nothing changed during it is missed. */
    startedAt: z.number().int(),
  }),
  z.strictObject({
    phase: z.literal('search'),
    /** Modification time (ms) the next window starts at, inclusive. */
    since: z.number().int(),
    /** Ids already taken whose modification time is exactly `since`. */
    takenAtSince: z.array(z.string()).max(10_000),
    /** While walking a crowded instant by id: the last id taken. */
    tieAfterId: z.string().nullable(),
    /** Archived objects up to this time (ms) were turned into deletions. */
    archivedUpTo: z.number().int(),
  }),
]);
export type HubspotCursor = z.infer<typeof HubspotCursor>;
type SearchCursor = Extract<HubspotCursor, { phase: 'search' }>;

export interface ObjectStreamSpec {
  readonly name: string;
  /** The SourceRecord object type ('contact'). */
  readonly objectType: string;
  /** HubSpot's object type in URLs ('contacts', 'calls'). */
  readonly hubspotType: string;
  readonly produces: StreamDefinition['produces'];
  /** `lastmodifieddate` for contacts, `hs_lastmodifieddate` for everything else. */
  readonly modifiedProperty: string;
  readonly properties: readonly string[];
  /** Object types whose associated ids the mapper needs ('contacts', 'deals'). */
  readonly associations: readonly string[];
  readonly map: (raw: HubspotObject) => MappedRecordsInput;
}

/** An SDK object (Date fields) as the JSON HubSpot sent, in the stored shape. */
function plain(object: unknown): unknown {
  return JSON.parse(JSON.stringify(object)) as unknown;
}

function modifiedAt(spec: ObjectStreamSpec, raw: { properties?: Record<string, string | null>; updatedAt?: unknown }): number {
  const value = raw.properties?.[spec.modifiedProperty];
  if (value) {
    const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (Number.isFinite(n)) return n;
  }
  return Date.parse(String(raw.updatedAt));
}

const singular = (type: string): string => (type.endsWith('ies') ? `${type.slice(0, -3)}y` : type.replace(/s$/, ''));

/** Adds `associations` (v3 shape) to search results from the v4 batch endpoint, one call per associated type. */
async function withAssociations(api: HubspotApis, spec: ObjectStreamSpec, objects: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  if (spec.associations.length === 0 || objects.length === 0) return objects;
  const byType = new Map<string, Map<string, string[]>>();
  for (const toType of spec.associations) {
    const found = new Map<string, string[]>();
    // The v4 batch read takes up to 1,000 ids; search pages hold 200.
    const response = await hubspotCall(`associations ${spec.hubspotType}→${toType}`, () =>
      api.associations.getPage(spec.hubspotType, toType, { inputs: objects.map((o) => ({ id: String(o.id) })) }),
    );
    for (const result of response.results) {
      found.set(String(result._from.id), result.to.map((t) => String(t.toObjectId)));
    }
    byType.set(toType, found);
  }
  return objects.map((o) => {
    const associations: Record<string, { results: { id: string; type: string }[] }> = {};
    for (const [toType, found] of byType) {
      const ids = [...new Set(found.get(String(o.id)) ?? [])];
      if (ids.length > 0) associations[toType] = { results: ids.map((id) => ({ id, type: `${singular(spec.hubspotType)}_to_${singular(toType)}` })) };
    }
    return { ...o, ...(Object.keys(associations).length > 0 ? { associations } : {}) };
  });
}

/** List results carry associations with repeats (one per association type); keep each id once, in order. */
function dedupeAssociations(object: Record<string, unknown>): Record<string, unknown> {
  const associations = object.associations as Record<string, { results: { id: string; type: string }[] }> | undefined;
  if (!associations) return object;
  const out: Record<string, { results: { id: string; type: string }[] }> = {};
  for (const [toType, value] of Object.entries(associations)) {
    const seen = new Set<string>();
    const results = value.results.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
    out[toType] = { results };
  }
  return { ...object, associations: out };
}

async function* listPhase(ctx: StreamContext, api: HubspotApis, spec: ObjectStreamSpec, cursor: Extract<HubspotCursor, { phase: 'list' }>): AsyncGenerator<StreamPage<HubspotCursor>> {
  let after = cursor.after;
  for (;;) {
    const page = await hubspotCall(`list ${spec.hubspotType}`, () =>
      api.objects.basic.getPage(spec.hubspotType, listPageSize, after ?? undefined, [...spec.properties], undefined, spec.associations.length > 0 ? [...spec.associations] : undefined, false),
    );
    const next = page.paging?.next?.after ?? null;
    const records = page.results.map((o) => dedupeAssociations(plain(o) as Record<string, unknown>));
    if (next === null) {
      const since = cursor.startedAt - indexLagMs;
      yield { records, checkpoint: { phase: 'search', since, takenAtSince: [], tieAfterId: null, archivedUpTo: cursor.startedAt - sweepOverlapMs } };
      return;
    }
    yield { records, checkpoint: { phase: 'list', after: next, startedAt: cursor.startedAt } };
    after = next;
    if (ctx.signal.aborted) return;
  }
}

type Filter = { propertyName: string; operator: 'EQ' | 'GT' | 'GTE' | 'LTE'; value: string };

async function search(api: HubspotApis, spec: ObjectStreamSpec, filters: Filter[], sortBy: string) {
  return hubspotCall(`search ${spec.hubspotType}`, () =>
    api.objects.search.doSearch(spec.hubspotType, {
      filterGroups: [{ filters: filters as never }],
      // The documented object form; the SDK types sorts as strings but passes objects through unchanged.
      sorts: [{ propertyName: sortBy, direction: 'ASCENDING' } as never],
      properties: [...spec.properties],
      limit: searchPageSize,
      after: '0',
    }),
  );
}

async function* searchPhase(ctx: StreamContext, api: HubspotApis, spec: ObjectStreamSpec, start: SearchCursor): AsyncGenerator<StreamPage<HubspotCursor>> {
  const until = ctx.clock.now().getTime() - indexLagMs;
  let cursor = start;
  while (cursor.since <= until && !ctx.signal.aborted) {
    const tie = cursor.tieAfterId !== null;
    const response = tie
      ? await search(api, spec, [
          { propertyName: spec.modifiedProperty, operator: 'EQ', value: String(cursor.since) },
          { propertyName: 'hs_object_id', operator: 'GT', value: cursor.tieAfterId ?? '0' },
        ], 'hs_object_id')
      : await search(api, spec, [
          { propertyName: spec.modifiedProperty, operator: 'GTE', value: String(cursor.since) },
          { propertyName: spec.modifiedProperty, operator: 'LTE', value: String(until) },
        ], spec.modifiedProperty);
    const results = response.results.map((o) => plain(o) as Record<string, unknown> & { id: string; properties?: Record<string, string | null>; updatedAt?: unknown });
    const taken = new Set(cursor.takenAtSince);
    const full = results.length === searchPageSize;
    const last = results.at(-1);
    const lastAt = last ? modifiedAt(spec, last) : cursor.since;
    // A whole page at one instant: paging by time cannot get past it, so walk that instant by id.
    // Nothing from this page is taken now; the walk takes it, skipping ids taken before.
    const crowded = !tie && full && lastAt === cursor.since;
    const fresh = crowded ? [] : results.filter((o) => !(modifiedAt(spec, o) === cursor.since && taken.has(String(o.id))));
    const records = await withAssociations(api, spec, fresh);
    let next: SearchCursor;
    if (tie) {
      next = full && last !== undefined
        ? { ...cursor, tieAfterId: last.id }
        // The crowded instant is done: continue after it.
        : { ...cursor, since: cursor.since + 1, takenAtSince: [], tieAfterId: null };
    } else if (crowded) {
      next = { ...cursor, tieAfterId: '0' };
    } else {
      const atLast = results.filter((o) => modifiedAt(spec, o) === lastAt).map((o) => String(o.id));
      next = { ...cursor, since: lastAt, takenAtSince: lastAt === cursor.since ? [...new Set([...cursor.takenAtSince, ...atLast])] : atLast };
    }
    const done = !tie && !full;
    yield { records, checkpoint: next, total: response.total };
    cursor = next;
    if (done) break;
  }
  yield* archivedSweep(ctx, api, spec, cursor);
}

async function* archivedSweep(ctx: StreamContext, api: HubspotApis, spec: ObjectStreamSpec, cursor: SearchCursor): AsyncGenerator<StreamPage<HubspotCursor>> {
  const sweepStarted = ctx.clock.now().getTime();
  let after: string | undefined;
  for (;;) {
    const page = await hubspotCall(`list archived ${spec.hubspotType}`, () => api.objects.basic.getPage(spec.hubspotType, listPageSize, after, [], undefined, undefined, true));
    const deleted: DeletedRecord[] = page.results
      .filter((o) => o.archivedAt !== undefined && o.archivedAt.getTime() > cursor.archivedUpTo)
      .map((o) => ({ externalId: o.id, deletedAt: o.archivedAt ?? new Date(sweepStarted) }));
    const next = page.paging?.next?.after;
    if (next === undefined) {
      yield { records: [], deleted, checkpoint: { ...cursor, archivedUpTo: Math.max(cursor.archivedUpTo, sweepStarted - sweepOverlapMs) } };
      return;
    }
    yield { records: [], deleted, checkpoint: cursor };
    after = next;
    if (ctx.signal.aborted) return;
  }
}

const identify = (spec: ObjectStreamSpec) => (raw: HubspotObject) => ({ externalId: raw.id, updatedAt: new Date(modifiedAt(spec, raw)) });

export function hubspotObjectStream(spec: ObjectStreamSpec) {
  const apisFor = (ctx: StreamContext): HubspotApis => hubspotApis({ baseUrl: hubspotSettings(ctx.settings).apiBaseUrl, fetch: ctx.fetch, signal: ctx.signal });
  return defineStream<HubspotObject, HubspotCursor>({
    name: spec.name,
    objectType: spec.objectType,
    produces: spec.produces,
    raw: HubspotObject,
    cursor: {
      schema: HubspotCursor,
      initial: ({ now }) => ({ phase: 'list', after: null, startedAt: now.getTime() }),
      describe: (c) =>
        c.phase === 'list'
          ? `backfill by id${c.after ? ` after ${c.after}` : ''}, then changes since ${new Date(c.startedAt - indexLagMs).toISOString()}`
          : `modified since ${new Date(c.since).toISOString()}${c.tieAfterId ? ` (ids after ${c.tieAfterId})` : ''}`,
    },
    identify: identify(spec),
    deletes: { via: 'archived', note: 'archived objects (kept 90 days by HubSpot) are listed with archived=true at the end of every run' },
    async *read(ctx, checkpoint) {
      const api = apisFor(ctx);
      if (checkpoint.phase === 'list') {
        let last: HubspotCursor = checkpoint;
        for await (const page of listPhase(ctx, api, spec, checkpoint)) {
          last = page.checkpoint;
          yield page;
        }
        if (last.phase === 'search' && !ctx.signal.aborted) yield* searchPhase(ctx, api, spec, last);
        return;
      }
      yield* searchPhase(ctx, api, spec, checkpoint);
    },
    map: spec.map,
    async count(ctx) {
      const api = apisFor(ctx);
      const response = await hubspotCall(`count ${spec.hubspotType}`, () =>
        api.objects.search.doSearch(spec.hubspotType, { filterGroups: [], sorts: [], properties: ['hs_object_id'], limit: 1, after: '0' }),
      );
      return response.total;
    },
    async fetchOne(ctx, externalId) {
      const api = apisFor(ctx);
      try {
        const object = await hubspotCall(`read ${spec.hubspotType} ${externalId}`, () =>
          api.objects.basic.getById(spec.hubspotType, externalId, [...spec.properties], undefined, spec.associations.length > 0 ? [...spec.associations] : undefined, false),
        );
        return dedupeAssociations(plain(object) as Record<string, unknown>);
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'LL_NOT_FOUND') return null;
        throw error;
      }
    },
  });
}
