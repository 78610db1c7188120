/**
 * The incremental export endpoints
 * (https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/,
 * https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api):
 *
 * - Cursor-based: /incremental/tickets/cursor and /incremental/users/cursor. `start_time` opens
 *   the stream, `cursor=<after_cursor>` continues it; `per_page` up to 1000 (default 1000);
 *   records in (modification second, id) order; `after_cursor` is kept at the end of the stream
 *   so the next poll resumes there. The cursor is Zendesk's opaque format, base64 of
 *   `<second>.0||<id>|`. `page[size]` (which node-zendesk appends) is ignored, as `per_page` is
 *   the documented parameter.
 * - Time-based: /incremental/organizations, /incremental/ticket_events (`include=comment_events`),
 *   and /incremental/tickets and /users: items with a time at or after `start_time`, `end_time` =
 *   the last item's time, `next_page` = the same query from `end_time` (so the last second is read
 *   again — Zendesk documents duplicates for time-based exports). A page is extended past
 *   `per_page` to finish its last second, as otherwise a second with more items than a page could
 *   never be passed.
 * - Nothing changed within the last minute is exported (the stream ends at now − 60 s), and a
 *   `start_time` inside that minute or in the future is refused: 400
 *   `{"error": "InvalidValue", "description": "Too recent start_time. …"}` (older Zendesk answered
 *   422 with the same body).
 */
import type { ZendeskAccount } from './data.ts';
import type { Position, RecordIndex } from './record-index.ts';
import { fromEventKey, ticketEventOf } from './ticket-history.ts';
import { apiError } from './wire.ts';

export interface ExportRequest {
  readonly account: ZendeskAccount;
  readonly url: URL;
  /** Unix seconds on the data clock. */
  readonly now: number;
  readonly baseUrl: string;
}

const maxPerPage = 1000;

export const encodeCursor = (p: Position): string => Buffer.from(`${p.ts}.0||${p.id}|`).toString('base64');

function decodeCursor(cursor: string): Position {
  const m = /^(\d+)\.0\|\|(\d+)\|$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  if (!m) throw apiError(400, 'InvalidPaginationParameter', 'cursor is invalid');
  return { ts: Number(m[1]), id: Number(m[2]) };
}

function perPageOf(url: URL): number {
  const raw = url.searchParams.get('per_page');
  if (raw === null) return maxPerPage;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw apiError(400, 'InvalidValue', 'per_page must be a positive integer');
  return Math.min(value, maxPerPage);
}

function startTimeOf(url: URL, now: number): number {
  const raw = url.searchParams.get('start_time');
  if (raw === null || raw === '') throw apiError(400, 'InvalidValue', 'start_time is required');
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw apiError(400, 'InvalidValue', 'start_time must be a Unix epoch time in seconds');
  if (value > now - 60) throw apiError(400, 'InvalidValue', 'Too recent start_time. Use a start_time older than one minute.');
  return value;
}

function render(kind: 'tickets' | 'users', account: ZendeskAccount, id: number): unknown {
  return kind === 'tickets' ? account.ticket(id) : account.user(id);
}

/** GET /api/v2/incremental/{tickets|users}/cursor */
export function cursorExport(kind: 'tickets' | 'users', request: ExportRequest): Record<string, unknown> {
  const { account, url, now, baseUrl } = request;
  const perPage = perPageOf(url);
  const cursor = url.searchParams.get('cursor');
  // Records at or after start_time: everything after (start_time, id 0), as ids are positive.
  const from = cursor !== null && cursor !== '' ? decodeCursor(cursor) : { ts: startTimeOf(url, now), id: 0 };
  const cutoff = now - 60;
  const index = kind === 'tickets' ? account.tickets : account.users;
  const excludeDeleted = kind === 'tickets' && url.searchParams.get('exclude_deleted') === 'true';
  const records: unknown[] = [];
  let last: Position = from;
  let more = false;
  for (const position of index.after(from)) {
    if (position.ts > cutoff) break;
    if (records.length === perPage) {
      more = true;
      break;
    }
    last = position;
    const record = render(kind, account, position.id);
    if (excludeDeleted && (record as { status?: string } | null)?.status === 'deleted') continue;
    records.push(record);
  }
  const after = encodeCursor(last);
  const query = new URLSearchParams({ cursor: after });
  if (url.searchParams.has('per_page')) query.set('per_page', String(perPage));
  if (excludeDeleted) query.set('exclude_deleted', 'true');
  return {
    [kind]: records,
    after_url: `${baseUrl}/api/v2/incremental/${kind}/cursor.json?${query.toString()}`,
    after_cursor: after,
    before_url: null,
    before_cursor: null,
    end_of_stream: !more,
  };
}

/** Items from `start_time` on, in time order, a page extended to finish its last second. */
function timePage(index: RecordIndex, url: URL, now: number): { positions: Position[]; startTime: number; endTime: number; more: boolean } {
  const startTime = startTimeOf(url, now);
  const perPage = perPageOf(url);
  const cutoff = now - 60;
  const positions: Position[] = [];
  let more = false;
  for (const position of index.after({ ts: startTime, id: -1 })) {
    if (position.ts > cutoff) break;
    const lastTs = positions.at(-1)?.ts;
    if (positions.length >= perPage && position.ts !== lastTs) {
      more = true;
      break;
    }
    positions.push(position);
  }
  const first = positions[0];
  let endTime = positions.at(-1)?.ts ?? startTime;
  // A full page that is one second throughout: the next page starts after it, or it would repeat.
  if (more && first !== undefined && first.ts === endTime) endTime += 1;
  return { positions, startTime, endTime, more };
}

function timeBody(key: string, items: unknown[], page: { endTime: number; more: boolean }, request: ExportRequest, path: string): Record<string, unknown> {
  const query = new URLSearchParams(request.url.searchParams);
  query.delete('page[size]');
  query.set('start_time', String(page.endTime));
  return {
    [key]: items,
    next_page: `${request.baseUrl}/api/v2/incremental/${path}.json?${query.toString()}`,
    count: items.length,
    end_of_stream: !page.more,
    end_time: page.endTime,
  };
}

/** GET /api/v2/incremental/{organizations|tickets|users} (time-based). */
export function timeExport(kind: 'organizations' | 'tickets' | 'users', request: ExportRequest): Record<string, unknown> {
  const { account } = request;
  const index = kind === 'organizations' ? account.organizations : kind === 'tickets' ? account.tickets : account.users;
  const page = timePage(index, request.url, request.now);
  const items = page.positions.map((p) => (kind === 'organizations' ? account.organization(p.id) : render(kind, account, p.id)));
  return timeBody(kind, items, page, request, kind);
}

/** GET /api/v2/incremental/ticket_events[?include=comment_events] */
export function ticketEventsExport(request: ExportRequest): Record<string, unknown> {
  const { account, url } = request;
  const includeComments = (url.searchParams.get('include') ?? '').split(',').includes('comment_events');
  const page = timePage(account.ticketEvents, url, request.now);
  const items = page.positions.map((p) => {
    const { ticketId, step } = fromEventKey(p.id);
    const steps = account.history(ticketId) ?? [];
    const at = steps[step];
    if (at === undefined) throw new Error(`ticket ${ticketId} has no update ${step}`);
    return ticketEventOf(ticketId, step, at, includeComments);
  });
  return timeBody('ticket_events', items, page, request, 'ticket_events');
}
