/**
 * Zendesk's two incremental export mechanisms, each defined once and named by the streams that use
 * it (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
 * https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api/):
 *
 * - `zendeskCursorExport` (tickets, users): `GET /api/v2/incremental/{resource}/cursor.json?start_time=`
 *   opens the stream, `?cursor=<after_cursor>` continues it until `end_of_stream`; the last
 *   `after_cursor` is kept, so the next run resumes exactly there. No duplicates, no gaps.
 * - `zendeskTimeExport` (organizations, ticket_events): `?start_time=` then `start_time=<end_time>`
 *   until `end_of_stream`. The boundary second is read twice (Zendesk documents duplicates for
 *   time-based exports); writes are idempotent, so that costs nothing but a few rows.
 *
 * Both: 1,000 items per call (`per_page`, the maximum), 10 calls a minute per account (30 with
 * High Volume) — the rate policy's `incremental-export` bucket — and nothing from the last minute.
 * The next page is requested as soon as one arrives, so it travels (and waits for export budget)
 * while the engine writes the one before: the limit, not our writes, sets the pace.
 */
import { z } from 'zod';
import type { CursorDefinition, StreamContext } from '../../core/contract/index.ts';
import { LedgerlineError, isLedgerlineError } from '../../core/errors/index.ts';
import { apiUrl, zendeskGet } from './zendesk-api.ts';

export const exportPageSize = 1000;
/** Zendesk refuses a start_time within the last minute ("Too recent start_time"). */
const recentSeconds = 60;

export const CursorExportCheckpoint = z.strictObject({
  /** Zendesk's `after_cursor`; null before the first page. */
  cursor: z.string().min(1).max(2000).nullable(),
  /** Unix seconds the stream was opened at (only used while `cursor` is null). */
  startTime: z.number().int().nonnegative(),
});
export type CursorExportCheckpoint = z.infer<typeof CursorExportCheckpoint>;

export const TimeExportCheckpoint = z.strictObject({
  /** Unix seconds: the next call's start_time (the last page's end_time). */
  startTime: z.number().int().nonnegative(),
});
export type TimeExportCheckpoint = z.infer<typeof TimeExportCheckpoint>;

/** A stored checkpoint as this mechanism reads it: validated, and the initial one when invalid. */
export function readCheckpoint<C>(definition: CursorDefinition<C>, stored: unknown, now: Date): C {
  const parsed = definition.schema.safeParse(stored);
  return parsed.success ? parsed.data : definition.initial({ full: true, now });
}

export interface ExportPage<C> {
  readonly items: readonly unknown[];
  readonly checkpoint: C;
}

/** Yields pages while requesting the next one; an abandoned request's failure is not left unhandled. */
async function* prefetching<P>(first: Promise<P>, following: (page: P) => Promise<P> | null): AsyncGenerator<P> {
  let pending: Promise<P> | null = first;
  while (pending !== null) {
    const page: P = await pending;
    pending = following(page);
    pending?.catch(() => undefined);
    yield page;
  }
}

const CursorPage = z
  .object({
    after_cursor: z.string().nullish(),
    end_of_stream: z.boolean(),
  })
  .loose();

const TimePage = z
  .object({
    end_time: z.number().int().nonnegative().nullish(),
    end_of_stream: z.boolean(),
  })
  .loose();

/** The envelope with its records array under `key` (`tickets`, `ticket_events`…). */
const withItems = <T extends z.ZodObject>(envelope: T, key: string) =>
  envelope.extend({ [key]: z.array(z.unknown()) }).transform((body) => ({ ...(body as z.infer<T>), items: (body as Record<string, unknown>)[key] as unknown[] }));

const nowSeconds = (ctx: StreamContext): number => Math.floor(ctx.clock.now().getTime() / 1000);

/** A 400 "Too recent start_time": nothing is exportable yet (our clock trails Zendesk's). */
const tooRecent = (error: unknown): boolean => isLedgerlineError(error, 'LL_INVALID_INPUT') && /too recent/i.test(error.message);

export interface CursorExportSpec {
  /** `tickets` or `users`. */
  readonly resource: 'tickets' | 'users';
}

export const zendeskCursorExport = {
  checkpoint: {
    schema: CursorExportCheckpoint,
    initial: () => ({ cursor: null, startTime: 0 }),
    describe: (c) => (c.cursor === null ? `export from ${new Date(c.startTime * 1000).toISOString()}` : 'export continuing from its last cursor'),
  } satisfies CursorDefinition<CursorExportCheckpoint>,

  async *pages(ctx: StreamContext, spec: CursorExportSpec, stored: CursorExportCheckpoint): AsyncGenerator<ExportPage<CursorExportCheckpoint>> {
    const start = readCheckpoint(zendeskCursorExport.checkpoint, stored, ctx.clock.now());
    if (start.cursor === null && start.startTime > nowSeconds(ctx) - recentSeconds) return;
    const path = `/api/v2/incremental/${spec.resource}/cursor.json`;
    const schema = withItems(CursorPage, spec.resource);
    const fetchPage = async (from: CursorExportCheckpoint) => {
      const query = from.cursor === null ? { start_time: from.startTime, per_page: exportPageSize } : { cursor: from.cursor, per_page: exportPageSize };
      const body = await zendeskGet(ctx.fetch, apiUrl(ctx.installation.apiBaseUrl, path, query), `${spec.resource} export`, schema, ctx.signal);
      const checkpoint: CursorExportCheckpoint = { cursor: body.after_cursor ?? from.cursor, startTime: from.startTime };
      return { items: body.items, checkpoint, end: body.end_of_stream };
    };
    yield* prefetching(fetchPage(start), (page) => (page.end || ctx.signal.aborted ? null : fetchPage(page.checkpoint)));
  },
};

export interface TimeExportSpec {
  /** The path under /api/v2/incremental/: `organizations`, `ticket_events`. */
  readonly path: 'organizations' | 'ticket_events';
  /** The array's key in the body. */
  readonly key: string;
  readonly include?: string;
}

export const zendeskTimeExport = {
  checkpoint: {
    schema: TimeExportCheckpoint,
    initial: () => ({ startTime: 0 }),
    describe: (c) => `changed since ${new Date(c.startTime * 1000).toISOString()}`,
  } satisfies CursorDefinition<TimeExportCheckpoint>,

  async *pages(ctx: StreamContext, spec: TimeExportSpec, stored: TimeExportCheckpoint): AsyncGenerator<ExportPage<TimeExportCheckpoint>> {
    const start = readCheckpoint(zendeskTimeExport.checkpoint, stored, ctx.clock.now());
    if (start.startTime > nowSeconds(ctx) - recentSeconds) return;
    const schema = withItems(TimePage, spec.key);
    const fetchPage = async (from: TimeExportCheckpoint) => {
      const query = { start_time: from.startTime, per_page: exportPageSize, ...(spec.include ? { include: spec.include } : {}) };
      let body: z.output<typeof schema>;
      try {
        body = await zendeskGet(ctx.fetch, apiUrl(ctx.installation.apiBaseUrl, `/api/v2/incremental/${spec.path}.json`, query), `${spec.path} export`, schema, ctx.signal);
      } catch (error) {
        if (tooRecent(error)) return { items: [], checkpoint: from, end: true };
        throw error;
      }
      const endTime = body.end_time ?? from.startTime;
      // A full page whose end_time does not move past its start_time would be asked for forever.
      if (!body.end_of_stream && endTime <= from.startTime) {
        throw new LedgerlineError('LL_UPSTREAM', `zendesk ${spec.path} export: end_time ${endTime} does not advance past start_time ${from.startTime}`, { details: { plugin: 'zendesk' } });
      }
      return { items: body.items, checkpoint: { startTime: Math.max(from.startTime, endTime) }, end: body.end_of_stream };
    };
    yield* prefetching(fetchPage(start), (page) => (page.end || ctx.signal.aborted ? null : fetchPage(page.checkpoint)));
  },
};
